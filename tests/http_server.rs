//! Black-box robustness tests of nsqd's HTTP server (NSQ-PROTOCOL.md §3.1): router
//! answers (404, 405 + `Allow`, `OPTIONS`, trailing-slash redirects), body limits with
//! `Content-Length` and chunked bodies, malformed chunking, `Expect: 100-continue`, the
//! request deadline against slow clients, long pipelined keep-alive connections, garbage
//! and oversize requests, concurrency, and idle keep-alive connections that must not
//! starve new clients. Every test ends by checking nsqd still answers `/ping` and a TCP
//! `PUB`.
mod common;

use common::{parse_http_response, HttpResponse, Nsqd, WAIT};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const V1: &str = "nsq; version=1.0";
const JSON: &str = "application/json; charset=utf-8";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The length of the first response in `buf` once all of it (by Content-Length) is there.
fn complete_len(buf: &[u8]) -> Option<usize> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(Some(0), |v| v.trim().parse().ok())?;
    (buf.len() >= end + len).then_some(end + len)
}

/// A client connection that reads responses one at a time (keep-alive, pipelining).
struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn open(addr: SocketAddr) -> Conn {
        let s = TcpStream::connect(addr).expect("connect http");
        s.set_read_timeout(Some(WAIT)).unwrap();
        s.set_nodelay(true).unwrap();
        Conn { s, buf: Vec::new() }
    }

    /// Writes raw bytes; errors (the server may have closed) are returned, not fatal.
    fn send(&mut self, raw: &[u8]) -> std::io::Result<()> {
        self.s.write_all(raw)
    }

    /// Reads more bytes into the buffer: `Ok(false)` at EOF.
    fn fill(&mut self) -> Result<bool, String> {
        let mut chunk = [0u8; 65536];
        loop {
            return match self.s.read(&mut chunk) {
                Ok(0) => Ok(false),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    Ok(true)
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    Err("timeout".into())
                }
                Err(e) => Err(format!("error: {e}")),
            };
        }
    }

    /// The next whole response; `Err` if the connection closed or timed out first.
    fn read_response(&mut self) -> Result<HttpResponse, String> {
        loop {
            if let Some(len) = complete_len(&self.buf) {
                let resp = parse_http_response(&self.buf[..len]).expect("parse response");
                self.buf.drain(..len);
                return Ok(resp);
            }
            match self.fill() {
                Ok(true) => {}
                Ok(false) => {
                    return Err(format!(
                        "closed after {:?}",
                        String::from_utf8_lossy(&self.buf)
                    ))
                }
                Err(e) => {
                    return Err(format!(
                        "{e} after {:?}",
                        String::from_utf8_lossy(&self.buf)
                    ))
                }
            }
        }
    }

    /// The next response head only (e.g. an interim `100 Continue`), as text.
    fn read_head(&mut self) -> Result<String, String> {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end + 4]).into_owned();
                self.buf.drain(..end + 4);
                return Ok(head);
            }
            if !self.fill()? {
                return Err("closed".into());
            }
        }
    }
}

/// Sends `raw` on a fresh connection and reads one response.
fn exchange(addr: SocketAddr, raw: &[u8]) -> Result<HttpResponse, String> {
    let mut c = Conn::open(addr);
    let _ = c.send(raw);
    c.read_response()
}

fn req(method: &str, target: &str, body: &[u8]) -> Vec<u8> {
    let mut raw = format!(
        "{method} {target} HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(body);
    raw
}

fn describe(r: &HttpResponse) -> String {
    format!("{} {:?} {:?}", r.status, r.headers, r.text())
}

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

fn assert_ok(r: &HttpResponse) {
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "OK"),
        "{}",
        describe(r)
    );
}

/// nsqd still serves HTTP and TCP.
fn assert_alive(n: &Nsqd) {
    let r = common::http(n.http, "GET", "/ping", b"");
    assert_ok(&r);
    let mut c = n.client();
    c.publish("alive", b"still here");
}

