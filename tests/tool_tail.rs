//! `to_nsq` and `nsq_tail`, black-box: stdin lines become messages, and nsq_tail
//! prints what a topic receives. As with Go's tools, stdout carries only the data
//! (nsq_tail's messages; nothing at all from to_nsq) and every log line goes to
//! stderr, so each test checks stdout byte for byte.

mod common;

use common::{Lookupd, Nsqd, WAIT};
use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A running tool, its stdout and stderr collected by threads; killed on drop.
struct Tool {
    child: Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    threads: Vec<JoinHandle<()>>,
}

/// How a tool ended.
struct Ended {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: String,
}

impl Ended {
    fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

impl Tool {
    /// Starts `bin` with `args`; `input` (if any) is written to its stdin, which is
    /// then closed (with `None`, stdin is `/dev/null`).
    fn spawn(bin: &str, args: &[String], input: Option<&[u8]>) -> Tool {
        let mut child = Command::new(bin)
            .args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
        let (stdout, out_reader) = collect(child.stdout.take().expect("stdout"));
        let (stderr, err_reader) = collect(child.stderr.take().expect("stderr"));
        let mut threads = vec![out_reader, err_reader];
        if let Some(input) = input {
            let mut stdin = child.stdin.take().expect("stdin");
            let input = input.to_vec();
            // A thread of its own, so a tool that does not read cannot block the test.
            threads.push(std::thread::spawn(move || {
                let _ = stdin.write_all(&input);
            }));
        }
        Tool {
            child,
            stdout,
            stderr,
            threads,
        }
    }

    fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Waits (at most [`WAIT`]) for the tool to exit by itself; then its output.
    fn finish(mut self) -> Ended {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // The tool closed its pipes: the readers reach EOF.
                for thread in self.threads.drain(..) {
                    thread.join().expect("pipe thread");
                }
                return Ended {
                    status,
                    stdout: self.stdout.lock().unwrap().clone(),
                    stderr: self.stderr_text(),
                };
            }
            assert!(
                Instant::now() < deadline,
                "did not exit in time; stdout {:?} stderr {:?}",
                String::from_utf8_lossy(&self.stdout.lock().unwrap()),
                self.stderr_text()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends `signal` (e.g. "TERM") to the tool.
    fn signal(&self, signal: &str) {
        common::signal_child(&self.child, signal);
    }
}

impl Drop for Tool {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `pipe` to EOF into a shared buffer, on a thread.
fn collect(mut pipe: impl Read + Send + 'static) -> (Arc<Mutex<Vec<u8>>>, JoinHandle<()>) {
    let bytes = Arc::new(Mutex::new(Vec::new()));
    let sink = bytes.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    (bytes, reader)
}

/// Runs to_nsq with `args`, feeding it `input`, to its exit.
fn to_nsq(args: &[String], input: &[u8]) -> Ended {
    Tool::spawn(env!("CARGO_BIN_EXE_to_nsq"), args, Some(input)).finish()
}

/// Runs nsq_tail with `args` to its exit.
fn nsq_tail(args: &[String]) -> Ended {
    Tool::spawn(env!("CARGO_BIN_EXE_nsq_tail"), args, None).finish()
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

/// Asserts a clean exit (status 0) with nothing on stdout.
fn assert_ok_and_silent(out: &Ended) {
    assert!(out.status.success(), "{}: {}", out.status, out.stderr);
    assert_eq!(out.stdout_text(), "", "stdout must be empty");
}

#[test]
fn nsq_tail_n_2_writes_exactly_the_two_messages_to_stdout() {
    let nsqd = Nsqd::start(&[]);
    let mut c = nsqd.client();
    // The topic has no channel yet, so it holds these until nsq_tail's channel appears.
    for body in [&b"a"[..], b"b", b"c"] {
        c.publish("tail_n", body);
    }
    let tcp = format!("--nsqd-tcp-address={}", nsqd.tcp);
    let out = nsq_tail(&args(&["--topic=tail_n", &tcp, "-n", "2"]));
    assert!(out.status.success(), "{}: {}", out.status, out.stderr);
    assert_eq!(out.stdout_text(), "a\nb\n");
    // The log line is still there, on stderr.
    assert!(
        out.stderr.contains("Adding consumer for topic: tail_n"),
        "{}",
        out.stderr
    );
}

#[test]
fn to_nsq_then_nsq_tail_prints_each_line() {
    let nsqd = Nsqd::start(&[]);
    let tcp = format!("--nsqd-tcp-address={}", nsqd.tcp);
    let out = to_nsq(&args(&["--topic=tail_t", &tcp]), b"a\nb\n");
    assert_ok_and_silent(&out);
    // The topic has no channel yet, so it holds both until nsq_tail's channel appears.
    let out = nsq_tail(&args(&["--topic=tail_t", &tcp, "-n", "2"]));
    assert!(out.status.success(), "{}: {}", out.status, out.stderr);
    assert_eq!(out.stdout_text(), "a\nb\n");
}

#[test]
fn nsq_tail_prints_topics_and_finds_nsqd_through_lookupd() {
    let lookupd = Lookupd::start(&[]);
    let nsqd = Nsqd::start(&[&format!("--lookupd-tcp-address={}", lookupd.tcp)]);
    let mut c = nsqd.client();
    c.publish("tail_l", b"one");
    common::eventually("lookupd to list the nsqd for tail_l", || {
        let r = common::http(lookupd.http, "GET", "/lookup?topic=tail_l", b"");
        r.status == 200
            && r.json()["producers"]
                .as_array()
                .is_some_and(|p| p.len() == 1)
    });
    let lookup = format!("--lookupd-http-address={}", lookupd.http);
    let out = nsq_tail(&args(&[
        "--topic=tail_l",
        &lookup,
        "--print-topic",
        "-n",
        "1",
        "--consumer-opt=lookupd_poll_interval,100ms",
    ]));
    assert!(out.status.success(), "{}: {}", out.status, out.stderr);
    assert_eq!(out.stdout_text(), "tail_l | one\n");
}

#[test]
fn to_nsq_splits_on_the_delimiter_and_skips_empty_records() {
    let nsqd = Nsqd::start(&[]);
    let tcp = format!("--nsqd-tcp-address={}", nsqd.tcp);
    let out = to_nsq(&args(&["--topic=delim", &tcp, "--delimiter=,"]), b"x,,y,z");
    assert_ok_and_silent(&out);
    assert_eq!(read_bodies(&nsqd, "delim", 3), ["x", "y", "z"]);
    let stats = common::http(nsqd.http, "GET", "/stats?format=json&topic=delim", b"").json();
    assert_eq!(stats["topics"][0]["topic_name"], "delim", "{stats}");
    assert_eq!(stats["topics"][0]["message_count"], 3, "{stats}");
}

#[test]
fn to_nsq_publishes_to_every_nsqd_and_honours_rate() {
    let (a, b) = (Nsqd::start(&[]), Nsqd::start(&[]));
    let input: Vec<u8> = (0..11)
        .flat_map(|i| format!("m{i}\n").into_bytes())
        .collect();
    let started = Instant::now();
    let out = to_nsq(
        &args(&[
            "--topic=rate",
            &format!("--nsqd-tcp-address={}", a.tcp),
            &format!("--nsqd-tcp-address={}", b.tcp),
            "--rate=10",
        ]),
        &input,
    );
    assert_ok_and_silent(&out);
    // A lower bound only (load can only make it slower): at 10/s the 11th message
    // is not due until a second after the first.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let expected: Vec<String> = (0..11).map(|i| format!("m{i}")).collect();
    assert_eq!(read_bodies(&a, "rate", 11), expected);
    assert_eq!(read_bodies(&b, "rate", 11), expected);
}

#[test]
fn bad_flags_exit_non_zero_with_gos_messages_on_stderr() {
    // Rejected options: Go's log.Fatal, exit 1, nothing on stdout.
    let rejected: [(&str, &[&str], &str); 7] = [
        (
            "to_nsq",
            &["--nsqd-tcp-address=127.0.0.1:1"],
            "--topic required",
        ),
        ("to_nsq", &["--topic=t"], "--nsqd-tcp-address required"),
        (
            "to_nsq",
            &["--topic=t", "--nsqd-tcp-address=x:1", "--delimiter=ab"],
            "--delimiter must be a single byte",
        ),
        (
            "to_nsq",
            &[
                "--topic=t",
                "--nsqd-tcp-address=x:1",
                "--producer-opt=nope,1",
            ],
            "nope",
        ),
        (
            "nsq_tail",
            &["--topic=t"],
            "--nsqd-tcp-address or --lookupd-http-address required",
        ),
        (
            "nsq_tail",
            &[
                "--topic=t",
                "--nsqd-tcp-address=a:1",
                "--lookupd-http-address=b:2",
            ],
            "use --nsqd-tcp-address or --lookupd-http-address not both",
        ),
        ("nsq_tail", &["--nsqd-tcp-address=a:1"], "--topic required"),
    ];
    for (tool, list, message) in rejected {
        let out = match tool {
            "to_nsq" => to_nsq(&args(list), b""),
            _ => nsq_tail(&args(list)),
        };
        assert_eq!(
            out.status.code(),
            Some(1),
            "{tool} {list:?}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains(message),
            "{tool} {list:?}: {}",
            out.stderr
        );
        assert_eq!(out.stdout_text(), "", "{tool} {list:?}");
    }
    // An unknown flag: Go's flag package exits 2.
    for out in [
        to_nsq(&args(&["--bogus"]), b""),
        nsq_tail(&args(&["--bogus"])),
    ] {
        assert_eq!(out.status.code(), Some(2), "{}", out.stderr);
        assert!(
            out.stderr.contains("flag provided but not defined: -bogus"),
            "{}",
            out.stderr
        );
        assert_eq!(out.stdout_text(), "");
    }
}

#[test]
fn help_goes_to_stderr_and_version_to_stdout() {
    for (name, out) in [
        ("to_nsq", to_nsq(&args(&["--help"]), b"")),
        ("nsq_tail", nsq_tail(&args(&["--help"]))),
    ] {
        assert_ok_and_silent(&out);
        assert!(
            out.stderr.starts_with(&format!("Usage of {name}:\n")),
            "{}",
            out.stderr
        );
    }
    for (name, out) in [
        ("to_nsq", to_nsq(&args(&["--version"]), b"")),
        ("nsq_tail", nsq_tail(&args(&["--version"]))),
    ] {
        assert!(out.status.success(), "{}", out.stderr);
        assert_eq!(out.stdout_text(), format!("{}\n", nsq::version_line(name)));
    }
}

#[test]
fn nsq_tail_stops_cleanly_on_sigterm_having_printed_nothing() {
    let nsqd = Nsqd::start(&[]);
    let tail = Tool::spawn(
        env!("CARGO_BIN_EXE_nsq_tail"),
        &args(&[
            "--topic=sig",
            "--channel=tail",
            &format!("--nsqd-tcp-address={}", nsqd.tcp),
        ]),
        None,
    );
    // Subscribed: its signal handlers are in place and nothing is left to set up.
    common::eventually("nsq_tail to subscribe", || {
        let stats = common::http(nsqd.http, "GET", "/stats?format=json&topic=sig", b"").json();
        stats["topics"][0]["channels"][0]["client_count"] == 1
    });
    assert!(
        tail.stderr_text()
            .contains("Adding consumer for topic: sig"),
        "{}",
        tail.stderr_text()
    );
    tail.signal("TERM");
    let out = tail.finish();
    assert_ok_and_silent(&out);
}
