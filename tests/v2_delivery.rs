//! Black-box tests of nsqd's V2 delivery semantics (NSQ-PROTOCOL.md §1.5, §1.9, §2.2–2.5):
//! fan-out, competing consumers, topics holding messages until a channel exists,
//! in-flight timeouts, REQ/DPUB delays, TOUCH, the RDY window, CLS, heartbeats and the
//! read deadline, ordering, the message frame layout, ephemeral channels and sampling.
mod common;

use common::{consumer, Client, Msg, Nsqd};
use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Short timeouts so the timing tests stay fast.
const FAST: &str = r#"{"msg_timeout":1000,"heartbeat_interval":1000}"#;
/// Short heartbeats (so idle reads are answered) but the default 60 s msg timeout.
const HB: &str = r#"{"heartbeat_interval":1000}"#;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Reads exactly `n` messages (each within a few seconds), FINs each when `fin`.
fn read_n(c: &mut Client, n: usize, fin: bool) -> Vec<Msg> {
    (0..n)
        .map(|i| {
            let m = c
                .try_read_message(ms(3000))
                .unwrap_or_else(|| panic!("message {i} of {n} did not arrive"));
            if fin {
                c.fin(&m.id);
            }
            m
        })
        .collect()
}

/// Asserts no message (and no other frame but heartbeats) arrives within `d`.
fn expect_nothing(c: &mut Client, d: Duration, why: &str) {
    if let Some(m) = c.try_read_message(d) {
        panic!(
            "{why}: unexpected message {:?} attempts {} body {:?}",
            m.id_str(),
            m.attempts,
            String::from_utf8_lossy(&m.body)
        );
    }
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
    let mut a = consumer(&nsqd, HB, "fan", "a", 100);
    let mut b = consumer(&nsqd, HB, "fan", "b", 100);
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
    expect_nothing(&mut a, ms(300), "channel a after all 50");
    expect_nothing(&mut b, ms(300), "channel b after all 50");
}

// 2.
#[test]
fn competing_consumers_share_a_channel_exactly_once() {
    let nsqd = Nsqd::start(&[]);
    let c1 = consumer(&nsqd, HB, "compete", "ch", 10);
    let c2 = consumer(&nsqd, HB, "compete", "ch", 10);
    let mut p = nsqd.client();
    publish_mixed(&mut p, "compete", 0, 200);

    let drain = |mut c: Client| {
        let mut got = Vec::new();
        let deadline = Instant::now() + ms(5000);
        while Instant::now() < deadline {
            match c.try_read_message(ms(700)) {
                Some(m) => {
                    c.fin(&m.id);
                    got.push(m);
                }
                None => break,
            }
        }
        got
    };
    let (g1, g2) = std::thread::scope(|s| {
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
}

// 3a.
#[test]
fn topic_without_channel_keeps_messages() {
    let nsqd = Nsqd::start(&[]);
    let mut p = nsqd.client();
    for i in 0..5 {
        p.publish("held", format!("h{i}").as_bytes());
    }
    std::thread::sleep(ms(200));
    let mut c = consumer(&nsqd, HB, "held", "ch", 10);
    let got: Vec<String> = read_n(&mut c, 5, true).iter().map(body_str).collect();
    assert_eq!(got, ["h0", "h1", "h2", "h3", "h4"]);
    expect_nothing(&mut c, ms(300), "after the 5 held messages");
}

// 3b.
#[test]
fn late_channel_sees_only_later_messages() {
    let nsqd = Nsqd::start(&[]);
    let mut a = consumer(&nsqd, HB, "late", "a", 10);
    let mut p = nsqd.client();
    for i in 0..3 {
        p.publish("late", format!("x{i}").as_bytes());
    }
    let got_a: Vec<String> = read_n(&mut a, 3, true).iter().map(body_str).collect();
    assert_eq!(got_a, ["x0", "x1", "x2"]);

    let mut b = consumer(&nsqd, HB, "late", "b", 10);
    for i in 3..5 {
        p.publish("late", format!("x{i}").as_bytes());
    }
    let got_b: Vec<String> = read_n(&mut b, 2, true).iter().map(body_str).collect();
    assert_eq!(
        got_b,
        ["x3", "x4"],
        "channel b must only see messages after it existed"
    );
    expect_nothing(&mut b, ms(300), "channel b got an older message");
    let got_a: Vec<String> = read_n(&mut a, 2, true).iter().map(body_str).collect();
    assert_eq!(got_a, ["x3", "x4"]);
}

// 4.
#[test]
fn unfinished_message_times_out_and_is_redelivered() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, FAST, "timeout", "ch", 1);
    nsqd.client().publish("timeout", b"slow");
    let first = c.read_message();
    let t0 = Instant::now();
    assert_eq!(first.attempts, 1);
    expect_nothing(&mut c, ms(800), "redelivered before msg_timeout");
    let again = c
        .try_read_message(ms(2500))
        .expect("message not redelivered after msg_timeout");
    let waited = t0.elapsed();
    assert!(waited >= ms(800), "redelivered after only {waited:?}");
    assert_eq!(again.attempts, 2);
    assert_eq!(again.id, first.id);
    assert_eq!(again.timestamp, first.timestamp);
    assert_eq!(again.body, b"slow");
    c.fin(&again.id);
    expect_nothing(&mut c, ms(1300), "redelivered after FIN");
}

