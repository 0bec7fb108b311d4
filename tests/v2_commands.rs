//! Black-box tests of nsqd's V2 TCP commands over real sockets (reference:
//! NSQ-PROTOCOL.md §1.1–1.7, §1.10): every command's success path, every error of
//! the §1.6 catalog that applies without TLS and auth (exact wire text, and whether
//! the connection is closed after it), the "failed to read" errors at end of stream,
//! the §1.4 state table, and that errors are answered without waiting for a body.
//!
//! No check bounds wall-clock time from above: a reply is awaited for at most
//! `common::WAIT`, a deadline that only turns a hang into a failure. "No reply" and
//! "nothing delivered" are proven by order (the OK of a later PUB is the very next
//! frame) and by the counts in `/stats`.
mod common;

use common::{mpub_body, Client, Frame, Msg, Nsqd, WAIT};
use serde_json::Value;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

/// A well-formed message id that is never in flight.
const UNKNOWN_ID: &[u8; 16] = b"0123456789abcdef";

// ---------------------------------------------------------------------------------
// local helpers
// ---------------------------------------------------------------------------------

/// `line\n`.
fn line(text: &str) -> Vec<u8> {
    let mut out = text.as_bytes().to_vec();
    out.push(b'\n');
    out
}

/// `line\n`, then `size` as a big-endian int32 (which may lie), then `bytes`.
fn sized(text: &str, size: i32, bytes: &[u8]) -> Vec<u8> {
    let mut out = line(text);
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(bytes);
    out
}

/// `line\n` with a correctly sized body.
fn with_body(text: &str, body: &[u8]) -> Vec<u8> {
    sized(text, body.len() as i32, body)
}

/// `WORD <id><tail>\n` where `id` may be any bytes.
fn id_cmd(word: &str, id: &[u8], tail: &str) -> Vec<u8> {
    let mut out = format!("{word} ").into_bytes();
    out.extend_from_slice(id);
    out.extend_from_slice(tail.as_bytes());
    out.push(b'\n');
    out
}

/// The next frame (heartbeats included), failing after [`WAIT`].
fn frame_now(c: &mut Client) -> Frame {
    c.try_read_frame(WAIT)
        .unwrap_or_else(|e| panic!("no frame within {WAIT:?}: {e}"))
}

/// The next frame is exactly `(frame_type, text)`.
fn expect_now(c: &mut Client, frame_type: i32, text: &str) {
    let f = frame_now(c);
    assert_eq!(
        (f.frame_type, f.text()),
        (frame_type, text.to_string()),
        "unexpected frame"
    );
}

/// The next frame is the response `OK`.
fn expect_ok(c: &mut Client) {
    expect_now(c, 0, "OK");
}

/// The next frame is the error `text`, and the connection is then closed.
fn expect_fatal_now(c: &mut Client, text: &str) {
    expect_now(c, 1, text);
    c.expect_closed();
}

/// The connection is open and in sync: a PUB's `OK` is the very next frame.
/// (Proves that whatever was sent before it produced no reply.)
fn assert_usable(c: &mut Client) {
    c.command("PUB probe", Some(b"probe"));
    expect_ok(c);
}

/// On a fresh connection, `bytes` gets exactly the fatal error `want`.
fn fatal(nsqd: &Nsqd, bytes: &[u8], want: &str) {
    let mut c = nsqd.client();
    c.send(bytes);
    expect_fatal_now(&mut c, want);
}

/// On a fresh *subscribed* connection, `bytes` gets exactly the fatal error `want`.
fn fatal_subscribed(nsqd: &Nsqd, topic: &str, bytes: &[u8], want: &str) {
    let mut c = subscribed(nsqd, topic);
    c.send(bytes);
    expect_fatal_now(&mut c, want);
}

/// A connection subscribed to `topic`/`ch` with RDY 0.
fn subscribed(nsqd: &Nsqd, topic: &str) -> Client {
    let mut c = nsqd.client();
    c.sub(topic, "ch");
    c
}

/// Publishes one message from a throwaway connection.
fn publish(nsqd: &Nsqd, topic: &str, body: &[u8]) {
    nsqd.client().publish(topic, body);
}

/// A consumer subscribed to `topic`/`ch` holding one in-flight message (RDY 1).
fn holding(nsqd: &Nsqd, topic: &str) -> (Client, Msg) {
    publish(nsqd, topic, b"held");
    let mut c = subscribed(nsqd, topic);
    c.rdy(1);
    let m = recv(&mut c);
    assert_eq!(m.body, b"held");
    (c, m)
}

/// The next message (heartbeats answered), failing after [`WAIT`] in all.
/// (`Client::read_message` restarts its wait at each heartbeat, so with the default
/// 30 s heartbeats a message that never comes would never fail the test.)
fn recv(c: &mut Client) -> Msg {
    c.try_read_message(WAIT)
        .unwrap_or_else(|| panic!("no message within {WAIT:?}"))
}

/// The `/stats` entry of `topic`, if it exists.
fn topic_stats(nsqd: &Nsqd, topic: &str) -> Option<Value> {
    let stats = common::http(nsqd.http, "GET", "/stats?format=json", b"").json();
    stats["topics"]
        .as_array()?
        .iter()
        .find(|t| t["topic_name"] == topic)
        .cloned()
}

/// The number `key` of `topic`'s `/stats` entry, which must exist.
fn topic_count(nsqd: &Nsqd, topic: &str, key: &str) -> u64 {
    let t = topic_stats(nsqd, topic).unwrap_or_else(|| panic!("no topic {topic} in /stats"));
    t[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no number {key} in {t}"))
}

/// `(depth, in_flight_count, deferred_count)` of channel `ch` of `topic`, from `/stats`.
fn channel_queue(nsqd: &Nsqd, topic: &str) -> (u64, u64, u64) {
    let t = topic_stats(nsqd, topic).unwrap_or_else(|| panic!("no topic {topic} in /stats"));
    let ch = t["channels"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["channel_name"] == "ch"))
        .unwrap_or_else(|| panic!("no channel ch in {t}"));
    let n = |k: &str| {
        ch[k]
            .as_u64()
            .unwrap_or_else(|| panic!("no number {k} in {ch}"))
    };
    (n("depth"), n("in_flight_count"), n("deferred_count"))
}

/// A JSON IDENTIFY reply parsed.
fn negotiate(c: &mut Client, json: &str) -> serde_json::Value {
    let f = c.identify(json);
    assert_eq!(f.frame_type, 0, "IDENTIFY {json}: {}", f.text());
    serde_json::from_slice(&f.data)
        .unwrap_or_else(|e| panic!("IDENTIFY reply is not JSON ({e}): {}", f.text()))
}

/// The §1.7 reply for default flags, as serde_json sees it.
fn default_reply() -> serde_json::Value {
    serde_json::json!({
        "max_rdy_count": 2500,
        "version": "1.3.0",
        "max_msg_timeout": 900000,
        "msg_timeout": 60000,
        "tls_v1": false,
        "deflate": false,
        "deflate_level": 6,
        "max_deflate_level": 6,
        "snappy": false,
        "sample_rate": 0,
        "auth_required": false,
        "output_buffer_size": 16384,
        "output_buffer_timeout": 250,
        "topology_region": "",
        "topology_zone": ""
    })
}

/// `default_reply()` with some keys replaced.
fn reply_with(changes: serde_json::Value) -> serde_json::Value {
    let mut want = default_reply();
    for (k, v) in changes.as_object().unwrap() {
        assert!(want.get(k).is_some(), "unknown key {k}");
        want[k] = v.clone();
    }
    want
}

// ---------------------------------------------------------------------------------
// 1. success paths
// ---------------------------------------------------------------------------------

#[test]
fn pub_reply_is_exact_ok_frame_bytes() {
    let nsqd = Nsqd::start(&[]);
    let mut c = nsqd.client();
    c.send(&with_body("PUB t1", b"hello"));
    let mut raw = [0u8; 10];
    c.stream.read_exact(&mut raw).unwrap();
    assert_eq!(raw, [0, 0, 0, 6, 0, 0, 0, 0, b'O', b'K']);
}

