//! Start-up failures, black-box: every program and tool that cannot start says what
//! failed and why in one line on stderr, in Go's words (`listen (ADDR) failed -
//! address already in use`, `--data-path=X is not writable`), and exits 1; an unknown
//! flag exits 2. nsqd and nsqlookupd print at most their INFO start lines before the
//! one `FATAL:` line. Ports are taken by listeners of the test on 127.0.0.1; deadlines
//! only turn a hang into a failure.
mod common;

use common::{temp_dir, Lookupd, Nsqd, WAIT};
use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const NSQD: &str = env!("CARGO_BIN_EXE_nsqd");
const NSQLOOKUPD: &str = env!("CARGO_BIN_EXE_nsqlookupd");

/// A port held by the test for as long as the listener lives, and its address.
fn taken() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    (listener, addr)
}

/// An address nothing listens on (bound, then closed).
fn closed() -> String {
    taken().1
}

/// Runs `cmd` to its end: its exit code and stderr. Killed (and the test failed) if
/// it is still running after [`WAIT`].
fn run(mut cmd: Command) -> (Option<i32>, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break Some(status);
        }
        if Instant::now() >= deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let _ = child.kill();
    let _ = child.wait();
    let text = reader.join().unwrap_or_default();
    let status = status.unwrap_or_else(|| panic!("{cmd:?} still running; stderr:\n{text}"));
    (status.code(), text)
}

fn program(bin: &str, args: &[String]) -> (Option<i32>, String) {
    let mut cmd = Command::new(bin);
    cmd.args(args);
    run(cmd)
}

/// nsqd on free loopback ports with a fresh data dir, and `args` on top.
fn nsqd_args(args: &[String]) -> Vec<String> {
    let mut all = vec![
        "--tcp-address=127.0.0.1:0".to_string(),
        "--http-address=127.0.0.1:0".to_string(),
        format!("--data-path={}", temp_dir("start").display()),
    ];
    all.extend(args.iter().cloned());
    all
}

/// Asserts a daemon's failed start: exit 1, only INFO lines, then exactly one
/// `[name] <time> FATAL: <expected>` line.
fn assert_fatal(name: &str, (code, stderr): (Option<i32>, String), expected: &str) {
    assert_eq!(code, Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    let (last, before) = lines.split_last().unwrap_or_else(|| panic!("no output"));
    assert!(
        last.starts_with(&format!("[{name}] ")) && last.ends_with(&format!(" FATAL: {expected}")),
        "want FATAL: {expected}; got:\n{stderr}"
    );
    assert!(
        before.iter().all(|l| l.contains(" INFO: ")),
        "only INFO lines may come first:\n{stderr}"
    );
}

/// Asserts a tool's failed start: `code` and `expected` as the last stderr line.
fn assert_last_line((code, stderr): (Option<i32>, String), want: i32, expected: &str) {
    assert_eq!(code, Some(want), "{stderr}");
    assert_eq!(stderr.lines().last(), Some(expected), "{stderr}");
}

/// Runs `bin args` with `dir` a read-only tmpfs, in a mount namespace of its own
/// (`unshare`, needs root); `None` (with the reason printed) where there is none.
fn with_read_only(dir: &Path, bin: &str, args: &[String]) -> Option<(Option<i32>, String)> {
    let probe = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg("mount -t tmpfs -o ro,size=1m tmpfs \"$0\"")
        .arg(dir)
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: no read-only tmpfs in a mount namespace here (needs root)");
        return None;
    }
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg("mount -t tmpfs -o ro,size=1m tmpfs \"$0\" && exec \"$@\"")
        .arg(dir)
        .arg(bin)
        .args(args);
    Some(run(cmd))
}

#[test]
fn nsqd_tcp_port_taken() {
    let (_held, addr) = taken();
    let out = program(NSQD, &nsqd_args(&[format!("--tcp-address={addr}")]));
    let want = format!("listen ({addr}) failed - address already in use");
    assert_fatal("nsqd", out, &want);
}

#[test]
fn nsqd_http_port_taken() {
    let (_held, addr) = taken();
    let out = program(NSQD, &nsqd_args(&[format!("--http-address={addr}")]));
    let want = format!("listen ({addr}) failed - address already in use");
    assert_fatal("nsqd", out, &want);
}

