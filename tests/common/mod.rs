//! Shared black-box test helpers: start the real `nsqd` binary on a free loopback port
//! with its own temp data dir (killed and removed on drop), and a tiny blocking V2
//! client that speaks raw bytes so tests can assert exactly what goes over the wire.
#![allow(dead_code)]

pub mod admin;
pub mod fake_lookupd;
pub mod held;
pub mod node;
pub mod pynsq;
pub mod rng;
#[cfg(feature = "tls")]
pub mod tls;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long any single wait in a test may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(30);

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty temp directory unique to this test process and call.
pub fn temp_dir(tag: &str) -> PathBuf {
    let n = NEXT_DIR.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("nsq-rs-test-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// A running nsqd process.
pub struct Nsqd {
    child: Child,
    /// The TCP address it listens on.
    pub tcp: SocketAddr,
    /// The HTTP address it listens on (unset when started with `--http-address=`).
    pub http: SocketAddr,
    /// Its data directory (removed on drop).
    pub data: PathBuf,
    /// Everything it has written to stderr so far.
    pub log: Arc<Mutex<String>>,
}

impl Nsqd {
    /// Starts nsqd on 127.0.0.1:0 with a temp data dir and the extra `args`.
    pub fn start(args: &[&str]) -> Nsqd {
        let data = temp_dir("nsqd");
        Nsqd::start_in(data, args)
    }

    /// Starts nsqd with an existing data dir.
    pub fn start_in(data: PathBuf, args: &[&str]) -> Nsqd {
        Nsqd::start_via(&[], data, args)
    }

    /// Starts nsqd with an existing data dir, run by the command `prefix` (e.g.
    /// `nsenter -t <pid> -m --`, which execs it in another mount namespace).
    pub fn start_via(prefix: &[&str], data: PathBuf, args: &[&str]) -> Nsqd {
        let mut full: Vec<String> = prefix.iter().skip(1).map(|a| a.to_string()).collect();
        if !prefix.is_empty() {
            full.push(env!("CARGO_BIN_EXE_nsqd").to_string());
        }
        full.extend([
            "--tcp-address=127.0.0.1:0".to_string(),
            "--http-address=127.0.0.1:0".to_string(),
            // Never the default 0.0.0.0:4152 once a test sets a certificate (tests run
            // in parallel); a test's own `--https-address` comes later and wins.
            "--https-address=127.0.0.1:0".to_string(),
            format!("--data-path={}", data.display()),
        ]);
        full.extend(args.iter().map(|a| a.to_string()));
        let bin = prefix
            .first()
            .copied()
            .unwrap_or(env!("CARGO_BIN_EXE_nsqd"));
        let (child, log) = spawn_logged(bin, &full);
        let mut nsqd = Nsqd {
            child,
            tcp: "127.0.0.1:0".parse().unwrap(),
            http: "127.0.0.1:0".parse().unwrap(),
            data,
            log,
        };
        nsqd.tcp = wait_for_addr(&mut nsqd.child, &nsqd.log, "TCP: listening on ");
        if !args.contains(&"--http-address=") {
            nsqd.http = wait_for_addr(&mut nsqd.child, &nsqd.log, "HTTP: listening on ");
        }
        nsqd
    }

    /// A connected client that has sent the magic.
    pub fn client(&self) -> Client {
        Client::connect(self.tcp)
    }

    /// Sends a signal (e.g. "TERM", "KILL") to the process.
    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, name: &str) {
        signal_child(&self.child, name);
    }

    /// Waits for the process to exit and returns its exit code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                wait_whole_log(&self.log);
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("nsqd did not exit");
    }

    /// A copy of the log so far.
    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

/// Sends signal `name` ("TERM", "KILL", ...) to `child`, with kill(1).
pub fn signal_child(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success());
}