// 5.
#[test]
fn req_with_delay_waits_and_req_zero_is_immediate() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, HB, "req", "ch", 1);
    nsqd.client().publish("req", b"again");
    let m = c.read_message();
    assert_eq!(m.attempts, 1);
    let t0 = Instant::now();
    c.req(&m.id, 1500);
    expect_nothing(&mut c, ms(1200), "REQ 1500 redelivered early");
    let m2 = c
        .try_read_message(ms(2000))
        .expect("REQ 1500 never redelivered");
    let waited = t0.elapsed();
    assert!(waited >= ms(1400), "REQ 1500 redelivered after {waited:?}");
    assert!(waited < ms(3000), "REQ 1500 redelivered after {waited:?}");
    assert_eq!((m2.id, m2.attempts, m2.timestamp), (m.id, 2, m.timestamp));

    let t1 = Instant::now();
    c.req(&m2.id, 0);
    let m3 = c
        .try_read_message(ms(500))
        .expect("REQ 0 not redelivered at once");
    assert!(t1.elapsed() < ms(500));
    assert_eq!(
        (m3.id, m3.attempts, m3.body.as_slice()),
        (m.id, 3, &b"again"[..])
    );
    c.fin(&m3.id);
    expect_nothing(&mut c, ms(300), "after FIN");
}

// 6.
#[test]
fn dpub_delays_delivery_and_dpub_zero_is_immediate() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, HB, "dpub", "ch", 10);
    let mut p = nsqd.client();
    let t0 = Instant::now();
    p.dpub("dpub", 1500, b"later");
    p.dpub("dpub", 0, b"now");
    let now = c.try_read_message(ms(500)).expect("DPUB 0 not immediate");
    assert_eq!(now.body, b"now");
    assert_eq!(now.attempts, 1);
    c.fin(&now.id);
    let left = ms(1200).saturating_sub(t0.elapsed());
    expect_nothing(&mut c, left, "DPUB 1500 delivered early");
    let later = c
        .try_read_message(ms(2000))
        .expect("DPUB 1500 never delivered");
    let waited = t0.elapsed();
    assert!(waited >= ms(1400), "DPUB 1500 delivered after {waited:?}");
    assert_eq!(later.body, b"later");
    assert_eq!(later.attempts, 1);
    c.fin(&later.id);
}

// 7.
#[test]
fn touch_extends_the_deadline() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, FAST, "touch", "ch", 1);
    nsqd.client().publish("touch", b"busy");
    let m = c.read_message();
    let t0 = Instant::now();
    expect_nothing(&mut c, ms(600), "before first TOUCH");
    c.touch(&m.id);
    let left = ms(1200).saturating_sub(t0.elapsed());
    expect_nothing(&mut c, left, "redelivered despite TOUCH at 600 ms");
    c.touch(&m.id);
    let left = ms(1900).saturating_sub(t0.elapsed());
    expect_nothing(&mut c, left, "redelivered despite TOUCH at 1200 ms");
    c.fin(&m.id);
    // A failed FIN would answer E_FIN_FAILED (an unexpected frame); a lost one would
    // redeliver after the deadline (~2.2 s).
    expect_nothing(&mut c, ms(1200), "after FIN of a touched message");
}

// 8a.
#[test]
fn rdy_zero_stops_delivery_and_rdy_one_resumes() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, HB, "rdy0", "ch", 1);
    let mut p = nsqd.client();
    p.publish("rdy0", b"first");
    let m = c.read_message();
    assert_eq!(m.body, b"first");
    c.fin(&m.id);
    c.rdy(0);
    // Make sure RDY 0 is processed before publishing (commands are sequential).
    c.command("NOP", None);
    std::thread::sleep(ms(100));
    for i in 0..3 {
        p.publish("rdy0", format!("p{i}").as_bytes());
    }
    expect_nothing(&mut c, ms(500), "delivered with RDY 0");
    c.rdy(1);
    let m = c.try_read_message(ms(1000)).expect("RDY 1 did not resume");
    assert_eq!(m.body, b"p0");
    expect_nothing(&mut c, ms(300), "more than RDY 1 in flight");
    c.fin(&m.id);
    let rest: Vec<String> = read_n(&mut c, 2, true).iter().map(body_str).collect();
    assert_eq!(rest, ["p1", "p2"]);
}

