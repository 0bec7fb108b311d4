//! Black-box tests of the `nsq_to_nsq` binary between real nsqds (and nsqlookupd):
//! 10,000 messages bridged exactly once, every source message ends FIN'd; a
//! destination outage mid-stream (SIGTERM and restart on the same port and data,
//! SIGKILL of a `--sync-every=1` nsqd and restart, or SIGSTOP/SIGCONT) loses nothing
//! and duplicates at most what was in flight (a PUB whose OK died with its
//! connection is sent again); the JSON filter's observed examples; round-robin over
//! two destinations; Go's command lines, flags, checks and exit codes; SIGTERM
//! mid-stream exits 0 with every message either at the destination or still at the
//! source, once. No wall-clock assertions: every wait is bounded and only turns a
//! hang into a failure.
mod common;

use common::node::{self, Dir, Node};
use common::{http, Lookupd, Nsqd};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the tool may take to move everything (it shares two cores with other tests).
const MOVE_WAIT: Duration = Duration::from_secs(90);

/// A running nsq_to_nsq with its stderr collected (killed on drop).
struct Tool {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Tool {
    fn start(args: &[String]) -> Tool {
        let (child, log) = common::spawn_logged(env!("CARGO_BIN_EXE_nsq_to_nsq"), args);
        Tool { child, log }
    }

