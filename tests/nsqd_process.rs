//! The nsqd process as a user runs it: flags, help, version, log lines, and a clean
//! stop on SIGTERM and SIGINT.
mod common;

use common::{consumer, Nsqd};
use std::process::Command;
use std::time::Duration;

fn run_nsqd(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nsqd"))
        .args(args)
        .output()
        .expect("run nsqd");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn unknown_flag_and_bad_value_print_one_line_and_exit_2() {
    for args in [
        &["--no-such-flag"][..],
        &["-mem-queue-size=abc"],
        &["--node-id", "5000"],
        &["--msg-timeout=10"],
        &["--deflate", "false"],
    ] {
        let (code, _, stderr) = run_nsqd(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    }
    let (_, _, stderr) = run_nsqd(&["--no-such-flag"]);
    assert!(
        stderr.contains("flag provided but not defined: -no-such-flag"),
        "{stderr}"
    );
}

#[test]
fn help_lists_every_flag_and_version_prints_the_nsq_version() {
    let (code, stdout, stderr) = run_nsqd(&["--help"]);
    assert_eq!(code, Some(0));
    let help = stdout + &stderr;
    for flag in [
        "tcp-address",
        "http-address",
        "broadcast-address",
        "data-path",
        "node-id",
        "mem-queue-size",
        "max-msg-size",
        "max-body-size",
        "msg-timeout",
        "max-msg-timeout",
        "max-req-timeout",
        "max-rdy-count",
        "max-heartbeat-interval",
        "max-output-buffer-size",
        "max-output-buffer-timeout",
        "min-output-buffer-timeout",
        "output-buffer-timeout",
        "max-channel-consumers",
        "log-level",
        "log-prefix",
        "lookupd-tcp-address",
        "version",
    ] {
        assert!(help.contains(&format!("-{flag}")), "help lacks -{flag}");
    }
    assert!(help.contains("(default 10000)"), "defaults shown");
    let (code, stdout, _) = run_nsqd(&["-version"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("1.3.0"), "{stdout}");
}

#[test]
fn flags_take_both_dash_forms_and_both_value_forms() {
    let nsqd = Nsqd::start(&["-max-rdy-count", "7", "--msg-timeout=2s", "--node-id=3"]);
    let mut c = nsqd.client();
    let reply = c.identify("{\"feature_negotiation\":true}").text();
    assert!(reply.contains("\"max_rdy_count\":7"), "{reply}");
    assert!(reply.contains("\"msg_timeout\":2000"), "{reply}");
    c.sub("flags", "ch");
    c.command("RDY 8", None);
    c.expect_fatal("E_INVALID RDY count 8 out of range 0-7");
    let mut p = nsqd.client();
    p.publish("flags", b"x");
    let mut c = consumer(&nsqd, "{}", "flags", "ch", 1);
    let id = c.read_message().id_str();
    // --node-id=3 sits in bits 12..22 of the hex ID.
    let n = u64::from_str_radix(&id, 16).unwrap();
    assert_eq!((n >> 12) & 0x3ff, 3);
}

#[test]
fn log_lines_look_like_nsqds() {
    let nsqd = Nsqd::start(&["--log-level=debug"]);
    let log = nsqd.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("TCP: listening on"))
        .expect("listening line");
    // [nsqd] 2026/11/24 10:00:00.000000 INFO: TCP: listening on 127.0.0.1:port
    let rest = line.strip_prefix("[nsqd] ").expect("prefix");
    let (date, rest) = rest.split_at(26);
    assert_eq!(date.len(), 26);
    assert_eq!(&date[4..5], "/");
    assert_eq!(&date[19..20], ".");
    assert!(rest.starts_with(" INFO: "), "{line}");
}

#[test]
fn log_level_error_hides_info_lines() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let data = common::temp_dir("quiet");
    let mut child = Command::new(env!("CARGO_BIN_EXE_nsqd"))
        .arg(format!("--tcp-address=127.0.0.1:{port}"))
        .arg(format!("--data-path={}", data.display()))
        .args(["--log-level=error", "--log-prefix=[x] "])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut connected = None;
    for _ in 0..200 {
        if let Ok(s) = std::net::TcpStream::connect(addr) {
            connected = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(connected.expect("nsqd accepts"));
    let mut c = common::Client::connect(addr);
    c.publish("t", b"m");
    let _ = child.kill();
    let out = child.wait_with_output().expect("wait");
    let _ = std::fs::remove_dir_all(&data);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("INFO"), "{stderr}");
}

fn stops_cleanly_on(signal: &str) {
    let mut nsqd = Nsqd::start(&[]);
    let mut c = consumer(&nsqd, "{}", "sig", "ch", 1);
    let mut p = nsqd.client();
    p.publish("sig", b"before");
    assert_eq!(c.read_message().body, b"before");
    nsqd.signal(signal);
    assert_eq!(nsqd.wait_exit(), Some(0), "{}", nsqd.log_text());
    c.expect_closed();
    assert!(std::net::TcpStream::connect_timeout(&nsqd.tcp, Duration::from_secs(1)).is_err());
}

#[test]
fn sigterm_closes_clients_and_exits_0() {
    stops_cleanly_on("TERM");
}

#[test]
fn sigint_closes_clients_and_exits_0() {
    stops_cleanly_on("INT");
}