/// A topic's `message_count` from `/stats?format=json`, `None` if it does not exist.
fn message_count(n: &Nsqd, topic: &str) -> Option<u64> {
    let r = common::http(
        n.http,
        "GET",
        &format!("/stats?format=json&topic={topic}"),
        b"",
    );
    let v = r.json();
    v["topics"]
        .as_array()?
        .iter()
        .find(|t| t["topic_name"] == topic)
        .map(|t| t["message_count"].as_u64().unwrap())
}

// ---------------------------------------------------------------------------------

#[test]
fn router_not_found_method_not_allowed_options_and_redirects() {
    let n = Nsqd::start(&[]);
    for (method, target) in [
        ("GET", "/nope"),
        ("POST", "/nope"),
        ("GET", "/"),
        ("GET", "/topic"),
        ("GET", "/topic/create/extra"),
        ("GET", "/put"),
        ("POST", "/create_topic?topic=x"),
        ("GET", "/config"),
    ] {
        let r = exchange(n.http, &req(method, target, b"")).unwrap();
        assert_err(&r, 404, "NOT_FOUND");
    }
    for (method, target, allow) in [
        ("GET", "/pub?topic=x", "OPTIONS, POST"),
        ("PUT", "/mpub", "OPTIONS, POST"),
        ("POST", "/ping", "GET, OPTIONS"),
        ("DELETE", "/stats", "GET, OPTIONS"),
        ("GET", "/topic/create?topic=x", "OPTIONS, POST"),
        ("GET", "/channel/delete", "OPTIONS, POST"),
        ("POST", "/config/log_level", "GET, OPTIONS, PUT"),
    ] {
        let r = exchange(n.http, &req(method, target, b"")).unwrap();
        assert_err(&r, 405, "METHOD_NOT_ALLOWED");
        assert_eq!(r.header("allow"), Some(allow), "{method} {target}");
    }
    for (target, allow) in [
        ("/pub", "OPTIONS, POST"),
        ("/ping", "GET, OPTIONS"),
        ("/config/log_level", "GET, OPTIONS, PUT"),
    ] {
        let r = exchange(n.http, &req("OPTIONS", target, b"")).unwrap();
        assert_eq!(r.status, 200, "{}", describe(&r));
        assert!(r.body.is_empty(), "{}", describe(&r));
        assert_eq!(r.header("allow"), Some(allow), "{target}");
    }
    // Nothing was created by the refused requests.
    assert_eq!(message_count(&n, "x"), None);

    for (method, target, status, location) in [
        ("GET", "/ping/", 301, "/ping"),
        ("GET", "/stats/?format=json", 301, "/stats?format=json"),
        ("GET", "/config/log_level/", 301, "/config/log_level"),
        ("POST", "/pub/?topic=a", 307, "/pub?topic=a"),
    ] {
        let r = exchange(n.http, &req(method, target, b"")).unwrap();
        assert_eq!(r.status, status, "{method} {target}: {}", describe(&r));
        assert_eq!(r.header("location"), Some(location), "{method} {target}");
    }
    assert_eq!(message_count(&n, "a"), None, "a redirect publishes nothing");
    assert_alive(&n);
}

#[test]
fn content_length_over_the_limit_is_413() {
    let n = Nsqd::start(&["--max-msg-size=1000", "--max-body-size=2000"]);
    // Announced but never sent: answered from the head alone.
    for (target, len, msg) in [
        ("/pub?topic=big", 1001, "MSG_TOO_BIG"),
        ("/pub?topic=big", 50_000_000, "MSG_TOO_BIG"),
        ("/mpub?topic=big", 2001, "BODY_TOO_BIG"),
        ("/mpub?topic=big&binary=true", 50_000_000, "BODY_TOO_BIG"),
    ] {
        let head = format!("POST {target} HTTP/1.1\r\nHost: t\r\nContent-Length: {len}\r\n\r\n");
        let r = exchange(n.http, head.as_bytes()).unwrap();
        assert_err(&r, 413, msg);
    }
    let head = "PUT /config/log_level HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n";
    assert_err(
        &exchange(n.http, head.as_bytes()).unwrap(),
        413,
        "INVALID_VALUE",
    );
    // Sent in full.
    let r = exchange(n.http, &req("POST", "/pub?topic=big", &[b'x'; 1001])).unwrap();
    assert_err(&r, 413, "MSG_TOO_BIG");
    assert_eq!(message_count(&n, "big"), None);
    assert_alive(&n);
}

