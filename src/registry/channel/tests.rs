//! Unit tests of one channel: backlog order, in-flight bookkeeping (FIN, REQ, TOUCH,
//! timeouts), deferred messages and the clients it delivers to.

use super::*;
use crate::registry::backlog::Backlog;
use crate::registry::message::{hex_id, Body};

fn msg(n: u64) -> Message {
    Message {
        id: hex_id(n),
        timestamp: n as i64,
        attempts: 0,
        defer_ms: 0,
        body: Body::from(format!("m{n}").as_bytes()),
    }
}

fn consumer(client: ClientId, rdy: u64) -> Consumer {
    Consumer {
        client,
        rdy,
        in_flight: 0,
        msg_timeout: Duration::from_secs(60),
        sample_rate: 0,
        message_count: 0,
        finish_count: 0,
        requeue_count: 0,
    }
}

fn channel_with(consumers: &[(ClientId, u64)]) -> Channel {
    let mut ch = Channel::new("c");
    for &(client, rdy) in consumers {
        ch.add_consumer(consumer(client, rdy));
    }
    ch
}

fn put_n(ch: &mut Channel, ids: std::ops::RangeInclusive<u64>, now: Instant) {
    for n in ids {
        ch.put(msg(n), now);
    }
}

/// Pumps with sampling always passing; returns (client, message id number, attempts).
fn pump(ch: &mut Channel, now: Instant) -> Vec<(ClientId, u64, u16)> {
    let mut out = Vec::new();
    ch.pump(now, &mut |_| true, &mut |client, m: &Message| {
        out.push((client, m.timestamp as u64, m.attempts))
    });
    out
}

fn numbers(delivered: &[(ClientId, u64, u16)]) -> Vec<u64> {
    delivered.iter().map(|d| d.1).collect()
}

fn clients(delivered: &[(ClientId, u64, u16)]) -> Vec<ClientId> {
    delivered.iter().map(|d| d.0).collect()
}

fn in_flight_of(ch: &mut Channel, client: ClientId) -> u64 {
    ch.consumer_mut(client).unwrap().in_flight
}

#[test]
fn new_channel_is_empty() {
    let ch = Channel::new("c");
    assert_eq!(ch.name, "c");
    assert!(!ch.ephemeral);
    assert!(!ch.paused);
    assert_eq!(ch.depth(), 0);
    assert_eq!(ch.in_flight_count(), 0);
    assert_eq!(ch.deferred_count(), 0);
    assert_eq!(ch.next_deadline(), None);
    assert!(!ch.has_work());
    assert!(Channel::new("c#ephemeral").ephemeral);
}

#[test]
fn queue_is_fifo() {
    let now = Instant::now();
    let mut ch = channel_with(&[(1, 100)]);
    put_n(&mut ch, 1..=5, now);
    assert_eq!(ch.depth(), 5);
    assert_eq!(ch.message_count, 5);
    let got = pump(&mut ch, now);
    assert_eq!(numbers(&got), vec![1, 2, 3, 4, 5]);
    assert!(got.iter().all(|&(c, _, a)| c == 1 && a == 1));
    assert_eq!(ch.depth(), 0);
    assert_eq!(ch.in_flight_count(), 5);
    let c = ch.consumer_mut(1).unwrap();
    assert_eq!(c.in_flight, 5);
    assert_eq!(c.message_count, 5);
}