#[test]
fn identify_without_feature_negotiation_replies_ok() {
    let nsqd = Nsqd::start(&[]);
    let mut c = nsqd.client();
    c.send(&with_body("IDENTIFY", b"{}"));
    expect_ok(&mut c);
    assert_usable(&mut c);

    // Explicit false, unknown keys (go-nsq's short_id/long_id) and free-text fields.
    let mut c = nsqd.client();
    let json = r#"{"feature_negotiation":false,"client_id":"c1","hostname":"h1",
        "user_agent":"test/1.0","short_id":"x","long_id":"y","heartbeat_interval":1000,
        "output_buffer_size":-1,"output_buffer_timeout":-1,"sample_rate":5,"msg_timeout":2000}"#;
    c.send(&with_body("IDENTIFY", json.as_bytes()));
    expect_ok(&mut c);
    c.sub("ident", "ch");
}

#[test]
fn identify_feature_negotiation_default_reply() {
    let nsqd = Nsqd::start(&[]);
    let mut c = nsqd.client();
    let f = c.identify(r#"{"feature_negotiation":true}"#);
    assert_eq!(f.frame_type, 0, "{}", f.text());
    // The exact document of the real capture: keys in nsqd's order, no whitespace.
    assert_eq!(
        f.text(),
        "{\"max_rdy_count\":2500,\"version\":\"1.3.0\",\"max_msg_timeout\":900000,\
         \"msg_timeout\":60000,\"tls_v1\":false,\"deflate\":false,\"deflate_level\":6,\
         \"max_deflate_level\":6,\"snappy\":false,\"sample_rate\":0,\"auth_required\":false,\
         \"output_buffer_size\":16384,\"output_buffer_timeout\":250,\
         \"topology_region\":\"\",\"topology_zone\":\"\"}"
    );
    let got: serde_json::Value = serde_json::from_slice(&f.data).unwrap();
    assert_eq!(got, default_reply());
    // No further frame (no TLS/snappy/deflate upgrade OKs): next frame is the PUB's OK.
    assert_usable(&mut c);
}

#[test]
fn identify_feature_negotiation_reflects_client_settings() {
    let nsqd = Nsqd::start(&[]);
    let cases = [
        (
            r#"{"feature_negotiation":true,"msg_timeout":2000,"sample_rate":7,
                "output_buffer_size":128,"output_buffer_timeout":50,"heartbeat_interval":5000}"#,
            serde_json::json!({"msg_timeout":2000,"sample_rate":7,
                "output_buffer_size":128,"output_buffer_timeout":50}),
        ),
        // -1 buffer size: write-through, size 1 and timeout forced to 0.
        (
            r#"{"feature_negotiation":true,"output_buffer_size":-1,"output_buffer_timeout":1000}"#,
            serde_json::json!({"output_buffer_size":1,"output_buffer_timeout":0}),
        ),
        (
            r#"{"feature_negotiation":true,"output_buffer_timeout":-1}"#,
            serde_json::json!({"output_buffer_timeout":0}),
        ),
        // 0 keeps every default.
        (
            r#"{"feature_negotiation":true,"msg_timeout":0,"sample_rate":0,"heartbeat_interval":0,
                "output_buffer_size":0,"output_buffer_timeout":0}"#,
            serde_json::json!({}),
        ),
        // Upper bounds are inclusive.
        (
            r#"{"feature_negotiation":true,"msg_timeout":900000,"sample_rate":99,
                "output_buffer_size":65536,"output_buffer_timeout":30000,"heartbeat_interval":60000}"#,
            serde_json::json!({"msg_timeout":900000,"sample_rate":99,
                "output_buffer_size":65536,"output_buffer_timeout":30000}),
        ),
        // Lower bounds are inclusive.
        (
            r#"{"feature_negotiation":true,"msg_timeout":1000,"sample_rate":1,
                "output_buffer_size":64,"output_buffer_timeout":25,"heartbeat_interval":1000}"#,
            serde_json::json!({"msg_timeout":1000,"sample_rate":1,
                "output_buffer_size":64,"output_buffer_timeout":25}),
        ),
        // Heartbeats disabled is accepted (SUB is refused later, tested elsewhere).
        (
            r#"{"feature_negotiation":true,"heartbeat_interval":-1}"#,
            serde_json::json!({}),
        ),
    ];
    for (json, changes) in cases {
        let mut c = nsqd.client();
        assert_eq!(negotiate(&mut c, json), reply_with(changes), "{json}");
        assert_usable(&mut c);
    }
}

