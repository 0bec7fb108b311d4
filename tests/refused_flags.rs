//! Flags whose effect nsq-rs does not have are refused at start with one stderr line,
//! never accepted and ignored: every refusal is checked here against the real
//! binaries (`nsqd`, `nsqlookupd`, `nsq_bench`, `nsq_to_file`), with its exit status
//! and exact line, and so is each such flag given its default value, which must still
//! start. Some refusals exist only in builds without a cargo feature (`auth`,
//! `deflate`, `snappy`, `gzip`, `topic-pattern`).
mod common;

use common::{spawn_logged, temp_dir, wait_for_addr, Nsqd, WAIT};
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills and reaps a process when dropped.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `bin` with `args` (stdin empty) until it exits; its status and stderr. A
/// process that keeps running (the flag was accepted) is killed and fails the test.
fn run(bin: &str, args: &[String]) -> (Option<i32>, String) {
    let child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
    let mut child = Reaped(child);
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("try_wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "{bin} {args:?} kept running: the flag was accepted"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stderr = String::new();
    child
        .0
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    (status.code(), stderr)
}

/// Asserts that `bin args` exits with `code` and prints exactly `line` on stderr.
fn assert_refused(bin: &str, args: &[String], code: i32, line: &str) {
    let (got, stderr) = run(bin, args);
    assert_eq!(got, Some(code), "{args:?}: exit status; stderr: {stderr}");
    assert_eq!(stderr, format!("{line}\n"), "{args:?}: stderr");
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// nsqd on free loopback ports with the data dir `data` and `flag`.
fn nsqd_args(data: &std::path::Path, flag: &str) -> Vec<String> {
    strings(&[
        "--tcp-address=127.0.0.1:0",
        "--http-address=127.0.0.1:0",
        &format!("--data-path={}", data.display()),
        flag,
    ])
}

const SCAN: &str = "in-flight and deferred timeouts fire at their own deadlines";

/// nsqd's refused flags in this build: (flag, stderr line).
fn nsqd_refusals() -> Vec<(&'static str, String)> {
    let mut cases = vec![
        (
            "--queue-scan-worker-pool-max=8",
            format!(
                "nsqd: --queue-scan-worker-pool-max is not supported by nsq-rs ({SCAN}; there is no scan worker pool)"
            ),
        ),
        (
            "--queue-scan-selection-count=5",
            format!(
                "nsqd: --queue-scan-selection-count is not supported by nsq-rs ({SCAN}; no channels are sampled)"
            ),
        ),
        (
            "--auth-http-request-method=put",
            "nsqd: --auth-http-request-method must be post or get".to_string(),
        ),
    ];
    let needs = |flag: &str, feature: &str| {
        format!("nsqd: --{flag} needs nsqd built with `cargo build --features {feature}`")
    };
    if !cfg!(feature = "auth") {
        cases.push((
            "--auth-http-request-method=post",
            needs("auth-http-request-method", "auth"),
        ));
        cases.push((
            "--auth-http-address=127.0.0.1:1",
            needs("auth-http-address", "auth"),
        ));
    }
    if !cfg!(feature = "deflate") {
        cases.push(("--deflate", needs("deflate", "deflate")));
        cases.push(("--deflate=true", needs("deflate", "deflate")));
    }
    if !cfg!(feature = "snappy") {
        cases.push(("--snappy", needs("snappy", "snappy")));
        cases.push(("--snappy=true", needs("snappy", "snappy")));
    }
    cases
}

#[test]
fn nsqd_refuses_flags_it_cannot_honour_with_one_line_and_status_2() {
    let data = temp_dir("refused");
    for (flag, line) in nsqd_refusals() {
        assert_refused(
            env!("CARGO_BIN_EXE_nsqd"),
            &nsqd_args(&data, flag),
            2,
            &line,
        );
    }
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn nsqd_accepts_those_flags_at_their_default() {
    let mut flags = vec![
        "--queue-scan-worker-pool-max=4",
        "--queue-scan-selection-count=20",
        "--auth-http-request-method=get",
        "--auth-http-request-method=GET",
        "--deflate=false",
        "--snappy=false",
        "--config=",
    ];
    if cfg!(feature = "auth") {
        flags.push("--auth-http-request-method=post");
    }
    if cfg!(feature = "deflate") {
        flags.extend(["--deflate", "--deflate=true"]);
    }
    if cfg!(feature = "snappy") {
        flags.extend(["--snappy", "--snappy=true"]);
    }
    for flag in flags {
        // Waits for the listening lines (panicking with the log if nsqd exits);
        // the drop kills it.
        let nsqd = Nsqd::start(&[flag]);
        assert!(
            nsqd.log_text().contains("TCP: listening on "),
            "{flag}: {}",
            nsqd.log_text()
        );
    }
}

#[test]
fn nsqlookupd_accepts_config_empty() {
    let lookupd = common::Lookupd::start(&["--config="]);
    assert!(lookupd.log_text().contains("HTTP: listening on "));
}

/// nsq_bench's flags, a value other than the default for each, and the modes that
/// read it.
fn bench_flags() -> Vec<(&'static str, String, &'static [&'static str])> {
    const CLIENTS: &[&str] = &["writer", "reader", "pubsub"];
    let other_workers = std::thread::available_parallelism().map_or(1, |n| n.get()) + 1;
    vec![
        ("nsqd-tcp-address", "127.0.0.1:1".into(), CLIENTS),
        ("tcp-address", "127.0.0.1:0".into(), &["sink"]),
        ("topic", "other".into(), CLIENTS),
        ("channel", "other".into(), &["reader", "pubsub"]),
        (
            "size",
            "100".into(),
            &["writer", "reader", "pubsub", "sink"],
        ),
        ("batch-size", "5".into(), &["writer", "pubsub"]),
        ("runfor", "1s".into(), CLIENTS),
        ("rdy", "5".into(), &["reader", "pubsub"]),
        ("workers", other_workers.to_string(), CLIENTS),
        ("pipeline", "2".into(), &["writer", "pubsub"]),
        ("count", "5".into(), &["writer", "pubsub"]),
        ("rate", "10".into(), &["pubsub"]),
        ("max-backlog", "5".into(), &["pubsub"]),
        ("readers", "2".into(), &["pubsub"]),
    ]
}

const BENCH_MODES: [&str; 4] = ["writer", "reader", "pubsub", "sink"];

#[test]
fn nsq_bench_refuses_a_flag_its_mode_does_not_read() {
    let mut checked = 0;
    for (flag, value, modes) in bench_flags() {
        for mode in BENCH_MODES.iter().filter(|m| !modes.contains(m)) {
            let args = vec![mode.to_string(), format!("--{flag}={value}")];
            let line = format!(
                "nsq_bench: --{flag} is not supported by nsq_bench {mode} (used by {} only)",
                modes.join(", ")
            );
            assert_refused(env!("CARGO_BIN_EXE_nsq_bench"), &args, 2, &line);
            checked += 1;
        }
    }
    assert_eq!(checked, 26, "flag/mode pairs refused");
}

#[test]
fn nsq_bench_accepts_every_flag_at_its_default_in_every_mode() {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let defaults = [
        "--nsqd-tcp-address=127.0.0.1:4150".to_string(),
        "--tcp-address=127.0.0.1:4150".to_string(),
        "--topic=sub_bench".to_string(),
        "--channel=ch".to_string(),
        "--size=200".to_string(),
        "--batch-size=200".to_string(),
        "--runfor=10s".to_string(),
        "--rdy=2500".to_string(),
        format!("--workers={workers}"),
        "--pipeline=4".to_string(),
        "--count=0".to_string(),
        "--rate=0".to_string(),
        "--max-backlog=20000".to_string(),
        "--readers=0".to_string(),
    ];
    // The sink, with every other mode's flag at its default, on a free port.
    let mut args = vec!["sink".to_string()];
    args.extend(
        defaults
            .iter()
            .filter(|a| !a.starts_with("--tcp-address"))
            .cloned(),
    );
    args.push("--tcp-address=127.0.0.1:0".to_string());
    let (child, log) = spawn_logged(env!("CARGO_BIN_EXE_nsq_bench"), &args);
    let mut sink = Reaped(child);
    let addr = wait_for_addr(&mut sink.0, &log, "sink: listening on ");
    // Each client mode against the sink, with the sink's flags at their defaults.
    for mode in ["writer", "reader", "pubsub"] {
        let mut args = vec![mode.to_string()];
        args.extend(
            defaults
                .iter()
                .filter(|a| !a.starts_with("--nsqd-tcp-address") && !a.starts_with("--runfor"))
                .cloned(),
        );
        args.extend([
            format!("--nsqd-tcp-address={addr}"),
            "--runfor=200ms".to_string(),
            "--workers=1".to_string(),
        ]);
        let out = Command::new(env!("CARGO_BIN_EXE_nsq_bench"))
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .expect("run nsq_bench");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "{mode}: {:?}: {stderr}", out.status);
        assert!(stdout.starts_with("duration: "), "{mode}: {stdout}");
    }
}

/// nsq_to_file's feature refusals (status 1: its option errors are Go's `log.Fatal`).
#[test]
fn nsq_to_file_refuses_flags_of_features_it_was_built_without() {
    let bin = env!("CARGO_BIN_EXE_nsq_to_file");
    let mut cases: Vec<(Vec<String>, &str)> = Vec::new();
    if !cfg!(feature = "gzip") {
        cases.push((
            strings(&["--nsqd-tcp-address=127.0.0.1:1", "--topic=t", "--gzip"]),
            "nsq_to_file: --gzip needs nsq_to_file built with gzip support: cargo build --features gzip",
        ));
    }
    if !cfg!(feature = "topic-pattern") {
        cases.push((
            strings(&["--lookupd-http-address=127.0.0.1:1", "--topic-pattern=^a"]),
            "nsq_to_file: invalid --topic-pattern: nsq_to_file was built without regular \
             expressions; rebuild with `cargo build --features topic-pattern`",
        ));
    }
    for (args, line) in cases {
        assert_refused(bin, &args, 1, line);
    }
}

#[test]
fn nsq_to_file_accepts_those_flags_at_their_default() {
    let nsqd = Nsqd::start(&[]);
    let out = temp_dir("refused-to-file");
    let args = vec![
        format!("--nsqd-tcp-address={}", nsqd.tcp),
        "--topic=t".to_string(),
        format!("--output-dir={}", out.display()),
        "--gzip=false".to_string(),
        "--topic-pattern=".to_string(),
    ];
    let (child, log) = spawn_logged(env!("CARGO_BIN_EXE_nsq_to_file"), &args);
    let mut tool = Reaped(child);
    let deadline = Instant::now() + WAIT;
    while !log.lock().unwrap().contains("nsq_to_file v") {
        if let Ok(Some(status)) = tool.0.try_wait() {
            panic!("nsq_to_file exited ({status}): {}", log.lock().unwrap());
        }
        assert!(
            Instant::now() < deadline,
            "no start line: {}",
            log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(tool);
    let _ = std::fs::remove_dir_all(&out);
}