#[cfg(feature = "tls")]
#[test]
fn nsqd_https_port_taken() {
    let pki = common::tls::Pki::new("start-https");
    let (_held, addr) = taken();
    let mut args = pki.server_args();
    args.push(format!("--https-address={addr}"));
    let out = program(NSQD, &nsqd_args(&args));
    let want = format!("listen ({addr}) failed - address already in use");
    assert_fatal("nsqd", out, &want);
}

#[cfg(feature = "tls")]
#[test]
fn nsqd_tls_errors_keep_their_words() {
    let out = program(NSQD, &nsqd_args(&["--tls-required=true".to_string()]));
    let want = "cannot require TLS client connections without TLS key and cert";
    assert_fatal("nsqd", out, want);
    let missing = temp_dir("start-tls").join("missing.pem");
    let args = [
        format!("--tls-cert={}", missing.display()),
        format!("--tls-key={}", missing.display()),
    ];
    let (code, stderr) = program(NSQD, &nsqd_args(&args));
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.matches(" FATAL: ").count(), 1, "{stderr}");
    assert!(
        stderr.contains(" FATAL: failed to build TLS config - "),
        "{stderr}"
    );
}

#[test]
fn nsqd_bad_tcp_address() {
    let out = program(NSQD, &nsqd_args(&["--tcp-address=nonsense".to_string()]));
    let want = "listen (nonsense) failed - address nonsense: missing port in address";
    assert_fatal("nsqd", out, want);
}

#[test]
fn nsqd_data_path_is_a_file() {
    let file = temp_dir("start-file").join("file");
    std::fs::write(&file, b"x").expect("write");
    let out = program(
        NSQD,
        &nsqd_args(&[format!("--data-path={}", file.display())]),
    );
    let want = format!("--data-path={} is not a directory", file.display());
    assert_fatal("nsqd", out, &want);
}

#[test]
fn nsqd_data_path_not_writable() {
    let dir = temp_dir("start-ro");
    let args = nsqd_args(&[format!("--data-path={}", dir.display())]);
    let Some(out) = with_read_only(&dir, NSQD, &args) else {
        return;
    };
    let want = format!("--data-path={} is not writable", dir.display());
    assert_fatal("nsqd", out, &want);
}

#[test]
fn nsqd_data_path_in_use() {
    let dir = temp_dir("start-locked");
    let first = Nsqd::start_in(dir.clone(), &[]);
    let out = program(
        NSQD,
        &nsqd_args(&[format!("--data-path={}", dir.display())]),
    );
    let want = format!("--data-path={} in use by another nsqd", dir.display());
    assert_fatal("nsqd", out, &want);
    drop(first);
}

#[test]
fn nsqd_on_a_lookupd_http_port_says_so_and_keeps_running() {
    let lookupd = Lookupd::start(&[]);
    let arg = format!("--lookupd-tcp-address={}", lookupd.http);
    let nsqd = Nsqd::start(&[&arg]);
    let want = format!(
        "WARNING: LOOKUP({}): lookupd answered something that is not NSQ's V1 protocol (an HTTP port?)",
        lookupd.http
    );
    let deadline = Instant::now() + WAIT;
    while !nsqd.log_text().contains(&want) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = nsqd.log_text();
    assert!(log.contains(&want), "want {want}; log:\n{log}");
    assert!(!log.contains("FATAL"), "{log}");
    // Still serving.
    assert_eq!(common::http(nsqd.http, "GET", "/ping", b"").status, 200);
}

#[test]
fn nsqlookupd_tcp_port_taken() {
    let (_held, addr) = taken();
    let args = [
        format!("--tcp-address={addr}"),
        "--http-address=127.0.0.1:0".to_string(),
    ];
    let want = format!("listen ({addr}) failed - address already in use");
    assert_fatal("nsqlookupd", program(NSQLOOKUPD, &args), &want);
}