fn chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

const CHUNKED_PUB: &str =
    "POST /pub?topic=ck HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";

#[test]
fn chunked_body_growing_past_the_limit_is_413() {
    let n = Nsqd::start(&["--max-msg-size=1000", "--max-body-size=2000"]);
    for (head, size, msg) in [
        (CHUNKED_PUB.to_string(), 300, "MSG_TOO_BIG"),
        (CHUNKED_PUB.replace("/pub", "/mpub"), 600, "BODY_TOO_BIG"),
    ] {
        let mut c = Conn::open(n.http);
        c.send(head.as_bytes()).unwrap();
        // Three chunks fit; the fourth crosses the limit. No terminating chunk, so
        // only a server that checks the limit as chunks arrive can answer at all (one
        // that waited for the end would time the request out: 408, not 413).
        for _ in 0..3 {
            c.send(&chunk(&vec![b'a'; size])).unwrap();
            // Pacing only, so the chunks tend to arrive in separate reads; the answer
            // must be the same however the bytes are split.
            std::thread::sleep(ms(50));
        }
        let _ = c.send(&chunk(&vec![b'b'; size]));
        let r = c
            .read_response()
            .unwrap_or_else(|e| panic!("{msg}: no response: {e}"));
        assert_err(&r, 413, msg);
    }
    assert_eq!(message_count(&n, "ck"), None);
    assert_alive(&n);
}

#[test]
fn chunked_publish_works_and_keeps_the_connection() {
    let n = Nsqd::start(&[]);
    let mut c = Conn::open(n.http);
    c.send(CHUNKED_PUB.as_bytes()).unwrap();
    // The sleeps only pace the pieces so they tend to arrive in separate reads (a chunk
    // size line split from its data); the result must not depend on how they arrive.
    std::thread::sleep(ms(50));
    c.send(&chunk(b"hello")).unwrap();
    std::thread::sleep(ms(50));
    c.send(b"6;ext=1\r\n wor").unwrap();
    std::thread::sleep(ms(50));
    c.send(b"ld\r\n0\r\nX-Trailer: t\r\n\r\n").unwrap();
    let r = c.read_response().unwrap();
    assert_ok(&r);
    assert_eq!(r.header("x-nsq-content-type"), Some(V1));
    // The same connection goes on: a chunked /mpub then a plain request, pipelined.
    let mut raw =
        b"POST /mpub?topic=ck HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    raw.extend_from_slice(&chunk(b"one\ntw"));
    raw.extend_from_slice(&chunk(b"o\n"));
    raw.extend_from_slice(b"0\r\n\r\n");
    raw.extend_from_slice(&req("GET", "/ping", b""));
    c.send(&raw).unwrap();
    assert_ok(&c.read_response().unwrap());
    assert_ok(&c.read_response().unwrap());
    assert_eq!(message_count(&n, "ck"), Some(3));
    let mut sub = common::consumer(&n, r#"{"heartbeat_interval":60000}"#, "ck", "c", 3);
    let mut bodies: Vec<Vec<u8>> = (0..3).map(|_| sub.read_message().body).collect();
    bodies.sort();
    assert_eq!(
        bodies,
        [b"hello world".to_vec(), b"one".to_vec(), b"two".to_vec()]
    );
    assert_alive(&n);
}

#[test]
fn malformed_chunked_body_is_400() {
    let n = Nsqd::start(&[]);
    for body in [
        &b"zz\r\nhello\r\n0\r\n\r\n"[..],
        b"5\r\nhelloXY0\r\n\r\n",
        b"5\r\nhello0\r\n\r\n",
        b"-5\r\nhello\r\n0\r\n\r\n",
        b"\r\nhello\r\n0\r\n\r\n",
    ] {
        let mut raw = CHUNKED_PUB.as_bytes().to_vec();
        raw.extend_from_slice(body);
        let r = exchange(n.http, &raw)
            .unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(body)));
        assert_eq!(
            r.status,
            400,
            "{:?}: {}",
            String::from_utf8_lossy(body),
            describe(&r)
        );
    }
    assert_eq!(message_count(&n, "ck"), None);
    assert_alive(&n);
}