/// Spawns `bin` with `args`, its stderr collected into a shared string by a thread.
pub fn spawn_logged(bin: &str, args: &[String]) -> (Child, Arc<Mutex<String>>) {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
    let log = Arc::new(Mutex::new(String::new()));
    let mut stderr = child.stderr.take().expect("stderr");
    let sink = log.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            sink.lock().unwrap().push_str(&text);
        }
    });
    (child, log)
}

/// Waits until the log holds `marker` followed by an address, and returns it.
pub fn wait_for_addr(child: &mut Child, log: &Arc<Mutex<String>>, marker: &str) -> SocketAddr {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if let Some(rest) = log.lock().unwrap().split(marker).nth(1) {
            let addr: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
            return addr.parse().expect("listen address");
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("process exited early ({status}): {}", log.lock().unwrap());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("process did not log '{marker}': {}", log.lock().unwrap());
}

/// A running nsqlookupd process (killed on drop).
pub struct Lookupd {
    child: Child,
    /// Its TCP address (nsqd registrations).
    pub tcp: SocketAddr,
    /// Its HTTP address.
    pub http: SocketAddr,
    /// Its stderr so far.
    pub log: Arc<Mutex<String>>,
}

impl Lookupd {
    /// Starts nsqlookupd on free loopback ports with the extra `args`.
    pub fn start(args: &[&str]) -> Lookupd {
        let mut full = vec![
            "--tcp-address=127.0.0.1:0".to_string(),
            "--http-address=127.0.0.1:0".to_string(),
            "--broadcast-address=127.0.0.1".to_string(),
        ];
        full.extend(args.iter().map(|a| a.to_string()));
        let (mut child, log) = spawn_logged(env!("CARGO_BIN_EXE_nsqlookupd"), &full);
        let tcp = wait_for_addr(&mut child, &log, "TCP: listening on ");
        let http = wait_for_addr(&mut child, &log, "HTTP: listening on ");
        Lookupd {
            child,
            tcp,
            http,
            log,
        }
    }

    /// Sends a signal (e.g. "TERM").
    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, name: &str) {
        signal_child(&self.child, name);
    }

    /// Waits for exit and returns the code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("nsqlookupd did not exit");
    }

    /// A copy of the log so far.
    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Lookupd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Nsqd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// A frame read from nsqd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// 0 response, 1 error, 2 message.
    pub frame_type: i32,
    /// The data after the type.
    pub data: Vec<u8>,
}

impl Frame {
    /// The data as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// A message decoded from a message frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    /// Publish time, ns.
    pub timestamp: i64,
    /// Attempts.
    pub attempts: u16,
    /// The 16-byte id.
    pub id: [u8; 16],
    /// The body.
    pub body: Vec<u8>,
}

impl Msg {
    /// The id as text.
    pub fn id_str(&self) -> String {
        String::from_utf8_lossy(&self.id).into_owned()
    }
}

/// A blocking raw V2 client.
pub struct Client {
    /// The socket.
    pub stream: TcpStream,
}

impl Client {
    /// Connects and sends the V2 magic.
    pub fn connect(addr: SocketAddr) -> Client {
        let mut c = Client::connect_raw(addr);
        c.send(b"  V2");
        c
    }

    /// Connects without sending anything.
    pub fn connect_raw(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream.set_nodelay(true).unwrap();
        Client { stream }
    }

    /// Writes raw bytes.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    /// Writes `line\n` followed, if given, by a 4-byte size and the body.
    pub fn command(&mut self, line: &str, body: Option<&[u8]>) {
        self.send(&command_bytes(line, body));
    }

    /// IDENTIFY with a JSON body; returns the reply frame.
    pub fn identify(&mut self, json: &str) -> Frame {
        self.command("IDENTIFY", Some(json.as_bytes()));
        self.read_frame()
    }

    /// SUB and expect OK.
    pub fn sub(&mut self, topic: &str, channel: &str) {
        self.command(&format!("SUB {topic} {channel}"), None);
        self.expect_response("OK");
    }

