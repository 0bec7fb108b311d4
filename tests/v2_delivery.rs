//! Black-box tests of nsqd's V2 delivery semantics (NSQ-PROTOCOL.md §1.5, §1.9, §2.2–2.5):
//! fan-out, competing consumers, topics holding messages until a channel exists,
//! in-flight timeouts, REQ/DPUB delays, TOUCH, the RDY window, CLS, heartbeats and the
//! read deadline, ordering, the message frame layout, ephemeral channels and sampling.
//!
//! No check bounds wall-clock time from above, so a slow machine cannot fail them:
//! a delay is checked as a lower bound, measured from just before the command that
//! starts it was sent; "nothing else arrives" is proven by order (a PUB sent on the
//! same connection is answered in command order, so its OK must be the next frame)
//! and by the counts in `/stats`, never by waiting a while and seeing nothing.
mod common;

use common::{consumer, Client, Msg, Nsqd};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Default settings: 30 s heartbeats and a 60 s msg timeout, so a slow test thread
/// is never dropped for silence nor sees a message time out by accident.
const PLAIN: &str = "{}";
/// 1 s heartbeats (read deadline 2 s), for the read-deadline test.
const HB1: &str = r#"{"heartbeat_interval":1000}"#;
/// 4 s heartbeats (read deadline 8 s): the heartbeat tests answer each within 4 s,
/// which a test thread on a loaded machine manages.
const HB4: &str = r#"{"heartbeat_interval":4000}"#;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The next frame that is not a heartbeat (heartbeats are answered with NOP), failing
/// after [`common::WAIT`] in all. (`Client::next_frame` restarts its wait at each
/// heartbeat, so a connection heartbeating every 30 s or less would never fail.)
fn next_frame(c: &mut Client) -> common::Frame {
    let deadline = Instant::now() + common::WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no frame within {:?}", common::WAIT);
        let f = c
            .try_read_frame(left)
            .unwrap_or_else(|e| panic!("no frame: {e}"));
        if f.frame_type == 0 && f.data == b"_heartbeat_" {
            c.send(b"NOP\n");
            continue;
        }
        return f;
    }
}

/// The next message (heartbeats answered), failing after [`common::WAIT`] in all.
fn next_msg(c: &mut Client) -> Msg {
    c.try_read_message(common::WAIT)
        .unwrap_or_else(|| panic!("no message within {:?}", common::WAIT))
}

/// Reads exactly `n` messages, FINs each when `fin`.
fn read_n(c: &mut Client, n: usize, fin: bool) -> Vec<Msg> {
    (0..n)
        .map(|_| {
            let m = next_msg(c);
            if fin {
                c.fin(&m.id);
            }
            m
        })
        .collect()
}