#[test]
fn identify_feature_negotiation_reflects_server_flags() {
    let nsqd = Nsqd::start(&[
        "--max-rdy-count=100",
        "--msg-timeout=5s",
        "--max-msg-timeout=10m",
        "--max-deflate-level=4",
        "--output-buffer-timeout=100ms",
    ]);
    let mut c = nsqd.client();
    let got = negotiate(&mut c, r#"{"feature_negotiation":true}"#);
    let want = reply_with(serde_json::json!({
        "max_rdy_count": 100,
        "max_msg_timeout": 600000,
        "msg_timeout": 5000,
        "deflate_level": 4,
        "max_deflate_level": 4,
        "output_buffer_timeout": 100
    }));
    assert_eq!(got, want);
    // msg_timeout above the lowered --max-msg-timeout is now invalid.
    fatal(
        &nsqd,
        &with_body("IDENTIFY", br#"{"msg_timeout":600001}"#),
        "E_BAD_BODY IDENTIFY msg timeout (600001) is invalid",
    );
}

#[test]
fn identify_deflate_level_only_counts_when_deflate_is_granted() {
    // nsqd: deflateLevel := 6; if deflate && level > 0 { use it }; cap at max.
    let nsqd = Nsqd::start(&[]);
    for json in [
        r#"{"feature_negotiation":true,"deflate_level":3}"#,
        r#"{"feature_negotiation":true,"deflate_level":9}"#,
        r#"{"feature_negotiation":true,"deflate_level":0}"#,
    ] {
        let mut c = nsqd.client();
        assert_eq!(negotiate(&mut c, json), default_reply(), "{json}");
    }
}

#[test]
fn sub_replies_ok_and_nothing_flows_until_rdy() {
    let nsqd = Nsqd::start(&[]);
    publish(&nsqd, "subt", b"m1");
    let mut c = nsqd.client();
    c.send(&line("SUB subt ch"));
    expect_ok(&mut c);
    // Nothing came before the probe's OK, and the message waits in the channel.
    assert_usable(&mut c);
    assert_eq!(
        channel_queue(&nsqd, "subt"),
        (1, 0, 0),
        "(depth, in flight, deferred) before RDY"
    );
    c.rdy(1);
    let m = recv(&mut c);
    assert_eq!((m.body.as_slice(), m.attempts), (&b"m1"[..], 1));
    assert!(
        m.id.iter().all(|b| b.is_ascii_hexdigit()),
        "{:?}",
        m.id_str()
    );
}

#[test]
fn rdy_has_no_reply_and_bare_rdy_means_one() {
    let nsqd = Nsqd::start(&[]);
    publish(&nsqd, "rdy1", b"a");
    publish(&nsqd, "rdy1", b"b");
    let mut c = subscribed(&nsqd, "rdy1");
    c.send(b"RDY\n");
    let m = recv(&mut c);
    assert_eq!(m.body, b"a");
    // RDY sent no reply (the probe's OK is the next frame), and with a window of 1
    // and 1 in flight the second message waits in the channel.
    assert_usable(&mut c);
    assert_eq!(
        channel_queue(&nsqd, "rdy1"),
        (1, 1, 0),
        "(depth, in flight, deferred) with RDY 1"
    );
    c.fin(&m.id);
    let m2 = recv(&mut c);
    assert_eq!(m2.body, b"b");
}

#[test]
fn rdy_with_empty_param_means_zero() {
    let nsqd = Nsqd::start(&[]);
    publish(&nsqd, "rdy0", b"a");
    publish(&nsqd, "rdy0", b"b");
    let mut c = subscribed(&nsqd, "rdy0");
    c.rdy(1);
    let m = recv(&mut c);
    c.send(b"RDY \n");
    c.fin(&m.id);
    // RDY 0 and nothing in flight: no delivery, no error, connection fine.
    assert_usable(&mut c);
    assert_eq!(
        channel_queue(&nsqd, "rdy0"),
        (1, 0, 0),
        "(depth, in flight, deferred) after \"RDY \""
    );
    c.send(b"RDY 2500\n");
    assert_eq!(recv(&mut c).body, b"b");
}

#[test]
fn fin_has_no_reply_and_removes_from_flight() {
    let nsqd = Nsqd::start(&[]);
    let (mut c, m) = holding(&nsqd, "fin1");
    c.send(&id_cmd("FIN", &m.id, ""));
    assert_usable(&mut c);
    c.fin(&m.id);
    expect_now(
        &mut c,
        1,
        &format!("E_FIN_FAILED FIN {} failed ID not in flight", m.id_str()),
    );
    assert_usable(&mut c);
}

#[test]
fn req_has_no_reply_and_redelivers() {
    let nsqd = Nsqd::start(&[]);
    let (mut c, m) = holding(&nsqd, "req1");
    c.send(&id_cmd("REQ", &m.id, " 0"));
    let again = recv(&mut c);
    assert_eq!(
        (
            again.id,
            again.timestamp,
            again.body.as_slice(),
            again.attempts
        ),
        (m.id, m.timestamp, &b"held"[..], 2)
    );
    c.fin(&again.id);
    assert_usable(&mut c);
}

#[test]
fn req_delay_above_max_is_clamped_not_an_error() {
    // REQ asks for an hour and a millisecond; --max-req-timeout is 2 s. Clamped, the
    // message comes back after 2 s; not clamped, it would not within the 30 s WAIT.
    let nsqd = Nsqd::start(&["--max-req-timeout=2s"]);
    let max = Duration::from_secs(2);
    let (mut c, m) = holding(&nsqd, "req2");
    let sent = Instant::now();
    c.req(&m.id, 3_600_001);
    // No reply and not fatal: the probe's OK comes next (only a machine stalled for
    // the whole 2 s could see the message back before it).
    c.command("PUB probe", Some(b"probe"));
    let mut back = None;
    loop {
        let f = frame_now(&mut c);
        match (f.frame_type, f.text()) {
            (0, t) if t == "OK" => break,
            (0, t) if t == "_heartbeat_" => c.send(b"NOP\n"),
            (2, _) if back.is_none() => back = Some(common::decode_message(&f.data)),
            (t, text) => panic!("REQ above the max got frame {t} {text:?}"),
        }
    }
    // Deferred, no longer in flight (judged only while the 2 s cannot be over).
    let queued = channel_queue(&nsqd, "req2");
    if sent.elapsed() < max {
        assert_eq!(queued, (0, 0, 1), "(depth, in flight, deferred) after REQ");
    }
    let again = back.unwrap_or_else(|| recv(&mut c));
    let waited = sent.elapsed();
    assert!(
        waited >= max,
        "REQ back after {waited:?}: not deferred by the clamped 2 s"
    );
    assert_eq!((again.id, again.attempts), (m.id, 2));
    c.fin(&again.id);
    assert_usable(&mut c);
}

#[test]
fn touch_has_no_reply_and_extends_the_deadline() {
    let nsqd = Nsqd::start(&[]);
    // msg_timeout 2 s. Each attempt lets the message age 1 s, TOUCHes it, and then
    // it must stay in flight for 2 s counted from the TOUCH, where without it it
    // would come back about 1 s later. That needs the TOUCH to be processed before
    // the original deadline: an attempt that cannot show it was (the machine was
    // that slow) is not judged but repeated.
    for attempt in 0..5 {
        let topic = format!("touch{attempt}");
        let mut c = common::consumer(&nsqd, r#"{"msg_timeout":2000}"#, &topic, "ch", 1);
        let published = Instant::now();
        publish(&nsqd, &topic, b"t");
        let m = recv(&mut c);
        // Not synchronisation: the message must age for the TOUCH to make a difference.
        std::thread::sleep(Duration::from_millis(1000));
        let touched = Instant::now();
        c.touch(&m.id);
        c.command("PUB probe", Some(b"probe"));
        let reply = frame_now(&mut c);
        if published.elapsed() >= Duration::from_millis(2000) {
            eprintln!("attempt {attempt}: TOUCH maybe after the deadline; retrying");
            continue;
        }
        // No reply to the TOUCH: the probe's OK is the next frame.
        assert_eq!((reply.frame_type, reply.text()), (0, "OK".to_string()));
        let again = recv(&mut c);
        let waited = touched.elapsed();
        assert!(
            waited >= Duration::from_millis(2000),
            "redelivered {waited:?} after the TOUCH, before a new 2 s msg_timeout"
        );
        assert_eq!((again.id, again.attempts), (m.id, 2));
        c.fin(&again.id);
        assert_usable(&mut c);
        return;
    }
    panic!("every attempt was too slow to tell whether TOUCH extends the deadline");
}

#[test]
fn cls_replies_close_wait_and_keeps_connection_open() {
    let nsqd = Nsqd::start(&[]);
    let mut c = subscribed(&nsqd, "cls1");
    c.send(b"CLS\n");
    expect_now(&mut c, 0, "CLOSE_WAIT");
    // RDY is ignored in closing (no reply, not fatal): nothing is delivered.
    c.rdy(5);
    assert_usable(&mut c);
    publish(&nsqd, "cls1", b"x");
    assert_usable(&mut c);
    assert_eq!(
        channel_queue(&nsqd, "cls1"),
        (1, 0, 0),
        "(depth, in flight, deferred) after RDY in closing"
    );
    // Server did not close; FIN still allowed (non-fatal failure here).
    c.fin(UNKNOWN_ID);
    expect_now(
        &mut c,
        1,
        "E_FIN_FAILED FIN 0123456789abcdef failed ID not in flight",
    );
    assert_usable(&mut c);
}

#[test]
fn nop_has_no_reply_in_any_state() {
    let nsqd = Nsqd::start(&[]);
    let mut c = nsqd.client();
    c.send(b"NOP\n");
    assert_usable(&mut c);
    c.send(b"NOP\r\n");
    assert_usable(&mut c);
    c.sub("nop1", "ch");
    c.send(b"NOP\n");
    assert_usable(&mut c);
    c.send(b"CLS\n");
    expect_now(&mut c, 0, "CLOSE_WAIT");
    c.send(b"NOP\n");
    assert_usable(&mut c);
}

#[test]
fn pub_mpub_dpub_reply_ok_and_deliver() {
    let nsqd = Nsqd::start(&[]);
    let mut consumer = subscribed(&nsqd, "pubs");
    consumer.rdy(10);
    let mut p = nsqd.client();
    p.send(&with_body("PUB pubs", b"a"));
    expect_ok(&mut p);
    p.send(&with_body("MPUB pubs", &mpub_body(&[b"b", b"cc"])));
    expect_ok(&mut p);
    for want in [&b"a"[..], b"b", b"cc"] {
        let m = recv(&mut consumer);
        assert_eq!(m.body, want);
        consumer.fin(&m.id);
    }
    let sent = Instant::now();
    p.send(&with_body("DPUB pubs 150", b"d"));
    expect_ok(&mut p);
    let m = recv(&mut consumer);
    assert_eq!(m.body, b"d");
    assert!(
        sent.elapsed() >= Duration::from_millis(150),
        "DPUB 150 delivered after {:?}",
        sent.elapsed()
    );
    consumer.fin(&m.id);
    p.send(&with_body("DPUB pubs 0", b"e"));
    expect_ok(&mut p);
    assert_eq!(recv(&mut consumer).body, b"e");
    // Maximum defer is accepted.
    p.send(&with_body("DPUB pubs 3600000", b"f"));
    expect_ok(&mut p);
}

#[test]
fn extra_params_and_crlf_are_accepted() {
    let nsqd = Nsqd::start(&[]);
    let mut c = nsqd.client();
    c.send(&with_body("PUB t extra junk", b"x"));
    expect_ok(&mut c);
    c.send(&with_body("PUB t\r", b"x"));
    expect_ok(&mut c);
    c.send(&with_body("DPUB t 10 extra", b"x"));
    expect_ok(&mut c);
    c.send(&with_body("MPUB t extra", &mpub_body(&[b"x"])));
    expect_ok(&mut c);
    c.send(b"SUB t ch extra\r\n");
    expect_ok(&mut c);
}

#[test]
fn pipelined_publishes_are_answered_in_order() {
    let nsqd = Nsqd::start(&[]);
    let mut c = nsqd.client();
    let mut batch = Vec::new();
    for i in 0..5 {
        batch.extend(with_body("PUB pipe", format!("m{i}").as_bytes()));
    }
    batch.extend(with_body("MPUB pipe", &mpub_body(&[b"x", b"y"])));
    batch.extend(line("NOP"));
    batch.extend(with_body("DPUB pipe 0", b"z"));
    c.send(&batch);
    for _ in 0..7 {
        expect_ok(&mut c);
    }
    assert_usable(&mut c);
}

#[test]
fn pipelined_mixed_replies_keep_command_order() {
    let nsqd = Nsqd::start(&[]);
    let mut c = subscribed(&nsqd, "pipe2");
    let mut batch = with_body("PUB other", b"1");
    batch.extend(id_cmd("FIN", b"aaaaaaaaaaaaaaaa", ""));
    batch.extend(with_body("PUB other", b"2"));
    batch.extend(id_cmd("TOUCH", b"bbbbbbbbbbbbbbbb", ""));
    batch.extend(id_cmd("REQ", b"cccccccccccccccc", " 0"));
    batch.extend(with_body("PUB other", b"3"));
    c.send(&batch);
    expect_ok(&mut c);
    expect_now(
        &mut c,
        1,
        "E_FIN_FAILED FIN aaaaaaaaaaaaaaaa failed ID not in flight",
    );
    expect_ok(&mut c);
    expect_now(
        &mut c,
        1,
        "E_TOUCH_FAILED TOUCH bbbbbbbbbbbbbbbb failed ID not in flight",
    );
    expect_now(
        &mut c,
        1,
        "E_REQ_FAILED REQ cccccccccccccccc failed ID not in flight",
    );
    expect_ok(&mut c);
}

#[test]
fn pipelined_fatal_error_stops_processing() {
    let nsqd = Nsqd::start(&[]);
    let mut c = nsqd.client();
    let mut batch = with_body("PUB fatalpipe", b"1");
    batch.extend(line("BOGUS"));
    batch.extend(with_body("PUB fatalpipe", b"2"));
    c.send(&batch);
    expect_ok(&mut c);
    expect_fatal_now(&mut c, "E_INVALID invalid command BOGUS");
    // The PUB after the fatal error was not executed: the topic took in only "1"
    // and, later, "3"; a new channel gets the message the topic kept, then "3".
    let mut consumer = subscribed(&nsqd, "fatalpipe");
    consumer.rdy(10);
    publish(&nsqd, "fatalpipe", b"3");
    assert_eq!(topic_count(&nsqd, "fatalpipe", "message_count"), 2);
    assert_eq!(recv(&mut consumer).body, b"1");
    assert_eq!(recv(&mut consumer).body, b"3");
}

#[test]
fn complete_commands_then_eof_are_answered_then_closed() {
    let nsqd = Nsqd::start(&[]);
    let mut c = nsqd.client();
    let mut batch = with_body("PUB eof", b"1");
    batch.extend(with_body("PUB eof", b"2"));
    c.send(&batch);
    c.shutdown_write();
    expect_ok(&mut c);
    expect_ok(&mut c);
    c.expect_closed();
}

#[test]
fn partial_line_at_eof_closes_quietly() {
    let nsqd = Nsqd::start(&[]);
    let mut c = nsqd.client();
    c.send(b"PUB t");
    c.shutdown_write();
    c.expect_closed();
}

// ---------------------------------------------------------------------------------
// 2. error catalog
// ---------------------------------------------------------------------------------

#[test]
fn bad_magic_is_e_bad_protocol_then_closed() {
    let nsqd = Nsqd::start(&[]);
    for magic in [&b"  V1"[..], b"V2  ", b"GET / HTTP/1.1\r\n\r\n", b"  v2"] {
        let mut c = Client::connect_raw(nsqd.tcp);
        c.send(magic);
        let mut raw = [0u8; 22];
        c.stream.read_exact(&mut raw).unwrap();
        let mut want = vec![0, 0, 0, 18, 0, 0, 0, 1];
        want.extend_from_slice(b"E_BAD_PROTOCOL");
        assert_eq!(raw.to_vec(), want, "magic {magic:?}");
        c.expect_closed();
    }
}

#[test]
fn invalid_command_words_are_fatal() {
    let nsqd = Nsqd::start(&[]);
    fatal(&nsqd, b"FOO\n", "E_INVALID invalid command FOO");
    fatal(&nsqd, b"pub t\n", "E_INVALID invalid command pub");
    fatal(&nsqd, b"Nop\n", "E_INVALID invalid command Nop");
    fatal(&nsqd, b"\n", "E_INVALID invalid command ");
    fatal(&nsqd, b"\r\n", "E_INVALID invalid command ");
    fatal(&nsqd, b" PUB t\n", "E_INVALID invalid command ");
    // In subscribed state too.
    fatal_subscribed(
        &nsqd,
        "inv",
        b"HELLO world\n",
        "E_INVALID invalid command HELLO",
    );
}

#[test]
fn sub_with_heartbeats_disabled_is_fatal() {
    let nsqd = Nsqd::start(&[]);
    let mut c = nsqd.client();
    let f = c.identify(r#"{"heartbeat_interval":-1}"#);
    assert_eq!((f.frame_type, f.text()), (0, "OK".to_string()));
    // Publishing is still fine without heartbeats.
    assert_usable(&mut c);
    c.send(b"SUB t ch\n");
    expect_fatal_now(&mut c, "E_INVALID cannot SUB with heartbeats disabled");
}

#[test]
fn insufficient_parameters_are_fatal() {
    let nsqd = Nsqd::start(&[]);
    fatal(
        &nsqd,
        b"SUB\n",
        "E_INVALID SUB insufficient number of parameters",
    );
    fatal(
        &nsqd,
        b"SUB t\n",
        "E_INVALID SUB insufficient number of parameters",
    );
    fatal(
        &nsqd,
        b"PUB\n",
        "E_INVALID PUB insufficient number of parameters",
    );
    fatal(
        &nsqd,
        b"MPUB\n",
        "E_INVALID MPUB insufficient number of parameters",
    );
    fatal(
        &nsqd,
        b"DPUB\n",
        "E_INVALID DPUB insufficient number of parameters",
    );
    fatal(
        &nsqd,
        b"DPUB t\n",
        "E_INVALID DPUB insufficient number of parameters",
    );
    fatal_subscribed(
        &nsqd,
        "ip",
        b"FIN\n",
        "E_INVALID FIN insufficient number of params",
    );
    fatal_subscribed(
        &nsqd,
        "ip",
        b"REQ\n",
        "E_INVALID REQ insufficient number of params",
    );
    fatal_subscribed(
        &nsqd,
        "ip",
        &id_cmd("REQ", UNKNOWN_ID, ""),
        "E_INVALID REQ insufficient number of params",
    );
    fatal_subscribed(
        &nsqd,
        "ip",
        b"TOUCH\n",
        "E_INVALID TOUCH insufficient number of params",
    );
}

#[test]
fn auth_errors_without_auth_configured() {
    let nsqd = Nsqd::start(&["--max-body-size=100"]);
    fatal(
        &nsqd,
        &with_body("AUTH x", b"s"),
        "E_INVALID AUTH invalid number of parameters",
    );
    fatal(
        &nsqd,
        &with_body("AUTH x y", b"s"),
        "E_INVALID AUTH invalid number of parameters",
    );
    fatal(
        &nsqd,
        &with_body("AUTH", b"secret"),
        "E_AUTH_DISABLED AUTH disabled",
    );
    fatal(
        &nsqd,
        &sized("AUTH", 0, b""),
        "E_BAD_BODY AUTH invalid body size 0",
    );
    fatal(
        &nsqd,
        &sized("AUTH", -1, b""),
        "E_BAD_BODY AUTH invalid body size -1",
    );
    fatal(
        &nsqd,
        &sized("AUTH", 101, b""),
        "E_BAD_BODY AUTH body too big 101 > 100",
    );
}

#[test]
fn invalid_message_id_is_fatal() {
    let nsqd = Nsqd::start(&[]);
    let short = b"0123456789abcde";
    let long = b"0123456789abcdef0";
    let want = "E_INVALID invalid message ID";
    fatal_subscribed(&nsqd, "mid", &id_cmd("FIN", short, ""), want);
    fatal_subscribed(&nsqd, "mid", &id_cmd("FIN", long, ""), want);
    fatal_subscribed(&nsqd, "mid", &id_cmd("REQ", short, " 0"), want);
    fatal_subscribed(&nsqd, "mid", &id_cmd("TOUCH", long, ""), want);
    fatal_subscribed(&nsqd, "mid", &id_cmd("TOUCH", b"", ""), want);
    // Also in closing state.
    let mut c = subscribed(&nsqd, "mid");
    c.send(b"CLS\n");
    expect_now(&mut c, 0, "CLOSE_WAIT");
    c.send(&id_cmd("FIN", short, ""));
    expect_fatal_now(&mut c, want);
}

#[test]
fn rdy_count_errors_are_fatal() {
    let nsqd = Nsqd::start(&[]);
    fatal_subscribed(
        &nsqd,
        "r",
        b"RDY abc\n",
        "E_INVALID RDY could not parse count abc",
    );
    fatal_subscribed(
        &nsqd,
        "r",
        b"RDY -1\n",
        "E_INVALID RDY could not parse count -1",
    );
    fatal_subscribed(
        &nsqd,
        "r",
        b"RDY +1\n",
        "E_INVALID RDY could not parse count +1",
    );
    fatal_subscribed(
        &nsqd,
        "r",
        b"RDY 2501\n",
        "E_INVALID RDY count 2501 out of range 0-2500",
    );
    let small = Nsqd::start(&["--max-rdy-count=10"]);
    fatal_subscribed(
        &small,
        "r",
        b"RDY 11\n",
        "E_INVALID RDY count 11 out of range 0-10",
    );
    let mut c = subscribed(&small, "r");
    c.send(b"RDY 10\n");
    assert_usable(&mut c);
}

#[test]
fn req_timeout_parse_errors_are_fatal() {
    let nsqd = Nsqd::start(&[]);
    let (mut c, m) = holding(&nsqd, "reqp");
    c.send(&id_cmd("REQ", &m.id, " abc"));
    expect_fatal_now(&mut c, "E_INVALID REQ could not parse timeout abc");
    let (mut c, m) = holding(&nsqd, "reqp2");
    c.send(&id_cmd("REQ", &m.id, " -5"));
    expect_fatal_now(&mut c, "E_INVALID REQ could not parse timeout -5");
}

#[test]
fn dpub_timeout_errors_are_fatal() {
    let nsqd = Nsqd::start(&[]);
    fatal(
        &nsqd,
        &with_body("DPUB t abc", b"x"),
        "E_INVALID DPUB could not parse timeout abc",
    );
    fatal(
        &nsqd,
        &with_body("DPUB t -5", b"x"),
        "E_INVALID DPUB could not parse timeout -5",
    );
    fatal(
        &nsqd,
        &with_body("DPUB t 3600001", b"x"),
        "E_INVALID DPUB timeout 3600001 out of range 0-3600000",
    );
    let short = Nsqd::start(&["--max-req-timeout=10s"]);
    fatal(
        &short,
        &with_body("DPUB t 10001", b"x"),
        "E_INVALID DPUB timeout 10001 out of range 0-10000",
    );
    let mut c = short.client();
    c.dpub("t", 10_000, b"x");
    // An empty timeout parses as 0 (Go's ByteToBase10), like "RDY ".
    c.send(&with_body("DPUB t ", b"x"));
    expect_ok(&mut c);
}

#[test]
fn identify_body_errors_are_fatal() {
    let nsqd = Nsqd::start(&["--max-body-size=100"]);
    fatal(
        &nsqd,
        &sized("IDENTIFY", 101, b""),
        "E_BAD_BODY IDENTIFY body too big 101 > 100",
    );
    fatal(
        &nsqd,
        &sized("IDENTIFY", 0, b""),
        "E_BAD_BODY IDENTIFY invalid body size 0",
    );
    fatal(
        &nsqd,
        &sized("IDENTIFY", -1, b""),
        "E_BAD_BODY IDENTIFY invalid body size -1",
    );
    fatal(
        &nsqd,
        &sized("IDENTIFY", i32::MIN, b""),
        &format!("E_BAD_BODY IDENTIFY invalid body size {}", i32::MIN),
    );
    // A body of exactly --max-body-size is accepted.
    let mut json = String::from(r#"{"client_id":""#);
    json.push_str(&"x".repeat(100 - json.len() - 2));
    json.push_str("\"}");
    assert_eq!(json.len(), 100);
    let mut c = nsqd.client();
    c.send(&with_body("IDENTIFY", json.as_bytes()));
    expect_ok(&mut c);
    let decode = "E_BAD_BODY IDENTIFY failed to decode JSON body";
    for body in [
        &b"{"[..],
        b"not json",
        b"[1]",
        b"\"str\"",
        br#"{"msg_timeout":"x"}"#,
        br#"{"heartbeat_interval":1000.5}"#,
        br#"{"feature_negotiation":"yes"}"#,
        br#"{"client_id":5}"#,
    ] {
        fatal(&nsqd, &with_body("IDENTIFY", body), decode);
    }
}

#[test]
fn identify_invalid_settings_are_fatal() {
    let nsqd = Nsqd::start(&[]);
    let cases = [
        (
            r#"{"heartbeat_interval":100}"#,
            "heartbeat interval (100) is invalid",
        ),
        (
            r#"{"heartbeat_interval":999}"#,
            "heartbeat interval (999) is invalid",
        ),
        (
            r#"{"heartbeat_interval":-2}"#,
            "heartbeat interval (-2) is invalid",
        ),
        (
            r#"{"heartbeat_interval":60001}"#,
            "heartbeat interval (60001) is invalid",
        ),
        (
            r#"{"output_buffer_timeout":24}"#,
            "output buffer timeout (24) is invalid",
        ),
        (
            r#"{"output_buffer_timeout":-2}"#,
            "output buffer timeout (-2) is invalid",
        ),
        (
            r#"{"output_buffer_timeout":30001}"#,
            "output buffer timeout (30001) is invalid",
        ),
        (
            r#"{"output_buffer_size":63}"#,
            "output buffer size (63) is invalid",
        ),
        (
            r#"{"output_buffer_size":-2}"#,
            "output buffer size (-2) is invalid",
        ),
        (
            r#"{"output_buffer_size":65537}"#,
            "output buffer size (65537) is invalid",
        ),
        (r#"{"sample_rate":-1}"#, "sample rate (-1) is invalid"),
        (r#"{"sample_rate":100}"#, "sample rate (100) is invalid"),
        (r#"{"msg_timeout":-1}"#, "msg timeout (-1) is invalid"),
        (r#"{"msg_timeout":999}"#, "msg timeout (999) is invalid"),
        (
            r#"{"msg_timeout":900001}"#,
            "msg timeout (900001) is invalid",
        ),
        // nsqd's order: heartbeat, output buffer timeout, size, sample rate, msg timeout.
        (
            r#"{"msg_timeout":1,"sample_rate":-1,"output_buffer_size":1,"output_buffer_timeout":1,"heartbeat_interval":1}"#,
            "heartbeat interval (1) is invalid",
        ),
        (
            r#"{"msg_timeout":1,"sample_rate":-1,"output_buffer_size":1,"output_buffer_timeout":1}"#,
            "output buffer timeout (1) is invalid",
        ),
        (
            r#"{"msg_timeout":1,"sample_rate":-1,"output_buffer_size":1}"#,
            "output buffer size (1) is invalid",
        ),
        (
            r#"{"msg_timeout":1,"sample_rate":-1}"#,
            "sample rate (-1) is invalid",
        ),
    ];
    for (json, desc) in cases {
        fatal(
            &nsqd,
            &with_body("IDENTIFY", json.as_bytes()),
            &format!("E_BAD_BODY IDENTIFY {desc}"),
        );
    }
}

#[test]
fn pub_and_dpub_body_size_errors_are_fatal() {
    let nsqd = Nsqd::start(&[]);
    for (cmd, text) in [("PUB", "PUB t"), ("DPUB", "DPUB t 0")] {
        fatal(
            &nsqd,
            &sized(text, 0, b""),
            &format!("E_BAD_MESSAGE {cmd} invalid message body size 0"),
        );
        fatal(
            &nsqd,
            &sized(text, -1, b""),
            &format!("E_BAD_MESSAGE {cmd} invalid message body size -1"),
        );
        // Default --max-msg-size: the size alone is enough to be refused.
        fatal(
            &nsqd,
            &sized(text, 1_048_577, b""),
            &format!("E_BAD_MESSAGE {cmd} message too big 1048577 > 1048576"),
        );
    }
    let small = Nsqd::start(&["--max-msg-size=100"]);
    for (cmd, text) in [("PUB", "PUB t"), ("DPUB", "DPUB t 0")] {
        fatal(
            &small,
            &sized(text, 101, &[b'x'; 101]),
            &format!("E_BAD_MESSAGE {cmd} message too big 101 > 100"),
        );
        let mut c = small.client();
        c.send(&with_body(text, &[b'x'; 100]));
        expect_ok(&mut c);
    }
}

#[test]
fn mpub_body_errors_are_fatal() {
    let nsqd = Nsqd::start(&["--max-body-size=100", "--max-msg-size=10"]);
    fatal(
        &nsqd,
        &sized("MPUB t", 0, b""),
        "E_BAD_BODY MPUB invalid body size 0",
    );
    fatal(
        &nsqd,
        &sized("MPUB t", -1, b""),
        "E_BAD_BODY MPUB invalid body size -1",
    );
    fatal(
        &nsqd,
        &sized("MPUB t", 101, b""),
        "E_BAD_BODY MPUB body too big 101 > 100",
    );
    // (100 - 4) / 5 = 19 messages at most.
    for count in [0, -1, 20] {
        fatal(
            &nsqd,
            &sized("MPUB t", 100, &i32::to_be_bytes(count)),
            &format!("E_BAD_BODY MPUB invalid message count {count}"),
        );
    }
    // Record errors.
    let mut body = 2i32.to_be_bytes().to_vec();
    body.extend(0i32.to_be_bytes());
    body.extend(1i32.to_be_bytes());
    body.push(b'x');
    fatal(
        &nsqd,
        &with_body("MPUB t", &body),
        "E_BAD_MESSAGE MPUB invalid message(0) body size 0",
    );
    let mut body = 2i32.to_be_bytes().to_vec();
    body.extend(1i32.to_be_bytes());
    body.push(b'x');
    body.extend((-3i32).to_be_bytes());
    fatal(
        &nsqd,
        &with_body("MPUB t", &body),
        "E_BAD_MESSAGE MPUB invalid message(1) body size -3",
    );
    fatal(
        &nsqd,
        &with_body("MPUB t", &mpub_body(&[b"ok", &[b'x'; 11]])),
        "E_BAD_MESSAGE MPUB message too big 11 > 10",
    );
    // Limits are inclusive: 10-byte messages, 19 messages of 1 byte (4+19*5 = 99).
    let mut c = nsqd.client();
    c.mpub("t", &[&[b'x'; 10]]);
    let ones: Vec<&[u8]> = vec![b"y"; 19];
    c.mpub("t", &ones);
    // Strict parse (§1.5 MPUB QUIRK, recommended): records not filling the declared
    // body are an E_BAD_BODY, fatal. (Go nsqd reads just the records, answers OK and
    // takes "cd" for the start of the next command; this text is nsq-rs's own.)
    let mut body = mpub_body(&[b"ab"]);
    body.extend_from_slice(b"cd");
    fatal(
        &nsqd,
        &with_body("MPUB t", &body),
        "E_BAD_BODY MPUB body size 12 does not match its 1 messages",
    );
}

#[test]
fn mpub_is_all_or_nothing() {
    let nsqd = Nsqd::start(&["--max-msg-size=10"]);
    let mut consumer = subscribed(&nsqd, "aon");
    consumer.rdy(10);
    fatal(
        &nsqd,
        &with_body("MPUB aon", &mpub_body(&[b"first", &[b'x'; 11]])),
        "E_BAD_MESSAGE MPUB message too big 11 > 10",
    );
    publish(&nsqd, "aon", b"after");
    // The refused MPUB added nothing, not even its valid first message.
    assert_eq!(topic_count(&nsqd, "aon", "message_count"), 1);
    assert_eq!(recv(&mut consumer).body, b"after");
}

#[test]
fn bad_topic_and_channel_names_are_fatal() {
    let nsqd = Nsqd::start(&[]);
    fatal(
        &nsqd,
        b"SUB bad!topic ch\n",
        r#"E_BAD_TOPIC SUB topic name "bad!topic" is not valid"#,
    );
    fatal(
        &nsqd,
        b"SUB t bad!ch\n",
        r#"E_BAD_CHANNEL SUB channel name "bad!ch" is not valid"#,
    );
    fatal(
        &nsqd,
        b"SUB  t c\n",
        r#"E_BAD_TOPIC SUB topic name "" is not valid"#,
    );
    fatal(
        &nsqd,
        b"SUB t \n",
        r#"E_BAD_CHANNEL SUB channel name "" is not valid"#,
    );
    fatal(
        &nsqd,
        &with_body("PUB bad!topic", b"x"),
        r#"E_BAD_TOPIC PUB topic name "bad!topic" is not valid"#,
    );
    fatal(
        &nsqd,
        &with_body("PUB ", b"x"),
        r#"E_BAD_TOPIC PUB topic name "" is not valid"#,
    );
    fatal(
        &nsqd,
        &with_body("DPUB bad!topic 0", b"x"),
        r#"E_BAD_TOPIC DPUB topic name "bad!topic" is not valid"#,
    );
    // Topic is checked before the timeout.
    fatal(
        &nsqd,
        &with_body("DPUB bad!topic abc", b"x"),
        r#"E_BAD_TOPIC DPUB topic name "bad!topic" is not valid"#,
    );
    fatal(
        &nsqd,
        &with_body("MPUB x!", &mpub_body(&[b"x"])),
        r#"E_BAD_TOPIC E_BAD_TOPIC MPUB topic name "x!" is not valid"#,
    );
    // Go %q quoting of odd bytes.
    fatal(
        &nsqd,
        &with_body("PUB a\"b\\c", b"x"),
        r#"E_BAD_TOPIC PUB topic name "a\"b\\c" is not valid"#,
    );
    fatal(
        &nsqd,
        &with_body("PUB a\tb", b"x"),
        r#"E_BAD_TOPIC PUB topic name "a\tb" is not valid"#,
    );
    fatal(
        &nsqd,
        &with_body("PUB caf\u{e9}", b"x"),
        "E_BAD_TOPIC PUB topic name \"caf\u{e9}\" is not valid",
    );
    let mut raw = b"PUB a".to_vec();
    raw.push(0xff);
    raw.extend_from_slice(b"\n\0\0\0\x01x");
    fatal(
        &nsqd,
        &raw,
        r#"E_BAD_TOPIC PUB topic name "a\xff" is not valid"#,
    );
    fatal(
        &nsqd,
        b"SUB t c\x01\n",
        r#"E_BAD_CHANNEL SUB channel name "c\x01" is not valid"#,
    );
}

#[test]
fn names_of_64_bytes_are_accepted_and_65_rejected() {
    let nsqd = Nsqd::start(&[]);
    let n64 = "a".repeat(64);
    let n65 = "b".repeat(65);
    let mut c = nsqd.client();
    c.publish(&n64, b"x");
    c.mpub(&n64, &[b"x"]);
    c.dpub(&n64, 0, b"x");
    c.sub(&n64, &n64);
    fatal(
        &nsqd,
        &with_body(&format!("PUB {n65}"), b"x"),
        &format!("E_BAD_TOPIC PUB topic name \"{n65}\" is not valid"),
    );
    fatal(
        &nsqd,
        &with_body(&format!("MPUB {n65}"), &mpub_body(&[b"x"])),
        &format!("E_BAD_TOPIC E_BAD_TOPIC MPUB topic name \"{n65}\" is not valid"),
    );
    fatal(
        &nsqd,
        &with_body(&format!("DPUB {n65} 0"), b"x"),
        &format!("E_BAD_TOPIC DPUB topic name \"{n65}\" is not valid"),
    );
    fatal(
        &nsqd,
        &line(&format!("SUB {n65} ch")),
        &format!("E_BAD_TOPIC SUB topic name \"{n65}\" is not valid"),
    );
    fatal(
        &nsqd,
        &line(&format!("SUB t {n65}")),
        &format!("E_BAD_CHANNEL SUB channel name \"{n65}\" is not valid"),
    );
}

#[test]
fn ephemeral_names() {
    let nsqd = Nsqd::start(&[]);
    let mut c = nsqd.client();
    c.publish("eph#ephemeral", b"x");
    c.mpub("eph#ephemeral", &[b"x"]);
    c.dpub("eph#ephemeral", 0, b"x");
    c.sub("eph#ephemeral", "ch#ephemeral");
    c.rdy(1);
    assert_eq!(recv(&mut c).body, b"x");
    // The suffix counts toward 64 bytes.
    let e64 = format!("{}#ephemeral", "e".repeat(54));
    let e65 = format!("{}#ephemeral", "e".repeat(55));
    nsqd.client().sub(&e64, &e64);
    fatal(
        &nsqd,
        &with_body(&format!("PUB {e65}"), b"x"),
        &format!("E_BAD_TOPIC PUB topic name \"{e65}\" is not valid"),
    );
    fatal(
        &nsqd,
        &line(&format!("SUB t {e65}")),
        &format!("E_BAD_CHANNEL SUB channel name \"{e65}\" is not valid"),
    );
    for bad in ["#ephemeral", "a#b", "a#ephemeralx", "a#ephemeral#ephemeral"] {
        fatal(
            &nsqd,
            &with_body(&format!("PUB {bad}"), b"x"),
            &format!("E_BAD_TOPIC PUB topic name \"{bad}\" is not valid"),
        );
    }
}

#[test]
fn sub_fails_beyond_max_channel_consumers() {
    let nsqd = Nsqd::start(&["--max-channel-consumers=1"]);
    let _first = subscribed(&nsqd, "t");
    fatal(
        &nsqd,
        b"SUB t ch\n",
        "E_SUB_FAILED SUB failed consumers for t:ch exceeds limit of 1",
    );
    // The limit is per channel.
    let mut other = nsqd.client();
    other.sub("t", "other");
    assert_usable(&mut other);
}

#[test]
fn fin_req_touch_of_unknown_id_fail_non_fatally() {
    let nsqd = Nsqd::start(&[]);
    let mut c = subscribed(&nsqd, "nf");
    c.fin(UNKNOWN_ID);
    expect_now(
        &mut c,
        1,
        "E_FIN_FAILED FIN 0123456789abcdef failed ID not in flight",
    );
    assert_usable(&mut c);
    c.req(UNKNOWN_ID, 0);
    expect_now(
        &mut c,
        1,
        "E_REQ_FAILED REQ 0123456789abcdef failed ID not in flight",
    );
    assert_usable(&mut c);
    c.touch(UNKNOWN_ID);
    expect_now(
        &mut c,
        1,
        "E_TOUCH_FAILED TOUCH 0123456789abcdef failed ID not in flight",
    );
    assert_usable(&mut c);
    // And the connection still consumes normally.
    publish(&nsqd, "nf", b"later");
    c.rdy(1);
    let m = recv(&mut c);
    assert_eq!(m.body, b"later");
    c.fin(&m.id);
    assert_usable(&mut c);
}

#[test]
fn fin_req_touch_by_non_owner_fail_non_fatally() {
    let nsqd = Nsqd::start(&[]);
    let mut owner = subscribed(&nsqd, "own");
    let mut other = subscribed(&nsqd, "own");
    owner.rdy(1);
    publish(&nsqd, "own", b"mine");
    let m = recv(&mut owner);
    let id = m.id_str();
    other.fin(&m.id);
    expect_now(
        &mut other,
        1,
        &format!("E_FIN_FAILED FIN {id} failed client does not own message"),
    );
    assert_usable(&mut other);
    other.req(&m.id, 0);
    expect_now(
        &mut other,
        1,
        &format!("E_REQ_FAILED REQ {id} failed client does not own message"),
    );
    assert_usable(&mut other);
    other.touch(&m.id);
    expect_now(
        &mut other,
        1,
        &format!("E_TOUCH_FAILED TOUCH {id} failed client does not own message"),
    );
    assert_usable(&mut other);
    // None of those disturbed the owner's message.
    owner.touch(&m.id);
    owner.fin(&m.id);
    assert_usable(&mut owner);
}

// ---------------------------------------------------------------------------------
// 3. "failed to read" at end of stream
// ---------------------------------------------------------------------------------

#[test]
fn truncated_commands_at_eof_get_failed_to_read_errors() {
    let nsqd = Nsqd::start(&[]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            [&line("PUB t")[..], &[0, 0]].concat(),
            "E_BAD_MESSAGE PUB failed to read message body size",
        ),
        (
            sized("PUB t", 5, b"ab"),
            "E_BAD_MESSAGE PUB failed to read message body",
        ),
        (
            line("PUB t"),
            "E_BAD_MESSAGE PUB failed to read message body size",
        ),
        (
            [&line("DPUB t 0")[..], &[0]].concat(),
            "E_BAD_MESSAGE DPUB failed to read message body size",
        ),
        (
            sized("DPUB t 0", 3, b"a"),
            "E_BAD_MESSAGE DPUB failed to read message body",
        ),
        (
            [&line("MPUB t")[..], &[0, 0, 0]].concat(),
            "E_BAD_BODY MPUB failed to read body size",
        ),
        (
            sized("MPUB t", 10, &[0, 0]),
            "E_BAD_BODY MPUB failed to read message count",
        ),
        (
            sized("MPUB t", 20, &[0, 0, 0, 2, 0, 0]),
            "E_BAD_MESSAGE MPUB failed to read message(0) body size",
        ),
        (
            sized("MPUB t", 20, &[0, 0, 0, 2, 0, 0, 0, 1, b'x', 0]),
            "E_BAD_MESSAGE MPUB failed to read message(1) body size",
        ),
        (
            sized("MPUB t", 20, &[0, 0, 0, 1, 0, 0, 0, 5, b'a', b'b']),
            "E_BAD_MESSAGE MPUB failed to read message body",
        ),
        (
            [&line("IDENTIFY")[..], &[0, 0]].concat(),
            "E_BAD_BODY IDENTIFY failed to read body size",
        ),
        (
            sized("IDENTIFY", 10, b"{}"),
            "E_BAD_BODY IDENTIFY failed to read body",
        ),
        (
            [&line("AUTH")[..], &[0]].concat(),
            "E_BAD_BODY AUTH failed to read body size",
        ),
        (
            sized("AUTH", 5, b"ab"),
            "E_BAD_BODY AUTH failed to read body",
        ),
    ];
    for (bytes, want) in cases {
        let mut c = nsqd.client();
        c.send(&bytes);
        c.shutdown_write();
        let f = c
            .try_read_frame(WAIT)
            .unwrap_or_else(|e| panic!("{want}: no frame ({e})"));
        assert_eq!((f.frame_type, f.text()), (1, want.to_string()));
        c.expect_closed();
    }
}

// ---------------------------------------------------------------------------------
// 4. the §1.4 state table
// ---------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    Init,
    Subscribed,
    Closing,
}

#[derive(Clone, Debug)]
enum Want {
    /// This response frame, then the connection is still usable.
    Reply(&'static str),
    /// No frame at all, and the connection is still usable.
    Silent,
    /// This error frame, then the connection is closed.
    Fatal(String),
}

/// A connection in `state`; subscribed/closing ones hold one in-flight message.
fn client_in(nsqd: &Nsqd, state: State, topic: &str) -> (Client, [u8; 16]) {
    match state {
        State::Init => (nsqd.client(), *UNKNOWN_ID),
        State::Subscribed => {
            let (c, m) = holding(nsqd, topic);
            (c, m.id)
        }
        State::Closing => {
            let (mut c, m) = holding(nsqd, topic);
            c.send(b"CLS\n");
            expect_now(&mut c, 0, "CLOSE_WAIT");
            (c, m.id)
        }
    }
}

#[test]
fn state_table() {
    use State::*;
    let nsqd = Nsqd::start(&[]);
    let cannot = |cmd: &str| Want::Fatal(format!("E_INVALID cannot {cmd} in current state"));
    type MakeCmd = fn(&[u8; 16]) -> Vec<u8>;
    let commands: Vec<(&str, MakeCmd)> = vec![
        ("IDENTIFY", |_| with_body("IDENTIFY", b"{}")),
        ("AUTH", |_| with_body("AUTH", b"secret")),
        ("SUB", |_| line("SUB table-other ch")),
        ("RDY", |_| line("RDY 1")),
        ("FIN", |id| id_cmd("FIN", id, "")),
        ("REQ", |id| id_cmd("REQ", id, " 60000")),
        ("TOUCH", |id| id_cmd("TOUCH", id, "")),
        ("CLS", |_| line("CLS")),
        ("PUB", |_| with_body("PUB table-pub", b"x")),
        ("MPUB", |_| {
            with_body("MPUB table-pub", &mpub_body(&[b"x", b"y"]))
        }),
        ("DPUB", |_| with_body("DPUB table-pub 1000", b"x")),
        ("NOP", |_| line("NOP")),
    ];
    let want = |cmd: &str, state: State| -> Want {
        match (cmd, state) {
            ("IDENTIFY", Init) | ("SUB", Init) => Want::Reply("OK"),
            ("AUTH", Init) => Want::Fatal("E_AUTH_DISABLED AUTH disabled".into()),
            ("IDENTIFY" | "AUTH" | "SUB", _) => cannot(cmd),
            ("RDY" | "FIN" | "REQ" | "TOUCH", Init) => cannot(cmd),
            ("RDY" | "FIN" | "REQ" | "TOUCH", _) => Want::Silent,
            ("CLS", Subscribed) => Want::Reply("CLOSE_WAIT"),
            ("CLS", _) => cannot(cmd),
            ("PUB" | "MPUB" | "DPUB", _) => Want::Reply("OK"),
            ("NOP", _) => Want::Silent,
            _ => unreachable!("{cmd}"),
        }
    };
    let mut failures = Vec::new();
    for (n, (cmd, make)) in commands.iter().enumerate() {
        for state in [Init, Subscribed, Closing] {
            let expected = want(cmd, state);
            let topic = format!("table-{n}-{state:?}");
            let result = catch_unwind(AssertUnwindSafe(|| {
                let (mut c, id) = client_in(&nsqd, state, &topic);
                c.send(&make(&id));
                match &expected {
                    Want::Reply(text) => {
                        expect_now(&mut c, 0, text);
                        assert_usable(&mut c);
                    }
                    Want::Silent => assert_usable(&mut c),
                    Want::Fatal(text) => expect_fatal_now(&mut c, text),
                }
            }));
            if result.is_err() {
                failures.push(format!("{cmd} in {state:?}: expected {expected:?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "state table mismatches:\n{}",
        failures.join("\n")
    );
}

#[test]
fn rdy_in_closing_is_ignored_even_when_invalid() {
    let nsqd = Nsqd::start(&[]);
    let mut c = subscribed(&nsqd, "clsrdy");
    c.send(b"CLS\n");
    expect_now(&mut c, 0, "CLOSE_WAIT");
    c.send(b"RDY abc\nRDY 999999\nRDY -1\n");
    assert_usable(&mut c);
}

// ---------------------------------------------------------------------------------
// 5. errors arrive without waiting for a body
// ---------------------------------------------------------------------------------

#[test]
fn errors_are_sent_before_the_body_arrives() {
    let nsqd = Nsqd::start(&["--max-body-size=100"]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            line("PUB bad!topic"),
            r#"E_BAD_TOPIC PUB topic name "bad!topic" is not valid"#,
        ),
        (
            line("DPUB bad!topic 0"),
            r#"E_BAD_TOPIC DPUB topic name "bad!topic" is not valid"#,
        ),
        (
            line("DPUB t 3600001"),
            "E_INVALID DPUB timeout 3600001 out of range 0-3600000",
        ),
        (
            line("MPUB x!"),
            r#"E_BAD_TOPIC E_BAD_TOPIC MPUB topic name "x!" is not valid"#,
        ),
        (
            sized("PUB t", 0, b""),
            "E_BAD_MESSAGE PUB invalid message body size 0",
        ),
        (
            sized("PUB t", 2_000_000, b""),
            "E_BAD_MESSAGE PUB message too big 2000000 > 1048576",
        ),
        (
            sized("IDENTIFY", 1000, b""),
            "E_BAD_BODY IDENTIFY body too big 1000 > 100",
        ),
        (
            sized("MPUB t", 101, b""),
            "E_BAD_BODY MPUB body too big 101 > 100",
        ),
        (
            sized("MPUB t", 50, &[0, 0, 0, 0]),
            "E_BAD_BODY MPUB invalid message count 0",
        ),
        (
            line("AUTH x"),
            "E_INVALID AUTH invalid number of parameters",
        ),
    ];
    // The body never comes and the socket stays open (nsqd's read deadline is 60 s):
    // a server that waited for it would not answer within WAIT (30 s).
    for (bytes, want) in cases {
        let mut c = nsqd.client();
        c.send(&bytes);
        let f = c
            .try_read_frame(WAIT)
            .unwrap_or_else(|e| panic!("{want}: no error without the body ({e})"));
        assert_eq!((f.frame_type, f.text()), (1, want.to_string()));
        c.expect_closed();
    }
    // A state error on a body command is answered without its body too.
    let mut c = subscribed(&nsqd, "prompt");
    c.send(b"IDENTIFY\n");
    expect_fatal_now(&mut c, "E_INVALID cannot IDENTIFY in current state");
}