    /// RDY n (no reply).
    pub fn rdy(&mut self, n: u64) {
        self.command(&format!("RDY {n}"), None);
    }

    /// PUB and expect OK.
    pub fn publish(&mut self, topic: &str, body: &[u8]) {
        self.command(&format!("PUB {topic}"), Some(body));
        self.expect_response("OK");
    }

    /// MPUB and expect OK.
    pub fn mpub(&mut self, topic: &str, bodies: &[&[u8]]) {
        self.command(&format!("MPUB {topic}"), Some(&mpub_body(bodies)));
        self.expect_response("OK");
    }

    /// DPUB and expect OK.
    pub fn dpub(&mut self, topic: &str, defer_ms: u64, body: &[u8]) {
        self.command(&format!("DPUB {topic} {defer_ms}"), Some(body));
        self.expect_response("OK");
    }

    /// FIN (no reply on success).
    pub fn fin(&mut self, id: &[u8; 16]) {
        let mut out = b"FIN ".to_vec();
        out.extend_from_slice(id);
        out.push(b'\n');
        self.send(&out);
    }

    /// REQ (no reply on success).
    pub fn req(&mut self, id: &[u8; 16], delay_ms: u64) {
        let mut out = b"REQ ".to_vec();
        out.extend_from_slice(id);
        out.extend_from_slice(format!(" {delay_ms}\n").as_bytes());
        self.send(&out);
    }

    /// TOUCH (no reply on success).
    pub fn touch(&mut self, id: &[u8; 16]) {
        let mut out = b"TOUCH ".to_vec();
        out.extend_from_slice(id);
        out.push(b'\n');
        self.send(&out);
    }

    /// Reads one frame, failing the test after [`WAIT`].
    pub fn read_frame(&mut self) -> Frame {
        self.try_read_frame(WAIT)
            .unwrap_or_else(|e| panic!("no frame: {e}"))
    }

    /// Reads one frame within `timeout`; `Err("timeout")` or `Err("closed")` otherwise.
    pub fn try_read_frame(&mut self, timeout: Duration) -> Result<Frame, String> {
        self.stream.set_read_timeout(Some(timeout)).unwrap();
        let mut header = [0u8; 8];
        let result = self.stream.read_exact(&mut header);
        self.stream.set_read_timeout(Some(WAIT)).unwrap();
        match result {
            Ok(()) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err("timeout".into())
            }
            Err(e) => return Err(format!("closed: {e}")),
        }
        let size = i32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let frame_type = i32::from_be_bytes([header[4], header[5], header[6], header[7]]);
        assert!(size >= 4, "bad frame size {size}");
        let mut data = vec![0u8; size as usize - 4];
        self.stream
            .read_exact(&mut data)
            .map_err(|e| format!("closed mid-frame: {e}"))?;
        Ok(Frame { frame_type, data })
    }

    /// Reads the next frame that is not a heartbeat (answering heartbeats with NOP),
    /// failing the test after one [`WAIT`] in all, heartbeats or not.
    pub fn next_frame(&mut self) -> Frame {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no frame but heartbeats within {WAIT:?}");
            let f = self
                .try_read_frame(left)
                .unwrap_or_else(|e| panic!("no frame: {e}"));
            if f.frame_type == 0 && f.data == b"_heartbeat_" {
                self.send(b"NOP\n");
                continue;
            }
            return f;
        }
    }

    /// Expects a response frame with exactly `text`.
    pub fn expect_response(&mut self, text: &str) {
        let f = self.next_frame();
        assert_eq!((f.frame_type, f.text()), (0, text.to_string()));
    }

    /// Expects an error frame with exactly `text`.
    pub fn expect_error(&mut self, text: &str) {
        let f = self.next_frame();
        assert_eq!((f.frame_type, f.text()), (1, text.to_string()));
    }

    /// Expects an error frame with exactly `text`, then the connection closed.
    pub fn expect_fatal(&mut self, text: &str) {
        self.expect_error(text);
        self.expect_closed();
    }

    /// Reads the next message (skipping heartbeats).
    pub fn read_message(&mut self) -> Msg {
        let f = self.next_frame();
        assert_eq!(f.frame_type, 2, "expected a message, got {:?}", f.text());
        decode_message(&f.data)
    }

    /// Reads a message within `timeout`, or `None` if none arrives (heartbeats skipped).
    pub fn try_read_message(&mut self, timeout: Duration) -> Option<Msg> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            match self.try_read_frame(left) {
                Ok(f) if f.frame_type == 2 => return Some(decode_message(&f.data)),
                Ok(f) if f.data == b"_heartbeat_" => self.send(b"NOP\n"),
                Ok(f) => panic!("unexpected frame {} {:?}", f.frame_type, f.text()),
                Err(e) if e == "timeout" => return None,
                Err(e) => panic!("{e}"),
            }
        }
    }

    /// Expects the server to close the connection (EOF or reset) within [`WAIT`].
    pub fn expect_closed(&mut self) {
        let mut buf = [0u8; 64];
        match self.stream.read(&mut buf) {
            Ok(0) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
            other => panic!("expected close, got {other:?} {:?}", &buf[..8]),
        }
    }

    /// Closes our sending side (the server sees EOF).
    pub fn shutdown_write(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }
}

