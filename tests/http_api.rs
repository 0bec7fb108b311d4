//! Black-box tests of every nsqd HTTP route (NSQ-PROTOCOL.md §2.6–2.7 and §3): status
//! codes, `Content-Type`, the `X-NSQ-Content-Type: nsq; version=1.0` header (present on
//! every V1 response, absent on `/ping`), exact bodies, `/pub` and `/mpub` check order,
//! `/info`, the `/stats` JSON shape with its key order and null-vs-`[]` rules, the text
//! stats format, topic/channel actions and their delivery semantics, `/config` and the
//! Prometheus `/metrics` view of the same numbers.
mod common;

use common::{consumer, mpub_body, parse_http_response, Client, HttpResponse, Nsqd, WAIT};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::{HashMap, HashSet};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const V1: &str = "nsq; version=1.0";
const JSON: &str = "application/json; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";
/// Heartbeats (60 s) rarer than [`WAIT`]: within a wait, only a real wake-up can
/// deliver a message.
const NO_HB: &str = r#"{"heartbeat_interval":60000}"#;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ---------------------------------------------------------------------------------
// HTTP plumbing

/// Sends `raw` on a fresh connection (one write) and reads one whole response.
fn exchange(addr: SocketAddr, raw: &[u8]) -> HttpResponse {
    let mut s = TcpStream::connect(addr).expect("connect http");
    s.set_read_timeout(Some(WAIT)).unwrap();
    let _ = s.write_all(raw);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        if let Some(len) = complete_len(&buf) {
            return parse_http_response(&buf[..len]).expect("parse response");
        }
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                assert!(!buf.is_empty(), "no response: {e}");
                break;
            }
        }
    }
    parse_http_response(&buf)
        .unwrap_or_else(|| panic!("incomplete response: {:?}", String::from_utf8_lossy(&buf)))
}

/// The length of the first response in `buf` once all of it (by Content-Length) is there.
fn complete_len(buf: &[u8]) -> Option<usize> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))?
        .trim()
        .parse()
        .ok()?;
    (buf.len() >= end + len).then_some(end + len)
}

/// One request with `Connection: close`, head and body in a single write.
fn request(addr: SocketAddr, method: &str, target: &str, body: &[u8]) -> HttpResponse {
    let mut raw = format!(
        "{method} {target} HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(body);
    exchange(addr, &raw)
}

fn get(n: &Nsqd, target: &str) -> HttpResponse {
    request(n.http, "GET", target, b"")
}

fn post(n: &Nsqd, target: &str, body: &[u8]) -> HttpResponse {
    request(n.http, "POST", target, body)
}

fn put(n: &Nsqd, target: &str, body: &[u8]) -> HttpResponse {
    request(n.http, "PUT", target, body)
}

fn describe(r: &HttpResponse) -> String {
    format!("{} {:?} {:?}", r.status, r.headers, r.text())
}

/// A V1 error: status, JSON content type, the V1 header and `{"message":"<msg>"}`.
fn assert_err(r: &HttpResponse, status: u16, msg: &str) {
    assert_eq!(r.status, status, "{}", describe(r));
    assert_eq!(
        r.text(),
        format!("{{\"message\":\"{msg}\"}}"),
        "{}",
        describe(r)
    );
    assert_eq!(r.header("content-type"), Some(JSON), "{}", describe(r));
    assert_eq!(r.header("x-nsq-content-type"), Some(V1), "{}", describe(r));
}

/// A V1 200 with the text body `OK`.
fn assert_ok_text(r: &HttpResponse) {
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "OK"),
        "{}",
        describe(r)
    );
    assert_eq!(r.header("content-type"), Some(TEXT), "{}", describe(r));
    assert_eq!(r.header("x-nsq-content-type"), Some(V1), "{}", describe(r));
}

/// A V1 200 with no data: empty body, `Content-Length: 0`, no `Content-Type`.
fn assert_ok_empty(r: &HttpResponse) {
    assert_eq!(r.status, 200, "{}", describe(r));
    assert!(r.body.is_empty(), "{}", describe(r));
    assert_eq!(r.header("content-length"), Some("0"), "{}", describe(r));
    assert_eq!(r.header("content-type"), None, "{}", describe(r));
    assert_eq!(r.header("x-nsq-content-type"), Some(V1), "{}", describe(r));
}

