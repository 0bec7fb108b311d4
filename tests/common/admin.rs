//! nsqadmin test helpers: [`Admin`] runs the real `nsqadmin` binary on a free
//! loopback port (killed on drop); [`Cluster`] is nsqlookupd + two nsqd registered
//! with it + nsqadmin in lookupd mode; [`FakeHttp`] is a tiny HTTP server that
//! records every request and answers each with one fixed reply (a webhook endpoint,
//! or an "nsqd" answering garbage); [`Json`] parses JSON keeping the key order, so
//! tests can check the order Go writes keys in.

use super::{eventually, http, parse_http_response, spawn_logged, wait_for_addr, HttpResponse};
use super::{Lookupd, Nsqd, WAIT};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A running nsqadmin (killed on drop).
pub struct Admin {
    child: Child,
    /// Where its UI and API answer.
    pub http: SocketAddr,
    /// Its stderr so far.
    pub log: Arc<Mutex<String>>,
}

impl Admin {
    /// Starts nsqadmin on 127.0.0.1:0 with `args`.
    pub fn start(args: &[String]) -> Admin {
        let mut full = vec!["--http-address=127.0.0.1:0".to_string()];
        full.extend(args.iter().cloned());
        let (mut child, log) = spawn_logged(env!("CARGO_BIN_EXE_nsqadmin"), &full);
        let http = wait_for_addr(&mut child, &log, "HTTP: listening on ");
        Admin { child, http, log }
    }

    /// `GET target`.
    pub fn get(&self, target: &str) -> HttpResponse {
        http(self.http, "GET", target, b"")
    }

    /// `method target` with `body`.
    pub fn call(&self, method: &str, target: &str, body: &str) -> HttpResponse {
        request(self.http, method, target, &[], body.as_bytes())
    }

    /// `method target` with extra `headers` and `body`.
    pub fn call_with(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> HttpResponse {
        request(self.http, method, target, headers, body.as_bytes())
    }

    /// True while the process runs.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends signal `name` ("TERM", "KILL", ...).
    pub fn signal(&self, name: &str) {
        super::signal_child(&self.child, name);
    }

    /// Waits for the process to exit; its exit code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                super::wait_whole_log(&self.log);
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("nsqadmin did not exit: {}", self.log_text());
    }

