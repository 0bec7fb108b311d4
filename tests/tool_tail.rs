//! `to_nsq` and `nsq_tail`, black-box: stdin lines become messages, and nsq_tail
//! prints what a topic receives.

mod common;

use common::{Lookupd, Nsqd, WAIT};
use std::io::{Read, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs to_nsq with `args`, feeding it `input`; returns its output once it exits.
fn to_nsq(args: &[String], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_to_nsq"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn to_nsq");
    child.stdin.take().unwrap().write_all(input).unwrap();
    wait_output(child)
}

/// Waits (bounded) for `child` to exit by itself; kills it if it does not.
fn wait_output(mut child: Child) -> Output {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return child.wait_with_output().unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    panic!(
        "did not exit in time; stdout {:?} stderr {:?}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn nsq_tail(args: &[String]) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_nsq_tail"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nsq_tail");
    wait_output(child)
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The bodies nsqd holds for `topic`, read through a fresh channel.
fn read_bodies(nsqd: &Nsqd, topic: &str, n: usize) -> Vec<String> {
    let mut c = nsqd.client();
    c.sub(topic, "check");
    c.rdy(n as u64);
    (0..n)
        .map(|_| {
            let m = c.read_message();
            c.fin(&m.id);
            String::from_utf8(m.body).unwrap()
        })
        .collect()
}

#[test]
fn to_nsq_then_nsq_tail_prints_each_line() {
    let nsqd = Nsqd::start(&[]);
    let tcp = format!("--nsqd-tcp-address={}", nsqd.tcp);
    let out = to_nsq(&args(&["--topic=tail_t", &tcp]), b"a\nb\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The topic has no channel yet, so it holds both until nsq_tail's channel appears.
    let out = nsq_tail(&args(&["--topic=tail_t", &tcp, "-n", "2"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Adding consumer for topic: tail_t\na\nb\n"
    );
}

#[test]
fn nsq_tail_prints_topics_and_finds_nsqd_through_lookupd() {
    let lookupd = Lookupd::start(&[]);
    let nsqd = Nsqd::start(&[&format!("--lookupd-tcp-address={}", lookupd.tcp)]);
    let mut c = nsqd.client();
    c.publish("tail_l", b"one");
    let deadline = Instant::now() + WAIT;
    while !common::http(lookupd.http, "GET", "/lookup?topic=tail_l", b"")
        .text()
        .contains("producers\":[{")
    {
        assert!(Instant::now() < deadline, "never registered");
        std::thread::sleep(Duration::from_millis(20));
    }
    let lookup = format!("--lookupd-http-address={}", lookupd.http);
    let out = nsq_tail(&args(&[
        "--topic=tail_l",
        &lookup,
        "--print-topic",
        "-n",
        "1",
        "--consumer-opt=lookupd_poll_interval,100ms",
    ]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).ends_with("tail_l | one\n"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn to_nsq_splits_on_the_delimiter_and_skips_empty_records() {
    let nsqd = Nsqd::start(&[]);
    let tcp = format!("--nsqd-tcp-address={}", nsqd.tcp);
    let out = to_nsq(&args(&["--topic=delim", &tcp, "--delimiter=,"]), b"x,,y,z");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(read_bodies(&nsqd, "delim", 3), ["x", "y", "z"]);
    let stats = common::http(nsqd.http, "GET", "/stats?format=json&topic=delim", b"").text();
    assert!(stats.contains("\"message_count\":3"), "{stats}");
}

#[test]
fn to_nsq_publishes_to_every_nsqd_and_honours_rate() {
    let (a, b) = (Nsqd::start(&[]), Nsqd::start(&[]));
    let started = Instant::now();
    let input: Vec<u8> = (0..11)
        .flat_map(|i| format!("m{i}\n").into_bytes())
        .collect();
    let out = to_nsq(
        &args(&[
            "--topic=rate",
            &format!("--nsqd-tcp-address={}", a.tcp),
            &format!("--nsqd-tcp-address={}", b.tcp),
            "--rate=10",
        ]),
        &input,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 11 messages at 10/s cannot all go out in under a second.
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    let expected: Vec<String> = (0..11).map(|i| format!("m{i}")).collect();
    assert_eq!(read_bodies(&a, "rate", 11), expected);
    assert_eq!(read_bodies(&b, "rate", 11), expected);
}

#[test]
fn bad_flags_exit_non_zero_with_gos_messages() {
    let out = to_nsq(&args(&["--nsqd-tcp-address=127.0.0.1:1"]), b"");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--topic required"));
    let out = to_nsq(&args(&["--topic=t"]), b"");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--nsqd-tcp-address required"));
    let out = to_nsq(
        &args(&["--topic=t", "--nsqd-tcp-address=x:1", "--delimiter=ab"]),
        b"",
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--delimiter must be a single byte"));
    let out = to_nsq(
        &args(&[
            "--topic=t",
            "--nsqd-tcp-address=x:1",
            "--producer-opt=nope,1",
        ]),
        b"",
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
    let out = nsq_tail(&args(&["--topic=t"]));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("--nsqd-tcp-address or --lookupd-http-address required"));
    let out = nsq_tail(&args(&[
        "--topic=t",
        "--nsqd-tcp-address=a:1",
        "--lookupd-http-address=b:2",
    ]));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("use --nsqd-tcp-address or --lookupd-http-address not both"));
    let out = nsq_tail(&args(&["--nsqd-tcp-address=a:1"]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--topic required"));
}

#[test]
fn nsq_tail_stops_cleanly_on_sigterm() {
    let nsqd = Nsqd::start(&[]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_nsq_tail"))
        .args(args(&[
            "--topic=sig",
            &format!("--nsqd-tcp-address={}", nsqd.tcp),
        ]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 32];
    let n = stdout.read(&mut first).unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("Adding consumer"));
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let out = wait_output(child);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