#[test]
fn expect_100_continue() {
    let n = Nsqd::start(&["--max-msg-size=1000"]);
    let mut c = Conn::open(n.http);
    c.send(
        b"POST /pub?topic=ex HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
    )
    .unwrap();
    let head = c.read_head().expect("interim response");
    assert!(
        head.starts_with("HTTP/1.1 100 Continue\r\n"),
        "expected 100 Continue, got {head:?}"
    );
    c.send(b"hello").unwrap();
    let r = c.read_response().unwrap();
    assert_ok(&r);
    assert_eq!(message_count(&n, "ex"), Some(1));

    // Too big: refused at once, without a 100.
    let mut c = Conn::open(n.http);
    c.send(
        b"POST /pub?topic=ex HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n",
    )
    .unwrap();
    let r = c.read_response().unwrap();
    assert_err(&r, 413, "MSG_TOO_BIG");
    assert_alive(&n);
}

#[test]
fn slow_header_client_is_cut_off() {
    let n = Nsqd::start(&[]);
    let mut c = Conn::open(n.http);
    // The read timeout paces the client: about a byte a second, never a whole head.
    c.s.set_read_timeout(Some(ms(1000))).unwrap();
    let prefix = b"GET /ping HTTP/1.1\r\nHost: t\r\nX-Slow: ";
    let t0 = Instant::now();
    // Only turns a server that never cuts the client off into a failure.
    let deadline = t0 + WAIT;
    let mut i = 0usize;
    let outcome = loop {
        assert!(
            Instant::now() < deadline,
            "slow client still connected after {WAIT:?}"
        );
        let byte = prefix.get(i).copied().unwrap_or(b'a');
        i += 1;
        let _ = c.send(&[byte]);
        if i == 3 {
            // Others are served meanwhile.
            assert_ok(&common::http(n.http, "GET", "/ping", b""));
        }
        match c.fill() {
            Ok(true) => break "answered",
            Ok(false) => break "closed",
            Err(e) if e == "timeout" => continue,
            Err(_) => break "closed",
        }
    };
    // A lower bound only: the first byte went out after t0.
    let elapsed = t0.elapsed();
    assert!(
        elapsed >= Duration::from_secs(5),
        "cut off too early ({elapsed:?}, {outcome})"
    );
    if outcome == "answered" {
        c.s.set_read_timeout(Some(WAIT)).unwrap();
        let r = c.read_response().expect("whole response");
        assert_eq!(r.status, 408, "{}", describe(&r));
    }
    assert_alive(&n);
}

#[test]
fn ten_thousand_requests_on_one_keep_alive_connection() {
    let n = Nsqd::start(&[]);
    let mut c = Conn::open(n.http);
    let mut published = 0;
    for batch in 0..100 {
        let mut raw = Vec::new();
        let mut expect_pub = Vec::new();
        for i in 0..100 {
            if i % 10 == 0 {
                raw.extend_from_slice(&req(
                    "POST",
                    "/pub?topic=pipe",
                    format!("m{batch}-{i}").as_bytes(),
                ));
                expect_pub.push(true);
            } else {
                raw.extend_from_slice(b"GET /ping HTTP/1.1\r\nHost: t\r\n\r\n");
                expect_pub.push(false);
            }
        }
        c.send(&raw).unwrap();
        for (i, is_pub) in expect_pub.into_iter().enumerate() {
            let r = c
                .read_response()
                .unwrap_or_else(|e| panic!("batch {batch} response {i}: {e}"));
            assert_ok(&r);
            assert_eq!(r.header("connection"), None, "keep-alive");
            assert_eq!(r.header("x-nsq-content-type").is_some(), is_pub);
            published += usize::from(is_pub);
        }
    }
    assert_eq!(published, 1000);
    assert_eq!(message_count(&n, "pipe"), Some(1000));
    assert!(c.buf.is_empty(), "extra bytes: {:?}", c.buf);
    assert_alive(&n);
}