fn body_str(m: &Msg) -> String {
    String::from_utf8_lossy(&m.body).into_owned()
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

/// Sends a PUB to the unrelated topic `sync` on `c` and reads up to its OK; returns
/// the messages that arrived before the OK. Commands are processed and answered in
/// order, so the OK proves everything `c` sent earlier (FIN, REQ, RDY, ...) has been
/// processed, and any frame nsqd wrote to `c` before that comes before the OK.
fn sync_collect(c: &mut Client) -> Vec<Msg> {
    c.command("PUB sync", Some(b"sync"));
    let mut msgs = Vec::new();
    loop {
        let f = next_frame(c);
        match f.frame_type {
            0 => {
                assert_eq!(f.text(), "OK", "reply to the sync PUB");
                return msgs;
            }
            2 => msgs.push(common::decode_message(&f.data)),
            _ => panic!("error frame before the sync PUB's OK: {}", f.text()),
        }
    }
}

/// [`sync_collect`], and no message may come before the OK.
fn sync(c: &mut Client, why: &str) {
    if let Some(m) = sync_collect(c).first() {
        panic!(
            "{why}: unexpected message {:?} attempts {} body {:?}",
            m.id_str(),
            m.attempts,
            body_str(m)
        );
    }
}

/// `/stats` as parsed JSON.
fn stats(nsqd: &Nsqd) -> Value {
    common::http(nsqd.http, "GET", "/stats?format=json", b"").json()
}

/// The `/stats` entry of `topic`, if it exists.
fn topic_stats(nsqd: &Nsqd, topic: &str) -> Option<Value> {
    stats(nsqd)["topics"]
        .as_array()?
        .iter()
        .find(|t| t["topic_name"] == topic)
        .cloned()
}

/// The `/stats` entry of `topic`/`channel`, if it exists.
fn channel_stats(nsqd: &Nsqd, topic: &str, channel: &str) -> Option<Value> {
    topic_stats(nsqd, topic)?["channels"]
        .as_array()?
        .iter()
        .find(|c| c["channel_name"] == channel)
        .cloned()
}

/// The `/stats` entry of `topic`/`channel`, which must exist.
fn channel(nsqd: &Nsqd, topic: &str, channel: &str) -> Value {
    channel_stats(nsqd, topic, channel)
        .unwrap_or_else(|| panic!("no channel {topic}/{channel} in {}", stats(nsqd)))
}

/// The number `key` of a stats object.
fn num(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no number {key} in {v}"))
}

/// A channel's `(depth, in_flight_count, deferred_count)`.
fn queue(ch: &Value) -> (u64, u64, u64) {
    (
        num(ch, "depth"),
        num(ch, "in_flight_count"),
        num(ch, "deferred_count"),
    )
}

/// Publishes bodies `m{from}..m{to}` alternating single PUBs and MPUB batches.
fn publish_mixed(p: &mut Client, topic: &str, from: usize, to: usize) {
    let mut i = from;
    let mut batch = 1;
    while i < to {
        if batch % 2 == 1 {
            p.publish(topic, format!("m{i}").as_bytes());
            i += 1;
        } else {
            let end = (i + batch).min(to);
            let bodies: Vec<Vec<u8>> = (i..end).map(|k| format!("m{k}").into_bytes()).collect();
            let refs: Vec<&[u8]> = bodies.iter().map(|b| b.as_slice()).collect();
            p.mpub(topic, &refs);
            i = end;
        }
        batch = batch % 37 + 1;
    }
}

// 1.
#[test]
fn fan_out_every_channel_gets_every_message() {
    let nsqd = Nsqd::start(&[]);
    let mut a = consumer(&nsqd, PLAIN, "fan", "a", 100);
    let mut b = consumer(&nsqd, PLAIN, "fan", "b", 100);
    let mut p = nsqd.client();
    publish_mixed(&mut p, "fan", 0, 50);

    let key = |m: &Msg| (m.id, m.timestamp, m.body.clone());
    let mut got_a: Vec<_> = read_n(&mut a, 50, true).iter().map(key).collect();
    let mut got_b: Vec<_> = read_n(&mut b, 50, true).iter().map(key).collect();
    got_a.sort();
    got_b.sort();
    assert_eq!(got_a, got_b, "both channels must see the same messages");
    let bodies: HashSet<_> = got_a.iter().map(|k| k.2.clone()).collect();
    let want: HashSet<_> = (0..50).map(|i| format!("m{i}").into_bytes()).collect();
    assert_eq!(bodies, want);
    // Nothing more: each channel took in exactly the 50, every one was FINed, and no
    // further frame reached either consumer.
    for (c, name) in [(&mut a, "a"), (&mut b, "b")] {
        sync(c, &format!("channel {name} after all 50"));
        let ch = channel(&nsqd, "fan", name);
        assert_eq!(num(&ch, "message_count"), 50, "channel {name}: {ch}");
    }
    common::assert_drained(&nsqd, "fan");
}

// 2.
#[test]
fn competing_consumers_share_a_channel_exactly_once() {
    let nsqd = Nsqd::start(&[]);
    let mut c1 = consumer(&nsqd, PLAIN, "compete", "ch", 10);
    let mut c2 = consumer(&nsqd, PLAIN, "compete", "ch", 10);
    // Both windows are open before the first publish; as neither consumer FINs while
    // the 200 are published, each can hold at most 10, so both must get some.
    sync(&mut c1, "consumer 1 before publishing");
    sync(&mut c2, "consumer 2 before publishing");
    let mut p = nsqd.client();
    publish_mixed(&mut p, "compete", 0, 200);

    let total = AtomicUsize::new(0);
    let drain = |mut c: Client| {
        let mut got = Vec::new();
        let deadline = Instant::now() + common::WAIT;
        while total.load(Ordering::SeqCst) < 200 {
            assert!(
                Instant::now() < deadline,
                "only {} of 200 delivered",
                total.load(Ordering::SeqCst)
            );
            if let Some(m) = c.try_read_message(ms(50)) {
                c.fin(&m.id);
                got.push(m);
                total.fetch_add(1, Ordering::SeqCst);
            }
        }
        (c, got)
    };
    let ((mut c1, g1), (mut c2, g2)) = std::thread::scope(|s| {
        let h1 = s.spawn(|| drain(c1));
        let h2 = s.spawn(|| drain(c2));
        (h1.join().unwrap(), h2.join().unwrap())
    });
    assert!(
        !g1.is_empty(),
        "consumer 1 got nothing ({} vs {})",
        g1.len(),
        g2.len()
    );
    assert!(
        !g2.is_empty(),
        "consumer 2 got nothing ({} vs {})",
        g1.len(),
        g2.len()
    );
    assert_eq!(
        g1.len() + g2.len(),
        200,
        "each message delivered exactly once"
    );
    let ids: HashSet<_> = g1.iter().chain(&g2).map(|m| m.id).collect();
    assert_eq!(ids.len(), 200, "duplicate deliveries");
    let bodies: HashSet<_> = g1.iter().chain(&g2).map(body_str).collect();
    assert_eq!(bodies.len(), 200);
    assert!(g1.iter().chain(&g2).all(|m| m.attempts == 1));
    // And no 201st delivery: nothing further reached either consumer, the channel
    // took in exactly 200 and holds nothing back.
    sync(&mut c1, "consumer 1 after all 200");
    sync(&mut c2, "consumer 2 after all 200");
    let ch = channel(&nsqd, "compete", "ch");
    assert_eq!(num(&ch, "message_count"), 200, "{ch}");
    common::assert_drained(&nsqd, "compete");
}

// 3a.
#[test]
fn topic_without_channel_keeps_messages() {
    let nsqd = Nsqd::start(&[]);
    let mut p = nsqd.client();
    for i in 0..5 {
        p.publish("held", format!("h{i}").as_bytes());
    }
    // Every PUB was acknowledged: the topic holds all 5, with no channel to give them to.
    let t = topic_stats(&nsqd, "held").expect("topic held exists");
    assert_eq!(num(&t, "depth"), 5, "{t}");
    assert_eq!(t["channels"], Value::Array(vec![]), "{t}");
    let mut c = consumer(&nsqd, PLAIN, "held", "ch", 10);
    let got: Vec<String> = read_n(&mut c, 5, true).iter().map(body_str).collect();
    assert_eq!(got, ["h0", "h1", "h2", "h3", "h4"]);
    sync(&mut c, "after the 5 held messages");
    let ch = channel(&nsqd, "held", "ch");
    assert_eq!(num(&ch, "message_count"), 5, "{ch}");
    common::assert_drained(&nsqd, "held");
}

// 3b.
#[test]
fn late_channel_sees_only_later_messages() {
    let nsqd = Nsqd::start(&[]);
    let mut a = consumer(&nsqd, PLAIN, "late", "a", 10);
    let mut p = nsqd.client();
    for i in 0..3 {
        p.publish("late", format!("x{i}").as_bytes());
    }
    let got_a: Vec<String> = read_n(&mut a, 3, true).iter().map(body_str).collect();
    assert_eq!(got_a, ["x0", "x1", "x2"]);

    let mut b = consumer(&nsqd, PLAIN, "late", "b", 10);
    for i in 3..5 {
        p.publish("late", format!("x{i}").as_bytes());
    }
    let got_b: Vec<String> = read_n(&mut b, 2, true).iter().map(body_str).collect();
    assert_eq!(
        got_b,
        ["x3", "x4"],
        "channel b must only see messages after it existed"
    );
    sync(&mut b, "channel b got an older message");
    let ch = channel(&nsqd, "late", "b");
    assert_eq!(num(&ch, "message_count"), 2, "channel b took in {ch}");
    let got_a: Vec<String> = read_n(&mut a, 2, true).iter().map(body_str).collect();
    assert_eq!(got_a, ["x3", "x4"]);
    sync(&mut a, "channel a after x4");
    common::assert_drained(&nsqd, "late");
}

// 4.
#[test]
fn unfinished_message_times_out_and_is_redelivered() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, r#"{"msg_timeout":1000}"#, "timeout", "ch", 1);
    // The message cannot be delivered before it is published, so its 1 s deadline
    // falls no earlier than 1 s after this.
    let published = Instant::now();
    nsqd.client().publish("timeout", b"slow");
    let first = next_msg(&mut c);
    assert_eq!(first.attempts, 1);
    let again = next_msg(&mut c);
    let waited = published.elapsed();
    assert!(
        waited >= ms(1000),
        "redelivered {waited:?} after publishing, before the 1 s msg_timeout"
    );
    assert_eq!(again.attempts, 2);
    assert_eq!(again.id, first.id);
    assert_eq!(again.timestamp, first.timestamp);
    assert_eq!(again.body, b"slow");
    c.fin(&again.id);
    // The FIN was processed and succeeded (no E_FIN_FAILED before the OK), and the
    // message is neither in flight nor queued nor deferred: it cannot come back.
    sync(&mut c, "after FIN of the redelivered message");
    let ch = channel(&nsqd, "timeout", "ch");
    assert_eq!(num(&ch, "timeout_count"), 1, "{ch}");
    common::assert_drained(&nsqd, "timeout");
}