/// A V1 200 with a JSON body; returns the body parsed in key order.
fn assert_ok_json(r: &HttpResponse) -> J {
    assert_eq!(r.status, 200, "{}", describe(r));
    assert_eq!(r.header("content-type"), Some(JSON), "{}", describe(r));
    assert_eq!(r.header("x-nsq-content-type"), Some(V1), "{}", describe(r));
    J::parse(&r.body)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

// ---------------------------------------------------------------------------------
// JSON that keeps key order (serde_json's map here is sorted)

#[derive(Debug, Clone, PartialEq)]
enum J {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl<'de> Deserialize<'de> for J {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<J, D::Error> {
        d.deserialize_any(JVisitor)
    }
}

struct JVisitor;

impl<'de> Visitor<'de> for JVisitor {
    type Value = J;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_unit<E>(self) -> Result<J, E> {
        Ok(J::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<J, E> {
        Ok(J::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<J, E> {
        Ok(J::Num(v as f64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<J, E> {
        Ok(J::Num(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<J, E> {
        Ok(J::Num(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<J, E> {
        Ok(J::Str(v.to_string()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<J, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(J::Arr(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<J, A::Error> {
        let mut out = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, J>()? {
            out.push((k, v));
        }
        Ok(J::Obj(out))
    }
}

impl J {
    fn parse(bytes: &[u8]) -> J {
        serde_json::from_slice(bytes)
            .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(bytes)))
    }
    fn keys(&self) -> Vec<&str> {
        match self {
            J::Obj(kv) => kv.iter().map(|(k, _)| k.as_str()).collect(),
            other => panic!("not an object: {other:?}"),
        }
    }
    fn opt(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(kv) => kv.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            other => panic!("not an object: {other:?}"),
        }
    }
    fn arr(&self) -> &[J] {
        match self {
            J::Arr(v) => v,
            other => panic!("not an array: {other:?}"),
        }
    }
    fn num(&self) -> f64 {
        match self {
            J::Num(v) => *v,
            other => panic!("not a number: {other:?}"),
        }
    }
    fn u64(&self) -> u64 {
        let v = self.num();
        assert!(v >= 0.0 && v.fract() == 0.0, "not a count: {v}");
        v as u64
    }
    fn str(&self) -> &str {
        match self {
            J::Str(s) => s,
            other => panic!("not a string: {other:?}"),
        }
    }
    fn bool(&self) -> bool {
        match self {
            J::Bool(b) => *b,
            other => panic!("not a bool: {other:?}"),
        }
    }
    fn is_null(&self) -> bool {
        matches!(self, J::Null)
    }
}

impl std::ops::Index<&str> for J {
    type Output = J;
    fn index(&self, key: &str) -> &J {
        self.opt(key)
            .unwrap_or_else(|| panic!("no key {key:?} in {self:?}"))
    }
}

// ---------------------------------------------------------------------------------
// /stats helpers

/// nsqd's keys, then nsq-rs's one addition (the lookupd peers).
const TOP_KEYS: &[&str] = &[
    "version",
    "health",
    "start_time",
    "topics",
    "memory",
    "producers",
    "lookupd_peers",
];
const TOPIC_KEYS: &[&str] = &[
    "topic_name",
    "channels",
    "depth",
    "backend_depth",
    "message_count",
    "message_bytes",
    "paused",
    "e2e_processing_latency",
];
const CHANNEL_KEYS: &[&str] = &[
    "channel_name",
    "depth",
    "backend_depth",
    "in_flight_count",
    "deferred_count",
    "message_count",
    "requeue_count",
    "timeout_count",
    "client_count",
    "clients",
    "paused",
    "e2e_processing_latency",
];
const MEMORY_KEYS: &[&str] = &[
    "heap_objects",
    "heap_idle_bytes",
    "heap_in_use_bytes",
    "heap_released_bytes",
    "gc_pause_usec_100",
    "gc_pause_usec_99",
    "gc_pause_usec_95",
    "next_gc_bytes",
    "gc_total_runs",
];

/// Client object keys in order; `pub_counts` (when present) follows `topology_region`.
fn client_keys(with_pub_counts: bool) -> Vec<&'static str> {
    let mut keys = vec![
        "client_id",
        "hostname",
        "version",
        "remote_address",
        "state",
        "ready_count",
        "in_flight_count",
        "message_count",
        "finish_count",
        "requeue_count",
        "connect_ts",
        "sample_rate",
        "deflate",
        "snappy",
        "user_agent",
        "topology_zone",
        "topology_region",
    ];
    if with_pub_counts {
        keys.push("pub_counts");
    }
    keys.extend([
        "tls",
        "tls_cipher_suite",
        "tls_version",
        "tls_negotiated_protocol",
        "tls_negotiated_protocol_is_mutual",
    ]);
    keys
}

/// `GET /stats?format=json&<query>`, checked as a V1 JSON response.
fn stats(n: &Nsqd, query: &str) -> J {
    let r = get(n, &format!("/stats?format=json&{query}"));
    assert!(!r.text().contains('\n'), "not compact: {}", r.text());
    assert_ok_json(&r)
}

fn topic<'a>(s: &'a J, name: &str) -> Option<&'a J> {
    let topics = &s["topics"];
    if topics.is_null() {
        return None;
    }
    topics.arr().iter().find(|t| t["topic_name"].str() == name)
}

fn channel<'a>(s: &'a J, t: &str, c: &str) -> Option<&'a J> {
    topic(s, t)?["channels"]
        .arr()
        .iter()
        .find(|ch| ch["channel_name"].str() == c)
}

fn topic_names(s: &J) -> Vec<String> {
    s["topics"]
        .arr()
        .iter()
        .map(|t| t["topic_name"].str().to_string())
        .collect()
}

fn channel_names(t: &J) -> Vec<String> {
    t["channels"]
        .arr()
        .iter()
        .map(|c| c["channel_name"].str().to_string())
        .collect()
}

/// Polls `/stats?format=json` until `cond` holds (failing after [`WAIT`]); returns
/// that snapshot.
fn wait_stats(n: &Nsqd, what: &str, cond: impl Fn(&J) -> bool) -> J {
    let deadline = Instant::now() + WAIT;
    loop {
        let s = stats(n, "");
        if cond(&s) {
            return s;
        }
        if Instant::now() >= deadline {
            panic!("timed out waiting for {what}: {s:?}");
        }
        std::thread::sleep(ms(20));
    }
}

/// `(depth, in_flight_count, deferred_count)` of a channel.
fn chan_counts(s: &J, t: &str, c: &str) -> Option<(u64, u64, u64)> {
    let ch = channel(s, t, c)?;
    Some((
        ch["depth"].u64(),
        ch["in_flight_count"].u64(),
        ch["deferred_count"].u64(),
    ))
}

/// One round trip that orders `c`'s traffic: a `FIN` for an ID nobody holds, which
/// nsqd answers with a non-fatal `E_FIN_FAILED` after every command sent before it,
/// in a round that ends by delivering whatever is due. Returns a message read first.
fn fin_nothing(c: &mut Client) -> Option<common::Msg> {
    c.fin(b"0000000000000000");
    let f = c.next_frame();
    if f.frame_type == 2 {
        let m = common::decode_message(&f.data);
        let e = c.next_frame();
        assert!(e.text().starts_with("E_FIN_FAILED "), "{}", e.text());
        return Some(m);
    }
    assert_eq!(f.frame_type, 1, "{}", f.text());
    assert!(f.text().starts_with("E_FIN_FAILED "), "{}", f.text());
    None
}

/// Proves no message is due to `c`, without waiting for one not to come: anything due
/// when the first of two [`fin_nothing`] round trips was sent is delivered by the
/// round that answers it, so it arrives before the second answer at the latest.
fn expect_no_message(c: &mut Client, why: &str) {
    for _ in 0..2 {
        if let Some(m) = fin_nothing(c) {
            panic!(
                "{why}: unexpected message {:?}",
                String::from_utf8_lossy(&m.body)
            );
        }
    }
}

/// The next message on `c` (within [`WAIT`]) must have `body`.
fn expect_message(c: &mut Client, body: &[u8], why: &str) -> common::Msg {
    let m = c
        .try_read_message(WAIT)
        .unwrap_or_else(|| panic!("{why}: no message within {WAIT:?}"));
    assert_eq!(m.body, body, "{why}");
    m
}

// ---------------------------------------------------------------------------------
// /ping, /info

#[test]
fn ping_is_plain_text_without_v1_header() {
    let n = Nsqd::start(&[]);
    let r = get(&n, "/ping");
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "OK"),
        "{}",
        describe(&r)
    );
    assert_eq!(r.header("content-type"), Some(TEXT));
    assert_eq!(r.header("x-nsq-content-type"), None, "{}", describe(&r));
}

#[test]
fn info_has_keys_in_order_and_the_real_ports() {
    // nsqd starts between these two readings of the same (Unix) clock.
    let before = unix_now();
    let n = Nsqd::start(&[]);
    let r = get(&n, "/info");
    let after = unix_now();
    let j = assert_ok_json(&r);
    assert_eq!(
        j.keys(),
        [
            "version",
            "broadcast_address",
            "hostname",
            "http_port",
            "tcp_port",
            "start_time",
            "max_heartbeat_interval",
            "max_output_buffer_size",
            "max_output_buffer_timeout",
            "max_deflate_level",
            "topology_zone",
            "topology_region",
            "lookupd_peers",
        ]
    );
    assert_eq!(j["version"].str(), "1.3.0");
    assert!(!j["broadcast_address"].str().is_empty());
    assert!(!j["hostname"].str().is_empty());
    assert_eq!(j["http_port"].u64(), u64::from(n.http.port()));
    assert_eq!(j["tcp_port"].u64(), u64::from(n.tcp.port()));
    let start = j["start_time"].num() as i64;
    assert!(
        (before..=after).contains(&start),
        "start_time {start} not in {before}..={after}"
    );
    assert_eq!(j["max_heartbeat_interval"].u64(), 60_000_000_000);
    assert_eq!(j["max_output_buffer_size"].u64(), 65536);
    assert_eq!(j["max_output_buffer_timeout"].u64(), 30_000_000_000);
    assert_eq!(j["max_deflate_level"].u64(), 6);
    assert_eq!(j["topology_zone"].str(), "");
    assert_eq!(j["topology_region"].str(), "");
    assert!(!r.text().contains(' '), "compact JSON: {}", r.text());
}

// ---------------------------------------------------------------------------------
// /pub, /mpub

#[test]
fn pub_publishes_and_defers() {
    let n = Nsqd::start(&[]);
    assert_err(
        &post(&n, "/channel/create?topic=p&channel=c", b""),
        404,
        "TOPIC_NOT_FOUND",
    );
    assert_ok_empty(&post(&n, "/topic/create?topic=p", b""));
    assert_ok_empty(&post(&n, "/channel/create?topic=p&channel=c", b""));
    assert_ok_text(&post(&n, "/pub?topic=p", b"hello"));
    assert_ok_text(&post(&n, "/pub?topic=p&defer=60000", b"later"));
    assert_ok_text(&post(&n, "/pub?topic=p&defer=0", b"now"));
    assert_ok_text(&post(&n, "/pub?topic=p&defer=3600000", b"max"));
    let s = wait_stats(&n, "2 queued, 2 deferred", |s| {
        chan_counts(s, "p", "c") == Some((2, 0, 2))
    });
    let t = topic(&s, "p").unwrap();
    assert_eq!(t["message_count"].u64(), 4);
    assert_eq!(t["message_bytes"].u64(), 5 + 5 + 3 + 3);
    let mut c = consumer(&n, NO_HB, "p", "c", 10);
    let mut got: Vec<Vec<u8>> = (0..2).map(|_| c.read_message().body).collect();
    got.sort();
    assert_eq!(got, [b"hello".to_vec(), b"now".to_vec()]);
    expect_no_message(&mut c, "deferred messages stay deferred");
    let s = stats(&n, "topic=p");
    assert_eq!(chan_counts(&s, "p", "c"), Some((0, 2, 2)), "{s:?}");
}

#[test]
fn pub_errors_in_check_order() {
    let n = Nsqd::start(&["--max-msg-size=100"]);
    let big = vec![b'x'; 101];
    // Size first, then emptiness, then the topic, then defer.
    assert_err(&post(&n, "/pub", &big), 413, "MSG_TOO_BIG");
    assert_err(&post(&n, "/pub?topic=bad!name", &big), 413, "MSG_TOO_BIG");
    assert_err(&post(&n, "/pub", b""), 400, "MSG_EMPTY");
    assert_err(&post(&n, "/pub?topic=e", b""), 400, "MSG_EMPTY");
    assert_err(&post(&n, "/pub", b"x"), 400, "MISSING_ARG_TOPIC");
    assert_err(&post(&n, "/pub?defer=5", b"x"), 400, "MISSING_ARG_TOPIC");
    assert_err(&post(&n, "/pub?topic=bad!name", b"x"), 400, "INVALID_TOPIC");
    assert_err(&post(&n, "/pub?topic=", b"x"), 400, "INVALID_TOPIC");
    let long = "t".repeat(65);
    assert_err(
        &post(&n, &format!("/pub?topic={long}"), b"x"),
        400,
        "INVALID_TOPIC",
    );
    for d in ["abc", "-1", "3600001", "1.5", ""] {
        assert_err(
            &post(&n, &format!("/pub?topic=d&defer={d}"), b"x"),
            400,
            "INVALID_DEFER",
        );
    }
    assert_err(&post(&n, "/pub?topic=q%zz", b"x"), 400, "INVALID_REQUEST");
    // Exactly the limit is fine.
    assert_ok_text(&post(&n, "/pub?topic=ok", &[b'y'; 100]));
    let s = stats(&n, "");
    assert_eq!(topic(&s, "ok").unwrap()["message_count"].u64(), 1);
    assert_eq!(topic(&s, "ok").unwrap()["message_bytes"].u64(), 100);
    for t in ["e", "bad!name"] {
        assert!(topic(&s, t).is_none(), "topic {t} must not exist: {s:?}");
    }
}

#[test]
fn pub_with_invalid_defer_still_creates_the_topic() {
    // §3.3: the topic is created at step 4, before the defer check (step 5).
    let n = Nsqd::start(&[]);
    assert_err(
        &post(&n, "/pub?topic=d&defer=-1", b"x"),
        400,
        "INVALID_DEFER",
    );
    let s = stats(&n, "");
    assert_eq!(
        topic(&s, "d").map(|t| t["message_count"].u64()),
        Some(0),
        "topic d should exist with no messages: {s:?}"
    );
}

#[test]
fn mpub_text_mode() {
    let n = Nsqd::start(&["--max-msg-size=100"]);
    // Empty lines skipped, trailing newline ignored, `\r` kept.
    assert_ok_text(&post(&n, "/mpub?topic=m", b"a\n\nb\r\n\nccc\n"));
    assert_ok_text(&post(&n, "/mpub?topic=m&binary=false", b"d"));
    assert_ok_text(&post(&n, "/mpub?topic=m&binary=0", b"e\n"));
    let s = stats(&n, "topic=m");
    let t = topic(&s, "m").unwrap();
    assert_eq!(t["message_count"].u64(), 5);
    assert_eq!(t["message_bytes"].u64(), 1 + 2 + 3 + 1 + 1);
    let mut c = consumer(&n, NO_HB, "m", "c", 10);
    let mut bodies: Vec<Vec<u8>> = (0..5).map(|_| c.read_message().body).collect();
    bodies.sort();
    let want: Vec<Vec<u8>> = [&b"a"[..], b"b\r", b"ccc", b"d", b"e"]
        .iter()
        .map(|b| b.to_vec())
        .collect();
    assert_eq!(bodies, want);
    expect_no_message(&mut c, "only 5 messages");

    // Bodies with no lines: OK, nothing published, topic created.
    assert_ok_text(&post(&n, "/mpub?topic=none", b"\n\n\n"));
    assert_ok_text(&post(&n, "/mpub?topic=none", b""));
    let s = stats(&n, "topic=none");
    assert_eq!(topic(&s, "none").unwrap()["message_count"].u64(), 0);

    // A line over the message limit.
    let mut body = b"ok\n".to_vec();
    body.extend_from_slice(&[b'z'; 101]);
    body.push(b'\n');
    assert_err(&post(&n, "/mpub?topic=big", &body), 413, "MSG_TOO_BIG");
    let s = stats(&n, "topic=big");
    assert_eq!(topic(&s, "big").unwrap()["message_count"].u64(), 0);
    // Topic errors.
    assert_err(&post(&n, "/mpub", b"a\n"), 400, "MISSING_ARG_TOPIC");
    assert_err(&post(&n, "/mpub?topic=bad!", b"a\n"), 400, "INVALID_TOPIC");
}

#[test]
fn mpub_binary_mode_and_errors() {
    let n = Nsqd::start(&["--max-msg-size=100", "--max-body-size=300"]);
    assert_ok_text(&post(
        &n,
        "/mpub?topic=b&binary=true",
        &mpub_body(&[b"x", b"yy"]),
    ));
    assert_ok_text(&post(&n, "/mpub?topic=b&binary=1", &mpub_body(&[b"a\nb"])));
    // Any other value also means binary.
    assert_ok_text(&post(&n, "/mpub?topic=b&binary=yes", &mpub_body(&[b"q"])));
    let s = stats(&n, "topic=b");
    assert_eq!(topic(&s, "b").unwrap()["message_count"].u64(), 4);
    assert_eq!(
        topic(&s, "b").unwrap()["message_bytes"].u64(),
        1 + 2 + 3 + 1
    );
    let mut c = consumer(&n, NO_HB, "b", "c", 10);
    let mut bodies: Vec<Vec<u8>> = (0..4).map(|_| c.read_message().body).collect();
    bodies.sort();
    assert_eq!(
        bodies,
        [
            b"a\nb".to_vec(),
            b"q".to_vec(),
            b"x".to_vec(),
            b"yy".to_vec()
        ]
    );

    let bin = "/mpub?topic=e&binary=true";
    // count <= 0 or too many
    assert_err(&post(&n, bin, &0i32.to_be_bytes()), 413, "BAD_BODY");
    assert_err(&post(&n, bin, &(-3i32).to_be_bytes()), 413, "BAD_BODY");
    let mut many = 100i32.to_be_bytes().to_vec();
    many.extend_from_slice(&[0, 0, 0, 1, b'x']);
    assert_err(&post(&n, bin, &many), 413, "BAD_BODY");
    // Body too short for the count.
    assert_err(&post(&n, bin, &[0, 0]), 413, "BAD_BODY");
    // Bad messages: size 0, negative, over max-msg-size, short read.
    let mut zero = 1i32.to_be_bytes().to_vec();
    zero.extend_from_slice(&0i32.to_be_bytes());
    assert_err(&post(&n, bin, &zero), 413, "BAD_MESSAGE");
    let mut neg = 1i32.to_be_bytes().to_vec();
    neg.extend_from_slice(&(-1i32).to_be_bytes());
    assert_err(&post(&n, bin, &neg), 413, "BAD_MESSAGE");
    let oversize = mpub_body(&[&[b'o'; 101]]);
    assert_err(&post(&n, bin, &oversize), 413, "BAD_MESSAGE");
    let mut short = mpub_body(&[b"one", b"two"]);
    short.truncate(short.len() - 2);
    assert_err(&post(&n, bin, &short), 413, "BAD_MESSAGE");
    let mut missing = 2i32.to_be_bytes().to_vec();
    missing.extend_from_slice(&mpub_body(&[b"one"])[4..]);
    assert_err(&post(&n, bin, &missing), 413, "BAD_MESSAGE");
    let s = stats(&n, "topic=e");
    // The topic is created before the body is checked, but gets nothing.
    assert_eq!(topic(&s, "e").unwrap()["message_count"].u64(), 0);

    // Over max-body-size (Content-Length), in both modes.
    let body = vec![b'l'; 301];
    assert_err(&post(&n, "/mpub?topic=e", &body), 413, "BODY_TOO_BIG");
    assert_err(&post(&n, bin, &body), 413, "BODY_TOO_BIG");
    assert_err(&post(&n, "/mpub", &body), 413, "BODY_TOO_BIG");
    // Exactly the limit is accepted (text: 3 lines of 99 + 3 newlines = 300).
    let mut lines = Vec::new();
    for ch in [b'1', b'2', b'3'] {
        lines.extend_from_slice(&[ch; 99]);
        lines.push(b'\n');
    }
    assert_eq!(lines.len(), 300);
    assert_ok_text(&post(&n, "/mpub?topic=e", &lines));
    let s = stats(&n, "topic=e");
    assert_eq!(topic(&s, "e").unwrap()["message_count"].u64(), 3);
}

#[test]
fn http_publish_reaches_a_subscribed_consumer_at_once() {
    let n = Nsqd::start(&[]);
    let mut c = consumer(&n, NO_HB, "now", "c", 1);
    // Each publish comes after a round trip on the consumer's connection, so whatever
    // SUB, RDY or FIN set off is over: only the publish itself can then deliver within
    // WAIT (heartbeats, the only other traffic, come every 60 s).
    assert_eq!(fin_nothing(&mut c), None);
    assert_ok_text(&post(&n, "/pub?topic=now", b"first"));
    let m = expect_message(&mut c, b"first", "HTTP /pub");
    c.fin(&m.id);
    assert_eq!(fin_nothing(&mut c), None);
    assert_ok_text(&post(&n, "/mpub?topic=now", b"second\n"));
    let m = expect_message(&mut c, b"second", "HTTP /mpub");
    c.fin(&m.id);
    assert_eq!(fin_nothing(&mut c), None);
    assert_ok_text(&post(
        &n,
        "/mpub?topic=now&binary=true",
        &mpub_body(&[b"third"]),
    ));
    expect_message(&mut c, b"third", "HTTP binary /mpub");
}

// ---------------------------------------------------------------------------------
// /stats

#[test]
fn stats_json_shape_and_key_order() {
    // nsqd starts, and the consumer connects, between `before` and `after`.
    let before = unix_now();
    let n = Nsqd::start(&[]);
    // A TCP producer.
    let mut p = n.client();
    for body in [&b"one"[..], b"two", b"three", b"four"] {
        p.publish("st", body);
    }
    let mut c = consumer(
        &n,
        r#"{"client_id":"cid","hostname":"hst","user_agent":"ua/1.0","heartbeat_interval":60000}"#,
        "st",
        "ch",
        2,
    );
    // RDY 2: two in flight; FIN one and the third arrives; the fourth stays queued.
    let m1 = c.read_message();
    let _m2 = c.read_message();
    c.fin(&m1.id);
    let _m3 = c.read_message();
    let s = wait_stats(&n, "1 queued, 2 in flight, 1 finished", |s| {
        chan_counts(s, "st", "ch") == Some((1, 2, 0))
            && channel(s, "st", "ch").unwrap()["clients"].arr()[0]["finish_count"].u64() == 1
    });
    let after = unix_now();

    assert_eq!(s.keys(), TOP_KEYS);
    assert_eq!(s["version"].str(), "1.3.0");
    assert_eq!(s["health"].str(), "OK");
    let start = s["start_time"].num() as i64;
    assert!(
        (before..=after).contains(&start),
        "{start} not in {before}..={after}"
    );
    assert_eq!(s["memory"].keys(), MEMORY_KEYS);
    for k in MEMORY_KEYS {
        s["memory"][k].u64();
    }

    let topics = s["topics"].arr();
    assert_eq!(topics.len(), 1);
    let t = &topics[0];
    assert_eq!(t.keys(), TOPIC_KEYS);
    assert_eq!(t["topic_name"].str(), "st");
    assert_eq!(t["depth"].u64(), 0);
    assert_eq!(t["backend_depth"].u64(), 0);
    assert_eq!(t["message_count"].u64(), 4);
    assert_eq!(t["message_bytes"].u64(), 3 + 3 + 5 + 4);
    assert!(!t["paused"].bool());
    let no_e2e = J::Obj(vec![
        ("count".into(), J::Num(0.0)),
        ("percentiles".into(), J::Null),
    ]);
    assert_eq!(t["e2e_processing_latency"], no_e2e);

    let chans = t["channels"].arr();
    assert_eq!(chans.len(), 1);
    let ch = &chans[0];
    assert_eq!(ch.keys(), CHANNEL_KEYS);
    assert_eq!(ch["channel_name"].str(), "ch");
    assert_eq!(ch["depth"].u64(), 1);
    assert_eq!(ch["backend_depth"].u64(), 0);
    assert_eq!(ch["in_flight_count"].u64(), 2);
    assert_eq!(ch["deferred_count"].u64(), 0);
    assert_eq!(ch["message_count"].u64(), 4);
    assert_eq!(ch["requeue_count"].u64(), 0);
    assert_eq!(ch["timeout_count"].u64(), 0);
    assert_eq!(ch["client_count"].u64(), 1);
    assert!(!ch["paused"].bool());
    assert_eq!(ch["e2e_processing_latency"], no_e2e);

    let clients = ch["clients"].arr();
    assert_eq!(clients.len(), 1);
    let cl = &clients[0];
    assert_eq!(cl.keys(), client_keys(false));
    assert_eq!(cl["client_id"].str(), "cid");
    assert_eq!(cl["hostname"].str(), "hst");
    assert_eq!(cl["version"].str(), "V2");
    assert_eq!(
        cl["remote_address"].str(),
        c.stream.local_addr().unwrap().to_string()
    );
    assert_eq!(cl["state"].u64(), 3);
    assert_eq!(cl["ready_count"].u64(), 2);
    assert_eq!(cl["in_flight_count"].u64(), 2);
    assert_eq!(cl["message_count"].u64(), 3);
    assert_eq!(cl["finish_count"].u64(), 1);
    assert_eq!(cl["requeue_count"].u64(), 0);
    let ts = cl["connect_ts"].num() as i64;
    assert!(
        (before..=after).contains(&ts),
        "{ts} not in {before}..={after}"
    );
    assert_eq!(cl["sample_rate"].u64(), 0);
    assert!(!cl["deflate"].bool());
    assert!(!cl["snappy"].bool());
    assert_eq!(cl["user_agent"].str(), "ua/1.0");
    assert_eq!(cl["topology_zone"].str(), "");
    assert_eq!(cl["topology_region"].str(), "");
    assert!(!cl["tls"].bool());
    assert_eq!(cl["tls_cipher_suite"].str(), "");
    assert_eq!(cl["tls_version"].str(), "");
    assert_eq!(cl["tls_negotiated_protocol"].str(), "");
    assert!(!cl["tls_negotiated_protocol_is_mutual"].bool());

    let producers = s["producers"].arr();
    assert_eq!(producers.len(), 1, "{producers:?}");
    let pr = &producers[0];
    assert_eq!(pr.keys(), client_keys(true));
    assert_eq!(
        pr["remote_address"].str(),
        p.stream.local_addr().unwrap().to_string()
    );
    assert_eq!(pr["version"].str(), "V2");
    assert_eq!(pr["state"].u64(), 0);
    let pc = pr["pub_counts"].arr();
    assert_eq!(pc.len(), 1);
    assert_eq!(pc[0].keys(), ["topic", "count"]);
    assert_eq!(pc[0]["topic"].str(), "st");
    assert_eq!(pc[0]["count"].u64(), 4);
    // A default IDENTIFY-less client is named by its IP.
    assert_eq!(pr["client_id"].str(), "127.0.0.1");
    assert_eq!(pr["hostname"].str(), "127.0.0.1");
}

#[test]
fn stats_filters_and_nulls() {
    let n = Nsqd::start(&[]);
    for t in ["fa", "fb", "fc"] {
        assert_ok_empty(&post(&n, &format!("/topic/create?topic={t}"), b""));
    }
    for (t, c) in [("fa", "c2"), ("fa", "c1"), ("fb", "c1")] {
        assert_ok_empty(&post(
            &n,
            &format!("/channel/create?topic={t}&channel={c}"),
            b"",
        ));
    }
    // HTTP publishes make no producers: `null`, not `[]`.
    assert_ok_text(&post(&n, "/pub?topic=fa", b"m"));
    let s = stats(&n, "");
    assert!(s["producers"].is_null(), "{s:?}");
    assert_eq!(topic_names(&s), ["fa", "fb", "fc"]);
    assert_eq!(channel_names(topic(&s, "fa").unwrap()), ["c1", "c2"]);
    // No channels: `[]`, not null; no clients: `[]`.
    assert_eq!(topic(&s, "fc").unwrap()["channels"], J::Arr(vec![]));
    assert_eq!(channel(&s, "fb", "c1").unwrap()["clients"], J::Arr(vec![]));
    // A published message shows in both depths and counts.
    let fa = topic(&s, "fa").unwrap();
    assert_eq!((fa["depth"].u64(), fa["message_count"].u64()), (0, 1));
    for c in ["c1", "c2"] {
        let ch = channel(&s, "fa", c).unwrap();
        assert_eq!(
            (ch["depth"].u64(), ch["message_count"].u64()),
            (1, 1),
            "{c}"
        );
    }

    let s = stats(&n, "topic=fa");
    assert_eq!(topic_names(&s), ["fa"]);
    assert_eq!(channel_names(topic(&s, "fa").unwrap()), ["c1", "c2"]);
    let s = stats(&n, "topic=fa&channel=c2");
    assert_eq!(topic_names(&s), ["fa"]);
    assert_eq!(channel_names(topic(&s, "fa").unwrap()), ["c2"]);
    let s = stats(&n, "channel=c2");
    assert_eq!(
        topic_names(&s),
        ["fa"],
        "topics lacking the channel are omitted"
    );
    let s = stats(&n, "channel=c1");
    assert_eq!(topic_names(&s), ["fa", "fb"]);
    assert_eq!(channel_names(topic(&s, "fb").unwrap()), ["c1"]);
    let s = stats(&n, "channel=nope");
    assert_eq!(s["topics"], J::Arr(vec![]));
    let s = stats(&n, "topic=nope");
    assert!(s["topics"].is_null(), "{s:?}");
    let raw = get(&n, "/stats?format=json&topic=nope").text();
    assert!(raw.contains("\"topics\":null"), "{raw}");

    // Clients and producers present, then nulled by include_clients=false.
    let mut p = n.client();
    p.publish("fb", b"tcp");
    let mut c = consumer(&n, NO_HB, "fa", "c1", 1);
    c.read_message();
    let s = wait_stats(&n, "client listed", |s| {
        channel(s, "fa", "c1").unwrap()["clients"].arr().len() == 1
    });
    assert_eq!(s["producers"].arr().len(), 1);
    let s = stats(&n, "topic=fb");
    let pc = s["producers"].arr()[0]["pub_counts"].arr();
    assert_eq!(pc[0]["topic"].str(), "fb");
    for q in ["include_clients=false", "include_clients=0"] {
        let s = stats(&n, q);
        assert!(s["producers"].is_null(), "{q}: {s:?}");
        for t in s["topics"].arr() {
            for ch in t["channels"].arr() {
                assert!(ch["clients"].is_null(), "{q}: {ch:?}");
            }
        }
        assert_eq!(channel(&s, "fa", "c1").unwrap()["client_count"].u64(), 1);
    }
    // Not a boolean: default (true).
    let s = stats(&n, "include_clients=maybe");
    assert_eq!(s["producers"].arr().len(), 1);

    for q in ["include_mem=false", "include_mem=0"] {
        let s = stats(&n, q);
        assert_eq!(
            s.keys(),
            [
                "version",
                "health",
                "start_time",
                "topics",
                "producers",
                "lookupd_peers"
            ],
            "{q}"
        );
    }
    let s = stats(&n, "include_mem=true");
    assert_eq!(s.keys(), TOP_KEYS);
    assert_err(
        &get(&n, "/stats?format=json&topic=%zz"),
        400,
        "INVALID_REQUEST",
    );
}

#[test]
fn stats_text_format() {
    let n = Nsqd::start(&[]);
    let r = get(&n, "/stats");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some(TEXT));
    assert_eq!(r.header("x-nsq-content-type"), Some(V1));
    let text = r.text();
    assert!(text.starts_with("nsqd v1.3.0"), "{text}");
    assert!(text.contains("\nHealth: OK\n"), "{text}");
    assert!(text.contains("Topics: None"), "{text}");
    assert!(text.contains("Producers: None"), "{text}");

    let mut p = n.client();
    p.publish("tx", b"hi");
    let mut c = consumer(&n, NO_HB, "tx", "cx", 1);
    c.read_message();
    assert_ok_empty(&post(&n, "/topic/create?topic=tp", b""));
    assert_ok_empty(&post(&n, "/topic/pause?topic=tp", b""));
    assert_ok_empty(&post(&n, "/channel/create?topic=tp&channel=cp", b""));
    assert_ok_empty(&post(&n, "/channel/pause?topic=tp&channel=cp", b""));
    wait_stats(&n, "in flight", |s| {
        chan_counts(s, "tx", "cx") == Some((0, 1, 0))
    });
    for q in ["/stats", "/stats?format=text", "/stats?format=xml"] {
        let r = get(&n, q);
        assert_eq!(r.header("content-type"), Some(TEXT), "{q}");
        let text = r.text();
        let lines: Vec<&str> = text.lines().collect();
        let has = |prefix: &str| lines.iter().any(|l| l.starts_with(prefix));
        assert!(has("start_time "), "{text}");
        assert!(has("uptime "), "{text}");
        assert!(text.contains("\nMemory:\n"), "{text}");
        assert!(
            has(&format!(
                "   [{:<15}] depth: 0     be-depth: 0     msgs: 1        e2e%: ",
                "tx"
            )),
            "{text}"
        );
        assert!(
            has(&format!(
                "      [{:<25}] depth: 0     be-depth: 0     inflt: 1    def: 0    re-q: 0     timeout: 0     msgs: 1        e2e%: ",
                "cx"
            )),
            "{text}"
        );
        assert!(has(&format!("*P [{:<15}] depth: ", "tp")), "{text}");
        assert!(has(&format!("   *P [{:<25}] depth: ", "cp")), "{text}");
        assert!(
            lines.iter().any(|l| l.starts_with("        [V2 ")
                && l.contains("] state: 3 inflt: 1    rdy: 1    fin: 0 ")),
            "{text}"
        );
        assert!(text.contains("\nProducers:\n"), "{text}");
        assert!(
            lines.iter().any(|l| l.starts_with("   [V2 ")
                && l.contains("] msgs: 1        topics: tx=1 connected: ")),
            "{text}"
        );
        assert!(
            text.find("[tp").unwrap() < text.find("[tx").unwrap(),
            "topics sorted by name"
        );
    }
    let text = get(&n, "/stats?include_mem=false").text();
    assert!(!text.contains("Memory:"), "{text}");
}

#[test]
fn stats_e2e_percentiles() {
    let n = Nsqd::start(&[
        "--e2e-processing-latency-percentile=0.99",
        "--e2e-processing-latency-percentile=0.5",
    ]);
    let mut c = consumer(&n, NO_HB, "e2e", "c", 10);
    for i in 0..5 {
        assert_ok_text(&post(&n, "/pub?topic=e2e", format!("m{i}").as_bytes()));
    }
    for _ in 0..5 {
        let m = c.read_message();
        // Not synchronisation: holding each message ≥ 2 ms makes every latency > 0.
        std::thread::sleep(ms(2));
        c.fin(&m.id);
    }
    let s = wait_stats(&n, "5 latencies", |s| {
        channel(s, "e2e", "c").unwrap()["e2e_processing_latency"]["count"].u64() == 5
    });
    let check = |e: &J, what: &str| {
        assert_eq!(e.keys(), ["count", "percentiles"], "{what}");
        assert_eq!(e["count"].u64(), 5, "{what}");
        let p = e["percentiles"].arr();
        assert_eq!(p.len(), 2, "{what}: {e:?}");
        for q in p {
            assert_eq!(q.keys(), ["quantile", "value"], "{what}");
            assert!(q["value"].num() > 0.0, "{what}: {e:?}");
        }
        assert_eq!(p[0]["quantile"].num(), 0.99, "{what}: sorted descending");
        assert_eq!(p[1]["quantile"].num(), 0.5, "{what}");
        assert!(p[0]["value"].num() >= p[1]["value"].num(), "{what}: {e:?}");
    };
    check(
        &channel(&s, "e2e", "c").unwrap()["e2e_processing_latency"],
        "channel",
    );
    check(
        &topic(&s, "e2e").unwrap()["e2e_processing_latency"],
        "topic",
    );
}

// ---------------------------------------------------------------------------------
// Topic and channel actions

const TOPIC_ACTIONS: &[&str] = &["create", "delete", "empty", "pause", "unpause"];

#[test]
fn topic_actions_status_codes() {
    let n = Nsqd::start(&[]);
    for a in TOPIC_ACTIONS {
        assert_err(
            &post(&n, &format!("/topic/{a}"), b""),
            400,
            "MISSING_ARG_TOPIC",
        );
        assert_err(
            &post(&n, &format!("/topic/{a}?channel=x"), b""),
            400,
            "MISSING_ARG_TOPIC",
        );
    }
    // Validated names: create and empty; the others just look the name up.
    assert_err(
        &post(&n, "/topic/create?topic=bad!n", b""),
        400,
        "INVALID_TOPIC",
    );
    assert_err(
        &post(&n, "/topic/empty?topic=bad!n", b""),
        400,
        "INVALID_TOPIC",
    );
    for a in ["delete", "pause", "unpause"] {
        assert_err(
            &post(&n, &format!("/topic/{a}?topic=bad!n"), b""),
            404,
            "TOPIC_NOT_FOUND",
        );
    }
    for a in ["delete", "empty", "pause", "unpause"] {
        assert_err(
            &post(&n, &format!("/topic/{a}?topic=nope"), b""),
            404,
            "TOPIC_NOT_FOUND",
        );
    }

    assert_ok_empty(&post(&n, "/topic/create?topic=t1", b""));
    assert_ok_empty(&post(&n, "/topic/create?topic=t1", b""));
    assert_ok_empty(&post(&n, "/topic/create?topic=t2%23ephemeral", b""));
    let s = stats(&n, "");
    assert_eq!(topic_names(&s), ["t1", "t2#ephemeral"]);
    assert!(!topic(&s, "t1").unwrap()["paused"].bool());
    assert_ok_empty(&post(&n, "/topic/pause?topic=t1", b""));
    assert!(topic(&stats(&n, ""), "t1").unwrap()["paused"].bool());
    assert_ok_empty(&post(&n, "/topic/pause?topic=t1", b""));
    assert_ok_empty(&post(&n, "/topic/unpause?topic=t1", b""));
    assert!(!topic(&stats(&n, ""), "t1").unwrap()["paused"].bool());
    assert_ok_empty(&post(&n, "/topic/empty?topic=t1", b""));
    assert_ok_empty(&post(&n, "/topic/delete?topic=t1", b""));
    assert_eq!(topic_names(&stats(&n, "")), ["t2#ephemeral"]);
    assert_err(
        &post(&n, "/topic/delete?topic=t1", b""),
        404,
        "TOPIC_NOT_FOUND",
    );
}

const CHANNEL_ACTIONS: &[&str] = &["create", "delete", "empty", "pause", "unpause"];

#[test]
fn channel_actions_status_codes() {
    let n = Nsqd::start(&[]);
    for a in CHANNEL_ACTIONS {
        let p = |q: &str| post(&n, &format!("/channel/{a}{q}"), b"");
        assert_err(&p(""), 400, "MISSING_ARG_TOPIC");
        assert_err(&p("?channel=c"), 400, "MISSING_ARG_TOPIC");
        assert_err(&p("?topic=bad!t&channel=c"), 400, "INVALID_ARG_TOPIC");
        assert_err(&p("?topic=bad!t"), 400, "INVALID_ARG_TOPIC");
        assert_err(&p("?topic=t"), 400, "MISSING_ARG_CHANNEL");
        assert_err(&p("?topic=t&channel=bad!c"), 400, "INVALID_ARG_CHANNEL");
        assert_err(&p("?topic=t&channel="), 400, "INVALID_ARG_CHANNEL");
        // The topic must exist, even to create a channel.
        assert_err(&p("?topic=t&channel=c"), 404, "TOPIC_NOT_FOUND");
    }
    assert!(stats(&n, "")["topics"].arr().is_empty(), "nothing created");
    assert_ok_empty(&post(&n, "/topic/create?topic=t", b""));
    for a in ["delete", "empty", "pause", "unpause"] {
        assert_err(
            &post(&n, &format!("/channel/{a}?topic=t&channel=c"), b""),
            404,
            "CHANNEL_NOT_FOUND",
        );
    }
    assert_ok_empty(&post(&n, "/channel/create?topic=t&channel=c", b""));
    assert_ok_empty(&post(&n, "/channel/create?topic=t&channel=c", b""));
    assert_ok_empty(&post(
        &n,
        "/channel/create?topic=t&channel=e%23ephemeral",
        b"",
    ));
    let s = stats(&n, "");
    assert_eq!(channel_names(topic(&s, "t").unwrap()), ["c", "e#ephemeral"]);
    assert!(!channel(&s, "t", "c").unwrap()["paused"].bool());
    assert_ok_empty(&post(&n, "/channel/pause?topic=t&channel=c", b""));
    assert!(channel(&stats(&n, ""), "t", "c").unwrap()["paused"].bool());
    assert_ok_empty(&post(&n, "/channel/unpause?topic=t&channel=c", b""));
    assert!(!channel(&stats(&n, ""), "t", "c").unwrap()["paused"].bool());
    assert_ok_empty(&post(&n, "/channel/empty?topic=t&channel=c", b""));
    assert_ok_empty(&post(&n, "/channel/delete?topic=t&channel=c", b""));
    let s = stats(&n, "");
    assert_eq!(channel_names(topic(&s, "t").unwrap()), ["e#ephemeral"]);
    assert_err(
        &post(&n, "/channel/delete?topic=t&channel=c", b""),
        404,
        "CHANNEL_NOT_FOUND",
    );
}

#[test]
fn paused_channel_delivers_nothing_until_unpaused() {
    let n = Nsqd::start(&[]);
    let mut c = consumer(&n, NO_HB, "pc", "c", 1);
    let mut other = consumer(&n, NO_HB, "pc", "other", 1);
    wait_stats(&n, "two subscribed", |s| {
        channel(s, "pc", "c").is_some_and(|ch| ch["client_count"].u64() == 1)
            && channel(s, "pc", "other").is_some_and(|ch| ch["client_count"].u64() == 1)
    });
    assert_ok_empty(&post(&n, "/channel/pause?topic=pc&channel=c", b""));
    assert_ok_text(&post(&n, "/pub?topic=pc", b"held"));
    // The other channel is not paused.
    expect_message(&mut other, b"held", "unpaused channel");
    expect_no_message(&mut c, "paused channel");
    let s = stats(&n, "");
    assert_eq!(chan_counts(&s, "pc", "c"), Some((1, 0, 0)));
    assert!(channel(&s, "pc", "c").unwrap()["paused"].bool());
    // Publishing keeps filling the paused channel.
    assert_ok_text(&post(&n, "/pub?topic=pc", b"held2"));
    expect_no_message(&mut c, "still paused");
    wait_stats(&n, "depth 2", |s| {
        chan_counts(s, "pc", "c") == Some((2, 0, 0))
    });
    assert_ok_empty(&post(&n, "/channel/unpause?topic=pc&channel=c", b""));
    // RDY 1: one at a time, in publish order.
    let m = expect_message(&mut c, b"held", "delivered after unpause");
    c.fin(&m.id);
    expect_message(&mut c, b"held2", "second after unpause");
}

#[test]
fn paused_topic_holds_messages_until_unpaused() {
    let n = Nsqd::start(&[]);
    let mut c = consumer(&n, NO_HB, "pt", "c", 5);
    wait_stats(&n, "subscribed", |s| {
        channel(s, "pt", "c").is_some_and(|ch| ch["client_count"].u64() == 1)
    });
    assert_ok_empty(&post(&n, "/topic/pause?topic=pt", b""));
    assert_ok_text(&post(&n, "/pub?topic=pt", b"a"));
    assert_ok_text(&post(&n, "/mpub?topic=pt", b"b\nc"));
    expect_no_message(&mut c, "paused topic");
    let s = stats(&n, "");
    let t = topic(&s, "pt").unwrap();
    assert!(t["paused"].bool());
    assert_eq!((t["depth"].u64(), t["message_count"].u64()), (3, 3));
    let ch = channel(&s, "pt", "c").unwrap();
    assert_eq!((ch["depth"].u64(), ch["message_count"].u64()), (0, 0));
    assert_ok_empty(&post(&n, "/topic/unpause?topic=pt", b""));
    let mut got: Vec<Vec<u8>> = (0..3).map(|_| c.read_message().body).collect();
    got.sort();
    assert_eq!(got, [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    let s = stats(&n, "");
    assert_eq!(topic(&s, "pt").unwrap()["depth"].u64(), 0);
    assert_eq!(chan_counts(&s, "pt", "c"), Some((0, 3, 0)));
}

#[test]
fn channel_empty_drops_queue_deferred_and_in_flight() {
    let n = Nsqd::start(&[]);
    let mut c = consumer(&n, NO_HB, "ce", "c", 1);
    assert_ok_text(&post(&n, "/mpub?topic=ce", b"a\nb\nc"));
    assert_ok_text(&post(&n, "/pub?topic=ce&defer=60000", b"d"));
    let m = c.read_message();
    wait_stats(&n, "2 queued, 1 in flight, 1 deferred", |s| {
        chan_counts(s, "ce", "c") == Some((2, 1, 1))
    });
    assert_ok_empty(&post(&n, "/channel/empty?topic=ce&channel=c", b""));
    let s = stats(&n, "");
    assert_eq!(chan_counts(&s, "ce", "c"), Some((0, 0, 0)));
    let cl = &channel(&s, "ce", "c").unwrap()["clients"].arr()[0];
    assert_eq!(cl["in_flight_count"].u64(), 0);
    // The topic's message count is untouched.
    assert_eq!(topic(&s, "ce").unwrap()["message_count"].u64(), 4);
    // A late FIN fails, non-fatally.
    c.fin(&m.id);
    let f = c.next_frame();
    assert_eq!(f.frame_type, 1, "{}", f.text());
    assert!(f.text().starts_with("E_FIN_FAILED"), "{}", f.text());
    // The next message is the one published now: nothing emptied came back first.
    assert_ok_text(&post(&n, "/pub?topic=ce", b"after"));
    expect_message(&mut c, b"after", "consumer still works");
}

#[test]
fn topic_empty_drops_only_the_topic_queue() {
    let n = Nsqd::start(&[]);
    assert_ok_empty(&post(&n, "/topic/create?topic=te", b""));
    assert_ok_empty(&post(&n, "/channel/create?topic=te&channel=c", b""));
    assert_ok_text(&post(&n, "/mpub?topic=te", b"1\n2"));
    wait_stats(&n, "channel has 2", |s| {
        chan_counts(s, "te", "c") == Some((2, 0, 0))
    });
    assert_ok_empty(&post(&n, "/topic/pause?topic=te", b""));
    assert_ok_text(&post(&n, "/mpub?topic=te", b"3\n4\n5"));
    let s = stats(&n, "");
    assert_eq!(topic(&s, "te").unwrap()["depth"].u64(), 3);
    assert_ok_empty(&post(&n, "/topic/empty?topic=te", b""));
    let s = stats(&n, "");
    assert_eq!(topic(&s, "te").unwrap()["depth"].u64(), 0);
    assert_eq!(chan_counts(&s, "te", "c"), Some((2, 0, 0)));
    assert_ok_empty(&post(&n, "/topic/unpause?topic=te", b""));
    // A marker goes through the topic behind anything it still held: once the topic
    // is empty again, the channel has what it had, plus the marker.
    assert_ok_text(&post(&n, "/pub?topic=te", b"marker"));
    let s = wait_stats(&n, "the marker handed over", |s| {
        topic(s, "te").unwrap()["depth"].u64() == 0
    });
    assert_eq!(
        chan_counts(&s, "te", "c"),
        Some((3, 0, 0)),
        "nothing left to hand over"
    );

    // A topic without channels keeps everything itself.
    assert_ok_text(&post(&n, "/mpub?topic=solo", b"x\ny"));
    assert_eq!(topic(&stats(&n, ""), "solo").unwrap()["depth"].u64(), 2);
    assert_ok_empty(&post(&n, "/topic/empty?topic=solo", b""));
    assert_eq!(topic(&stats(&n, ""), "solo").unwrap()["depth"].u64(), 0);
    let mut c = consumer(&n, NO_HB, "solo", "c", 5);
    // The first message is one published after the SUB: nothing emptied came first.
    assert_ok_text(&post(&n, "/pub?topic=solo", b"marker"));
    expect_message(&mut c, b"marker", "emptied topic");
}

#[test]
fn channel_delete_disconnects_its_consumers() {
    let n = Nsqd::start(&[]);
    let mut c = consumer(&n, NO_HB, "cd", "gone", 1);
    let mut keep = consumer(&n, NO_HB, "cd", "kept", 1);
    wait_stats(&n, "both subscribed", |s| {
        channel(s, "cd", "gone").is_some() && channel(s, "cd", "kept").is_some()
    });
    assert_ok_empty(&post(&n, "/channel/delete?topic=cd&channel=gone", b""));
    c.expect_closed();
    let s = stats(&n, "");
    assert_eq!(channel_names(topic(&s, "cd").unwrap()), ["kept"]);
    assert_ok_text(&post(&n, "/pub?topic=cd", b"still"));
    expect_message(&mut keep, b"still", "other channel unaffected");
}

#[test]
fn topic_delete_removes_it_and_its_consumers() {
    let n = Nsqd::start(&[]);
    let mut c = consumer(&n, NO_HB, "td", "c", 1);
    assert_ok_text(&post(&n, "/pub?topic=keep", b"x"));
    wait_stats(&n, "subscribed", |s| channel(s, "td", "c").is_some());
    assert_ok_empty(&post(&n, "/topic/delete?topic=td", b""));
    c.expect_closed();
    let s = stats(&n, "");
    assert_eq!(topic_names(&s), ["keep"]);
    assert!(stats(&n, "topic=td")["topics"].is_null());
}

// ---------------------------------------------------------------------------------
// /config

#[test]
fn config_get_and_put() {
    let n = Nsqd::start(&[]);
    let r = get(&n, "/config/tcp_address");
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "127.0.0.1:0"),
        "{}",
        describe(&r)
    );
    assert_eq!(r.header("content-type"), Some(TEXT));
    assert_eq!(r.header("x-nsq-content-type"), Some(V1));
    let json = |target: &str| {
        let r = get(&n, target);
        assert_ok_json(&r);
        r.text()
    };
    assert_eq!(json("/config/msg_timeout"), "60000000000");
    assert_eq!(json("/config/mem_queue_size"), "10000");
    assert_eq!(json("/config/nsqlookupd_tcp_addresses"), "[]");
    assert_eq!(json("/config/log_level"), "2");
    assert_err(&get(&n, "/config/nope"), 400, "INVALID_OPTION");

    let r = put(&n, "/config/log_level", b"debug");
    assert_ok_json(&r);
    assert_eq!(r.text(), "1");
    assert_eq!(json("/config/log_level"), "1");
    let r = put(&n, "/config/log_level", b"WARN");
    assert_ok_json(&r);
    assert_eq!(r.text(), "3");
    let r = put(
        &n,
        "/config/nsqlookupd_tcp_addresses",
        br#"["127.0.0.1:1"]"#,
    );
    assert_ok_json(&r);
    assert_eq!(r.text(), r#"["127.0.0.1:1"]"#);
    assert_eq!(
        json("/config/nsqlookupd_tcp_addresses"),
        r#"["127.0.0.1:1"]"#
    );
    let r = put(&n, "/config/nsqlookupd_tcp_addresses", b"[]");
    assert_eq!(r.text(), "[]");

    assert_err(&put(&n, "/config/log_level", b"loud"), 400, "INVALID_VALUE");
    assert_err(
        &put(&n, "/config/nsqlookupd_tcp_addresses", b"{"),
        400,
        "INVALID_VALUE",
    );
    assert_err(
        &put(&n, "/config/mem_queue_size", b"5"),
        400,
        "INVALID_OPTION",
    );
    assert_err(&put(&n, "/config/nope", b"5"), 400, "INVALID_OPTION");
    assert_err(&put(&n, "/config/log_level", b""), 413, "INVALID_VALUE");
    assert_err(
        &put(&n, "/config/mem_queue_size", b""),
        413,
        "INVALID_VALUE",
    );
    assert_eq!(json("/config/log_level"), "3", "failed PUTs change nothing");
}

#[test]
fn config_put_body_limit_is_max_msg_size() {
    let n = Nsqd::start(&["--max-msg-size=20"]);
    assert_err(
        &put(&n, "/config/log_level", &[b'a'; 21]),
        413,
        "INVALID_VALUE",
    );
    let r = put(&n, "/config/log_level", b"error");
    assert_eq!(r.text(), "4");
}

// ---------------------------------------------------------------------------------
// /metrics

/// Parses Prometheus text: checks every line's syntax; returns `name{labels}` → value.
fn parse_prometheus(text: &str) -> HashMap<String, f64> {
    let is_name = |s: &str| {
        !s.is_empty()
            && s.chars().enumerate().all(|(i, c)| {
                c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
            })
    };
    let mut typed: HashSet<String> = HashSet::new();
    let mut helped: HashSet<String> = HashSet::new();
    let mut out = HashMap::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            assert!(is_name(name), "HELP line: {line:?}");
            assert!(!help.trim().is_empty(), "empty HELP: {line:?}");
            assert!(helped.insert(name.to_string()), "HELP twice: {line:?}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE line");
            assert!(is_name(name), "TYPE line: {line:?}");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "TYPE line: {line:?}"
            );
            assert!(typed.insert(name.to_string()), "TYPE twice: {line:?}");
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (key, value) = line.rsplit_once(' ').expect("sample line");
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line:?}"));
        let name = match key.split_once('{') {
            Some((name, labels)) => {
                let labels = labels.strip_suffix('}').expect("closing brace");
                // k="v" pairs; values may contain escaped quotes.
                let mut rest = labels;
                while !rest.is_empty() {
                    let (k, v) = rest.split_once("=\"").expect("label");
                    assert!(is_name(k), "label name in {line:?}");
                    let mut end = None;
                    let mut escaped = false;
                    for (i, ch) in v.char_indices() {
                        match ch {
                            '\\' if !escaped => escaped = true,
                            '"' if !escaped => {
                                end = Some(i);
                                break;
                            }
                            _ => escaped = false,
                        }
                    }
                    let end = end.unwrap_or_else(|| panic!("unterminated label in {line:?}"));
                    rest = &v[end + 1..];
                    rest = rest.strip_prefix(',').unwrap_or(rest);
                }
                name
            }
            None => key,
        };
        assert!(is_name(name), "metric name in {line:?}");
        assert!(typed.contains(name), "sample before its TYPE: {line:?}");
        assert!(
            out.insert(key.to_string(), value).is_none(),
            "duplicate {key}"
        );
    }
    out
}

#[test]
fn metrics_match_stats() {
    let n = Nsqd::start(&[]);
    let mut c = consumer(&n, NO_HB, "ma", "mc", 1);
    assert_ok_text(&post(&n, "/mpub?topic=ma", b"1\n2\n3"));
    c.read_message();
    assert_ok_empty(&post(&n, "/channel/create?topic=ma&channel=idle", b""));
    assert_ok_empty(&post(&n, "/topic/create?topic=mb", b""));
    assert_ok_empty(&post(&n, "/topic/pause?topic=mb", b""));
    assert_ok_text(&post(&n, "/mpub?topic=mb", b"x\ny"));
    let s = wait_stats(&n, "2 queued 1 in flight", |s| {
        chan_counts(s, "ma", "mc") == Some((2, 1, 0))
    });

    let r = get(&n, "/metrics");
    assert_eq!(r.status, 200, "{}", describe(&r));
    assert!(
        r.header("content-type")
            .is_some_and(|v| v.starts_with("text/plain")),
        "{}",
        describe(&r)
    );
    let m = parse_prometheus(&r.text());
    let mut checked = 0;
    for t in s["topics"].arr() {
        let name = t["topic_name"].str();
        let l = format!("{{topic=\"{name}\"}}");
        for (metric, key) in [
            ("nsq_topic_depth", "depth"),
            ("nsq_topic_message_count", "message_count"),
        ] {
            let k = format!("{metric}{l}");
            assert_eq!(m.get(&k).copied(), Some(t[key].num()), "{k}");
            checked += 1;
        }
        for ch in t["channels"].arr() {
            let l = format!(
                "{{topic=\"{name}\",channel=\"{}\"}}",
                ch["channel_name"].str()
            );
            for (metric, key) in [
                ("nsq_channel_depth", "depth"),
                ("nsq_channel_in_flight_count", "in_flight_count"),
            ] {
                let k = format!("{metric}{l}");
                assert_eq!(m.get(&k).copied(), Some(ch[key].num()), "{k}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 2 * 2 + 2 * 2);
    assert_eq!(m["nsq_topic_depth{topic=\"mb\"}"], 2.0);
    assert_eq!(m["nsq_topic_message_count{topic=\"ma\"}"], 3.0);
    assert_eq!(m["nsq_channel_depth{topic=\"ma\",channel=\"mc\"}"], 2.0);
    assert_eq!(
        m["nsq_channel_in_flight_count{topic=\"ma\",channel=\"mc\"}"],
        1.0
    );
    assert_eq!(m["nsq_channel_depth{topic=\"ma\",channel=\"idle\"}"], 0.0);
}