    fn log_text(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// SIGTERM, then the exit code once it has exited.
    fn term(&mut self) -> Option<i32> {
        common::signal_child(&self.child, "TERM");
        let deadline = Instant::now() + MOVE_WAIT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                common::wait_whole_log(&self.log);
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("nsq_to_nsq did not exit after SIGTERM: {}", self.log_text());
    }

    /// Polls `ok` every 20 ms; fails after [`MOVE_WAIT`], or at once if the tool exited.
    fn wait_for(&mut self, what: &str, mut ok: impl FnMut() -> bool) {
        let deadline = Instant::now() + MOVE_WAIT;
        while !ok() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "nsq_to_nsq exited ({status}) before {what}: {}",
                    self.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Tool {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Runs the tool to completion (flag errors, help, version): (code, stdout, stderr).
fn run(list: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nsq_to_nsq"))
        .args(list)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nsq_to_nsq");
    let deadline = Instant::now() + common::WAIT;
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("nsq_to_nsq {list:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().expect("output");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// Publishes `bodies` (no newlines) to `topic` with HTTP `/mpub`, 1,000 at a time.
fn mpub(http_addr: SocketAddr, topic: &str, bodies: &[String]) {
    for chunk in bodies.chunks(1000) {
        let r = http(
            http_addr,
            "POST",
            &format!("/mpub?topic={topic}"),
            chunk.join("\n").as_bytes(),
        );
        assert_eq!(r.status, 200, "mpub: {}", r.text());
    }
}

fn stats(http_addr: SocketAddr) -> Value {
    let r = http(http_addr, "GET", "/stats?format=json", b"");
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// A topic's counter (`depth`, `message_count`); 0 while the topic does not exist.
fn topic_num(http_addr: SocketAddr, topic: &str, field: &str) -> u64 {
    let s = stats(http_addr);
    let found = s["topics"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["topic_name"] == topic));
    found.map_or(0, |t| node::num(&t[field]))
}

/// A channel's counters by name; empty while it does not exist.
fn channel_nums(http_addr: SocketAddr, topic: &str, channel: &str) -> BTreeMap<String, u64> {
    let s = stats(http_addr);
    let Some(t) = s["topics"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["topic_name"] == topic))
    else {
        return BTreeMap::new();
    };
    let Some(c) = t["channels"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["channel_name"] == channel))
    else {
        return BTreeMap::new();
    };
    let fields = [
        "depth",
        "in_flight_count",
        "deferred_count",
        "message_count",
        "requeue_count",
    ];
    fields
        .iter()
        .map(|f| (f.to_string(), node::num(&c[*f])))
        .collect()
}

/// True once `channel` has received `total` messages and holds none: each was FIN'd.
fn all_finished(http_addr: SocketAddr, topic: &str, channel: &str, total: u64) -> bool {
    let c = channel_nums(http_addr, topic, channel);
    c.get("message_count") == Some(&total)
        && ["depth", "in_flight_count", "deferred_count"]
            .iter()
            .all(|f| c[*f] == 0)
        && topic_num(http_addr, topic, "depth") == 0
}

/// Reads `n` messages of `topic` on `tcp` (channel `check`), FIN'ing each; then
/// checks that nothing more comes.
fn read_all(tcp: SocketAddr, topic: &str, n: usize) -> Vec<String> {
    let mut c = common::Client::connect(tcp);
    c.sub(topic, "check");
    c.rdy(2500);
    let mut bodies = Vec::with_capacity(n);
    while bodies.len() < n {
        let m = c.read_message();
        c.fin(&m.id);
        bodies.push(String::from_utf8(m.body).expect("utf-8 body"));
    }
    assert!(
        c.try_read_message(Duration::from_millis(200)).is_none(),
        "more than {n} messages"
    );
    bodies
}

fn bodies(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}-{i:05}")).collect()
}

/// Checks every sent body arrived; returns how many arrived more than once.
fn duplicates(sent: &[String], got: &[String]) -> usize {
    let want: BTreeSet<&String> = sent.iter().collect();
    let seen: BTreeSet<&String> = got.iter().collect();
    let missing: Vec<&&String> = want.difference(&seen).take(5).collect();
    assert!(
        missing.is_empty(),
        "lost {} messages, e.g. {missing:?}",
        want.len() - seen.intersection(&want).count()
    );
    assert!(seen.is_subset(&want), "unexpected bodies arrived");
    got.len() - seen.len()
}

fn bridge_args(src: SocketAddr, dst: SocketAddr, extra: &[&str]) -> Vec<String> {
    let mut list = args(&["--topic=src", "--destination-topic=dst"]);
    list.push(format!("--nsqd-tcp-address={src}"));
    list.push(format!("--destination-nsqd-tcp-address={dst}"));
    list.extend(args(extra));
    list
}

#[test]
fn ten_thousand_messages_are_bridged_exactly_once_and_all_finished() {
    let (a, b) = (Nsqd::start(&[]), Nsqd::start(&[]));
    let sent = bodies("m", 0..10_000);
    mpub(a.http, "src", &sent);
    let mut tool = Tool::start(&bridge_args(a.tcp, b.tcp, &[]));
    tool.wait_for("every message FIN'd at A", || {
        all_finished(a.http, "src", "nsq_to_nsq", 10_000)
    });
    assert_eq!(topic_num(b.http, "dst", "message_count"), 10_000);
    assert_eq!(tool.term(), Some(0), "{}", tool.log_text());
    let got = read_all(b.tcp, "dst", 10_000);
    assert_eq!(duplicates(&sent, &got), 0, "exactly once without an outage");
    let c = channel_nums(a.http, "src", "nsq_to_nsq");
    assert_eq!(c["requeue_count"], 0, "{c:?}");
    let log = tool.log_text();
    let lines = log.matches("[aggregate]: finished 250 - 99th: ").count();
    assert_eq!(
        lines, 39,
        "a status line per 250 after the first 250: {log}"
    );
    assert!(
        !log.contains(&format!("[{}]:", b.tcp)),
        "no per-address lines with one destination"
    );
}

/// A bridge run with B about to go away: A, the tool, the bodies, the publisher.
struct Run {
    a: Nsqd,
    tool: Tool,
    sent: Vec<String>,
    publisher: std::thread::JoinHandle<()>,
}

/// 10,000 messages for an outage of B: the first 2,500 before the tool starts, the
/// rest published while it runs (so PUBs are in flight when B goes away); returns
/// once B is mid-stream.
fn begin_outage_run(b_tcp: SocketAddr, b_http: SocketAddr) -> Run {
    let a = Nsqd::start(&[]);
    let sent = bodies("o", 0..10_000);
    mpub(a.http, "src", &sent[..2500]);
    let opts = [
        "--consumer-opt=default_requeue_delay,100ms",
        "--consumer-opt=backoff_multiplier,50ms",
        "--consumer-opt=max_backoff_duration,1s",
        // No "giving up" however often B refuses a message: nothing may be dropped.
        "--consumer-opt=max_attempts,0",
    ];
    let mut tool = Tool::start(&bridge_args(a.tcp, b_tcp, &opts));
    tool.wait_for("the first 2,500 at B", || {
        topic_num(b_http, "dst", "message_count") >= 2500
    });
    let (more, a_http) = (sent[2500..].to_vec(), a.http);
    let publisher = std::thread::spawn(move || {
        for chunk in more.chunks(250) {
            mpub(a_http, "src", chunk);
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    tool.wait_for("B to be mid-stream", || {
        topic_num(b_http, "dst", "message_count") >= 3500
    });
    Run {
        a,
        tool,
        sent,
        publisher,
    }
}

/// After the outage: everything FIN'd at A, SIGTERM exits 0, B holds every body.
/// Returns how many arrived twice (at most what can be in flight).
fn end_outage_run(mut run: Run, b_tcp: SocketAddr, b_http: SocketAddr, outage: &str) -> usize {
    run.publisher.join().expect("publisher");
    let a_http = run.a.http;
    run.tool.wait_for("every message FIN'd at A", || {
        all_finished(a_http, "src", "nsq_to_nsq", 10_000)
    });
    assert_eq!(run.tool.term(), Some(0), "{}", run.tool.log_text());
    // After a restart B's counters start again: its depth is what it holds.
    let held = topic_num(b_http, "dst", "depth") as usize;
    let got = read_all(b_tcp, "dst", held);
    let dups = duplicates(&run.sent, &got);
    let requeued = channel_nums(a_http, "src", "nsq_to_nsq")["requeue_count"];
    eprintln!(
        "{outage}: {} delivered to B for 10000 sent, {dups} duplicates, {requeued} REQs at A",
        got.len()
    );
    assert!(
        dups <= 200,
        "{dups} duplicates: at most what was in flight (--max-in-flight 200)"
    );
    dups
}

/// B goes away mid-stream (SIGTERM, or SIGKILL of an nsqd that OKs a PUB only once
/// it is fsynced), stays down about 2 s, and comes back on the same ports and data.
fn restart_destination(kill: bool) -> usize {
    let dir = Dir::new("n2n-b");
    let durable = ["--mem-queue-size=0", "--sync-every=1"];
    let b_args: &[&str] = if kill { &durable } else { &[] };
    let b = Node::start(&dir.0, b_args);
    let (tcp, http_addr) = (b.tcp, b.http);
    let run = begin_outage_run(tcp, http_addr);
    if kill {
        b.kill9();
    } else {
        b.stop();
    }
    std::thread::sleep(Duration::from_secs(2));
    let (tcp_flag, http_flag) = (
        format!("--tcp-address={tcp}"),
        format!("--http-address={http_addr}"),
    );
    let mut again = vec![tcp_flag.as_str(), http_flag.as_str()];
    again.extend_from_slice(b_args);
    let b = Node::start(&dir.0, &again);
    let outage = if kill {
        "B killed (SIGKILL)"
    } else {
        "B restarted (SIGTERM)"
    };
    end_outage_run(run, b.tcp, b.http, outage)
}

#[test]
fn a_destination_restart_loses_nothing() {
    restart_destination(false);
}

#[test]
fn a_killed_destination_loses_nothing() {
    restart_destination(true);
}

#[test]
fn a_frozen_destination_loses_nothing() {
    let b = Nsqd::start(&[]);
    let run = begin_outage_run(b.tcp, b.http);
    b.signal("STOP");
    std::thread::sleep(Duration::from_secs(2));
    b.signal("CONT");
    end_outage_run(run, b.tcp, b.http, "B frozen (SIGSTOP)");
}

/// Publishes each body with HTTP `/pub` (bodies may hold anything but must be non-empty).
fn publish_each(http_addr: SocketAddr, topic: &str, bodies: &[&str]) {
    for body in bodies {
        let r = http(
            http_addr,
            "POST",
            &format!("/pub?topic={topic}"),
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "pub: {}", r.text());
    }
}

#[test]
fn json_filter_passes_the_observed_examples() {
    let (a, b) = (Nsqd::start(&[]), Nsqd::start(&[]));
    let input = [
        r#"{"id":1,"kind":"a","extra":"x","f":1.5}"#,
        r#"{"id":2,"kind":"b"}"#,
        r#"{"id":3}"#,
        r#"{"id":4,"kind":"a","n":2.0,"big":12345678901}"#,
        r#"{"id":5,"kind":5}"#,
        "not json",
        "[1,2]",
    ];
    publish_each(a.http, "src", &input);
    let opts = [
        "--require-json-field=kind",
        "--require-json-value=a",
        "--whitelist-json-field=id",
        "--whitelist-json-field=f",
        "--whitelist-json-field=big",
        "--whitelist-json-field=missing",
        "--consumer-opt=max_attempts,3",
        "--consumer-opt=backoff_multiplier,100ms",
        "--consumer-opt=default_requeue_delay,50ms",
    ];
    let mut tool = Tool::start(&bridge_args(a.tcp, b.tcp, &opts));
    tool.wait_for("every message answered at A", || {
        all_finished(a.http, "src", "nsq_to_nsq", 7)
    });
    let log = tool.log.clone();
    tool.wait_for("the give-up log line", || {
        log.lock().unwrap().contains("attempted 4 times, giving up")
    });
    drop(log);
    assert_eq!(tool.term(), Some(0));
    assert_eq!(topic_num(b.http, "dst", "message_count"), 2);
    let mut got = read_all(b.tcp, "dst", 2);
    got.sort();
    assert_eq!(
        got,
        [r#"{"big":12345678901,"id":4}"#, r#"{"f":1.5,"id":1}"#]
    );
    // {"id":3} is the one requeued: once per attempt until max_attempts (3).
    assert_eq!(
        channel_nums(a.http, "src", "nsq_to_nsq")["requeue_count"],
        3
    );
    let log = tool.log_text();
    for line in [
        "ERROR: Unable to decode json: not json",
        "ERROR: Unable to decode json: [1,2]",
        "ERROR: missing field to check required value",
    ] {
        assert!(log.contains(line), "{line:?} not in {log}");
    }
    assert_eq!(
        log.matches("missing field to check required value").count(),
        3,
        "{log}"
    );
}

#[test]
fn json_filter_without_whitelist_forwards_the_original_bytes() {
    let (a, b) = (Nsqd::start(&[]), Nsqd::start(&[]));
    let input = [
        r#"{ "kind" : "x", "n" : 1.0 }"#,
        r#"{"other":1}"#,
        r#"{"kind":7}"#,
        "plain text",
    ];
    publish_each(a.http, "src", &input);
    let mut tool = Tool::start(&bridge_args(a.tcp, b.tcp, &["--require-json-field=kind"]));
    tool.wait_for("every message FIN'd at A", || {
        all_finished(a.http, "src", "nsq_to_nsq", 4)
    });
    assert_eq!(tool.term(), Some(0));
    let mut got = read_all(b.tcp, "dst", 2);
    got.sort();
    assert_eq!(got, [r#"{ "kind" : "x", "n" : 1.0 }"#, r#"{"kind":7}"#]);
    assert_eq!(
        channel_nums(a.http, "src", "nsq_to_nsq")["requeue_count"],
        0
    );
}

/// 10 messages over A and B with `mode`: the message counts at A/dst and B/dst.
fn split_ten(mode: &str) -> (u64, u64, String) {
    let (a, b) = (Nsqd::start(&[]), Nsqd::start(&[]));
    let sent = bodies("rr", 0..10);
    mpub(a.http, "src", &sent);
    let mut list = bridge_args(a.tcp, b.tcp, &[mode, "--status-every=2"]);
    // A first, B second, as in the observed run.
    list.insert(3, format!("--destination-nsqd-tcp-address={}", a.tcp));
    let mut tool = Tool::start(&list);
    tool.wait_for("every message FIN'd at A", || {
        all_finished(a.http, "src", "nsq_to_nsq", 10)
    });
    assert_eq!(tool.term(), Some(0));
    let counts = (
        topic_num(a.http, "dst", "message_count"),
        topic_num(b.http, "dst", "message_count"),
    );
    let mut got = read_all(a.tcp, "dst", counts.0 as usize);
    got.extend(read_all(b.tcp, "dst", counts.1 as usize));
    assert_eq!(duplicates(&sent, &got), 0);
    let log = tool.log_text();
    for prefix in [
        format!("[{}]:", a.tcp),
        format!("[{}]:", b.tcp),
        "[aggregate]:".to_string(),
    ] {
        assert!(
            log.contains(&format!("{prefix} finished 2 - 99th: ")),
            "{prefix} lines in {log}"
        );
    }
    (counts.0, counts.1, log)
}

#[test]
fn round_robin_over_two_destinations_splits_five_five() {
    let (at_a, at_b, log) = split_ten("--mode=round-robin");
    assert_eq!((at_a, at_b), (5, 5));
    assert!(log.contains(
        "Warning: use more than 100 status values for accurate percentiles (configured with 2)"
    ));
}

#[test]
fn an_unknown_mode_is_round_robin() {
    let (at_a, at_b, _) = split_ten("--mode=bogus");
    assert_eq!((at_a, at_b), (5, 5));
}

#[test]
fn status_every_three_logs_aggregate_lines_only() {
    let (a, b) = (Nsqd::start(&[]), Nsqd::start(&[]));
    mpub(a.http, "src", &bodies("s", 0..7));
    let mut tool = Tool::start(&bridge_args(a.tcp, b.tcp, &["--status-every=3"]));
    tool.wait_for("every message FIN'd at A", || {
        all_finished(a.http, "src", "nsq_to_nsq", 7)
    });
    assert_eq!(tool.term(), Some(0));
    assert_eq!(topic_num(b.http, "dst", "message_count"), 7);
    let log = tool.log_text();
    assert_eq!(
        log.matches("[aggregate]: finished 3 - 99th: ").count(),
        2,
        "{log}"
    );
    assert_eq!(
        log.matches("]: finished ").count(),
        2,
        "no per-address lines: {log}"
    );
}

#[test]
fn lookupd_source_with_two_topics_keeps_their_names() {
    let lookupd = Lookupd::start(&[]);
    let a = Nsqd::start(&[&format!("--lookupd-tcp-address={}", lookupd.tcp)]);
    let b = Nsqd::start(&[]);
    publish_each(a.http, "t1", &["one"]);
    publish_each(a.http, "t2", &["two", "three"]);
    common::eventually("lookupd to list A for t1 and t2", || {
        ["t1", "t2"].iter().all(|t| {
            let r = http(lookupd.http, "GET", &format!("/lookup?topic={t}"), b"");
            r.status == 200
                && r.json()["producers"]
                    .as_array()
                    .is_some_and(|p| p.len() == 1)
        })
    });
    let mut tool = Tool::start(&args(&[
        &format!("--lookupd-http-address={}", lookupd.http),
        "--topic=t1",
        "--topic=t2",
        "--channel=copy",
        &format!("--destination-nsqd-tcp-address={}", b.tcp),
    ]));
    tool.wait_for("t1 and t2 FIN'd at A", || {
        all_finished(a.http, "t1", "copy", 1) && all_finished(a.http, "t2", "copy", 2)
    });
    assert_eq!(tool.term(), Some(0));
    assert_eq!(read_all(b.tcp, "t1", 1), ["one"]);
    let mut t2 = read_all(b.tcp, "t2", 2);
    t2.sort();
    assert_eq!(t2, ["three", "two"]);
}

#[test]
fn hostpool_leaves_a_dead_destination_and_loses_nothing() {
    let (a, b) = (Nsqd::start(&[]), Nsqd::start(&[]));
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let sent = bodies("h", 0..10);
    mpub(a.http, "src", &sent);
    let mut tool = Tool::start(&args(&[
        "--topic=src",
        &format!("--nsqd-tcp-address={}", a.tcp),
        &format!("--destination-nsqd-tcp-address={dead}"),
        &format!("--destination-nsqd-tcp-address={}", b.tcp),
        "--consumer-opt=default_requeue_delay,100ms",
        "--consumer-opt=backoff_multiplier,50ms",
    ]));
    tool.wait_for("every message FIN'd at A", || {
        all_finished(a.http, "src", "nsq_to_nsq", 10)
    });
    assert_eq!(tool.term(), Some(0));
    // Without --destination-topic each topic keeps its name at the destination.
    assert_eq!(duplicates(&sent, &read_all(b.tcp, "src", 10)), 0);
    let requeued = channel_nums(a.http, "src", "nsq_to_nsq")["requeue_count"];
    assert!(
        requeued >= 1,
        "the dead destination was tried and its message requeued"
    );
    let log = tool.log_text();
    assert!(
        log.contains(&format!("dial tcp {dead}: connect: connection refused")),
        "{log}"
    );
}

#[test]
fn producer_opts_reach_the_destination() {
    let (a, b) = (Nsqd::start(&[]), Nsqd::start(&[]));
    mpub(a.http, "src", &bodies("p", 0..3));
    let mut tool = Tool::start(&bridge_args(
        a.tcp,
        b.tcp,
        &["--producer-opt=client_id,n2n-prod"],
    ));
    tool.wait_for("every message FIN'd at A", || {
        all_finished(a.http, "src", "nsq_to_nsq", 3)
    });
    let s = stats(b.http);
    let producers = s["producers"].as_array().expect("producers");
    let p = producers
        .iter()
        .find(|p| p["client_id"] == "n2n-prod")
        .unwrap_or_else(|| panic!("{s}"));
    let ua = p["user_agent"].as_str().unwrap();
    assert!(ua.starts_with("nsq_to_nsq/1.3.0 "), "{ua}");
    let consumers = stats(a.http);
    let channel = node::channel(node::topic(&consumers, "src"), "nsq_to_nsq");
    let ua = channel["clients"][0]["user_agent"].as_str().unwrap();
    assert!(ua.starts_with("nsq_to_nsq/1.3.0 "), "{ua}");
    assert_eq!(tool.term(), Some(0));
}

#[test]
fn sigterm_mid_stream_exits_zero_and_loses_nothing() {
    let (a, b) = (Nsqd::start(&[]), Nsqd::start(&[]));
    let published = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (a_http, count, done) = (a.http, published.clone(), stop.clone());
    let publisher = std::thread::spawn(move || {
        let mut n = 0;
        while !done.load(Ordering::SeqCst) {
            mpub(a_http, "src", &bodies("t", n..n + 100));
            n += 100;
            count.store(n, Ordering::SeqCst);
        }
    });
    let mut tool = Tool::start(&bridge_args(a.tcp, b.tcp, &["--max-in-flight=50"]));
    tool.wait_for("messages at B", || {
        topic_num(b.http, "dst", "message_count") >= 1000
    });
    assert_eq!(tool.term(), Some(0), "{}", tool.log_text());
    stop.store(true, Ordering::SeqCst);
    publisher.join().expect("publisher");
    let total = published.load(Ordering::SeqCst) as u64;
    let at_b = topic_num(b.http, "dst", "message_count");
    let c = channel_nums(a.http, "src", "nsq_to_nsq");
    assert_eq!(c["in_flight_count"], 0, "{c:?}");
    assert_eq!(
        at_b + topic_num(a.http, "src", "depth") + c["depth"] + c["deferred_count"],
        total,
        "each message at B or still at A, once: {c:?}, {at_b} at B"
    );
    let log = tool.log_text();
    assert!(!log.contains("ERROR"), "{log}");
}

#[test]
fn help_version_and_gos_checks() {
    let (code, out, err) = run(&["--help"]);
    assert_eq!(code, Some(0));
    assert!(
        out.is_empty() && err.starts_with("Usage of nsq_to_nsq:"),
        "{err}"
    );
    for flag in [
        "-topic",
        "-channel",
        "-nsqd-tcp-address",
        "-lookupd-http-address",
        "-destination-nsqd-tcp-address",
        "-destination-topic",
        "-mode",
        "-max-in-flight",
        "-status-every",
        "-require-json-field",
        "-require-json-value",
        "-whitelist-json-field",
        "-consumer-opt",
        "-producer-opt",
        "-version",
    ] {
        assert!(
            err.contains(&format!("  {flag} ")) || err.contains(&format!("  {flag}\n")),
            "{flag}: {err}"
        );
    }
    let (code, out, _) = run(&["--version"]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("nsq_to_nsq v1.3.0 (nsq-rs "), "{out}");

    let src = "--nsqd-tcp-address=127.0.0.1:4150";
    let dst = "--destination-nsqd-tcp-address=127.0.0.1:4250";
    let refused: [(&[&str], &str); 8] = [
        (&[], "--topic and --channel are required"),
        (
            &["--topic=t", "--channel="],
            "--topic and --channel are required",
        ),
        (&["--topic=t", "--topic=b@d"], "--topic is invalid"),
        (
            &["--topic=t", "--destination-topic=b@d"],
            "--destination-topic is invalid",
        ),
        (&["--topic=t", "--channel=b@d"], "--channel is invalid"),
        (
            &["--topic=t", dst],
            "--nsqd-tcp-address or --lookupd-http-address required",
        ),
        (
            &[
                "--topic=t",
                src,
                "--lookupd-http-address=127.0.0.1:4161",
                dst,
            ],
            "use --nsqd-tcp-address or --lookupd-http-address not both",
        ),
        (
            &["--topic=t", src],
            "--destination-nsqd-tcp-address required",
        ),
    ];
    for (list, message) in refused {
        let (code, out, err) = run(list);
        assert_eq!(code, Some(1), "{list:?}: {err}");
        assert!(out.is_empty(), "{out}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(err.trim_end().ends_with(message), "{list:?}: {err}");
    }
    let bad_flags: [(&[&str], &str); 4] = [
        (
            &["--consumer-opt=nosuch,1"],
            r#"invalid value "nosuch,1" for flag -consumer-opt: invalid option nosuch"#,
        ),
        (
            &["--producer-opt=nosuch"],
            r#"invalid value "nosuch" for flag -producer-opt: invalid option nosuch"#,
        ),
        (
            &["--max-in-flight=lots"],
            r#"invalid value "lots" for flag -max-in-flight: parse error"#,
        ),
        (&["--nosuch"], "flag provided but not defined: -nosuch"),
    ];
    for (list, message) in bad_flags {
        let (code, _, err) = run(list);
        assert_eq!(code, Some(2), "{list:?}: {err}");
        assert!(err.contains(message), "{list:?}: {err}");
    }
}

#[test]
fn an_unreachable_source_nsqd_fails_the_start() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (code, _, err) = run(&[
        "--topic=t",
        &format!("--nsqd-tcp-address={port}"),
        "--destination-nsqd-tcp-address=127.0.0.1:4250",
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(&format!("dial tcp {port}: connect: connection refused")),
        "{err}"
    );
}