// 5.
#[test]
fn req_with_delay_waits_and_req_zero_is_immediate() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, PLAIN, "req", "ch", 1);
    nsqd.client().publish("req", b"again");
    let m = next_msg(&mut c);
    assert_eq!(m.attempts, 1);
    let sent = Instant::now();
    c.req(&m.id, 1500);
    let m2 = next_msg(&mut c);
    let waited = sent.elapsed();
    assert!(
        waited >= ms(1500),
        "REQ 1500 redelivered after only {waited:?}"
    );
    assert_eq!((m2.id, m2.attempts, m2.timestamp), (m.id, 2, m.timestamp));

    // REQ 0 puts the message straight back in the queue, never in the deferred one.
    c.req(&m2.id, 0);
    let early = sync_collect(&mut c);
    let ch = channel(&nsqd, "req", "ch");
    assert_eq!(num(&ch, "deferred_count"), 0, "REQ 0 deferred it: {ch}");
    assert_eq!(num(&ch, "requeue_count"), 2, "{ch}");
    assert!(early.len() <= 1, "{} messages for one REQ", early.len());
    let m3 = early.into_iter().next().unwrap_or_else(|| next_msg(&mut c));
    assert_eq!(
        (m3.id, m3.attempts, m3.body.as_slice()),
        (m.id, 3, &b"again"[..])
    );
    c.fin(&m3.id);
    sync(&mut c, "after FIN");
    common::assert_drained(&nsqd, "req");
}