#[test]
fn nsqlookupd_http_port_taken() {
    let (_held, addr) = taken();
    let args = [
        "--tcp-address=127.0.0.1:0".to_string(),
        format!("--http-address={addr}"),
    ];
    let want = format!("listen ({addr}) failed - address already in use");
    assert_fatal("nsqlookupd", program(NSQLOOKUPD, &args), &want);
}

#[test]
fn every_program_exits_2_on_an_unknown_flag() {
    let programs: [(&str, &[&str]); 7] = [
        (NSQD, &[]),
        (NSQLOOKUPD, &[]),
        (env!("CARGO_BIN_EXE_to_nsq"), &[]),
        (env!("CARGO_BIN_EXE_nsq_tail"), &[]),
        (env!("CARGO_BIN_EXE_nsq_stat"), &[]),
        (env!("CARGO_BIN_EXE_nsq_to_file"), &[]),
        (env!("CARGO_BIN_EXE_nsq_bench"), &["writer"]),
    ];
    for (bin, first) in programs {
        let mut args: Vec<String> = first.iter().map(|s| s.to_string()).collect();
        args.push("--bogus".to_string());
        let (code, stderr) = program(bin, &args);
        assert_eq!(code, Some(2), "{bin}: {stderr}");
        let line = stderr.lines().next().unwrap_or_default();
        assert!(
            line.ends_with("flag provided but not defined: -bogus"),
            "{bin}: {stderr}"
        );
    }
}

#[test]
fn to_nsq_and_nsq_tail_name_the_nsqd_they_cannot_reach() {
    let addr = closed();
    let want = format!("dial tcp {addr}: connect: connection refused");
    let flag = format!("--nsqd-tcp-address={addr}");
    // to_nsq connects at its first message: one line on stdin.
    let mut to_nsq = Command::new("sh");
    to_nsq
        .args(["-c", "echo hi | exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_to_nsq"))
        .args(["--topic=t", &flag]);
    assert_last_line(run(to_nsq), 1, &format!("to_nsq: {want}"));
    let args = ["--topic=t".to_string(), flag.clone()];
    let out = program(env!("CARGO_BIN_EXE_nsq_tail"), &args);
    assert_last_line(out, 1, &format!("nsq_tail: {want}"));
}

#[test]
fn nsq_stat_without_topic_and_channel() {
    let args = [format!("--nsqd-http-address={}", closed())];
    let (code, stderr) = program(env!("CARGO_BIN_EXE_nsq_stat"), &args);
    assert_eq!(code, Some(1), "{stderr}");
    let line = stderr.lines().last().unwrap_or_default();
    assert!(
        line.ends_with(" --topic and --channel are required"),
        "{stderr}"
    );
}

#[test]
fn nsq_bench_sink_port_taken() {
    let (_held, addr) = taken();
    let args = ["sink".to_string(), format!("--tcp-address={addr}")];
    let out = program(env!("CARGO_BIN_EXE_nsq_bench"), &args);
    let want = format!("nsq_bench sink: listen ({addr}) failed - address already in use");
    assert_last_line(out, 1, &want);
}

fn nsq_to_file_args(output_dir: &Path) -> Vec<String> {
    vec![
        "--topic=t".to_string(),
        format!("--nsqd-tcp-address={}", closed()),
        format!("--output-dir={}", output_dir.display()),
    ]
}

#[test]
fn nsq_to_file_output_dir_is_a_file() {
    let file = temp_dir("start-to-file").join("file");
    std::fs::write(&file, b"x").expect("write");
    let out = program(env!("CARGO_BIN_EXE_nsq_to_file"), &nsq_to_file_args(&file));
    let want = format!(
        "nsq_to_file: --output-dir={} is not a directory",
        file.display()
    );
    assert_last_line(out, 1, &want);
}

#[test]
fn nsq_to_file_output_dir_not_writable() {
    let dir = temp_dir("start-to-file-ro");
    let bin = env!("CARGO_BIN_EXE_nsq_to_file");
    let Some(out) = with_read_only(&dir, bin, &nsq_to_file_args(&dir)) else {
        return;
    };
    let want = format!(
        "nsq_to_file: --output-dir={} is not writable - read-only file system",
        dir.display()
    );
    assert_last_line(out, 1, &want);
}