// 8b.
#[test]
fn rdy_is_a_window_not_a_credit() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, HB, "window", "ch", 2);
    let mut p = nsqd.client();
    for i in 0..6 {
        p.publish("window", format!("w{i}").as_bytes());
    }
    let held = read_n(&mut c, 2, false);
    expect_nothing(
        &mut c,
        ms(500),
        "a third message with RDY 2 and 2 in flight",
    );
    c.fin(&held[0].id);
    let third = c.try_read_message(ms(1000)).expect("no message after FIN");
    expect_nothing(&mut c, ms(300), "window exceeded after one FIN");
    // The window does not run down: after FINs, RDY 2 keeps delivering.
    c.fin(&held[1].id);
    c.fin(&third.id);
    let more = read_n(&mut c, 2, true);
    let mut bodies: Vec<String> = held.iter().chain([&third]).map(body_str).collect();
    bodies.extend(more.iter().map(body_str));
    assert_eq!(bodies, ["w0", "w1", "w2", "w3", "w4"]);
    let last = c.try_read_message(ms(1000)).expect("window stopped");
    assert_eq!(last.body, b"w5");
    c.fin(&last.id);
}

// 9.
#[test]
fn cls_stops_delivery_but_fin_still_works() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, FAST, "cls", "ch", 5);
    let mut p = nsqd.client();
    p.publish("cls", b"held");
    let held = c.read_message();
    c.command("CLS", None);
    let f = c.next_frame();
    assert_eq!((f.frame_type, f.text()), (0, "CLOSE_WAIT".to_string()));
    for i in 0..3 {
        p.publish("cls", format!("after{i}").as_bytes());
    }
    expect_nothing(&mut c, ms(500), "delivered after CLS");
    // RDY is silently ignored in the closing state (no error, no delivery).
    c.rdy(5);
    expect_nothing(&mut c, ms(300), "delivered after RDY in closing state");
    c.fin(&held.id);
    // FIN failure would show as an E_FIN_FAILED frame.
    expect_nothing(&mut c, ms(300), "FIN after CLS");

    // The held message was finished: another consumer gets only the 3 later ones, even
    // after the held message's msg_timeout has passed.
    let mut other = consumer(&nsqd, FAST, "cls", "ch", 10);
    let mut got: Vec<String> = read_n(&mut other, 3, true).iter().map(body_str).collect();
    got.sort();
    assert_eq!(got, ["after0", "after1", "after2"]);
    expect_nothing(&mut other, ms(1000), "held message came back after FIN");
}

// 10a.
#[test]
fn heartbeat_arrives_within_interval() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, HB, "hb", "ch", 1);
    let mut idle = nsqd.client();
    assert_eq!(idle.identify(HB).text(), "OK");
    let t0 = Instant::now();
    for (who, cl) in [("consumer", &mut c), ("producer", &mut idle)] {
        let left = ms(1500).saturating_sub(t0.elapsed());
        let f = cl
            .try_read_frame(left)
            .unwrap_or_else(|e| panic!("{who}: no heartbeat within 1.5 s: {e}"));
        assert_eq!(
            (f.frame_type, f.text()),
            (0, "_heartbeat_".to_string()),
            "{who}"
        );
    }
}

// 10b.
#[test]
fn silent_client_is_closed_after_two_intervals() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, HB, "silent", "ch", 0);
    let t0 = Instant::now();
    let mut heartbeats = 0;
    let closed_at = loop {
        let left = ms(4000).saturating_sub(t0.elapsed());
        assert!(!left.is_zero(), "silent client still open after 4 s");
        match c.try_read_frame(left) {
            Ok(f) => {
                assert_eq!(f.text(), "_heartbeat_", "unexpected frame");
                heartbeats += 1;
            }
            Err(e) if e == "timeout" => {}
            Err(_) => break t0.elapsed(),
        }
    };
    assert!(closed_at >= ms(1500), "closed too early: {closed_at:?}");
    assert!(heartbeats >= 1, "no heartbeat before close");
}

// 10c.
#[test]
fn nop_answering_client_stays_connected() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, HB, "nop", "ch", 0);
    let t0 = Instant::now();
    let mut heartbeats = 0;
    while t0.elapsed() < ms(3500) {
        let left = ms(3500).saturating_sub(t0.elapsed());
        match c.try_read_frame(left) {
            Ok(f) => {
                assert_eq!(f.text(), "_heartbeat_", "unexpected frame");
                heartbeats += 1;
                c.send(b"NOP\n");
            }
            Err(e) if e == "timeout" => {}
            Err(e) => panic!("closed after {:?} despite NOPs: {e}", t0.elapsed()),
        }
    }
    assert!(heartbeats >= 3, "only {heartbeats} heartbeats in 3.5 s");
    // Still usable.
    c.publish("nop", b"alive");
}