    /// A copy of its stderr so far.
    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Admin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request with `Connection: close` and `headers` (a `Host` among them
/// replaces the default `Host: test`); the whole response.
pub fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let mut s = TcpStream::connect(addr).expect("connect http");
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut head = format!("{method} {target} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str("Host: test\r\n");
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    s.write_all(head.as_bytes()).unwrap();
    // A server may answer (413) and close before reading a large body.
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read http response");
    parse_http_response(&raw).expect("one complete response")
}

/// An nsqd that registers with `lookupd` under 127.0.0.1.
pub fn registered_nsqd(lookupd: &Lookupd) -> Nsqd {
    let tcp = format!("--lookupd-tcp-address={}", lookupd.tcp);
    Nsqd::start(&["--broadcast-address=127.0.0.1", &tcp])
}

/// nsqlookupd, two nsqd registered with it, nsqadmin in lookupd mode.
pub struct Cluster {
    pub admin: Admin,
    pub nsqd: Vec<Nsqd>,
    pub lookupd: Lookupd,
}

impl Cluster {
    /// Starts the cluster; `admin_args` go to nsqadmin after `--lookupd-http-address`.
    pub fn start(admin_args: &[&str]) -> Cluster {
        let lookupd = Lookupd::start(&[]);
        let nsqd = vec![registered_nsqd(&lookupd), registered_nsqd(&lookupd)];
        let mut args = vec![format!("--lookupd-http-address={}", lookupd.http)];
        args.extend(admin_args.iter().map(|a| a.to_string()));
        let admin = Admin::start(&args);
        Cluster {
            admin,
            nsqd,
            lookupd,
        }
    }

    /// nsqd `i` as nsqadmin names it (`broadcast_address:http_port`).
    pub fn node(&self, i: usize) -> String {
        self.nsqd[i].http.to_string()
    }

    /// nsqd `i`'s `POST target` (no body), which must answer 200.
    pub fn nsqd_post(&self, i: usize, target: &str, body: &str) {
        let r = http(self.nsqd[i].http, "POST", target, body.as_bytes());
        assert_eq!(r.status, 200, "nsqd POST {target}: {}", r.text());
    }

    /// Publishes `n` messages to `topic` on nsqd `i` (HTTP `/pub`).
    pub fn publish(&self, i: usize, topic: &str, n: usize) {
        for k in 0..n {
            self.nsqd_post(i, &format!("/pub?topic={topic}"), &format!("msg {k}"));
        }
    }

    /// Waits until lookupd lists exactly the nsqd `nodes` as producers of `topic`.
    pub fn wait_producers(&self, topic: &str, nodes: &[usize]) {
        let mut want: Vec<u16> = nodes.iter().map(|&i| self.nsqd[i].http.port()).collect();
        want.sort();
        eventually(&format!("lookupd to list {nodes:?} for {topic}"), || {
            let mut got = lookupd_producer_ports(&self.lookupd, topic);
            got.sort();
            got == want
        });
    }

    /// nsqd `i`'s `/stats` JSON.
    pub fn stats(&self, i: usize) -> serde_json::Value {
        let r = http(self.nsqd[i].http, "GET", "/stats?format=json", b"");
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }

    /// nsqd `i`'s topic `name` in `/stats`, if it has it.
    pub fn topic_on(&self, i: usize, name: &str) -> Option<serde_json::Value> {
        let stats = self.stats(i);
        stats["topics"]
            .as_array()?
            .iter()
            .find(|t| t["topic_name"] == name)
            .cloned()
    }

    /// nsqd `i`'s channel `channel` of `topic` in `/stats`, if it has it.
    pub fn channel_on(&self, i: usize, topic: &str, channel: &str) -> Option<serde_json::Value> {
        let t = self.topic_on(i, topic)?;
        t["channels"]
            .as_array()?
            .iter()
            .find(|c| c["channel_name"] == channel)
            .cloned()
    }
}

/// The HTTP ports of the producers lookupd lists for `topic` (none for an unknown
/// topic).
pub fn lookupd_producer_ports(lookupd: &Lookupd, topic: &str) -> Vec<u16> {
    let r = http(lookupd.http, "GET", &format!("/lookup?topic={topic}"), b"");
    if r.status != 200 {
        return Vec::new();
    }
    let json = r.json();
    (json["producers"].as_array().into_iter().flatten())
        .map(|p| p["http_port"].as_u64().expect("http_port") as u16)
        .collect()
}

/// lookupd's `GET target` as JSON (200 required).
pub fn lookupd_json(lookupd: &Lookupd, target: &str) -> serde_json::Value {
    let r = http(lookupd.http, "GET", target, b"");
    assert_eq!(r.status, 200, "lookupd GET {target}: {}", r.text());
    r.json()
}

/// lookupd's `POST target`, which must answer 200.
pub fn lookupd_post(lookupd: &Lookupd, target: &str) {
    let r = http(lookupd.http, "POST", target, b"");
    assert_eq!(r.status, 200, "lookupd POST {target}: {}", r.text());
}

/// An address nothing listens on (bound, then closed).
pub fn closed_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// A request [`FakeHttp`] received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
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
}

/// A loopback HTTP server answering every request with `status` and `body`
/// (`Connection: close`), recording what it got; stopped on drop.
pub struct FakeHttp {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeHttp {
    pub fn start(status: u16, body: &str) -> FakeHttp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let reply = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let (seen2, stop2) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((s, _)) => {
                        let (seen, reply) = (seen2.clone(), reply.clone());
                        std::thread::spawn(move || serve_one(s, &seen, &reply));
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeHttp {
            addr,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits for at least `n` requests; all of them.
    pub fn wait_for(&self, n: usize) -> Vec<Seen> {
        eventually(&format!("{n} requests at the fake server"), || {
            self.requests().len() >= n
        });
        self.requests()
    }
}

impl Drop for FakeHttp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one request (head and `Content-Length` body), records it, answers `reply`.
fn serve_one(mut s: TcpStream, seen: &Mutex<Vec<Seen>>, reply: &str) {
    let _ = s.set_nonblocking(false);
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + WAIT;
    let head_end = loop {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        match s.read(&mut buf) {
            Ok(n) if n > 0 && Instant::now() < deadline && raw.len() < 1 << 20 => {
                raw.extend_from_slice(&buf[..n])
            }
            _ => return,
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_string();
    let target = first.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = (headers.iter().find(|(k, _)| k == "content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = raw[head_end + 4..].to_vec();
    while body.len() < len {
        match s.read(&mut buf) {
            Ok(n) if n > 0 && Instant::now() < deadline => body.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    seen.lock().unwrap().push(Seen {
        method,
        target,
        headers,
        body,
    });
    let _ = s.write_all(reply.as_bytes());
}

/// A JSON value with its objects' keys in document order.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

static NULL: Json = Json::Null;

impl Json {
    /// Parses `text` (panics on invalid JSON).
    pub fn parse(text: &str) -> Json {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("bad JSON ({e}): {text}"))
    }

    /// An object's keys, in order (empty for anything else).
    pub fn keys(&self) -> Vec<&str> {
        match self {
            Json::Obj(fields) => fields.iter().map(|(k, _)| k.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    /// An object's field (`Null` when missing).
    pub fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(fields) => fields
                .iter()
                .find(|(k, _)| k == key)
                .map_or(&NULL, |(_, v)| v),
            _ => &NULL,
        }
    }

    /// An array's items (empty for anything else).
    pub fn items(&self) -> &[Json] {
        match self {
            Json::Arr(items) => items,
            _ => &[],
        }
    }
}

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
                Ok(Json::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Json, E> {
                Ok(Json::Num(n as f64))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Json, E> {
                Ok(Json::Num(n as f64))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Json, E> {
                Ok(Json::Num(n))
            }
            fn visit_str<E>(self, s: &str) -> Result<Json, E> {
                Ok(Json::Str(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> Result<Json, E> {
                Ok(Json::Str(s))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Json, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = a.next_element()? {
                    items.push(item);
                }
                Ok(Json::Arr(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Json, A::Error> {
                let mut fields = Vec::new();
                while let Some((k, v)) = a.next_entry()? {
                    fields.push((k, v));
                }
                Ok(Json::Obj(fields))
            }
        }
        d.deserialize_any(V)
    }
}
