//! Black-box tests of the `nsq_stat` binary against real nsqd and nsqlookupd
//! processes on loopback: the printed header and rows (stdout holds exactly Go's
//! table, byte for byte, and nothing else), the header repeated every 25 polls,
//! discovery through lookupd with figures summed over two nsqd, Go's messages for
//! rejected flags (on stderr), failure when no nsqd answers, and a clean exit on
//! SIGTERM.

mod common;

use common::{http, Lookupd, Nsqd, WAIT};
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const HEADER: [&str; 2] = [
    "------rate------+----------------depth----------------+--------------metadata---------------",
    "ingress  egress |   total     mem    disk inflt   def |     req     t-o         msgs clients",
];

/// The two header lines as printed, each with its newline.
fn header() -> String {
    format!("{}\n{}\n", HEADER[0], HEADER[1])
}

/// A running `nsq_stat`, its stdout and stderr collected by threads; killed on drop.
struct Stat {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

impl Stat {
    fn spawn(args: &[&str]) -> Stat {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nsq_stat"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn nsq_stat");
        let (stdout, out_reader) = collect(child.stdout.take().expect("stdout"));
        let (stderr, err_reader) = collect(child.stderr.take().expect("stderr"));
        Stat {
            child,
            stdout,
            stderr,
            readers: vec![out_reader, err_reader],
        }
    }

    /// Waits (at most [`WAIT`]) for the exit code, then gives it with stdout and stderr.
    fn finish(mut self) -> (Option<i32>, String, String) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // The process closed its pipes: the readers reach EOF.
                for reader in self.readers.drain(..) {
                    reader.join().expect("pipe reader");
                }
                let out = self.stdout.lock().unwrap().clone();
                let err = self.stderr.lock().unwrap().clone();
                return (status.code(), out, err);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("nsq_stat did not exit: {}", self.stderr.lock().unwrap());
    }
}

impl Drop for Stat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `pipe` to EOF into a shared string, on a thread.
fn collect(mut pipe: impl Read + Send + 'static) -> (Arc<Mutex<String>>, JoinHandle<()>) {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = text.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    (text, reader)
}

/// Runs nsq_stat to completion.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    Stat::spawn(args).finish()
}

/// An nsqd that announces 127.0.0.1 (so its `/info` address is reachable).
fn nsqd(extra: &[&str]) -> Nsqd {
    let mut args = vec!["--broadcast-address=127.0.0.1"];
    args.extend_from_slice(extra);
    Nsqd::start(&args)
}

/// Creates topic `t` and channel `c` on `nsqd` and publishes `n` messages to it.
fn topic_with_messages(nsqd: &Nsqd, n: usize) {
    for target in ["/topic/create?topic=t", "/channel/create?topic=t&channel=c"] {
        let r = http(nsqd.http, "POST", target, b"");
        assert_eq!(r.status, 200, "{target}: {}", r.text());
    }
    let body: Vec<String> = (0..n).map(|i| format!("message {i}")).collect();
    let r = http(
        nsqd.http,
        "POST",
        "/mpub?topic=t",
        body.join("\n").as_bytes(),
    );
    assert_eq!((r.status, r.text()), (200, "OK".to_string()));
}

