//! Black-box tests of the nsqlookupd binary's HTTP API (NSQ-PROTOCOL.md §5): every
//! route's success and error answers with their headers and JSON shapes, producers
//! registered over raw V1 TCP bytes as they show in `/lookup`, `/nodes` and `/debug`,
//! disconnects, tombstones, the inactive-producer timeout, flags and signals.
mod common;

use common::held::Held;
use common::{eventually, http, HttpResponse, Lookupd, WAIT};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

const V1: &str = "nsq; version=1.0";
const JSON: &str = "application/json; charset=utf-8";

fn get(l: &Lookupd, target: &str) -> HttpResponse {
    http(l.http, "GET", target, b"")
}

fn post(l: &Lookupd, target: &str) -> HttpResponse {
    http(l.http, "POST", target, b"")
}

fn get_json(l: &Lookupd, target: &str) -> Value {
    let resp = get(l, target);
    assert_eq!(resp.status, 200, "{target}: {}", resp.text());
    assert_eq!(resp.header("x-nsq-content-type"), Some(V1), "{target}");
    assert_eq!(resp.header("content-type"), Some(JSON), "{target}");
    resp.json()
}

fn assert_error(resp: HttpResponse, status: u16, message: &str) {
    assert_eq!(resp.status, status, "{}", resp.text());
    assert_eq!(resp.text(), format!("{{\"message\":\"{message}\"}}"));
    assert_eq!(resp.header("x-nsq-content-type"), Some(V1));
    assert_eq!(resp.header("content-type"), Some(JSON));
}

fn assert_empty_ok(resp: HttpResponse) {
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert!(resp.body.is_empty(), "{}", resp.text());
    assert_eq!(resp.header("content-length"), Some("0"));
    assert_eq!(resp.header("x-nsq-content-type"), Some(V1));
}

fn sorted(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect();
    out.sort();
    out
}

/// HTTP ports our fake producers announce. Nothing listens on them and lookupd never
/// dials them: they are data that must come back in `/lookup`, `/nodes` and `/debug`.
const HTTP_A: u16 = 7151;
const HTTP_B: u16 = 8151;

/// A raw V1 (nsqd → nsqlookupd) connection.
struct Producer {
    s: TcpStream,
}

impl Producer {
    /// Connects, sends the magic and IDENTIFYs with `http_port`; returns the reply too.
    fn identify(addr: SocketAddr, http_port: u16) -> (Producer, Value) {
        let s = TcpStream::connect(addr).expect("connect lookupd tcp");
        s.set_read_timeout(Some(WAIT)).unwrap();
        let mut p = Producer { s };
        p.s.write_all(b"  V1").unwrap();
        let body = format!(
            r#"{{"broadcast_address":"127.0.0.1","hostname":"h","http_port":{http_port},"tcp_port":{},"version":"1.3.0"}}"#,
            http_port - 1
        );
        let mut out = b"IDENTIFY\n".to_vec();
        out.extend_from_slice(&(body.len() as i32).to_be_bytes());
        out.extend_from_slice(body.as_bytes());
        p.s.write_all(&out).unwrap();
        let reply = p.read_reply();
        let reply = serde_json::from_str(&reply).unwrap_or_else(|e| panic!("{e}: {reply}"));
        (p, reply)
    }

    fn read_reply(&mut self) -> String {
        let mut size = [0u8; 4];
        self.s.read_exact(&mut size).expect("reply size");
        let mut data = vec![0u8; i32::from_be_bytes(size) as usize];
        self.s.read_exact(&mut data).expect("reply data");
        String::from_utf8(data).unwrap()
    }

    /// Sends `line` and expects `OK`.
    fn ok(&mut self, line: &str) {
        self.s.write_all(format!("{line}\n").as_bytes()).unwrap();
        assert_eq!(self.read_reply(), "OK", "{line}");
    }

    /// The `ip:port` lookupd sees for this connection.
    fn id(&self) -> String {
        self.s.local_addr().unwrap().to_string()
    }
}

fn producers(l: &Lookupd, topic: &str) -> Vec<Value> {
    get_json(l, &format!("/lookup?topic={topic}"))["producers"]
        .as_array()
        .expect("producers array")
        .clone()
}

fn nodes(l: &Lookupd) -> Vec<Value> {
    get_json(l, "/nodes")["producers"]
        .as_array()
        .expect("producers array")
        .clone()
}