// 11.
#[test]
fn single_consumer_gets_first_deliveries_in_publish_order() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, HB, "order", "ch", 100);
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
    expect_nothing(&mut c, ms(300), "after 1000 messages");
}

// 12.
#[test]
fn message_frame_layout() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, HB, "layout", "ch", 100);
    let mut p = nsqd.client();
    let before = now_ns();
    publish_mixed(&mut p, "layout", 0, 1000);
    let msgs = read_n(&mut c, 1000, true);
    let after = now_ns();
    let slack = 5_000_000_000i64;
    let mut ids = HashSet::new();
    for m in &msgs {
        assert!(
            m.timestamp >= before - slack && m.timestamp <= after + slack,
            "timestamp {} not within 5 s of now ({before}..{after}) in ns",
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
    let mut keep = consumer(&nsqd, "{}", "eph", "keep", 0);
    let mut e1 = consumer(&nsqd, HB, "eph", "ch#ephemeral", 10);
    let mut p = nsqd.client();
    p.publish("eph", b"e0");
    let m = e1.read_message();
    assert_eq!(m.body, b"e0");
    e1.fin(&m.id);
    drop(e1);
    std::thread::sleep(ms(300));

    p.publish("eph", b"while-gone-1");
    p.publish("eph", b"while-gone-2");
    std::thread::sleep(ms(100));
    let mut e2 = consumer(&nsqd, HB, "eph", "ch#ephemeral", 10);
    expect_nothing(
        &mut e2,
        ms(500),
        "ephemeral channel survived its last consumer",
    );
    p.publish("eph", b"e3");
    let m = e2
        .try_read_message(ms(1000))
        .expect("new ephemeral channel");
    assert_eq!(m.body, b"e3");

    // The durable channel got everything.
    keep.rdy(10);
    let got: Vec<String> = read_n(&mut keep, 4, true).iter().map(body_str).collect();
    assert_eq!(got, ["e0", "while-gone-1", "while-gone-2", "e3"]);
}

// 13b.
#[test]
fn disconnected_consumers_in_flight_goes_to_another_after_timeout() {
    let nsqd = Nsqd::start(&[]);
    let mut c1 = consumer(&nsqd, FAST, "gone", "ch", 1);
    let mut c2 = consumer(&nsqd, FAST, "gone", "ch", 0);
    nsqd.client().publish("gone", b"orphan");
    let m = c1.read_message();
    let t0 = Instant::now();
    assert_eq!(m.attempts, 1);
    drop(c1);
    c2.rdy(1);
    let m2 = c2
        .try_read_message(ms(3000))
        .expect("orphaned in-flight message never redelivered");
    let waited = t0.elapsed();
    assert!(
        waited >= ms(800),
        "redelivered {waited:?} after delivery: disconnect must not requeue at once"
    );
    assert_eq!((m2.id, m2.attempts, m2.timestamp), (m.id, 2, m.timestamp));
    assert_eq!(m2.body, b"orphan");
    c2.fin(&m2.id);
}

// 14.
#[test]
fn sample_rate_drops_most_messages() {
    let nsqd = Nsqd::start(&[]);
    let mut c = consumer(
        &nsqd,
        r#"{"heartbeat_interval":1000,"sample_rate":10}"#,
        "sample",
        "ch",
        500,
    );
    let mut p = nsqd.client();
    publish_mixed(&mut p, "sample", 0, 500);
    let mut n = 0;
    let deadline = Instant::now() + ms(4000);
    while Instant::now() < deadline {
        match c.try_read_message(ms(700)) {
            Some(m) => {
                c.fin(&m.id);
                n += 1;
            }
            None => break,
        }
    }
    assert!(n > 0, "sample_rate 10 delivered nothing");
    assert!(n < 150, "sample_rate 10 delivered {n} of 500");
}

#[test]
fn a_closing_consumer_that_never_reads_is_dropped_after_the_linger() {
    let nsqd = Nsqd::start(&[]);
    let mut stuck = nsqd.client();
    let reply = stuck.identify(HB);
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
    // for the peer to take its output; it must not wait for ever.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let stats = common::http(nsqd.http, "GET", "/stats?format=json&topic=linger", b"").text();
        if stats.contains("\"client_count\":0") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the stuck consumer is still there: {stats}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(stuck);
}