// 6.
#[test]
fn dpub_delays_delivery_and_dpub_zero_is_immediate() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, PLAIN, "dpub", "ch", 10);
    sync(&mut c, "before publishing");
    let mut p = nsqd.client();
    // DPUB 0 after a DPUB due in an hour: the DPUB 0 message is the one delivered, and
    // only the other one is deferred.
    p.dpub("dpub", 3_600_000, b"parked");
    p.dpub("dpub", 0, b"now");
    let now = next_msg(&mut c);
    assert_eq!(now.body, b"now");
    assert_eq!(now.attempts, 1);
    c.fin(&now.id);
    sync(&mut c, "after FIN of the DPUB 0 message");
    let ch = channel(&nsqd, "dpub", "ch");
    assert_eq!(
        queue(&ch),
        (0, 0, 1),
        "(depth, in flight, deferred): only the 1 h DPUB waits: {ch}"
    );

    let sent = Instant::now();
    p.dpub("dpub", 1500, b"later");
    let later = next_msg(&mut c);
    let waited = sent.elapsed();
    assert!(
        waited >= ms(1500),
        "DPUB 1500 delivered after only {waited:?}"
    );
    assert_eq!(later.body, b"later");
    assert_eq!(later.attempts, 1);
    c.fin(&later.id);
}