/// Encodes an MPUB body: count, then size-prefixed messages.
pub fn mpub_body(bodies: &[&[u8]]) -> Vec<u8> {
    let mut out = (bodies.len() as i32).to_be_bytes().to_vec();
    for b in bodies {
        out.extend_from_slice(&(b.len() as i32).to_be_bytes());
        out.extend_from_slice(b);
    }
    out
}

/// Decodes the data of a message frame.
pub fn decode_message(data: &[u8]) -> Msg {
    assert!(data.len() >= 26, "short message frame");
    let mut id = [0u8; 16];
    id.copy_from_slice(&data[10..26]);
    Msg {
        timestamp: i64::from_be_bytes(data[..8].try_into().unwrap()),
        attempts: u16::from_be_bytes([data[8], data[9]]),
        id,
        body: data[26..].to_vec(),
    }
}

/// A subscribed consumer: IDENTIFY with `identify_json`, SUB, RDY `rdy`.
pub fn consumer(nsqd: &Nsqd, identify_json: &str, topic: &str, channel: &str, rdy: u64) -> Client {
    let mut c = nsqd.client();
    let f = c.identify(identify_json);
    assert_eq!(f.frame_type, 0, "{}", f.text());
    c.sub(topic, channel);
    c.rdy(rdy);
    c
}

/// An HTTP response as read off the wire.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", self.text()))
    }
}

/// Sends one HTTP/1.1 request with `Connection: close` and reads the whole response.
pub fn http(addr: SocketAddr, method: &str, target: &str, body: &[u8]) -> HttpResponse {
    let mut s = TcpStream::connect(addr).expect("connect http");
    s.set_read_timeout(Some(WAIT)).unwrap();
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read http response");
    parse_http_response(&raw).expect("one complete response")
}

/// Parses one response from `raw` (which must hold all of it).
pub fn parse_http_response(raw: &[u8]) -> Option<HttpResponse> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(raw.len() - end - 4);
    let body = raw.get(end + 4..end + 4 + len)?.to_vec();
    Some(HttpResponse {
        status,
        headers,
        body,
    })
}