#[test]
fn garbage_and_oversize_requests_get_4xx() {
    let n = Nsqd::start(&[]);
    let mut big_header = b"GET /ping HTTP/1.1\r\nHost: t\r\nX-Big: ".to_vec();
    big_header.extend_from_slice(&vec![b'a'; 70 * 1024]);
    big_header.extend_from_slice(b"\r\n\r\n");
    let mut many_headers = b"GET /ping HTTP/1.1\r\nHost: t\r\n".to_vec();
    for i in 0..80 {
        many_headers.extend_from_slice(format!("X-H{i}: {}\r\n", "v".repeat(1000)).as_bytes());
    }
    many_headers.extend_from_slice(b"\r\n");
    let mut long_url = b"GET /ping?x=".to_vec();
    long_url.extend_from_slice(&vec![b'u'; 70 * 1024]);
    long_url.extend_from_slice(b" HTTP/1.1\r\nHost: t\r\n\r\n");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("word", b"GARBAGE\r\n\r\n".to_vec()),
        ("binary", b"\x00\x01\x02\x03\xff\xfe\r\n\r\n".to_vec()),
        ("space in path", b"GET /pi ng HTTP/1.1\r\n\r\n".to_vec()),
        ("no protocol", b"GET /ping\r\nHost: t\r\n\r\n".to_vec()),
        (
            "bad header",
            b"GET /ping HTTP/1.1\r\nNo colon here\r\n\r\n".to_vec(),
        ),
        (
            "bad length",
            b"POST /pub?topic=g HTTP/1.1\r\nContent-Length: abc\r\n\r\n".to_vec(),
        ),
        (
            "negative length",
            b"POST /pub?topic=g HTTP/1.1\r\nContent-Length: -5\r\n\r\n".to_vec(),
        ),
        ("header > 64 KiB", big_header),
        ("headers > 64 KiB", many_headers),
        ("URL > 64 KiB", long_url),
    ];
    let mut failures = Vec::new();
    for (what, raw) in cases {
        let mut c = Conn::open(n.http);
        let _ = c.send(&raw);
        match c.read_response() {
            Ok(r) if (400..500).contains(&r.status) => {}
            Ok(r) => failures.push(format!("{what}: {}", describe(&r))),
            Err(e) => failures.push(format!("{what}: no response: {e}")),
        }
    }
    assert!(failures.is_empty(), "expected 4xx: {failures:#?}");
    assert_eq!(message_count(&n, "g"), None);
    assert_alive(&n);
}