// 7.
#[test]
fn touch_extends_the_deadline() {
    let nsqd = Nsqd::start(&[]);
    // Each attempt: a message (msg_timeout 2 s) is delivered, left for 1 s, TOUCHed,
    // and must then stay in flight for a whole msg_timeout counted from the TOUCH —
    // without the TOUCH it would come back about 1 s after it. That needs the TOUCH to
    // reach nsqd before the original deadline; an attempt that cannot show it did
    // (the machine was that slow) is not judged but repeated.
    for attempt in 0..5 {
        let topic = format!("touch{attempt}");
        let mut c = consumer(&nsqd, r#"{"msg_timeout":2000}"#, &topic, "ch", 1);
        let published = Instant::now();
        nsqd.client().publish(&topic, b"busy");
        let m = next_msg(&mut c);
        assert_eq!(m.attempts, 1);
        // Not synchronisation: the message must age for the TOUCH to make a difference.
        std::thread::sleep(ms(1000));
        let touched = Instant::now();
        c.touch(&m.id);
        c.command("PUB sync", Some(b"sync"));
        let reply = next_frame(&mut c);
        if published.elapsed() >= ms(2000) {
            eprintln!("attempt {attempt}: TOUCH maybe after the deadline; retrying");
            continue;
        }
        // The TOUCH was processed before the original deadline: it succeeded silently
        // (an E_TOUCH_FAILED would come before the sync OK).
        assert_eq!(
            (reply.frame_type, reply.text()),
            (0, "OK".to_string()),
            "TOUCH of an in-flight message"
        );
        let again = next_msg(&mut c);
        let waited = touched.elapsed();
        assert!(
            waited >= ms(2000),
            "redelivered {waited:?} after the TOUCH, before a new 2 s msg_timeout"
        );
        assert_eq!((again.id, again.attempts), (m.id, 2));
        c.fin(&again.id);
        sync(&mut c, "after FIN of a touched message");
        common::assert_drained(&nsqd, &topic);
        return;
    }
    panic!("every attempt was too slow to tell whether TOUCH extends the deadline");
}

// 8a.
#[test]
fn rdy_zero_stops_delivery_and_rdy_one_resumes() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, PLAIN, "rdy0", "ch", 1);
    let mut p = nsqd.client();
    p.publish("rdy0", b"first");
    let m = next_msg(&mut c);
    assert_eq!(m.body, b"first");
    c.fin(&m.id);
    c.rdy(0);
    sync(&mut c, "after FIN and RDY 0");
    for i in 0..3 {
        p.publish("rdy0", format!("p{i}").as_bytes());
    }
    // All three wait in the channel and none went to the consumer.
    common::eventually("the 3 messages to reach the channel", || {
        num(&channel(&nsqd, "rdy0", "ch"), "message_count") == 4
    });
    sync(&mut c, "delivered with RDY 0");
    let ch = channel(&nsqd, "rdy0", "ch");
    assert_eq!(queue(&ch), (3, 0, 0), "(depth, in flight, deferred): {ch}");

    c.rdy(1);
    let m = next_msg(&mut c);
    assert_eq!(m.body, b"p0");
    sync(&mut c, "more than RDY 1 in flight");
    let ch = channel(&nsqd, "rdy0", "ch");
    assert_eq!(queue(&ch), (2, 1, 0), "(depth, in flight, deferred): {ch}");
    c.fin(&m.id);
    let rest: Vec<String> = read_n(&mut c, 2, true).iter().map(body_str).collect();
    assert_eq!(rest, ["p1", "p2"]);
    sync(&mut c, "after p2");
    common::assert_drained(&nsqd, "rdy0");
}

// 8b.
#[test]
fn rdy_is_a_window_not_a_credit() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, PLAIN, "window", "ch", 2);
    let mut p = nsqd.client();
    for i in 0..6 {
        p.publish("window", format!("w{i}").as_bytes());
    }
    let held = read_n(&mut c, 2, false);
    sync(&mut c, "a third message with RDY 2 and 2 in flight");
    let ch = channel(&nsqd, "window", "ch");
    assert_eq!(queue(&ch), (4, 2, 0), "(depth, in flight, deferred): {ch}");
    c.fin(&held[0].id);
    let third = next_msg(&mut c);
    sync(&mut c, "window exceeded after one FIN");
    let ch = channel(&nsqd, "window", "ch");
    assert_eq!(queue(&ch), (3, 2, 0), "(depth, in flight, deferred): {ch}");
    // The window does not run down: after FINs, RDY 2 keeps delivering.
    c.fin(&held[1].id);
    c.fin(&third.id);
    let more = read_n(&mut c, 2, true);
    let mut bodies: Vec<String> = held.iter().chain([&third]).map(body_str).collect();
    bodies.extend(more.iter().map(body_str));
    assert_eq!(bodies, ["w0", "w1", "w2", "w3", "w4"]);
    let last = next_msg(&mut c);
    assert_eq!(last.body, b"w5");
    c.fin(&last.id);
    sync(&mut c, "after w5");
    common::assert_drained(&nsqd, "window");
}