#[test]
fn prints_the_channel_row_from_nsqd() {
    let nsqd = nsqd(&[]);
    topic_with_messages(&nsqd, 7);
    // A consumer holding two messages in flight.
    let mut consumer = common::consumer(&nsqd, r#"{"client_id":"stat"}"#, "t", "c", 2);
    consumer.read_message();
    consumer.read_message();

    let addr = format!("--nsqd-http-address={}", nsqd.http);
    let (code, out, err) = run(&[
        "--topic=t",
        "--channel=c",
        &addr,
        "--count=1",
        "--interval=100ms",
    ]);
    assert_eq!(code, Some(0), "stderr: {err}");
    let row = "      0       0 |       5       5       0     2     0 |       0       0            7       1";
    // Byte for byte: the header and one row, nothing else (no log line).
    assert_eq!(out, format!("{}{row}\n", header()));
}

#[test]
fn sums_the_nsqd_lookupd_knows() {
    let lookupd = Lookupd::start(&[]);
    let register = format!("--lookupd-tcp-address={}", lookupd.tcp);
    let (a, b) = (nsqd(&[&register]), nsqd(&[&register]));
    topic_with_messages(&a, 4);
    topic_with_messages(&b, 3);
    common::eventually("lookupd to list both nsqd", || {
        let r = http(lookupd.http, "GET", "/lookup?topic=t", b"");
        r.status == 200 && r.json()["producers"].as_array().map_or(0, Vec::len) == 2
    });

    let addr = format!("--lookupd-http-address={}", lookupd.http);
    let (code, out, err) = run(&[
        "--topic=t",
        "--channel=c",
        &addr,
        "--count=2",
        "--interval=100ms",
    ]);
    assert_eq!(code, Some(0), "stderr: {err}");
    let row = "      0       0 |       7       7       0     0     0 |       0       0            7       0";
    assert_eq!(out, format!("{}{row}\n{row}\n", header()));
}

#[test]
fn repeats_the_header_every_25_polls() {
    let nsqd = nsqd(&[]);
    topic_with_messages(&nsqd, 3);
    let addr = format!("--nsqd-http-address={}", nsqd.http);
    let (code, out, err) = run(&[
        "--topic=t",
        "--channel=c",
        &addr,
        "--count=26",
        "--interval=10ms",
    ]);
    assert_eq!(code, Some(0), "stderr: {err}");
    // As Go: poll 0 prints only the header, polls 1-24 a row each, poll 25 the header
    // again and a row, poll 26 the last row.
    let row = "      0       0 |       3       3       0     0     0 |       0       0            3       0\n";
    let expected = format!("{}{}{}{row}{row}", header(), row.repeat(24), header());
    assert_eq!(out, expected);
}

#[test]
fn rejects_bad_flags_with_go_messages() {
    let nsqd_flag = "--nsqd-http-address=127.0.0.1:4151";
    let fatal: [(&[&str], &str); 8] = [
        (
            &["--channel=c", nsqd_flag],
            "--topic and --channel are required",
        ),
        (
            &["--topic=t", nsqd_flag],
            "--topic and --channel are required",
        ),
        (
            &["--topic=t", "--channel=c"],
            "--nsqd-http-address or --lookupd-http-address required",
        ),
        (
            &[
                "--topic=t",
                "--channel=c",
                nsqd_flag,
                "--lookupd-http-address=127.0.0.1:4161",
            ],
            "use --nsqd-http-address or --lookupd-http-address not both",
        ),
        (
            &[
                "--topic=t",
                "--channel=c",
                "--nsqd-http-address=http://127.0.0.1:4151",
            ],
            "--nsqd-http-address error - address should not contain scheme",
        ),
        (
            &["--topic=t", "--channel=c", nsqd_flag, "--count=0"],
            "--count should be positive",
        ),
        (
            &["--topic=t", "--channel=c", nsqd_flag, "--interval=0"],
            "--interval should be positive",
        ),
        (
            &[
                "--topic=t",
                "--channel=c",
                nsqd_flag,
                "--http-client-request-timeout=0",
            ],
            "--http-client-request-timeout should be positive",
        ),
    ];
    for (args, message) in fatal {
        let (code, out, err) = run(args);
        assert_eq!(code, Some(1), "{args:?}: {err}");
        assert!(err.trim_end().ends_with(message), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
    }
    let (code, out, err) = run(&["--topic=t", "--bogus"]);
    assert_eq!(code, Some(2));
    assert!(out.is_empty(), "{out}");
    assert!(
        err.starts_with("flag provided but not defined: -bogus\nUsage of nsq_stat:\n"),
        "{err}"
    );
    let (code, out, err) = run(&["--interval=soon"]);
    assert_eq!(code, Some(2));
    assert!(out.is_empty(), "{out}");
    assert!(
        err.starts_with("invalid value \"soon\" for flag -interval"),
        "{err}"
    );
    let (code, out, err) = run(&["--help"]);
    assert_eq!(code, Some(0));
    assert!(out.is_empty(), "{out}");
    assert!(err.starts_with("Usage of nsq_stat:\n"), "{err}");
    let (code, out, _) = run(&["--version"]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("nsq_stat v"), "{out}");
    assert_eq!(out.lines().count(), 1, "{out}");
}

#[test]
fn fails_when_no_nsqd_answers_or_the_channel_is_missing() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let addr = format!("--nsqd-http-address={closed}");
    let (code, out, err) = run(&["--topic=t", "--channel=c", &addr, "--count=1"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("ERROR: failed to get topic producers - failed to query any nsqd: "),
        "{err}"
    );

    let nsqd = nsqd(&[]);
    topic_with_messages(&nsqd, 1);
    let addr = format!("--nsqd-http-address={}", nsqd.http);
    let (code, out, err) = run(&["--topic=t", "--channel=nope", &addr, "--count=1"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("ERROR: failed to find channel(nope) in stats metadata for topic(t)"),
        "{err}"
    );
    // A topic no nsqd has leaves nothing to query.
    let (code, out, err) = run(&["--topic=absent", "--channel=c", &addr, "--count=1"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("failed to get nsqd stats - failed to query any nsqd: "),
        "{err}"
    );
}

#[test]
fn sigterm_exits_cleanly() {
    let nsqd = nsqd(&[]);
    topic_with_messages(&nsqd, 2);
    let addr = format!("--nsqd-http-address={}", nsqd.http);
    let stat = Stat::spawn(&["--topic=t", "--channel=c", &addr, "--interval=50ms"]);
    common::eventually("a row", || stat.stdout.lock().unwrap().lines().count() >= 3);
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(stat.child.id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success());
    let (code, out, err) = stat.finish();
    assert_eq!(code, Some(0), "{err}");
    // Only the table: the header (again every 25 polls) and identical rows (2
    // queued, nothing moving); no log line.
    let row = "      0       0 |       2       2       0     0     0 |       0       0            2       0\n";
    assert!(out.starts_with(&header()), "{out}");
    let rows = out.replace(&header(), "");
    assert!(!rows.is_empty(), "{out}");
    assert_eq!(rows, row.repeat(rows.len() / row.len()), "{out}");
}
