//! Black-box tests of the `nsq_to_http` binary against a real nsqd and a small HTTP
//! server written here (a thread per connection, every request recorded with the
//! status it was answered): 10,000 messages are POSTed exactly once each; answers of
//! 500 requeue a message until it is delivered; GET query escaping and its "exactly
//! 200" rule; the headers Go's recorder saw; redirects followed as Go's client
//! follows them; connections kept between requests; `--mode` round-robin, hostpool and
//! "all"; `--sample=0`; Go's command lines, help, version and start-up errors; and a
//! SIGTERM that exits 0 with nothing lost. Every wait is bounded; nothing is timed.
mod common;

use common::{http, spawn_logged, stats_json, Nsqd, WAIT};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_nsq_to_http");

/// How long a big run may take to deliver everything (two shared cores, debug build).
const LONG_WAIT: Duration = Duration::from_secs(180);

/// Quick retries: a failed message comes back within a fraction of a second.
const QUICK_RETRY: [&str; 4] = [
    "--consumer-opt=default_requeue_delay,100ms",
    "--consumer-opt=max_backoff_duration,200ms",
    "--consumer-opt=backoff_multiplier,10ms",
    "--consumer-opt=max_attempts,0",
];

/// One request the test server received, and the status it answered.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    /// As sent, in order.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    status: u16,
    /// The number of the connection it came on.
    conn: usize,
}