/// Asserts that `topic` on `nsqd` holds nothing, read from the parsed `/stats` JSON:
/// the topic exists with depth 0, and each of its channels (at least one) has depth,
/// in-flight and deferred counts of 0.
pub fn assert_drained(nsqd: &Nsqd, topic: &str) {
    let stats = stats_json(nsqd, topic);
    let topics = stats["topics"].as_array().expect("stats has topics");
    let t = topics
        .iter()
        .find(|t| t["topic_name"] == topic)
        .unwrap_or_else(|| panic!("no topic {topic} in {stats}"));
    assert_eq!(t["depth"], 0, "topic depth in {t}");
    let channels = t["channels"].as_array().expect("topic has channels");
    assert!(!channels.is_empty(), "topic {topic} has no channel: {t}");
    for c in channels {
        for field in ["depth", "in_flight_count", "deferred_count"] {
            assert_eq!(c[field], 0, "{field} of channel in {c}");
        }
    }
}

/// nsqd's `/stats` JSON, filtered to `topic`.
pub fn stats_json(nsqd: &Nsqd, topic: &str) -> serde_json::Value {
    let target = format!("/stats?format=json&topic={topic}");
    http(nsqd.http, "GET", &target, b"").json()
}

/// Waits until `ok` holds, checking every 10 ms; fails the test after [`WAIT`]
/// (a deadline that only turns a hang into a failure).
pub fn eventually(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until the stderr reader behind `log` (from [`spawn_logged`]) has reached
/// the end of the pipe, so the log of an exited process is whole: the reader holds
/// the only other reference, dropped at EOF.
pub fn wait_whole_log(log: &Arc<Mutex<String>>) {
    eventually("the end of the log", || Arc::strong_count(log) == 1);
}

/// Waits until `log()` contains `needle` (log lines reach the test through a pipe
/// and a reader thread, after what they describe).
pub fn wait_log(log: impl Fn() -> String, needle: &str) {
    let deadline = Instant::now() + WAIT;
    while !log().contains(needle) {
        assert!(
            Instant::now() < deadline,
            "{needle:?} never logged:\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Reads (and drops) until the peer closes: true on EOF, false on an error or timeout.
pub fn closed_by_peer(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(_) => return false,
        }
    }
}

/// The bytes of a V2 command: `line\n`, then, if given, a 4-byte size and the body.
pub fn command_bytes(line: &str, body: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::from(line.as_bytes());
    out.push(b'\n');
    if let Some(body) = body {
        out.extend_from_slice(&(body.len() as i32).to_be_bytes());
        out.extend_from_slice(body);
    }
    out
}

/// Our own Producer and Consumer with `config` on a fresh nsqd: the first half of
/// `bodies` goes in one MPUB, the rest as PUBs; every one must arrive, and `/stats`
/// must contain `in_stats` (e.g. the negotiated compression) while they do.
pub fn client_round_trip(
    config: nsq::client::Config,
    topic: &str,
    bodies: Vec<Vec<u8>>,
    in_stats: &str,
) {
    let nsqd = Nsqd::start(&[]);
    let addr = nsqd.tcp.to_string();
    let producer = nsq::client::Producer::new(&addr, config.clone()).unwrap();
    let (batch, single) = bodies.split_at(bodies.len() / 2);
    producer.multi_publish(topic, batch).unwrap();
    for body in single {
        producer.publish(topic, body).unwrap();
    }
    let consumer = nsq::client::Consumer::new(topic, "c", config).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    consumer.add_handler(move |m| {
        let _ = tx.send(m.body.clone());
        Ok(())
    });
    consumer.connect_to_nsqd(&addr).unwrap();
    let stats = http(nsqd.http, "GET", "/stats?format=json", b"").text();
    assert!(stats.contains(in_stats), "{in_stats} not in {stats}");
    let want: std::collections::HashSet<Vec<u8>> = bodies.into_iter().collect();
    let mut seen = std::collections::HashSet::new();
    while seen.len() < want.len() {
        seen.insert(rx.recv_timeout(WAIT).expect("every message arrives"));
    }
    assert_eq!(seen, want);
    consumer.stop();
    assert!(consumer.wait_timeout(WAIT));
    producer.stop();
    assert_drained(&nsqd, topic);
}