#[test]
fn ping_info_and_router_answers() {
    let l = Lookupd::start(&[]);
    let ping = get(&l, "/ping");
    assert_eq!((ping.status, ping.text()), (200, "OK".to_string()));
    assert_eq!(ping.header("x-nsq-content-type"), None);
    assert_eq!(
        ping.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let info = get(&l, "/info");
    assert_eq!(info.text(), r#"{"version":"1.3.0"}"#);
    assert_eq!(info.header("x-nsq-content-type"), Some(V1));
    assert_error(get(&l, "/nope"), 404, "NOT_FOUND");
    assert_error(get(&l, "/create_topic?topic=t"), 404, "NOT_FOUND");
    let wrong = get(&l, "/topic/create?topic=t");
    assert_eq!(wrong.header("allow"), Some("OPTIONS, POST"));
    assert_error(wrong, 405, "METHOD_NOT_ALLOWED");
    let wrong = post(&l, "/lookup?topic=t");
    assert_eq!(wrong.header("allow"), Some("GET, OPTIONS"));
    assert_error(wrong, 405, "METHOD_NOT_ALLOWED");
    let options = http(l.http, "OPTIONS", "/nodes", b"");
    assert_eq!(options.status, 200);
    assert_eq!(options.header("allow"), Some("GET, OPTIONS"));
    let redirect = get(&l, "/topics/");
    assert_eq!(redirect.status, 301);
    assert_eq!(redirect.header("location"), Some("/topics"));
    let log = l.log_text();
    assert!(
        !log.is_empty() && log.lines().all(|line| line.starts_with("[nsqlookupd] ")),
        "{log}"
    );
}

#[test]
fn empty_database_answers_empty_arrays() {
    let l = Lookupd::start(&[]);
    assert_eq!(get(&l, "/topics").text(), r#"{"topics":[]}"#);
    assert_eq!(get(&l, "/channels?topic=t").text(), r#"{"channels":[]}"#);
    assert_eq!(get(&l, "/nodes").text(), r#"{"producers":[]}"#);
    assert_eq!(get(&l, "/debug").text(), "{}");
    assert_error(get(&l, "/lookup?topic=t"), 404, "TOPIC_NOT_FOUND");
}

#[test]
fn create_list_and_delete_topics_and_channels() {
    let l = Lookupd::start(&[]);
    assert_empty_ok(post(&l, "/topic/create?topic=t1"));
    assert_eq!(get_json(&l, "/topics"), json!({"topics": ["t1"]}));
    assert_eq!(
        get_json(&l, "/lookup?topic=t1"),
        json!({"channels": [], "producers": []})
    );
    // The topic need not exist: both keys are created.
    assert_empty_ok(post(&l, "/channel/create?topic=t2&channel=c1"));
    assert_empty_ok(post(&l, "/channel/create?topic=t2&channel=c2%23ephemeral"));
    assert_eq!(sorted(&get_json(&l, "/topics")["topics"]), ["t1", "t2"]);
    assert_eq!(
        sorted(&get_json(&l, "/channels?topic=t2")["channels"]),
        ["c1", "c2#ephemeral"]
    );
    let lookup = get_json(&l, "/lookup?topic=t2");
    assert_eq!(sorted(&lookup["channels"]), ["c1", "c2#ephemeral"]);
    assert_eq!(lookup["producers"], json!([]));
    // Creating twice is fine.
    assert_empty_ok(post(&l, "/channel/create?topic=t2&channel=c1"));
    assert_empty_ok(post(&l, "/channel/delete?topic=t2&channel=c1"));
    assert_error(
        post(&l, "/channel/delete?topic=t2&channel=c1"),
        404,
        "CHANNEL_NOT_FOUND",
    );
    assert_eq!(
        get_json(&l, "/channels?topic=t2"),
        json!({"channels": ["c2#ephemeral"]})
    );
    assert_empty_ok(post(&l, "/topic/delete?topic=t2"));
    assert_eq!(get_json(&l, "/topics"), json!({"topics": ["t1"]}));
    assert_eq!(get_json(&l, "/channels?topic=t2"), json!({"channels": []}));
    assert_error(get(&l, "/lookup?topic=t2"), 404, "TOPIC_NOT_FOUND");
    // Deleting an unknown topic succeeds; its name is not validated.
    assert_empty_ok(post(&l, "/topic/delete?topic=nope"));
    assert_empty_ok(post(&l, "/topic/delete?topic=bad*name"));
    assert_empty_ok(post(&l, "/topic/delete?topic=t1"));
    assert_eq!(get(&l, "/topics").text(), r#"{"topics":[]}"#);
}

#[test]
fn parameter_errors_have_nsqlookupd_codes() {
    let l = Lookupd::start(&[]);
    for (method, target) in [
        ("GET", "/channels"),
        ("GET", "/lookup"),
        ("POST", "/topic/create"),
        ("POST", "/topic/delete?channel=c"),
        ("POST", "/channel/create?channel=c"),
        ("POST", "/channel/delete"),
        ("POST", "/topic/tombstone?node=127.0.0.1:7151"),
    ] {
        assert_error(http(l.http, method, target, b""), 400, "MISSING_ARG_TOPIC");
    }
    for target in [
        "/topic/create?topic=",
        "/topic/create?topic=a%2Fb",
        "/channel/create?topic=bad*&channel=c",
        "/channel/delete?topic=&channel=c",
    ] {
        assert_error(post(&l, target), 400, "INVALID_ARG_TOPIC");
    }
    assert_error(
        post(&l, "/topic/create?topic=0123456789012345678901234567890123456789012345678901234567890123456789"),
        400,
        "INVALID_ARG_TOPIC",
    );
    assert_error(
        post(&l, "/channel/create?topic=t"),
        400,
        "MISSING_ARG_CHANNEL",
    );
    assert_error(
        post(&l, "/channel/delete?topic=t"),
        400,
        "MISSING_ARG_CHANNEL",
    );
    assert_error(
        post(&l, "/channel/create?topic=t&channel=c%20d"),
        400,
        "INVALID_ARG_CHANNEL",
    );
    assert_error(
        post(&l, "/channel/delete?topic=t&channel="),
        400,
        "INVALID_ARG_CHANNEL",
    );
    assert_error(
        post(&l, "/topic/tombstone?topic=t"),
        400,
        "MISSING_ARG_NODE",
    );
    for (method, target) in [
        ("GET", "/channels?topic=%zz"),
        ("GET", "/lookup?topic=t;x"),
        ("POST", "/topic/create?topic=%"),
        ("POST", "/topic/delete?topic=%g1"),
        ("POST", "/channel/create?topic=t&channel=%"),
        ("POST", "/channel/delete?topic=t&channel=%"),
        ("POST", "/topic/tombstone?topic=t&node=%"),
    ] {
        assert_error(http(l.http, method, target, b""), 400, "INVALID_REQUEST");
    }
    assert_error(
        post(&l, "/channel/delete?topic=t&channel=c"),
        404,
        "CHANNEL_NOT_FOUND",
    );
    // Tombstoning an unknown topic or node is silently fine.
    assert_empty_ok(post(&l, "/topic/tombstone?topic=t&node=127.0.0.1:7151"));
    // None of the failures created anything.
    assert_eq!(get(&l, "/topics").text(), r#"{"topics":[]}"#);
}

#[test]
fn registered_producer_shows_in_lookup_nodes_and_debug_until_it_disconnects() {
    let l = Lookupd::start(&[]);
    let (mut p, reply) = Producer::identify(l.tcp, HTTP_A);
    assert_eq!(reply["broadcast_address"], "127.0.0.1");
    assert_eq!(reply["tcp_port"], l.tcp.port());
    assert_eq!(reply["http_port"], l.http.port());
    assert_eq!(reply["version"], "1.3.0");
    assert!(reply["hostname"].is_string());
    p.ok("REGISTER t c");
    p.ok("REGISTER u");
    let id = p.id();
    let peer = format!(
        r#"{{"remote_address":"{id}","hostname":"h","broadcast_address":"127.0.0.1","tcp_port":7150,"http_port":7151,"version":"1.3.0","topology_zone":"","topology_region":""}}"#
    );
    assert_eq!(
        get(&l, "/lookup?topic=t").text(),
        format!(r#"{{"channels":["c"],"producers":[{peer}]}}"#)
    );
    let node_text = get(&l, "/nodes").text();
    let node: Value = serde_json::from_str(&node_text).unwrap();
    let topics = sorted(&node["producers"][0]["topics"]);
    assert_eq!(topics, ["t", "u"]);
    assert_eq!(node["producers"][0]["tombstones"], json!([false, false]));
    let head = peer.trim_end_matches('}');
    assert!(
        node_text.starts_with(&format!(r#"{{"producers":[{head},"tombstones":["#)),
        "{node_text}"
    );
    assert_eq!(node["producers"].as_array().unwrap().len(), 1);

    let debug = get_json(&l, "/debug");
    let mut keys: Vec<&String> = debug.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["channel:t:c", "client::", "topic:t:", "topic:u:"]);
    let entry = &debug["topic:t:"][0];
    assert_eq!(entry["id"], id.as_str());
    assert_eq!(entry["hostname"], "h");
    assert_eq!(entry["broadcast_address"], "127.0.0.1");
    assert_eq!(entry["tcp_port"], HTTP_A - 1);
    assert_eq!(entry["http_port"], HTTP_A);
    assert_eq!(entry["version"], "1.3.0");
    assert_eq!(entry["tombstoned"], false);
    assert_eq!(entry["tombstoned_at"], json!(-6795364578871345152i64));
    assert!(entry["last_update"].as_i64().unwrap() > 1_600_000_000_000_000_000);

    // A second producer on the same topic.
    let (mut p2, _) = Producer::identify(l.tcp, HTTP_B);
    p2.ok("REGISTER t");
    assert_eq!(producers(&l, "t").len(), 2);
    assert_eq!(nodes(&l).len(), 2);

    drop(p);
    eventually("the producer to leave /nodes", || nodes(&l).len() == 1);
    let left = producers(&l, "t");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["http_port"], HTTP_B);
    // The keys stay after their producer leaves.
    assert_eq!(
        get_json(&l, "/lookup?topic=u"),
        json!({"channels": [], "producers": []})
    );
    assert_eq!(sorted(&get_json(&l, "/topics")["topics"]), ["t", "u"]);
    assert_eq!(
        get_json(&l, "/channels?topic=t"),
        json!({"channels": ["c"]})
    );

    drop(p2);
    eventually("every producer to leave", || nodes(&l).is_empty());
    assert_eq!(
        get_json(&l, "/lookup?topic=t"),
        json!({"channels": ["c"], "producers": []})
    );
    assert_eq!(get(&l, "/debug").text(), "{}");
}

#[test]
fn http_delete_removes_keys_with_their_producers() {
    let l = Lookupd::start(&[]);
    let (mut p, _) = Producer::identify(l.tcp, HTTP_A);
    p.ok("REGISTER t c");
    assert_empty_ok(post(&l, "/channel/delete?topic=t&channel=c"));
    assert_eq!(get_json(&l, "/channels?topic=t"), json!({"channels": []}));
    assert_empty_ok(post(&l, "/topic/delete?topic=t"));
    assert_error(get(&l, "/lookup?topic=t"), 404, "TOPIC_NOT_FOUND");
    let node = &nodes(&l)[0];
    assert_eq!(
        (&node["topics"], &node["tombstones"]),
        (&json!([]), &json!([]))
    );
}

/// Two producers `a` (HTTP_A) and `b` (HTTP_B) registered on t1, t2 and t3.
fn two_producers_on_three_topics(l: &Lookupd) -> (Producer, Producer) {
    let (mut a, _) = Producer::identify(l.tcp, HTTP_A);
    let (mut b, _) = Producer::identify(l.tcp, HTTP_B);
    for topic in ["t1", "t2", "t3"] {
        a.ok(&format!("REGISTER {topic}"));
        b.ok(&format!("REGISTER {topic}"));
    }
    (a, b)
}

/// `POST /topic/tombstone?topic=t2&node=<a>`.
fn tombstone_a_on_t2(l: &Lookupd) {
    assert_empty_ok(post(
        l,
        &format!("/topic/tombstone?topic=t2&node=127.0.0.1:{HTTP_A}"),
    ));
}

/// `/nodes` as `http_port → [(topic, tombstoned)]`, topics sorted.
fn tombstones_by_node(l: &Lookupd) -> BTreeMap<u64, Vec<(String, bool)>> {
    nodes(l)
        .iter()
        .map(|node| {
            let topics = node["topics"].as_array().expect("topics");
            let tombstones = node["tombstones"].as_array().expect("tombstones");
            assert_eq!(tombstones.len(), topics.len(), "{node}");
            let mut pairs: Vec<(String, bool)> = topics
                .iter()
                .zip(tombstones)
                .map(|(t, x)| (t.as_str().unwrap().to_string(), x.as_bool().unwrap()))
                .collect();
            pairs.sort();
            (node["http_port"].as_u64().expect("http_port"), pairs)
        })
        .collect()
}

fn pairs(tombstoned_t2: bool) -> Vec<(String, bool)> {
    [("t1", false), ("t2", tombstoned_t2), ("t3", false)]
        .iter()
        .map(|&(t, x)| (t.to_string(), x))
        .collect()
}

#[test]
fn tombstone_hides_a_producer_for_one_topic_and_survives_re_registering() {
    // A lifetime far beyond the test: every check below happens within it.
    let l = Lookupd::start(&["--tombstone-lifetime=1h"]);
    let (mut a, _b) = two_producers_on_three_topics(&l);
    tombstone_a_on_t2(&l);
    let left = producers(&l, "t2");
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["http_port"], HTTP_B);
    assert_eq!(producers(&l, "t1").len(), 2);
    assert_eq!(producers(&l, "t3").len(), 2);
    let want: BTreeMap<u64, Vec<(String, bool)>> = [
        (u64::from(HTTP_A), pairs(true)),
        (u64::from(HTTP_B), pairs(false)),
    ]
    .into();
    assert_eq!(tombstones_by_node(&l), want);
    let debug = get_json(&l, "/debug");
    let entries = debug["topic:t2:"].as_array().expect("topic:t2: entries");
    assert_eq!(entries.len(), 2, "{debug}");
    for entry in entries {
        let is_a = entry["http_port"] == HTTP_A;
        assert_eq!(entry["tombstoned"], is_a, "{entry}");
        let at = entry["tombstoned_at"].as_i64().expect("tombstoned_at");
        if is_a {
            assert!(at > 1_600_000_000_000_000_000, "{entry}");
        } else {
            assert_eq!(at, -6795364578871345152i64, "{entry}");
        }
    }
    // Re-registering does not clear the tombstone.
    a.ok("REGISTER t2");
    let left = producers(&l, "t2");
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["http_port"], HTTP_B);
    assert_eq!(tombstones_by_node(&l), want);
}

#[test]
fn a_tombstone_ends_with_its_lifetime() {
    const LIFETIME: Duration = Duration::from_secs(1);
    let l = Lookupd::start(&["--tombstone-lifetime=1s"]);
    let (_a, _b) = two_producers_on_three_topics(&l);
    // lookupd stamps the tombstone after this instant, so it cannot end before
    // `LIFETIME` has passed from here (a lower bound; there is no upper one).
    let start = Instant::now();
    tombstone_a_on_t2(&l);
    eventually("the tombstone to expire", || producers(&l, "t2").len() == 2);
    assert!(
        start.elapsed() >= LIFETIME,
        "tombstone ended after {:?}, before its lifetime",
        start.elapsed()
    );
    let want: BTreeMap<u64, Vec<(String, bool)>> = [
        (u64::from(HTTP_A), pairs(false)),
        (u64::from(HTTP_B), pairs(false)),
    ]
    .into();
    assert_eq!(tombstones_by_node(&l), want);
}

#[test]
fn silent_producers_go_inactive_and_ping_brings_them_back() {
    const TIMEOUT: Duration = Duration::from_secs(1);
    let l = Lookupd::start(&["--inactive-producer-timeout=1s"]);
    // lookupd's last-heard time is taken after this instant (a lower bound only).
    let start = Instant::now();
    let (mut p, _) = Producer::identify(l.tcp, HTTP_A);
    p.ok("REGISTER t c");
    eventually("the producer to go inactive", || nodes(&l).is_empty());
    assert!(
        start.elapsed() >= TIMEOUT,
        "inactive after {:?}, before the timeout",
        start.elapsed()
    );
    assert!(producers(&l, "t").is_empty());
    // Still registered: /debug lists it, the keys stay.
    assert!(get_json(&l, "/debug").get("topic:t:").is_some());
    assert_eq!(
        get_json(&l, "/channels?topic=t"),
        json!({"channels": ["c"]})
    );
    // A PING makes it active again. Were this machine so slow that a whole timeout
    // passed between the PING and the queries, it would rightly be inactive again:
    // then (and only then) ping again; the loop cannot end without a pass.
    loop {
        let sent = Instant::now();
        p.ok("PING");
        let (nodes_now, producers_now) = (nodes(&l).len(), producers(&l, "t").len());
        if (nodes_now, producers_now) == (1, 1) {
            break;
        }
        assert!(
            sent.elapsed() >= TIMEOUT,
            "a PING did not make the producer active: {nodes_now} nodes, {producers_now} producers"
        );
    }
}

fn run_lookupd(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nsqlookupd"))
        .args(args)
        .output()
        .expect("run nsqlookupd");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The flags a Go-style usage text lists: `  -name [type]` lines.
fn flags_in_help(help: &str) -> Vec<String> {
    help.lines()
        .filter_map(|line| line.strip_prefix("  -"))
        .map(|rest| rest.split(' ').next().unwrap().to_string())
        .collect()
}

#[test]
fn help_version_and_bad_flags() {
    let (code, stdout, stderr) = run_lookupd(&["--help"]);
    assert_eq!(code, Some(0));
    let help = stdout + &stderr;
    let listed = flags_in_help(&help);
    for flag in [
        "tcp-address",
        "http-address",
        "broadcast-address",
        "inactive-producer-timeout",
        "tombstone-lifetime",
        "log-level",
        "log-prefix",
        "config",
        "version",
        "verbose",
    ] {
        assert!(
            listed.iter().any(|f| f == flag),
            "help lacks -{flag}: {help}"
        );
    }
    let (code, stdout, _) = run_lookupd(&["--version"]);
    assert_eq!(code, Some(0));
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("nsqlookupd v1.3.0 "), "{stdout}");
    for args in [
        &["--no-such-flag"][..],
        &["--tombstone-lifetime=10"],
        &["--inactive-producer-timeout", "x"],
        &["--log-level=loud"],
        &["--config=x.toml"],
        &["extra"],
    ] {
        let (code, _, stderr) = run_lookupd(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    }
}

/// On `signal`, nsqlookupd closes the registration connection itself, while it is
/// still running, and then exits 0.
fn closes_clients_then_exits_0_on(signal: &str) {
    let args = [
        "--tcp-address=127.0.0.1:0",
        "--http-address=127.0.0.1:0",
        "--broadcast-address=127.0.0.1",
    ]
    .map(String::from);
    let mut l = Held::start(env!("CARGO_BIN_EXE_nsqlookupd"), &args);
    let tcp = l.addr("TCP: listening on ");
    let (mut p, _) = Producer::identify(tcp, HTTP_A);
    p.ok("REGISTER t");
    let me = p.id();
    // lookupd shuts a connection down, then logs that it left (the next line says
    // its registrations went): hold lookupd right after that first line.
    let exit_line = format!("INFO: PROTOCOL(V1): [{me}] exiting ioloop");
    l.stop_at(move |line| line == exit_line);
    l.signal(signal);
    l.wait_stopped();
    // Closed cleanly (EOF, no reset, nothing sent) by lookupd itself: the process is
    // blocked in its next log line, so the kernel has closed nothing on its behalf.
    let mut buf = [0u8; 64];
    let read = p.s.read(&mut buf).map_err(|e| e.kind());
    let alive = l.alive();
    assert_eq!(read, Ok(0), "registration connection not closed by lookupd");
    assert!(alive, "nsqlookupd exited while its log was held");
    l.release();
    assert_eq!(l.wait_exit(), Some(0), "{:#?}", l.lines());
    let lines = l.lines();
    let at = |line: &str| {
        lines
            .iter()
            .position(|x| x == line)
            .unwrap_or_else(|| panic!("no line {line:?} in {lines:#?}"))
    };
    let closing = at("INFO: TCP: closing 1 clients");
    let exiting = at(&format!("INFO: PROTOCOL(V1): [{me}] exiting ioloop"));
    let removed = at(&format!(
        "INFO: DB: client({me}) removed from every registration"
    ));
    assert!(closing < exiting && exiting < removed, "{lines:#?}");
    assert!(
        lines.iter().all(|l| !l.starts_with("UNPREFIXED")),
        "{lines:#?}"
    );
}

#[test]
fn sigterm_closes_clients_then_exits_0() {
    closes_clients_then_exits_0_on("TERM");
}

#[test]
fn sigint_closes_clients_then_exits_0() {
    closes_clients_then_exits_0_on("INT");
}

#[test]
fn logs_listen_addresses_with_the_prefix() {
    let l = Lookupd::start(&["--log-prefix=[lk] "]);
    let log = l.log_text();
    // `[lk] <26-character timestamp> INFO: <message>`
    let messages: Vec<&str> = log
        .lines()
        .map(|line| {
            line.strip_prefix("[lk] ")
                .and_then(|rest| rest.get(27..))
                .unwrap_or_else(|| panic!("not a prefixed log line: {line:?}"))
        })
        .collect();
    for want in [
        format!("INFO: TCP: listening on {}", l.tcp),
        format!("INFO: HTTP: listening on {}", l.http),
    ] {
        assert!(messages.contains(&want.as_str()), "no {want:?} in {log}");
    }
}