impl Seen {
    /// Every value of header `name` (any case).
    fn all(&self, name: &str) -> Vec<&str> {
        let named = |(n, _): &&(String, String)| n.eq_ignore_ascii_case(name);
        self.headers
            .iter()
            .filter(named)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.all(name).first().copied()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Chooses the status for request number `n` (from 0); it may sleep to be slow.
type Answer = dyn Fn(usize, &Seen) -> u16 + Send + Sync;

/// The test HTTP server: records every request; stopped and joined on drop.
struct Server {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl Server {
    /// A server that answers one request per connection (`Connection: close`).
    fn start(answer: impl Fn(usize, &Seen) -> u16 + Send + Sync + 'static) -> Server {
        Server::serving(false, answer)
    }

    /// A server that keeps connections open for more requests, as most do.
    fn keep_alive(answer: impl Fn(usize, &Seen) -> u16 + Send + Sync + 'static) -> Server {
        Server::serving(true, answer)
    }

    fn serving(
        keep_alive: bool,
        answer: impl Fn(usize, &Seen) -> u16 + Send + Sync + 'static,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (answer, count): (Arc<Answer>, _) = (Arc::new(answer), Arc::new(AtomicUsize::new(0)));
        let (record, stopping) = (seen.clone(), stop.clone());
        let acceptor = std::thread::spawn(move || {
            let mut workers: Vec<JoinHandle<()>> = Vec::new();
            for (conn, stream) in listener.incoming().enumerate() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let (answer, count, record) = (answer.clone(), count.clone(), record.clone());
                workers.push(std::thread::spawn(move || {
                    let to = Peer {
                        conn,
                        keep_alive,
                        answer: &*answer,
                        count: &count,
                        record: &record,
                    };
                    while serve(&mut stream, &to) && keep_alive {}
                }));
                if workers.len() >= 256 {
                    let (done, busy): (Vec<_>, _) =
                        workers.into_iter().partition(|w| w.is_finished());
                    done.into_iter().for_each(|w| w.join().unwrap());
                    workers = busy;
                }
            }
            workers.into_iter().for_each(|w| w.join().unwrap());
        });
        Server {
            addr,
            seen,
            stop,
            acceptor: Some(acceptor),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits until `ok` holds for the requests seen; returns them.
    fn wait_until(&self, what: &str, ok: impl Fn(&[Seen]) -> bool) -> Vec<Seen> {
        let deadline = Instant::now() + LONG_WAIT;
        loop {
            let seen = self.seen();
            if ok(&seen) {
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {} seen",
                seen.len()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// What a connection's requests are answered with, and recorded in.
struct Peer<'a> {
    /// The connection's number, from 0.
    conn: usize,
    keep_alive: bool,
    answer: &'a Answer,
    count: &'a AtomicUsize,
    record: &'a Mutex<Vec<Seen>>,
}

/// One request on `stream`, answered (with `Connection: close` unless keep-alive);
/// false once the connection is done.
fn serve(stream: &mut TcpStream, to: &Peer) -> bool {
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut raw = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        match stream.read(&mut chunk) {
            Ok(n) if n > 0 => raw.extend_from_slice(&chunk[..n]),
            _ => return false, // the shutdown wake-up, or the client closed
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or("").split(' ');
    let (method, path) = (
        request_line.next().unwrap_or(""),
        request_line.next().unwrap_or(""),
    );
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.to_string(), v.trim().to_string()))
        .collect();
    let mut seen = Seen {
        method: method.to_string(),
        path: path.to_string(),
        headers,
        body: raw[head_end + 4..].to_vec(),
        status: 0,
        conn: to.conn,
    };
    let length: usize = seen
        .header("content-length")
        .map_or(0, |v| v.parse().unwrap());
    while seen.body.len() < length {
        match stream.read(&mut chunk) {
            Ok(n) if n > 0 => seen.body.extend_from_slice(&chunk[..n]),
            _ => return false,
        }
    }
    seen.status = (to.answer)(to.count.fetch_add(1, Ordering::SeqCst), &seen);
    to.record.lock().unwrap().push(seen.clone());
    // A redirect points to `/to` + the path.
    let location = match seen.status {
        300..=399 => format!("Location: /to{}\r\n", seen.path),
        _ => String::new(),
    };
    let close = if to.keep_alive {
        ""
    } else {
        "Connection: close\r\n"
    };
    let reply = format!(
        "HTTP/1.1 {} X\r\n{location}Content-Length: 2\r\n{close}\r\nok",
        seen.status
    );
    stream.write_all(reply.as_bytes()).is_ok()
}

/// A running nsq_to_http (killed on drop).
struct Tool {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Tool {
    fn start(args: &[String]) -> Tool {
        let (child, log) = spawn_logged(BIN, args);
        Tool { child, log }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn assert_logged(&self, text: &str) {
        common::wait_log(|| self.log(), text);
    }

    /// SIGTERM, then the exit code.
    fn term(&mut self) -> Option<i32> {
        common::signal_child(&self.child, "TERM");
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                common::wait_whole_log(&self.log);
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "nsq_to_http did not exit: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Tool {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The arguments for consuming `topic` from `nsqd`, then `extra`.
fn args(nsqd: &Nsqd, topic: &str, extra: &[&str]) -> Vec<String> {
    let mut out = vec![
        format!("--nsqd-tcp-address={}", nsqd.tcp),
        format!("--topic={topic}"),
    ];
    out.extend(extra.iter().map(|a| a.to_string()));
    out
}

/// Publishes `bodies` (no newlines) through nsqd's HTTP `/mpub`, 500 at a time.
fn publish(nsqd: &Nsqd, topic: &str, bodies: &[String]) {
    for batch in bodies.chunks(500) {
        let r = http(
            nsqd.http,
            "POST",
            &format!("/mpub?topic={topic}"),
            batch.join("\n").as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
}

/// The channel's `/stats` entry (`Value::Null` until it exists).
fn channel(nsqd: &Nsqd, topic: &str, channel: &str) -> Value {
    let stats = stats_json(nsqd, topic);
    let topics = stats["topics"].as_array().cloned().unwrap_or_default();
    let t = topics.into_iter().find(|t| t["topic_name"] == topic);
    let channels = t.map(|t| t["channels"].as_array().cloned().unwrap_or_default());
    let c = channels
        .unwrap_or_default()
        .into_iter()
        .find(|c| c["channel_name"] == channel);
    c.unwrap_or(Value::Null)
}

/// Waits until the channel has received `messages` and holds nothing; its stats.
fn wait_drained(nsqd: &Nsqd, topic: &str, name: &str, messages: u64) -> Value {
    let deadline = Instant::now() + LONG_WAIT;
    loop {
        let c = channel(nsqd, topic, name);
        let idle = ["depth", "in_flight_count", "deferred_count"]
            .iter()
            .all(|f| c[f] == 0);
        if idle && c["message_count"] == messages {
            return c;
        }
        assert!(Instant::now() < deadline, "channel never drained: {c}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A counter of a channel's stats.
fn count(c: &Value, field: &str) -> u64 {
    c[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no {field} in {c}"))
}

/// How many 2xx answers each body got.
fn delivered(seen: &[Seen]) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for s in seen.iter().filter(|s| (200..300).contains(&s.status)) {
        *out.entry(s.text()).or_insert(0) += 1;
    }
    out
}

fn bodies(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i:05}")).collect()
}

/// Asserts every body in `want` got exactly one 2xx answer, and nothing else did.
fn assert_each_once(seen: &[Seen], want: &[String]) {
    let got = delivered(seen);
    assert_eq!(got.len(), want.len(), "distinct bodies delivered");
    for body in want {
        assert_eq!(got.get(body), Some(&1), "2xx answers for {body:?}");
    }
}

#[test]
fn ten_thousand_messages_are_posted_exactly_once() {
    let nsqd = Nsqd::start(&[]);
    let server = Server::start(|_, _| 200);
    let want = bodies("m", 10_000);
    publish(&nsqd, "bulk", &want);
    let mut tool = Tool::start(&args(
        &nsqd,
        "bulk",
        &[&format!("--post={}", server.url("/in"))],
    ));
    server.wait_until("10,000 requests", |s| s.len() >= want.len());
    let c = wait_drained(&nsqd, "bulk", "nsq_to_http", 10_000);
    let seen = server.seen();
    assert_eq!(seen.len(), 10_000, "one request per message");
    assert_each_once(&seen, &want);
    assert!(seen.iter().all(|s| s.method == "POST" && s.path == "/in"));
    assert_eq!(
        seen[0].header("Content-Type"),
        Some("application/octet-stream")
    );
    assert_eq!(
        (count(&c, "requeue_count"), count(&c, "timeout_count")),
        (0, 0)
    );
    assert_eq!(tool.term(), Some(0), "{}", tool.log());
}

#[test]
fn answers_of_500_requeue_until_delivered() {
    let nsqd = Nsqd::start(&[]);
    // The first 300 requests fail, whatever their message.
    let server = Server::start(|n, _| if n < 300 { 500 } else { 200 });
    let want = bodies("r", 1_000);
    publish(&nsqd, "retry", &want);
    let mut extra = vec![format!("--post={}", server.url("/"))];
    extra.extend(QUICK_RETRY.iter().map(|s| s.to_string()));
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let mut tool = Tool::start(&args(&nsqd, "retry", &extra));
    server.wait_until("every body delivered", |s| delivered(s).len() == want.len());
    let c = wait_drained(&nsqd, "retry", "nsq_to_http", 1_000);
    let seen = server.seen();
    assert_each_once(&seen, &want);
    let failed: Vec<&Seen> = seen.iter().filter(|s| s.status == 500).collect();
    assert_eq!(failed.len(), 300);
    assert_eq!(count(&c, "requeue_count"), 300, "each 500 is one REQ");
    tool.assert_logged("(got status code 500)");
    assert_eq!(tool.term(), Some(0));
}

#[test]
fn get_escapes_the_body_and_wants_exactly_200() {
    let nsqd = Nsqd::start(&[]);
    // The first request for `once-201` is answered 201 (a GET failure), then 200.
    let refused = AtomicBool::new(false);
    let server = Server::start(move |_, s| {
        let first = s.path.contains("once-201") && !refused.swap(true, Ordering::SeqCst);
        if first {
            201
        } else {
            200
        }
    });
    let sent = ["hello world", "{\"a\":1}", "x&y=z/ü+", "once-201"].map(String::from);
    publish(&nsqd, "gets", &sent);
    let template = format!("--get=http://{}/get?data=%s&x=1", server.addr);
    let mut extra = vec![template.as_str()];
    extra.extend(QUICK_RETRY);
    let mut tool = Tool::start(&args(&nsqd, "gets", &extra));
    let seen = server.wait_until("five requests", |s| s.len() >= 5);
    let c = wait_drained(&nsqd, "gets", "nsq_to_http", 4);
    let mut paths: Vec<(&str, u16)> = seen.iter().map(|s| (s.path.as_str(), s.status)).collect();
    paths.sort();
    let want = [
        ("/get?data=%7B%22a%22%3A1%7D&x=1", 200),
        ("/get?data=hello+world&x=1", 200),
        ("/get?data=once-201&x=1", 200),
        ("/get?data=once-201&x=1", 201),
        ("/get?data=x%26y%3Dz%2F%C3%BC%2B&x=1", 200),
    ];
    assert_eq!(paths, want);
    assert_eq!(count(&c, "requeue_count"), 1, "the 201 was requeued");
    for s in &seen {
        assert_eq!((s.method.as_str(), s.body.len()), ("GET", 0));
        assert_eq!(s.header("User-Agent"), Some("nsq_to_http v1.3.0"));
        assert_eq!(s.header("Content-Type"), None, "no Content-Type on GET");
    }
    tool.assert_logged("(got status code 201)");
    assert_eq!(tool.term(), Some(0));
}

#[test]
fn connections_are_kept_between_requests_as_gos_transport_keeps_them() {
    let nsqd = Nsqd::start(&[]);
    let server = Server::keep_alive(|_, _| 200);
    let want = bodies("k", 200);
    publish(&nsqd, "kept", &want);
    let post = format!("--post=http://{}/in", server.addr);
    // One request at a time: each goes on the connection the one before left idle.
    let mut tool = Tool::start(&args(&nsqd, "kept", &[&post, "--n=1"]));
    let seen = server.wait_until("every body delivered", |s| delivered(s).len() == want.len());
    assert_each_once(&seen, &want);
    let conns: std::collections::BTreeSet<usize> = seen.iter().map(|s| s.conn).collect();
    assert!(
        conns.len() <= 2,
        "{} connections for {} requests",
        conns.len(),
        seen.len()
    );
    assert!(
        seen.iter().all(|s| s.header("Connection").is_none()),
        "no Connection: close"
    );
    wait_drained(&nsqd, "kept", "nsq_to_http", 200);
    assert_eq!(tool.term(), Some(0));
}

#[test]
fn redirects_are_followed_as_gos_client_follows_them() {
    let nsqd = Nsqd::start(&[]);
    // 307 repeats the POST and its body; 302 turns it into a GET without one; a
    // redirect loop (each .../loop answers 302 on the first try) gives up after 10
    // redirects and requeues.
    let loops = AtomicUsize::new(0);
    let server = Server::start(move |_, s| match s.path.as_str() {
        "/r307" => 307,
        "/r302" => 302,
        p if p.ends_with("/loop") => {
            match loops.fetch_add(1, Ordering::SeqCst) {
                // The first try's 11 requests loop; the retry is answered 200.
                n if n < 11 => 302,
                _ => 200,
            }
        }
        p if p.starts_with("/to/") => 200,
        _ => 500,
    });
    publish(&nsqd, "moved", &["m1".to_string()]);
    let (a, b) = (
        format!("--post=http://{}/r307", server.addr),
        format!("--post=http://{}/r302", server.addr),
    );
    let mut extra = vec![a.as_str(), b.as_str(), "--mode=all"];
    extra.extend(QUICK_RETRY);
    let mut tool = Tool::start(&args(&nsqd, "moved", &extra));
    let seen = server.wait_until("four requests", |s| s.len() >= 4);
    let c = wait_drained(&nsqd, "moved", "nsq_to_http", 1);
    assert_eq!(count(&c, "requeue_count"), 0, "{c}");
    let mut got: Vec<(String, String, String, Option<String>)> = seen
        .iter()
        .map(|s| {
            (
                s.path.clone(),
                s.method.clone(),
                s.text(),
                s.header("Referer").map(String::from),
            )
        })
        .collect();
    got.sort();
    let from = |path: &str| Some(format!("http://{}{path}", server.addr));
    let want = [
        ("/r302", "POST", "m1", None),
        ("/r307", "POST", "m1", None),
        ("/to/r302", "GET", "", from("/r302")),
        ("/to/r307", "POST", "m1", from("/r307")),
    ]
    .map(|(p, m, b, r)| (p.to_string(), m.to_string(), b.to_string(), r));
    assert_eq!(got, want);
    assert_eq!(tool.term(), Some(0));

    // A loop: 11 requests (the first and 10 redirects), then Go's error and a REQ.
    publish(&nsqd, "loop", &["l1".to_string()]);
    let a = format!("--post=http://{}/loop", server.addr);
    let mut extra = vec![a.as_str()];
    extra.extend(QUICK_RETRY);
    let mut tool = Tool::start(&args(&nsqd, "loop", &extra));
    let c = wait_drained(&nsqd, "loop", "nsq_to_http", 1);
    assert_eq!(count(&c, "requeue_count"), 1, "{c}");
    let loop_url = format!("http://{}/to/to/to/to/to/to/to/to/to/to/loop", server.addr);
    tool.assert_logged(&format!("Post \"{loop_url}\": stopped after 10 redirects"));
    assert_eq!(tool.term(), Some(0));
}

#[test]
fn post_headers_are_those_go_sends() {
    let nsqd = Nsqd::start(&[]);
    let server = Server::start(|_, _| 200);
    publish(&nsqd, "hdr", &["{\"a\":1}".to_string()]);
    // Go's command line from the recorder run, unchanged (single-dash, spaced forms too).
    let url = server.url("/in");
    let tcp = nsqd.tcp.to_string();
    let cli = [
        "-topic",
        "hdr",
        "-nsqd-tcp-address",
        &tcp,
        "-post",
        &url,
        "--header=X-Api-Key: s3cret",
    ];
    let mut cli: Vec<String> = cli.iter().map(|s| s.to_string()).collect();
    cli.extend(["--header=X-Two:b:c", "--content-type=application/json"].map(String::from));
    let mut tool = Tool::start(&cli);
    let seen = server.wait_until("the request", |s| !s.is_empty());
    wait_drained(&nsqd, "hdr", "nsq_to_http", 1);
    let s = &seen[0];
    assert_eq!(
        (s.method.as_str(), s.path.as_str(), s.text().as_str()),
        ("POST", "/in", "{\"a\":1}")
    );
    let addr = server.addr.to_string();
    for (name, value) in [
        ("Host", addr.as_str()),
        ("User-Agent", "nsq_to_http v1.3.0"),
        ("Content-Length", "7"),
        ("Content-Type", "application/json"),
        ("X-Api-Key", "s3cret"),
        ("X-Two", "b:c"),
        ("Accept-Encoding", "gzip"),
    ] {
        assert_eq!(s.all(name), [value], "header {name} in {:?}", s.headers);
    }
    assert_eq!(tool.term(), Some(0));
}

#[test]
fn a_201_is_a_post_success_and_headers_override() {
    let nsqd = Nsqd::start(&[]);
    let server = Server::start(|_, _| 201);
    let want = bodies("c", 3);
    publish(&nsqd, "created", &want);
    let post = format!("--post={}", server.url("/"));
    let extra = [
        post.as_str(),
        "--header=user-agent: custom/1",
        "--header=Host: elsewhere",
    ];
    let mut tool = Tool::start(&args(&nsqd, "created", &extra));
    server.wait_until("three requests", |s| s.len() >= 3);
    let c = wait_drained(&nsqd, "created", "nsq_to_http", 3);
    let seen = server.seen();
    assert_each_once(&seen, &want);
    assert_eq!(count(&c, "requeue_count"), 0, "201 finishes a POST");
    for s in &seen {
        assert_eq!(s.all("User-Agent"), ["custom/1"]);
        assert_eq!(
            s.all("Host"),
            [server.addr.to_string()],
            "Host is not a --header"
        );
    }
    assert_eq!(tool.term(), Some(0));
}

/// Runs 6 messages to `/A` and `/B` with `mode_args` (and quick retries); the
/// successful requests to A and to B, all requests, and the log.
fn two_urls(
    topic: &str,
    mode_args: &[&str],
    answer: fn(usize, &Seen) -> u16,
) -> ((usize, usize, usize), String) {
    let nsqd = Nsqd::start(&[]);
    let server = Server::start(answer);
    publish(&nsqd, topic, &bodies(topic, 6));
    let (a, b) = (server.url("/A"), server.url("/B"));
    let (a, b) = (format!("--post={a}"), format!("--post={b}"));
    let extra: Vec<&str> = [a.as_str(), b.as_str()]
        .iter()
        .chain(mode_args)
        .chain(&QUICK_RETRY)
        .copied()
        .collect();
    let mut tool = Tool::start(&args(&nsqd, topic, &extra));
    wait_drained(&nsqd, topic, "nsq_to_http", 6);
    let seen = server.seen();
    assert_eq!(delivered(&seen).len(), 6, "every message delivered");
    assert_eq!(tool.term(), Some(0));
    let to = |path: &str| {
        seen.iter()
            .filter(|s| s.path == path && s.status == 200)
            .count()
    };
    ((to("/A"), to("/B"), seen.len()), tool.log())
}

/// B's first answer is a 500; every other answer a 200.
fn fail_b_once(_: usize, s: &Seen) -> u16 {
    static FAILED: AtomicBool = AtomicBool::new(false);
    if s.path == "/B" && !FAILED.swap(true, Ordering::SeqCst) {
        500
    } else {
        200
    }
}

#[test]
fn modes_choose_the_addresses() {
    let ok: fn(usize, &Seen) -> u16 = |_, _| 200;
    let (split, log) = two_urls("rr", &["--mode=round-robin", "--status-every=2"], ok);
    assert_eq!(split, (3, 3, 6), "round-robin: (to A, to B, requests)");
    for prefix in [
        "[aggregate]: finished 2 - 99th: ",
        "/A]: finished 2 - ",
        "/B]: finished 2 - ",
    ] {
        assert!(log.contains(prefix), "{prefix} in {log}");
    }
    assert_eq!(two_urls("hp", &[], ok).0, (3, 3, 6), "hostpool");
    // "all": each message to every address in order; the message whose B answer was
    // a 500 is requeued, and A gets it again.
    assert_eq!(
        two_urls("all", &["--mode=all"], fail_b_once).0,
        (7, 6, 14),
        "all"
    );
}

#[test]
fn sample_zero_sends_nothing() {
    let nsqd = Nsqd::start(&[]);
    let server = Server::start(|_, _| 200);
    publish(&nsqd, "sampled", &bodies("s", 6));
    let post = format!("--post={}", server.url("/"));
    let mut tool = Tool::start(&args(&nsqd, "sampled", &[&post, "--sample=0.0"]));
    let c = wait_drained(&nsqd, "sampled", "nsq_to_http", 6);
    assert_eq!(count(&c, "requeue_count"), 0);
    assert_eq!(tool.term(), Some(0));
    assert!(server.seen().is_empty(), "no requests with --sample=0.0");
}

#[test]
fn sigterm_exits_0_and_loses_nothing() {
    let nsqd = Nsqd::start(&[]);
    // A slow endpoint, so plenty is delivered but not yet sent when the signal comes.
    let server = Server::start(|_, _| {
        std::thread::sleep(Duration::from_millis(20));
        200
    });
    let want = bodies("t", 300);
    publish(&nsqd, "term", &want);
    let post = format!("--post={}", server.url("/"));
    let mut tool = Tool::start(&args(&nsqd, "term", &[&post, "--n=5"]));
    server.wait_until("some requests", |s| s.len() >= 20);
    assert_eq!(tool.term(), Some(0), "{}", tool.log());
    let first = server.seen().len() as u64;
    assert!(first < 300, "stopped before the end");
    // Each message was either sent and FIN'd, or is back in the queue untouched.
    let deadline = Instant::now() + WAIT;
    loop {
        let c = channel(&nsqd, "term", "nsq_to_http");
        let settled = c["in_flight_count"] == 0 && c["depth"].as_u64() == Some(300 - first);
        if settled && c["requeue_count"] == 0 && c["timeout_count"] == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{first} sent, and the channel: {c}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // A second run sends the rest: every message exactly once over both.
    let mut again = Tool::start(&args(&nsqd, "term", &[&post]));
    wait_drained(&nsqd, "term", "nsq_to_http", 300);
    assert_each_once(&server.seen(), &want);
    assert_eq!(again.term(), Some(0));
}

/// Runs the tool to its end; (exit code, stdout, stderr).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("run nsq_to_http");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// Asserts a Go `log.Fatal` exit: one line `YYYY/MM/DD HH:MM:SS <message>`, code 1.
fn assert_fatal(args: &[&str], message: &str) {
    let (code, stdout, stderr) = run(args);
    assert_eq!(code, Some(1), "{args:?}: {stderr}");
    assert!(stdout.is_empty());
    let line = stderr.lines().last().unwrap_or("");
    let (stamp, rest) = line.split_at(line.len().min(20));
    assert_eq!(rest, message, "{args:?}: {stderr}");
    let shape: String = stamp
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect();
    assert_eq!(shape, "9999/99/99 99:99:99 ");
}

/// Go's checks in Go's order: `flags | message` (N: an nsqd, P: a `--post`).
const FATAL: [&str; 11] = [
    "--topic=t --header=X-Api-Key=s3cret | --header value format should be 'key=value'",
    "N P | --topic and --channel are required",
    "--topic=t --content-type=text/plain | --content-type only used with --post",
    "--topic=t P --content-type= | --content-type requires a value when used",
    "--topic=t P | --nsqd-tcp-address or --lookupd-http-address required",
    "-topic t P N -lookupd-http-address h:1 | use --nsqd-tcp-address or --lookupd-http-address not both",
    "--topic=t N | --get or --post required",
    "--topic=t N P --get=http://h/?d=%s | use --get or --post not both",
    "--topic=t N --get=http://h/ | invalid GET address - must be a printf string",
    "--topic=t N P --sample=2 | ERROR: --sample must be between 0.0 and 1.0",
    "--topic=a!b N P | invalid topic name \"a!b\"",
];

#[test]
fn command_line_help_version_and_errors() {
    let (code, stdout, stderr) = run(&["--version"]);
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
    assert!(
        stdout.starts_with("nsq_to_http v1.3.0 (nsq-rs "),
        "{stdout}"
    );
    let (code, _, usage) = run(&["--help"]);
    assert_eq!(code, Some(0));
    let flags = "-post value,-get value,-header value,-content-type string,-mode string,-n int";
    let more = ",-sample float,-status-every int,-http-client-request-timeout duration";
    for flag in flags.split(',').chain(more.split(',').skip(1)) {
        assert!(usage.contains(&format!("  {flag}\n")), "{flag} in {usage}");
    }
    let (code, _, stderr) = run(&["--consumer-opt=nosuch,1"]);
    assert_eq!(code, Some(2));
    let bad_opt = "invalid value \"nosuch,1\" for flag -consumer-opt: invalid option nosuch\n";
    assert!(
        stderr.starts_with(&format!("{bad_opt}Usage of nsq_to_http:")),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["--nope"]);
    let first = stderr.lines().next();
    assert_eq!(
        (code, first),
        (Some(2), Some("flag provided but not defined: -nope"))
    );

    let (n, p) = (
        "--nsqd-tcp-address=127.0.0.1:4150",
        "--post=http://127.0.0.1:9998/",
    );
    for (line, message) in FATAL.map(|c| c.split_once(" | ").unwrap()) {
        let with = |a| match a {
            "N" => n,
            "P" => p,
            a => a,
        };
        assert_fatal(&line.split(' ').map(with).collect::<Vec<_>>(), message);
    }
    let closed = common::admin::closed_addr();
    let dead = format!("--nsqd-tcp-address={closed}");
    let refused = format!("dial tcp {closed}: connect: connection refused");
    assert_fatal(&["--topic=t", &dead, p], &refused);
}
