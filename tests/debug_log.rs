//! What the programs log, black-box: nsqd at `--log-level=debug` logs one DEBUG line
//! per V2 event (connection, IDENTIFY, SUB, RDY, PUB, FIN, CLS) and the close at
//! INFO, and none of them at the default level; nsqd logs its lookupd traffic as Go's
//! does; a clean `to_nsq` run logs nothing alarming; a lookupd that is down is
//! reported once, not once per try, by nsqd, `nsq_tail` and `nsq_to_file`; nsqd,
//! nsqlookupd and nsqadmin log each HTTP request at INFO as Go's `http_api.Log`
//! does, but for nsqd's publishes.

mod common;

use common::{eventually, spawn_logged, Lookupd, Nsqd};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A spawned tool, killed on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback address nothing listens on (bound, then released).
fn dead_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").to_string()
}

/// The `client(N)` of the log line that ends with `tail`.
fn client_of(log: &str, tail: &str) -> String {
    let line = log
        .lines()
        .find(|l| l.ends_with(tail))
        .unwrap_or_else(|| panic!("no line ending with {tail:?} in\n{log}"));
    let start = line.find("client(").expect("client(N) in the line");
    let end = start + line[start..].find(')').expect("closing paren");
    line[start..=end].to_string()
}

/// Waits until some line of `log()` contains every one of `parts`.
fn wait_line(log: impl Fn() -> String, parts: &[&str]) {
    eventually(&format!("a log line with {parts:?}"), || {
        log().lines().any(|l| parts.iter().all(|p| l.contains(p)))
    });
}

/// The messages (after `LEVEL: `) of the lines containing `needle`.
fn messages(log: &str, needle: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains(needle))
        .map(|l| l.split_once(": ").map_or(l, |(_, m)| m).to_string())
        .collect()
}