#[test]
fn pump_round_robins_across_consumers() {
    let now = Instant::now();
    let mut ch = channel_with(&[(1, 10), (2, 10), (3, 10)]);
    put_n(&mut ch, 1..=6, now);
    let got = pump(&mut ch, now);
    assert_eq!(numbers(&got), vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(clients(&got), vec![1, 2, 3, 1, 2, 3]);
    for c in 1..=3 {
        assert_eq!(in_flight_of(&mut ch, c), 2);
    }
    // The turn carries over between pumps.
    put_n(&mut ch, 7..=8, now);
    let got = pump(&mut ch, now);
    assert_eq!(clients(&got), vec![1, 2]);
    put_n(&mut ch, 9..=9, now);
    assert_eq!(clients(&pump(&mut ch, now)), vec![3]);
}

#[test]
fn pump_skips_consumers_that_are_not_ready() {
    let now = Instant::now();
    let mut ch = channel_with(&[(1, 0), (2, 10), (3, 0)]);
    put_n(&mut ch, 1..=4, now);
    let got = pump(&mut ch, now);
    assert_eq!(clients(&got), vec![2, 2, 2, 2]);
    assert_eq!(in_flight_of(&mut ch, 1), 0);
    assert_eq!(in_flight_of(&mut ch, 3), 0);
}

#[test]
fn pump_respects_each_rdy_window() {
    let now = Instant::now();
    let mut ch = channel_with(&[(1, 1), (2, 3)]);
    put_n(&mut ch, 1..=6, now);
    let got = pump(&mut ch, now);
    assert_eq!(got.len(), 4);
    assert_eq!(got.iter().filter(|d| d.0 == 1).count(), 1);
    assert_eq!(got.iter().filter(|d| d.0 == 2).count(), 3);
    assert_eq!(numbers(&got), vec![1, 2, 3, 4]);
    assert_eq!(ch.depth(), 2);
    assert!(!ch.has_work());
    // Full windows: nothing more.
    assert!(pump(&mut ch, now).is_empty());
    // RDY is a window, not a credit: finishing one frees one slot.
    let id = hex_id(got.iter().find(|d| d.0 == 1).unwrap().1);
    ch.finish(1, &id).unwrap();
    assert!(ch.has_work());
    let again = pump(&mut ch, now);
    assert_eq!(again, vec![(1, 5, 1)]);
    assert!(pump(&mut ch, now).is_empty());
    // A bigger window lets more through.
    ch.consumer_mut(2).unwrap().rdy = 4;
    assert_eq!(pump(&mut ch, now), vec![(2, 6, 1)]);
    // RDY 0 stops delivery.
    ch.consumer_mut(1).unwrap().rdy = 0;
    ch.consumer_mut(2).unwrap().rdy = 0;
    put_n(&mut ch, 7..=7, now);
    assert!(!ch.has_work());
    assert!(pump(&mut ch, now).is_empty());
    assert_eq!(ch.depth(), 1);
}

#[test]
fn paused_channel_delivers_nothing() {
    let now = Instant::now();
    let mut ch = channel_with(&[(1, 10)]);
    ch.paused = true;
    put_n(&mut ch, 1..=3, now);
    assert!(!ch.has_work());
    assert!(pump(&mut ch, now).is_empty());
    assert_eq!(ch.depth(), 3);
    ch.paused = false;
    assert!(ch.has_work());
    assert_eq!(numbers(&pump(&mut ch, now)), vec![1, 2, 3]);
}

#[test]
fn has_work_needs_a_message_and_a_ready_consumer() {
    let now = Instant::now();
    let mut ch = channel_with(&[]);
    put_n(&mut ch, 1..=1, now);
    assert!(!ch.has_work());
    assert!(pump(&mut ch, now).is_empty());
    ch.add_consumer(consumer(1, 0));
    assert!(!ch.has_work());
    ch.consumer_mut(1).unwrap().rdy = 1;
    assert!(ch.has_work());
    pump(&mut ch, now);
    put_n(&mut ch, 2..=2, now);
    // Window full.
    assert!(!ch.has_work());
}

#[test]
fn attempts_increase_at_each_delivery() {
    let now = Instant::now();
    let mut ch = channel_with(&[(1, 1)]);
    ch.consumer_mut(1).unwrap().msg_timeout = Duration::from_secs(1);
    put_n(&mut ch, 1..=1, now);
    assert_eq!(pump(&mut ch, now), vec![(1, 1, 1)]);
    ch.requeue(1, &hex_id(1), Duration::ZERO, now).unwrap();
    assert_eq!(pump(&mut ch, now), vec![(1, 1, 2)]);
    // A timeout, then a delayed requeue.
    let t1 = now + Duration::from_secs(1);
    assert!(ch.expire(t1));
    assert_eq!(pump(&mut ch, t1), vec![(1, 1, 3)]);
    ch.requeue(1, &hex_id(1), Duration::from_millis(5), t1)
        .unwrap();
    let t2 = t1 + Duration::from_millis(5);
    assert!(ch.expire(t2));
    assert_eq!(pump(&mut ch, t2), vec![(1, 1, 4)]);
}

#[test]
fn sampling_drops_messages_it_rejects() {
    let now = Instant::now();
    let mut ch = channel_with(&[(1, 10)]);
    ch.consumer_mut(1).unwrap().sample_rate = 50;
    put_n(&mut ch, 1..=4, now);
    let mut rates = Vec::new();
    let mut keep = [true, false, false, true].into_iter();
    let mut out = Vec::new();
    ch.pump(
        now,
        &mut |rate| {
            rates.push(rate);
            keep.next().unwrap()
        },
        &mut |client, m: &Message| out.push((client, m.timestamp)),
    );
    assert_eq!(rates, vec![50; 4]);
    assert_eq!(out, vec![(1, 1), (1, 4)]);
    assert_eq!(ch.depth(), 0);
    assert_eq!(ch.in_flight_count(), 2);
    assert_eq!(in_flight_of(&mut ch, 1), 2);
    assert_eq!(ch.finish(1, &hex_id(2)), Err(InFlightError::NotInFlight));
    // Without a sample rate the sampler is not consulted.
    let mut ch = channel_with(&[(1, 10)]);
    put_n(&mut ch, 1..=2, now);
    let mut n = 0;
    ch.pump(
        now,
        &mut |_| {
            n += 1;
            false
        },
        &mut |_, _| {},
    );
    assert_eq!(n, 0);
    assert_eq!(ch.in_flight_count(), 2);
}

#[test]
fn finish_errors_and_counters() {
    let now = Instant::now();
    let mut ch = channel_with(&[(1, 10), (2, 10)]);
    put_n(&mut ch, 1..=2, now);
    let got = pump(&mut ch, now);
    assert_eq!(clients(&got), vec![1, 2]);
    // Unknown ID.
    assert_eq!(ch.finish(1, &hex_id(99)), Err(InFlightError::NotInFlight));
    // Someone else's message: refused and left in flight.
    assert_eq!(ch.finish(1, &hex_id(2)), Err(InFlightError::NotOwner));
    assert_eq!(ch.in_flight_count(), 2);
    assert_eq!(in_flight_of(&mut ch, 2), 1);
    // A client that is not a consumer at all.
    assert_eq!(ch.finish(7, &hex_id(1)), Err(InFlightError::NotOwner));
    // The owner.
    assert_eq!(ch.finish(1, &hex_id(1)), Ok(()));
    assert_eq!(ch.in_flight_count(), 1);
    let c = ch.consumer_mut(1).unwrap();
    assert_eq!((c.in_flight, c.finish_count, c.requeue_count), (0, 1, 0));
    // Twice.
    assert_eq!(ch.finish(1, &hex_id(1)), Err(InFlightError::NotInFlight));
    assert_eq!(ch.consumer_mut(1).unwrap().finish_count, 1);
    assert_eq!(ch.requeue_count, 0);
    assert_eq!(ch.timeout_count, 0);
    assert_eq!(InFlightError::NotInFlight.text(), "ID not in flight");
    assert_eq!(
        InFlightError::NotOwner.text(),
        "client does not own message"
    );
}

#[test]
fn requeue_errors_and_counters() {
    let now = Instant::now();
    let mut ch = channel_with(&[(1, 10), (2, 10)]);
    put_n(&mut ch, 1..=2, now);
    pump(&mut ch, now);
    assert_eq!(
        ch.requeue(1, &hex_id(99), Duration::ZERO, now),
        Err(InFlightError::NotInFlight)
    );
    assert_eq!(
        ch.requeue(1, &hex_id(2), Duration::ZERO, now),
        Err(InFlightError::NotOwner)
    );
    assert_eq!(ch.requeue_count, 0);
    assert_eq!(ch.in_flight_count(), 2);
    assert_eq!(ch.requeue(1, &hex_id(1), Duration::ZERO, now), Ok(()));
    assert_eq!(ch.requeue_count, 1);
    let c = ch.consumer_mut(1).unwrap();
    assert_eq!((c.in_flight, c.requeue_count, c.finish_count), (0, 1, 0));
    assert_eq!(ch.in_flight_count(), 1);
    assert_eq!(ch.depth(), 1);
    assert_eq!(
        ch.requeue(1, &hex_id(1), Duration::ZERO, now),
        Err(InFlightError::NotInFlight)
    );
    assert_eq!(ch.requeue_count, 1);
}

#[test]
fn requeue_now_goes_to_the_tail() {
    let now = Instant::now();
    let mut ch = channel_with(&[(1, 1)]);
    put_n(&mut ch, 1..=3, now);
    assert_eq!(numbers(&pump(&mut ch, now)), vec![1]);
    ch.requeue(1, &hex_id(1), Duration::ZERO, now).unwrap();
    assert_eq!(ch.deferred_count(), 0);
    assert_eq!(ch.depth(), 3);
    ch.consumer_mut(1).unwrap().rdy = 10;
    assert_eq!(pump(&mut ch, now), vec![(1, 2, 1), (1, 3, 1), (1, 1, 2)]);
}

#[test]
fn requeue_with_delay_waits_in_deferred() {
    let now = Instant::now();
    let mut ch = channel_with(&[(1, 10)]);
    put_n(&mut ch, 1..=1, now);
    pump(&mut ch, now);
    let t = now + Duration::from_millis(100);
    let delay = Duration::from_secs(2);
    ch.requeue(1, &hex_id(1), delay, t).unwrap();
    assert_eq!(ch.deferred_count(), 1);
    assert_eq!(ch.depth(), 0);
    assert_eq!(ch.in_flight_count(), 0);
    assert_eq!(ch.requeue_count, 1);
    assert_eq!(in_flight_of(&mut ch, 1), 0);
    assert_eq!(ch.next_deadline(), Some(t + delay));
    assert!(pump(&mut ch, t).is_empty());
    // Not a moment early.
    assert!(!ch.expire(t + delay - Duration::from_millis(1)));
    assert_eq!(ch.deferred_count(), 1);
    assert!(pump(&mut ch, t + delay - Duration::from_millis(1)).is_empty());
    // Released at its time.
    assert!(ch.expire(t + delay));
    assert_eq!(ch.deferred_count(), 0);
    assert_eq!(ch.depth(), 1);
    assert_eq!(ch.next_deadline(), None);
    assert_eq!(pump(&mut ch, t + delay), vec![(1, 1, 2)]);
    // Releasing is not a timeout.
    assert_eq!(ch.timeout_count, 0);
}

#[test]
fn deferred_messages_leave_in_time_order() {
    let now = Instant::now();
    let mut ch = channel_with(&[(1, 10)]);
    put_n(&mut ch, 1..=4, now);
    pump(&mut ch, now);
    let s = Duration::from_secs;
    ch.requeue(1, &hex_id(1), s(3), now).unwrap();
    ch.requeue(1, &hex_id(2), s(1), now).unwrap();
    ch.requeue(1, &hex_id(3), s(2), now).unwrap();
    ch.requeue(1, &hex_id(4), s(1), now).unwrap();
    assert_eq!(ch.deferred_count(), 4);
    assert_eq!(ch.next_deadline(), Some(now + s(1)));
    assert!(ch.expire(now + s(1)));
    assert_eq!(ch.deferred_count(), 2);
    assert_eq!(ch.next_deadline(), Some(now + s(2)));
    assert!(ch.expire(now + s(10)));
    // Same time: in requeue order.
    assert_eq!(numbers(&pump(&mut ch, now + s(10))), vec![2, 4, 3, 1]);
}

#[test]
fn put_with_defer_waits_from_the_handoff() {
    let now = Instant::now();
    let mut ch = channel_with(&[(1, 10)]);
    let mut m = msg(1);
    m.defer_ms = 1500;
    ch.put(m, now);
    assert_eq!(ch.message_count, 1);
    assert_eq!(ch.deferred_count(), 1);
    assert_eq!(ch.depth(), 0);
    assert!(!ch.has_work());
    assert_eq!(ch.next_deadline(), Some(now + Duration::from_millis(1500)));
    assert!(!ch.expire(now + Duration::from_millis(1499)));
    assert!(ch.expire(now + Duration::from_millis(1500)));
    assert_eq!(pump(&mut ch, now), vec![(1, 1, 1)]);
}

#[test]
fn in_flight_timeout_requeues() {
    let now = Instant::now();
    let mut ch = channel_with(&[(1, 10)]);
    ch.consumer_mut(1).unwrap().msg_timeout = Duration::from_secs(1);
    put_n(&mut ch, 1..=2, now);
    pump(&mut ch, now);
    ch.finish(1, &hex_id(2)).unwrap();
    let deadline = now + Duration::from_secs(1);
    assert_eq!(ch.next_deadline(), Some(deadline));
    assert!(!ch.expire(deadline - Duration::from_millis(1)));
    assert_eq!(ch.in_flight_count(), 1);
    assert!(ch.expire(deadline));
    assert_eq!(ch.in_flight_count(), 0);
    assert_eq!(ch.depth(), 1);
    assert_eq!(ch.timeout_count, 1);
    assert_eq!(ch.requeue_count, 0);
    let c = ch.consumer_mut(1).unwrap();
    assert_eq!((c.in_flight, c.requeue_count, c.finish_count), (0, 0, 1));
    assert_eq!(ch.next_deadline(), None);
    // A late FIN fails.
    assert_eq!(ch.finish(1, &hex_id(1)), Err(InFlightError::NotInFlight));
    // Nothing more to expire.
    assert!(!ch.expire(deadline + Duration::from_secs(100)));
    assert_eq!(ch.timeout_count, 1);
    assert_eq!(pump(&mut ch, deadline), vec![(1, 1, 2)]);
}

#[test]
fn each_consumer_has_its_own_timeout() {
    let now = Instant::now();
    let mut ch = channel_with(&[(1, 1), (2, 1)]);
    ch.consumer_mut(1).unwrap().msg_timeout = Duration::from_secs(5);
    ch.consumer_mut(2).unwrap().msg_timeout = Duration::from_secs(2);
    put_n(&mut ch, 1..=2, now);
    assert_eq!(clients(&pump(&mut ch, now)), vec![1, 2]);
    assert_eq!(ch.next_deadline(), Some(now + Duration::from_secs(2)));
    assert!(ch.expire(now + Duration::from_secs(2)));
    assert_eq!(ch.timeout_count, 1);
    assert_eq!(in_flight_of(&mut ch, 2), 0);
    assert_eq!(in_flight_of(&mut ch, 1), 1);
    assert_eq!(ch.next_deadline(), Some(now + Duration::from_secs(5)));
}

#[test]
fn touch_extends_up_to_the_max_msg_timeout() {
    let now = Instant::now();
    let s = Duration::from_secs;
    let max = s(15);
    let mut ch = channel_with(&[(1, 10), (2, 10)]);
    ch.consumer_mut(1).unwrap().msg_timeout = s(10);
    put_n(&mut ch, 1..=2, now);
    pump(&mut ch, now);
    ch.finish(2, &hex_id(2)).unwrap();
    assert_eq!(ch.next_deadline(), Some(now + s(10)));
    // Errors.
    assert_eq!(
        ch.touch(1, &hex_id(99), now, max),
        Err(InFlightError::NotInFlight)
    );
    assert_eq!(
        ch.touch(2, &hex_id(1), now, max),
        Err(InFlightError::NotOwner)
    );
    assert_eq!(ch.next_deadline(), Some(now + s(10)));
    // now + timeout.
    ch.touch(1, &hex_id(1), now + s(3), max).unwrap();
    assert_eq!(ch.next_deadline(), Some(now + s(13)));
    assert!(!ch.expire(now + s(10)));
    assert_eq!(ch.in_flight_count(), 1);
    // Capped at delivery + max.
    ch.touch(1, &hex_id(1), now + s(8), max).unwrap();
    assert_eq!(ch.next_deadline(), Some(now + s(15)));
    ch.touch(1, &hex_id(1), now + s(14), max).unwrap();
    assert_eq!(ch.next_deadline(), Some(now + s(15)));
    // Touch changes nothing else.
    assert_eq!(in_flight_of(&mut ch, 1), 1);
    assert_eq!(ch.requeue_count, 0);
    assert!(!ch.expire(now + s(15) - Duration::from_millis(1)));
    assert!(ch.expire(now + s(15)));
    assert_eq!(ch.timeout_count, 1);
    assert_eq!(in_flight_of(&mut ch, 1), 0);
    assert_eq!(
        ch.touch(1, &hex_id(1), now + s(16), max),
        Err(InFlightError::NotInFlight)
    );
}

#[test]
fn empty_drops_everything() {
    let now = Instant::now();
    let mut ch = channel_with(&[(1, 2), (2, 1)]);
    put_n(&mut ch, 1..=6, now);
    pump(&mut ch, now);
    assert_eq!(ch.in_flight_count(), 3);
    ch.requeue(1, &hex_id(1), Duration::from_secs(5), now)
        .unwrap();
    assert_eq!(ch.deferred_count(), 1);
    assert_eq!(ch.depth(), 3);
    ch.empty();
    assert_eq!(ch.depth(), 0);
    assert_eq!(ch.in_flight_count(), 0);
    assert_eq!(ch.deferred_count(), 0);
    assert_eq!(ch.next_deadline(), None);
    assert_eq!(in_flight_of(&mut ch, 1), 0);
    assert_eq!(in_flight_of(&mut ch, 2), 0);
    assert_eq!(ch.consumers.len(), 2);
    // Late FINs fail.
    assert_eq!(ch.finish(1, &hex_id(2)), Err(InFlightError::NotInFlight));
    assert_eq!(ch.finish(2, &hex_id(3)), Err(InFlightError::NotInFlight));
    // Nothing comes back.
    assert!(!ch.expire(now + Duration::from_secs(3600)));
    assert!(pump(&mut ch, now).is_empty());
    // And the channel still works.
    put_n(&mut ch, 7..=7, now);
    assert_eq!(numbers(&pump(&mut ch, now)), vec![7]);
}

#[test]
fn ephemeral_channel_drops_beyond_mem_limit() {
    let now = Instant::now();
    let mut ch = Channel::with_backlog("c#ephemeral", Backlog::new(2, None));
    assert!(ch.ephemeral);
    for n in 1..=5 {
        ch.put(msg(n), now);
    }
    assert_eq!(ch.depth(), 2);
    ch.add_consumer(consumer(1, 10));
    assert_eq!(numbers(&pump(&mut ch, now)), vec![1, 2]);
    // Room again.
    ch.put(msg(6), now);
    assert_eq!(ch.depth(), 1);
    // A durable channel ignores the memory limit (it has no disk here to spill to).
    let mut durable = Channel::new("c");
    for n in 1..=5 {
        durable.put(msg(n), now);
    }
    assert_eq!(durable.depth(), 5);
}

#[test]
fn next_deadline_is_the_earliest_of_in_flight_and_deferred() {
    let now = Instant::now();
    let s = Duration::from_secs;
    let mut ch = channel_with(&[(1, 10)]);
    ch.consumer_mut(1).unwrap().msg_timeout = s(10);
    put_n(&mut ch, 1..=2, now);
    pump(&mut ch, now);
    assert_eq!(ch.next_deadline(), Some(now + s(10)));
    ch.requeue(1, &hex_id(1), s(3), now).unwrap();
    assert_eq!(ch.next_deadline(), Some(now + s(3)));
    ch.requeue(1, &hex_id(2), s(30), now).unwrap();
    assert_eq!(ch.next_deadline(), Some(now + s(3)));
    assert!(ch.expire(now + s(3)));
    assert_eq!(ch.next_deadline(), Some(now + s(30)));
    // Delivered again at +3 s: in flight until +13 s.
    pump(&mut ch, now + s(3));
    assert_eq!(ch.next_deadline(), Some(now + s(13)));
}

#[test]
fn removed_consumer_messages_stay_in_flight_until_timeout() {
    let now = Instant::now();
    let mut ch = channel_with(&[(1, 10), (2, 10)]);
    ch.consumer_mut(1).unwrap().msg_timeout = Duration::from_secs(1);
    put_n(&mut ch, 1..=1, now);
    assert_eq!(clients(&pump(&mut ch, now)), vec![1]);
    ch.remove_consumer(1);
    assert_eq!(ch.consumers.len(), 1);
    assert!(ch.consumer_mut(1).is_none());
    assert_eq!(ch.in_flight_count(), 1);
    assert!(ch.expire(now + Duration::from_secs(1)));
    assert_eq!(ch.timeout_count, 1);
    assert_eq!(pump(&mut ch, now + Duration::from_secs(1)), vec![(2, 1, 2)]);
}

#[test]
fn pump_with_no_consumers_is_a_no_op() {
    let now = Instant::now();
    let mut ch = channel_with(&[]);
    put_n(&mut ch, 1..=3, now);
    assert!(pump(&mut ch, now).is_empty());
    assert_eq!(ch.depth(), 3);
}

#[test]
fn delivered_message_keeps_id_timestamp_and_body() {
    let now = Instant::now();
    let mut ch = channel_with(&[(1, 1)]);
    let original = msg(42);
    let body = original.body.clone();
    ch.put(original, now);
    let mut seen = Vec::new();
    ch.pump(now, &mut |_| true, &mut |_, m: &Message| {
        seen.push(m.clone())
    });
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].id, hex_id(42));
    assert_eq!(seen[0].timestamp, 42);
    assert!(seen[0].body.same_allocation(&body));
}

#[test]
fn id_hash_spreads_sequential_ids_over_low_bits() {
    use std::hash::BuildHasher;
    let mut buckets = std::collections::HashSet::new();
    let mut guid = crate::registry::message::GuidFactory::new(1);
    for _ in 0..1024 {
        let id = hex_id(guid.next(1_700_000_000_000_000_000));
        buckets.insert(IdHash.hash_one(id) & 1023);
    }
    // Sequential IDs must not pile into a few table slots.
    assert!(buckets.len() > 500, "{} distinct of 1024", buckets.len());
}