#[test]
fn seventy_small_headers_are_accepted() {
    // Go's net/http limits header bytes (1 MiB), not the number of headers.
    let n = Nsqd::start(&[]);
    let mut raw = b"GET /ping HTTP/1.1\r\nHost: t\r\n".to_vec();
    for i in 0..70 {
        raw.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    raw.extend_from_slice(b"\r\n");
    let r = exchange(n.http, &raw).expect("response");
    assert_ok(&r);
    assert_alive(&n);
}

#[test]
fn many_concurrent_connections_are_all_answered() {
    const THREADS: usize = 50;
    const ROUNDS: usize = 4;
    const GETS: [&str; 4] = ["/ping", "/info", "/stats?format=json", "/ping"];
    let n = Nsqd::start(&[]);
    let addr = n.http;
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::spawn(move || {
                let mut answered = 0;
                for round in 0..ROUNDS {
                    // All of a connection's requests leave in one write right after the
                    // connect, the last asking for the close: the connection is never
                    // idle, so every request must be answered on it, in order. No retry,
                    // no second connection.
                    let mut raw = Vec::new();
                    for target in GETS {
                        raw.extend_from_slice(
                            format!("GET {target} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes(),
                        );
                    }
                    raw.extend_from_slice(
                        b"POST /pub?topic=conc HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nConnection: close\r\n\r\nm",
                    );
                    let mut c = Conn::open(addr);
                    c.send(&raw)
                        .unwrap_or_else(|e| panic!("thread {t} round {round}: send: {e}"));
                    for target in GETS {
                        let r = c.read_response().unwrap_or_else(|e| {
                            panic!("thread {t} round {round} {target}: unanswered: {e}")
                        });
                        assert_eq!(r.status, 200, "thread {t} {target}: {}", describe(&r));
                        assert_eq!(r.header("connection"), None, "keep-alive");
                        answered += 1;
                    }
                    let r = c.read_response().unwrap_or_else(|e| {
                        panic!("thread {t} round {round} /pub: unanswered: {e}")
                    });
                    assert_ok(&r);
                    answered += 1;
                    // Then the server closes, as asked, with nothing more sent.
                    assert_eq!(c.fill(), Ok(false), "thread {t} round {round}: not closed");
                    assert!(c.buf.is_empty(), "extra bytes: {:?}", c.buf);
                }
                answered
            })
        })
        .collect();
    let total: usize = threads.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, THREADS * ROUNDS * (GETS.len() + 1));
    assert_eq!(message_count(&n, "conc"), Some((THREADS * ROUNDS) as u64));
    assert_alive(&n);
}

/// Pings each connection every second, like clients that mostly idle between
/// requests, until told to stop; returns those still open. A ping is answered or the
/// connection is closed by the server (it gave it up); a ping left hanging fails.
fn keep_using(rx: mpsc::Receiver<Option<Conn>>) -> Vec<Conn> {
    let mut open: Vec<Conn> = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(Some(c)) => {
                open.push(c);
                continue;
            }
            Ok(None) | Err(mpsc::RecvTimeoutError::Disconnected) => return open,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        open.retain_mut(|c| {
            if c.send(b"GET /ping HTTP/1.1\r\nHost: t\r\n\r\n").is_err() {
                return false;
            }
            match c.read_response() {
                Ok(r) => {
                    assert_ok(&r);
                    true
                }
                Err(e) => {
                    assert!(!e.starts_with("timeout"), "idle connection hung: {e}");
                    false
                }
            }
        });
    }
}

#[test]
fn idle_keep_alive_connections_do_not_starve_new_clients() {
    let n = Nsqd::start(&[]);
    // Connections answered once are handed to a thread that uses them again now and
    // then. A server that let an idle connection keep its worker until its idle
    // timeout would then never free one: the clients below would hang (and fail at
    // WAIT), not merely wait a little longer.
    let (to_pinger, rx) = mpsc::channel();
    let pinger = std::thread::spawn(move || keep_using(rx));
    for i in 0..40 {
        let mut c = Conn::open(n.http);
        c.send(b"GET /ping HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        let r = c
            .read_response()
            .unwrap_or_else(|e| panic!("idle connection {i}: {e}"));
        assert_ok(&r);
        to_pinger.send(Some(c)).unwrap();
    }
    // And some that never send anything.
    let silent: Vec<TcpStream> = (0..10)
        .map(|_| TcpStream::connect(n.http).unwrap())
        .collect();
    for round in 0..3 {
        let mut c = Conn::open(n.http);
        c.send(b"GET /ping HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .unwrap();
        let r = c
            .read_response()
            .unwrap_or_else(|e| panic!("round {round}: new client starved: {e}"));
        assert_ok(&r);
    }
    to_pinger.send(None).unwrap();
    // An old idle connection is either still served or cleanly closed, never hung.
    for mut c in pinger.join().unwrap() {
        if c.send(b"GET /ping HTTP/1.1\r\nHost: t\r\n\r\n").is_ok() {
            match c.read_response() {
                Ok(r) => assert_ok(&r),
                Err(e) => assert!(!e.starts_with("timeout"), "idle connection hung: {e}"),
            }
        }
    }
    drop(silent);
    assert_alive(&n);
}