/// Publishes one message, then consumes it: IDENTIFY, SUB, RDY, FIN, CLS, close.
fn exchange(nsqd: &Nsqd) {
    let mut producer = nsqd.client();
    producer.identify(r#"{"client_id":"pubber"}"#);
    producer.publish("dbg", b"hello");
    let mut consumer = common::consumer(nsqd, r#"{"client_id":"subber"}"#, "dbg", "ch", 1);
    let msg = consumer.read_message();
    assert_eq!(msg.body, b"hello");
    consumer.fin(&msg.id);
    consumer.command("CLS", None);
    consumer.expect_response("CLOSE_WAIT");
    drop(consumer);
    drop(producer);
}

#[test]
fn every_v2_event_has_a_debug_line() {
    let nsqd = Nsqd::start(&["--log-level=debug"]);
    exchange(&nsqd);
    let log = || nsqd.log_text();
    wait_line(log, &[" DEBUG: PROTOCOL(V2): client(", ") SUB dbg ch"]);
    let text = log();
    let sub = client_of(&text, ") SUB dbg ch");
    let publ = client_of(&text, ") PUB dbg (5 bytes)");
    assert_ne!(sub, publ);
    for (who, what) in [
        (&sub, " DEBUG: TCP: "),
        (&sub, " IDENTIFY: "),
        (&sub, " RDY 1"),
        (&sub, " FIN "),
        (&sub, " CLS"),
        (&publ, " DEBUG: TCP: "),
        (&publ, " IDENTIFY: "),
    ] {
        wait_line(log, &[what, &format!("{who} ")]);
    }
    wait_line(log, &[" DEBUG: ", &format!("{sub} IDENTIFY: "), "subber"]);
    for who in [&sub, &publ] {
        wait_line(
            log,
            &[" INFO: PROTOCOL(V2): ", &format!("{who} exiting ioloop")],
        );
    }
}

#[test]
fn http_requests_are_logged_as_go_logs_them_but_publishes() {
    let lookupd = Lookupd::start(&[]);
    let nsqd = Nsqd::start(&[]);
    let admin = common::admin::Admin::start(&[format!("--lookupd-http-address={}", lookupd.http)]);
    assert_eq!(
        common::http(nsqd.http, "POST", "/pub?topic=quiet", b"x").status,
        200
    );
    assert_eq!(
        common::http(nsqd.http, "POST", "/mpub?topic=quiet", b"x\n").status,
        200
    );
    assert_eq!(
        common::http(nsqd.http, "GET", "/stats?format=json", b"").status,
        200
    );
    assert_eq!(common::http(nsqd.http, "GET", "/nope", b"").status, 404);
    assert_eq!(
        common::http(lookupd.http, "GET", "/lookup?topic=t", b"").status,
        404
    );
    assert_eq!(admin.get("/api/topics").status, 200);
    // `200 GET /stats?format=json (127.0.0.1:50412) 1.2ms`, at INFO.
    let request =
        |status: &str, target: &str| [" INFO: ", status, target, " (127.0.0.1:"].map(String::from);
    let wait = |log: &dyn Fn() -> String, parts: [String; 4]| {
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        wait_line(log, &parts);
    };
    wait(
        &|| nsqd.log_text(),
        request(": 200 ", "GET /stats?format=json"),
    );
    wait(&|| nsqd.log_text(), request(": 404 ", "GET /nope"));
    wait(
        &|| lookupd.log_text(),
        request(": 404 ", "GET /lookup?topic=t"),
    );
    wait(&|| admin.log_text(), request(": 200 ", "GET /api/topics"));
    let log = nsqd.log_text();
    assert!(!log.contains("POST /pub"), "{log}");
    assert!(!log.contains("POST /mpub"), "{log}");
}

#[test]
fn no_debug_lines_at_the_default_level() {
    let nsqd = Nsqd::start(&[]);
    exchange(&nsqd);
    wait_line(|| nsqd.log_text(), &["exiting ioloop"]);
    let log = nsqd.log_text();
    assert!(!log.contains(" DEBUG: "), "{log}");
}

#[test]
fn lookupd_traffic_is_logged_as_gos_nsqd_does() {
    let lookupd = Lookupd::start(&[]);
    let arg = format!("--lookupd-tcp-address={}", lookupd.tcp);
    let nsqd = Nsqd::start(&["--log-level=debug", &arg]);
    let lookupd_prefix = format!("LOOKUPD({}): ", lookupd.tcp);
    let log = || nsqd.log_text();
    wait_line(log, &[" INFO: ", &lookupd_prefix, "peer info "]);
    let mut c = nsqd.client();
    c.publish("dbg", b"x");
    wait_line(
        log,
        &[" INFO: ", &format!("{lookupd_prefix}topic REGISTER dbg")],
    );
}

#[test]
fn a_clean_to_nsq_run_logs_nothing_alarming() {
    let nsqd = Nsqd::start(&[]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_to_nsq"))
        .arg("--topic=clean")
        .arg(format!("--nsqd-tcp-address={}", nsqd.tcp))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn to_nsq");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stderr = child.stderr.take().expect("stderr");
    let mut child = Killed(child);
    stdin.write_all(b"one\ntwo\n").expect("write stdin");
    drop(stdin);
    let mut text = String::new();
    stderr.read_to_string(&mut text).expect("read stderr");
    assert!(child.0.wait().expect("wait").success(), "{text}");
    for bad in ["connection lost", "ERROR", "WARNING"] {
        assert!(!text.contains(bad), "{bad:?} in {text}");
    }
    assert_eq!(common::stats_json(&nsqd, "clean")["topics"][0]["depth"], 2);
}

/// Runs `bin` against a lookupd that is down until `error` is logged, gives it a
/// moment to repeat itself, and checks it did not: no identical lines in a row.
fn down_lookupd_is_reported_once(bin: &str, mut args: Vec<String>, error: &str) {
    let dead = dead_address();
    args.push(format!("--lookupd-http-address={dead}"));
    let (child, log) = spawn_logged(bin, &args);
    let _child = Killed(child);
    let text = || log.lock().unwrap().clone();
    wait_line(text, &[error, &dead]);
    std::thread::sleep(Duration::from_millis(500));
    let lines = messages(&text(), error);
    assert!(!lines.is_empty());
    for pair in lines.windows(2) {
        assert_ne!(pair[0], pair[1], "repeated:\n{}", text());
    }
}

#[test]
fn nsq_tail_reports_a_down_lookupd_once() {
    let args = vec!["--topic=t".to_string()];
    let bin = env!("CARGO_BIN_EXE_nsq_tail");
    down_lookupd_is_reported_once(bin, args, "error querying nsqlookupd");
}

#[test]
fn nsq_to_file_reports_a_down_lookupd_once() {
    let out = common::temp_dir("debug-log-to-file");
    let args = vec![
        "--topic=t".to_string(),
        format!("--output-dir={}", out.display()),
    ];
    let bin = env!("CARGO_BIN_EXE_nsq_to_file");
    down_lookupd_is_reported_once(bin, args, "error querying nsqlookupd");
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn nsqd_reports_a_down_lookupd_once_with_a_count() {
    let dead = dead_address();
    let arg = format!("--lookupd-tcp-address={dead}");
    let nsqd = Nsqd::start(&["--log-level=debug", &arg]);
    let tries = || {
        let log = nsqd.log_text();
        messages(&log, &format!("LOOKUP({dead}): next try in ")).len()
    };
    // Retries back off from 500 ms: three tries take a few seconds.
    eventually("three failed tries", || tries() >= 3);
    let log = nsqd.log_text();
    let tried = messages(&log, &format!("LOOKUP({dead}): next try in ")).len();
    let warned = messages(&log, &format!("LOOKUP({dead}): "))
        .into_iter()
        .filter(|m| m.ends_with("; retrying"))
        .count();
    assert!(
        warned >= 1 && warned < tried,
        "{warned} warnings, {tried} tries:\n{log}"
    );
}