// 9.
#[test]
fn cls_stops_delivery_but_fin_still_works() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, PLAIN, "cls", "ch", 5);
    let mut p = nsqd.client();
    p.publish("cls", b"held");
    let held = next_msg(&mut c);
    c.command("CLS", None);
    let f = next_frame(&mut c);
    assert_eq!((f.frame_type, f.text()), (0, "CLOSE_WAIT".to_string()));
    for i in 0..3 {
        p.publish("cls", format!("after{i}").as_bytes());
    }
    common::eventually("the 3 messages to reach the channel", || {
        num(&channel(&nsqd, "cls", "ch"), "message_count") == 4
    });
    sync(&mut c, "delivered after CLS");
    let ch = channel(&nsqd, "cls", "ch");
    assert_eq!(queue(&ch), (3, 1, 0), "(depth, in flight, deferred): {ch}");
    // RDY is silently ignored in the closing state (no error, no delivery).
    c.rdy(5);
    sync(&mut c, "delivered after RDY in closing state");
    let ch = channel(&nsqd, "cls", "ch");
    assert_eq!(queue(&ch), (3, 1, 0), "(depth, in flight, deferred): {ch}");
    // FIN still works: no E_FIN_FAILED before the sync OK, and nothing in flight.
    c.fin(&held.id);
    sync(&mut c, "FIN after CLS");
    let ch = channel(&nsqd, "cls", "ch");
    assert_eq!(queue(&ch), (3, 0, 0), "(depth, in flight, deferred): {ch}");

    // The held message was finished: another consumer gets only the 3 later ones, and
    // afterwards nothing is left that could come back.
    let mut other = consumer(&nsqd, PLAIN, "cls", "ch", 10);
    let mut got: Vec<String> = read_n(&mut other, 3, true).iter().map(body_str).collect();
    got.sort();
    assert_eq!(got, ["after0", "after1", "after2"]);
    sync(&mut other, "held message came back after FIN");
    common::assert_drained(&nsqd, "cls");
}

/// Reads `n` heartbeats on `c`, answering each with NOP; every frame must be one.
/// Returns how long after `since` the last one arrived.
fn heartbeats(c: &mut Client, n: usize, since: Instant, who: &str) -> Duration {
    let deadline = Instant::now() + common::WAIT;
    for i in 0..n {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "{who}: {i} of {n} heartbeats");
        let f = c
            .try_read_frame(left)
            .unwrap_or_else(|e| panic!("{who}: {i} of {n} heartbeats in {:?}: {e}", common::WAIT));
        assert_eq!(
            (f.frame_type, f.text()),
            (0, "_heartbeat_".to_string()),
            "{who}"
        );
        c.send(b"NOP\n");
    }
    since.elapsed()
}

// 10a.
#[test]
fn heartbeats_follow_the_negotiated_interval() {
    let nsqd = Nsqd::start(&[]);
    // A consumer and a connection that only IDENTIFYs both get heartbeats at the 4 s
    // they asked for: 3 of them take at least 12 s (never sooner), and come within
    // the 30 s deadline (the default interval, 30 s, would give at most one).
    let mut c = nsqd.client();
    let c_start = Instant::now();
    assert_eq!(c.identify(HB4).text(), "OK");
    c.sub("hb", "ch");
    c.rdy(1);
    let mut idle = nsqd.client();
    let idle_start = Instant::now();
    assert_eq!(idle.identify(HB4).text(), "OK");
    let (took_c, took_idle) = std::thread::scope(|s| {
        let hc = s.spawn(|| heartbeats(&mut c, 3, c_start, "consumer"));
        let hi = s.spawn(|| heartbeats(&mut idle, 3, idle_start, "producer"));
        (hc.join().unwrap(), hi.join().unwrap())
    });
    for (who, took) in [("consumer", took_c), ("producer", took_idle)] {
        assert!(
            took >= ms(12000),
            "{who}: 3 heartbeats only {took:?} after IDENTIFY with a 4 s interval"
        );
    }
    // Answered heartbeats keep both connections usable.
    c.publish("hb", b"alive");
    idle.publish("hb", b"alive");
}

// 10b.
#[test]
fn silent_client_is_closed_after_two_intervals() {
    let nsqd = Nsqd::start(&[]);
    let mut c = nsqd.client();
    assert_eq!(c.identify(HB1).text(), "OK");
    // The SUB is the last thing this client sends: nsqd reads it after this instant,
    // so its 2 s read deadline ends no earlier than 2 s after it.
    let last_sent = Instant::now();
    c.sub("silent", "ch");
    let deadline = Instant::now() + common::WAIT;
    let closed_after = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "silent client still open after {:?}",
            common::WAIT
        );
        match c.try_read_frame(left) {
            Ok(f) => assert_eq!(
                (f.frame_type, f.text()),
                (0, "_heartbeat_".to_string()),
                "unexpected frame"
            ),
            Err(e) if e == "timeout" => {}
            Err(_) => break last_sent.elapsed(),
        }
    };
    assert!(
        closed_after >= ms(2000),
        "closed {closed_after:?} after the last byte, before two 1 s intervals"
    );
}

// 10c.
#[test]
fn nop_answering_client_stays_connected() {
    let nsqd = Nsqd::start(&[]);
    let mut c = nsqd.client();
    let start = Instant::now();
    assert_eq!(c.identify(HB4).text(), "OK");
    c.sub("nop", "ch");
    // Three answered heartbeats take at least 12 s: well past the 8 s read deadline
    // that a client sending nothing would have hit.
    let took = heartbeats(&mut c, 3, start, "consumer");
    assert!(took >= ms(8000), "3 heartbeats within {took:?}");
    // Still connected and usable.
    c.publish("nop", b"alive");
}

// 11.
#[test]
fn single_consumer_gets_first_deliveries_in_publish_order() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, PLAIN, "order", "ch", 100);
    let mut p = nsqd.client();
    publish_mixed(&mut p, "order", 0, 1000);
    let got: Vec<String> = read_n(&mut c, 1000, true).iter().map(body_str).collect();
    let want: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
    if got != want {
        let at = got.iter().zip(&want).position(|(g, w)| g != w).unwrap();
        panic!(
            "order differs at {at}: got {:?}, want {:?}",
            &got[at..(at + 5).min(1000)],
            &want[at..(at + 5).min(1000)]
        );
    }
    sync(&mut c, "after 1000 messages");
    let ch = channel(&nsqd, "order", "ch");
    assert_eq!(num(&ch, "message_count"), 1000, "{ch}");
    common::assert_drained(&nsqd, "order");
}

// 12.
#[test]
fn message_frame_layout() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, PLAIN, "layout", "ch", 100);
    let mut p = nsqd.client();
    let before = now_ns();
    publish_mixed(&mut p, "layout", 0, 1000);
    let msgs = read_n(&mut c, 1000, true);
    let after = now_ns();
    // The publish time lies between `before` and `after`; the slack only absorbs a
    // step of the system clock, it is no bound on how long anything took.
    let slack = 5_000_000_000i64;
    let mut ids = HashSet::new();
    for m in &msgs {
        assert!(
            m.timestamp >= before - slack && m.timestamp <= after + slack,
            "timestamp {} not within 5 s of the publishing ({before}..{after}) in ns",
            m.timestamp
        );
        assert_eq!(m.attempts, 1);
        let id = m.id_str();
        assert!(
            m.id.iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b)),
            "id {id:?} is not 16 lowercase hex chars"
        );
        assert!(ids.insert(m.id), "duplicate id {id}");
    }
    assert_eq!(ids.len(), 1000);
}

// 13a.
#[test]
fn ephemeral_channel_disappears_with_last_consumer() {
    let nsqd = Nsqd::start(&[]);
    // A durable channel keeps the topic flowing (otherwise the topic would hold the
    // messages for the next channel, ephemeral or not).
    let mut keep = consumer(&nsqd, PLAIN, "eph", "keep", 0);
    let mut e1 = consumer(&nsqd, PLAIN, "eph", "ch#ephemeral", 10);
    let mut p = nsqd.client();
    p.publish("eph", b"e0");
    let m = next_msg(&mut e1);
    assert_eq!(m.body, b"e0");
    e1.fin(&m.id);
    sync(&mut e1, "after FIN of e0");
    drop(e1);
    common::eventually("the ephemeral channel to be deleted", || {
        channel_stats(&nsqd, "eph", "ch#ephemeral").is_none()
    });

    p.publish("eph", b"while-gone-1");
    p.publish("eph", b"while-gone-2");
    let mut e2 = consumer(&nsqd, PLAIN, "eph", "ch#ephemeral", 10);
    // A new, empty channel: had the old one survived, it would hold the two
    // messages published meanwhile and have taken in three.
    let ch = channel(&nsqd, "eph", "ch#ephemeral");
    assert_eq!(
        (num(&ch, "message_count"), queue(&ch)),
        (0, (0, 0, 0)),
        "ephemeral channel survived its last consumer: {ch}"
    );
    sync(&mut e2, "ephemeral channel survived its last consumer");
    p.publish("eph", b"e3");
    let m = next_msg(&mut e2);
    assert_eq!(m.body, b"e3");
    e2.fin(&m.id);

    // The durable channel got everything.
    keep.rdy(10);
    let got: Vec<String> = read_n(&mut keep, 4, true).iter().map(body_str).collect();
    assert_eq!(got, ["e0", "while-gone-1", "while-gone-2", "e3"]);
}

// 13b.
#[test]
fn disconnected_consumers_in_flight_goes_to_another_after_timeout() {
    let nsqd = Nsqd::start(&[]);
    let timeout = r#"{"msg_timeout":1000}"#;
    let mut c1 = consumer(&nsqd, timeout, "gone", "ch", 1);
    let mut c2 = consumer(&nsqd, timeout, "gone", "ch", 0);
    sync(&mut c2, "consumer 2 with RDY 0");
    // Delivered no earlier than this, so its 1 s deadline ends no earlier than 1 s on.
    let published = Instant::now();
    nsqd.client().publish("gone", b"orphan");
    let m = next_msg(&mut c1);
    assert_eq!(m.attempts, 1);
    drop(c1);
    c2.rdy(1);
    let m2 = next_msg(&mut c2);
    let waited = published.elapsed();
    assert!(
        waited >= ms(1000),
        "redelivered {waited:?} after publishing: disconnect must not requeue at once"
    );
    assert_eq!((m2.id, m2.attempts, m2.timestamp), (m.id, 2, m.timestamp));
    assert_eq!(m2.body, b"orphan");
    c2.fin(&m2.id);
    sync(&mut c2, "after FIN");
    common::assert_drained(&nsqd, "gone");
}

// 14.
#[test]
fn sample_rate_drops_most_messages() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, r#"{"sample_rate":10}"#, "sample", "ch", 500);
    sync(&mut c, "before publishing");
    let mut p = nsqd.client();
    publish_mixed(&mut p, "sample", 0, 500);
    // RDY 500 never holds a message back, and nothing is FINed yet: once the channel
    // has taken in all 500 and holds none, each one was either dropped by sampling or
    // is in flight to this consumer.
    common::eventually("the channel to take in and pass on all 500", || {
        let ch = channel(&nsqd, "sample", "ch");
        num(&ch, "message_count") == 500 && num(&ch, "depth") == 0
    });
    let ch = channel(&nsqd, "sample", "ch");
    let n = num(&ch, "in_flight_count") as usize;
    let msgs = read_n(&mut c, n, true);
    sync(&mut c, "more messages than were in flight");
    let bodies: HashSet<String> = msgs.iter().map(body_str).collect();
    assert_eq!(bodies.len(), n, "duplicate deliveries");
    // About 10% (nsqd keeps a message when rand(100) <= 10): 0 or 150+ of 500 would
    // take odds below 1e-20.
    assert!(n > 0, "sample_rate 10 delivered nothing");
    assert!(n < 150, "sample_rate 10 delivered {n} of 500");
    common::assert_drained(&nsqd, "sample");
}

#[test]
fn a_closing_consumer_that_never_reads_is_dropped_after_the_linger() {
    let nsqd = Nsqd::start(&[]);
    let mut stuck = nsqd.client();
    let reply = stuck.identify(HB1);
    assert_eq!(reply.frame_type, 0, "{}", reply.text());
    stuck.sub("linger", "c");
    stuck.rdy(100);
    // 24 MB of messages: far more than the socket buffers hold, so output stays
    // queued for this consumer, which from now on neither reads nor sends.
    let mut publisher = nsqd.client();
    let body = vec![b'x'; 1_000_000];
    for _ in 0..24 {
        publisher.publish("linger", &body);
    }
    // nsqd closes it for missed heartbeats (2 s), then may wait CLOSE_LINGER (5 s)
    // for the peer to take its output; it must not wait for ever (the 30 s deadline).
    common::eventually("nsqd to drop the stuck consumer", || {
        channel(&nsqd, "linger", "c")["client_count"] == 0
    });
    drop(stuck);
}
