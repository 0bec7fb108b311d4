//! Black-box tests of the `nsq_to_file` binary against a real nsqd (and nsqlookupd):
//! every published message ends up in the output exactly once and is FIN'd (the
//! channel ends with nothing queued or in flight), SIGTERM exits 0, file names follow
//! `--filename-format`, `--rotate-size` makes `<REV>` revisions, `--gzip` output
//! decodes, topics are discovered through lookupd and filtered by `--topic-pattern`,
//! and bad flags are refused with Go's messages. As with Go's nsq_to_file, stdout
//! stays empty (logs go to stderr; `--version` is the one thing on stdout).
mod common;

#[cfg(feature = "topic-pattern")]
use common::Lookupd;
use common::{http, Nsqd, WAIT};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long the tool may take to write everything (it shares the CPU with other tests).
const WRITE_WAIT: Duration = Duration::from_secs(30);

/// A running nsq_to_file, its stderr (the log) and stdout collected by threads
/// (killed on drop).
struct ToFile {
    child: Child,
    log: Arc<Mutex<Vec<u8>>>,
    stdout: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

/// Reads `pipe` to EOF into a shared buffer, on a thread.
fn collect(mut pipe: impl Read + Send + 'static) -> (Arc<Mutex<Vec<u8>>>, JoinHandle<()>) {
    let bytes = Arc::new(Mutex::new(Vec::new()));
    let sink = bytes.clone();
    let reader = std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut chunk) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    });
    (bytes, reader)
}

impl ToFile {
    fn start(args: &[String]) -> ToFile {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nsq_to_file"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn nsq_to_file");
        let (stdout, out_reader) = collect(child.stdout.take().expect("stdout"));
        let (log, err_reader) = collect(child.stderr.take().expect("stderr"));
        ToFile {
            child,
            log,
            stdout,
            readers: vec![out_reader, err_reader],
        }
    }

    /// Sends `signal` (e.g. "TERM", "HUP").
    fn signal(&self, signal: &str) {
        common::signal_child(&self.child, signal);
    }

    /// Sends SIGTERM and returns the exit code once the tool has exited (and all of
    /// its output has been collected).
    fn term(&mut self) -> Option<i32> {
        self.signal("TERM");
        let deadline = Instant::now() + WRITE_WAIT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                // The tool closed its pipes: the readers reach EOF.
                for reader in self.readers.drain(..) {
                    reader.join().expect("pipe reader");
                }
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "nsq_to_file did not exit after SIGTERM: {}",
            self.log_text()
        );
    }

    fn log_text(&self) -> String {
        String::from_utf8_lossy(&self.log.lock().unwrap()).into_owned()
    }

    fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }

    /// Polls `f` every 20 ms until it is true; fails after `WRITE_WAIT`, or at once
    /// if the tool has exited, with the tool's log.
    fn wait_for(&mut self, what: &str, mut f: impl FnMut() -> bool) {
        let deadline = Instant::now() + WRITE_WAIT;
        while !f() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "nsq_to_file exited ({status}) before {what}: {}",
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

impl Drop for ToFile {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs nsq_to_file to completion with `args` (for flag errors).
fn run(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nsq_to_file"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nsq_to_file");
    let deadline = Instant::now() + WAIT;
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("nsq_to_file {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("output")
}

/// The standard arguments: one nsqd, one topic, `dir`, quick syncs, a fixed host name.
fn args(nsqd: &Nsqd, topic: &str, dir: &Path, extra: &[&str]) -> Vec<String> {
    let mut all = vec![
        format!("--nsqd-tcp-address={}", nsqd.tcp),
        format!("--topic={topic}"),
        format!("--output-dir={}", dir.display()),
        "--sync-interval=100ms".to_string(),
        "--host-identifier=testhost".to_string(),
    ];
    all.extend(extra.iter().map(|s| s.to_string()));
    all
}

/// `n` distinct bodies `<prefix>-0000`, ... published in MPUB batches of 100.
fn publish(nsqd: &Nsqd, topic: &str, prefix: &str, n: usize) -> Vec<String> {
    let bodies: Vec<String> = (0..n).map(|i| format!("{prefix}-{i:04}")).collect();
    let mut client = nsqd.client();
    for batch in bodies.chunks(100) {
        let refs: Vec<&[u8]> = batch.iter().map(|b| b.as_bytes()).collect();
        client.mpub(topic, &refs);
    }
    bodies
}

/// The files in `dir`, by name.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.sort();
    paths
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// The complete (newline-terminated) lines of every plain file in `dir`.
fn lines(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for path in files(dir) {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let complete = text.rfind('\n').map_or("", |end| &text[..end]);
        out.extend(
            complete
                .split('\n')
                .filter(|l| !l.is_empty())
                .map(String::from),
        );
    }
    out
}

/// Asserts that `got` holds each of `want` exactly once and nothing else.
fn assert_each_once(mut got: Vec<String>, mut want: Vec<String>) {
    got.sort();
    want.sort();
    let dups = got.windows(2).filter(|w| w[0] == w[1]).count();
    assert_eq!(dups, 0, "duplicated lines");
    assert_eq!(got.len(), want.len(), "line count");
    assert_eq!(got, want);
}

/// nsqd's stats for `channel` of `topic`, if both exist.
fn channel_stats(nsqd: &Nsqd, topic: &str, channel: &str) -> Option<(Value, Value)> {
    let stats = http(nsqd.http, "GET", "/stats?format=json", b"").json();
    let t = stats["topics"]
        .as_array()?
        .iter()
        .find(|t| t["topic_name"] == topic)?
        .clone();
    let c = t["channels"]
        .as_array()?
        .iter()
        .find(|c| c["channel_name"] == channel)?
        .clone();
    Some((t, c))
}

/// Whether all `n` messages reached the channel and were FIN'd.
fn all_finished(nsqd: &Nsqd, topic: &str, n: u64) -> bool {
    channel_stats(nsqd, topic, "nsq_to_file").is_some_and(|(t, c)| {
        t["depth"] == 0 && c["message_count"] == n && c["depth"] == 0 && c["in_flight_count"] == 0
    })
}

/// `YYYY-MM-DD_HH` (UTC) of `t`: the default `--datetime-format`.
fn hour_stamp(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let (y, m, d) = nsq::common::gotime::civil_from_days(secs / 86_400);
    format!("{y:04}-{m:02}-{d:02}_{:02}", secs % 86_400 / 3600)
}

#[test]
fn writes_every_message_once_and_fins_only_what_is_written() {
    let nsqd = Nsqd::start(&[]);
    let dir = common::temp_dir("to_file_all");
    let want = publish(&nsqd, "to_file_all", "message", 1000);
    let mut tool = ToFile::start(&args(&nsqd, "to_file_all", &dir, &[]));
    tool.wait_for("1000 lines", || lines(&dir).len() >= 1000);
    assert_eq!(tool.term(), Some(0), "{}", tool.log_text());
    assert_each_once(lines(&dir), want);
    let (_, c) = channel_stats(&nsqd, "to_file_all", "nsq_to_file").expect("channel");
    assert_eq!(c["depth"], 0, "{c}");
    assert_eq!(c["in_flight_count"], 0, "every message FIN'd: {c}");
    assert_eq!(c["requeue_count"], 0, "{c}");
    assert_eq!(c["timeout_count"], 0, "{c}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn messages_stay_in_flight_until_their_file_is_synced() {
    let nsqd = Nsqd::start(&[]);
    let dir = common::temp_dir("to_file_held");
    let first = publish(&nsqd, "to_file_held", "first", 10);
    // No tick, no rotation and no starvation (10 of RDY 1000) for the next batch: the
    // only sync left is the one SIGHUP asks for (or exit).
    let extra = [
        "--sync-interval=1h",
        "--max-in-flight=1000",
        "--datetime-format=fixed",
    ];
    let mut tool = ToFile::start(&args(&nsqd, "to_file_held", &dir, &extra));
    // Opening the first file syncs, so the first batch is FIN'd, and (stats read
    // before the file) every line FIN'd is already in the file.
    tool.wait_for("the first batch FIN'd", || {
        all_finished(&nsqd, "to_file_held", 10)
    });
    assert_each_once(lines(&dir), first.clone());

    let second = publish(&nsqd, "to_file_held", "second", 10);
    let in_flight = || {
        channel_stats(&nsqd, "to_file_held", "nsq_to_file")
            .map(|(_, c)| (c["message_count"].clone(), c["in_flight_count"].clone()))
    };
    // Delivered and not FIN'd: no sync has happened since they arrived.
    tool.wait_for("the second batch delivered", || {
        in_flight().is_some_and(|(count, _)| count == 20)
    });
    tool.wait_for("the second batch held in flight", || {
        in_flight().is_some_and(|(_, held)| held == 10)
    });

    // SIGHUP syncs (and closes) the file: that, and nothing else, releases them.
    tool.signal("HUP");
    let mut want = first;
    want.extend(second);
    tool.wait_for("the second batch FIN'd after the sync", || {
        let Some((_, held)) = in_flight() else {
            return false;
        };
        if held == 10 {
            return false;
        }
        // Some were FIN'd (stats read first): the whole synced batch is in the file.
        assert_each_once(lines(&dir), want.clone());
        held == 0
    });
    assert!(all_finished(&nsqd, "to_file_held", 20));
    // FIN'd by the sync while the tool runs on, not by its shutdown.
    assert!(
        tool.child.try_wait().expect("try_wait").is_none(),
        "{}",
        tool.log_text()
    );
    assert_eq!(tool.term(), Some(0), "{}", tool.log_text());
    assert_each_once(lines(&dir), want);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn writes_nothing_to_stdout() {
    let nsqd = Nsqd::start(&[]);
    let dir = common::temp_dir("to_file_stdout");
    publish(&nsqd, "to_file_stdout", "m", 20);
    let mut tool = ToFile::start(&args(&nsqd, "to_file_stdout", &dir, &[]));
    tool.wait_for("every message FIN'd", || {
        all_finished(&nsqd, "to_file_stdout", 20)
    });
    assert_eq!(tool.term(), Some(0), "{}", tool.log_text());
    assert_eq!(tool.stdout_text(), "", "stdout must be empty");
    // The log went to stderr.
    assert!(tool.log_text().contains("opening"), "{}", tool.log_text());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn file_name_follows_the_default_format() {
    let nsqd = Nsqd::start(&[]);
    let dir = common::temp_dir("to_file_name");
    let before = hour_stamp(SystemTime::now());
    let want = publish(&nsqd, "to_file_name", "m", 5);
    let mut tool = ToFile::start(&args(&nsqd, "to_file_name", &dir, &[]));
    tool.wait_for("every message FIN'd", || {
        all_finished(&nsqd, "to_file_name", 5)
    });
    assert_eq!(tool.term(), Some(0), "{}", tool.log_text());
    let after = hour_stamp(SystemTime::now());
    let names: Vec<String> = files(&dir).iter().map(|p| name(p)).collect();
    let expected = |stamp: &str| format!("to_file_name.testhost.{stamp}.log");
    assert!(
        names == [expected(&before)] || names == [expected(&after)],
        "{names:?}"
    );
    assert_each_once(lines(&dir), want);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn rotate_size_makes_revisions_that_together_hold_every_message() {
    let nsqd = Nsqd::start(&[]);
    let dir = common::temp_dir("to_file_rotate");
    let want = publish(&nsqd, "to_file_rotate", "rotate-padding-padding", 300);
    let line_len = want[0].len() as u64 + 1;
    let mut tool = ToFile::start(&args(
        &nsqd,
        "to_file_rotate",
        &dir,
        &["--rotate-size=1000"],
    ));
    tool.wait_for("every message FIN'd", || {
        all_finished(&nsqd, "to_file_rotate", 300)
    });
    assert_eq!(tool.term(), Some(0), "{}", tool.log_text());
    assert_each_once(lines(&dir), want);
    // to_file_rotate.testhost-000001.2026-11-24_10.log: revisions per hour stamp.
    let mut revs: BTreeMap<String, Vec<(u32, u64)>> = BTreeMap::new();
    for path in files(&dir) {
        let n = name(&path);
        let rest = n.strip_prefix("to_file_rotate.testhost-").expect(&n);
        let (rev, stamp) = rest.split_once('.').expect(&n);
        assert_eq!(rev.len(), 6, "{n}");
        let size = std::fs::metadata(&path).unwrap().len();
        let entry = revs.entry(stamp.to_string()).or_default();
        entry.push((rev.parse().expect(&n), size));
    }
    assert!(revs.values().any(|r| r.len() >= 2), "{revs:?}");
    for files in revs.values_mut() {
        files.sort();
        let numbers: Vec<u32> = files.iter().map(|f| f.0).collect();
        assert_eq!(numbers, (0..files.len() as u32).collect::<Vec<_>>());
        // Every file but the last grew past --rotate-size by at most one line.
        for &(rev, size) in &files[..files.len() - 1] {
            assert!(
                size > 1000 && size <= 1000 + line_len,
                "rev {rev}: {size} bytes"
            );
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[cfg(feature = "gzip")]
#[test]
fn gzip_output_decodes_to_every_message() {
    use std::io::Read;
    let nsqd = Nsqd::start(&[]);
    let dir = common::temp_dir("to_file_gzip");
    let want = publish(&nsqd, "to_file_gzip", "zipped", 200);
    let mut tool = ToFile::start(&args(
        &nsqd,
        "to_file_gzip",
        &dir,
        &["--gzip", "--gzip-level=9"],
    ));
    tool.wait_for("every message FIN'd", || {
        all_finished(&nsqd, "to_file_gzip", 200)
    });
    assert_eq!(tool.term(), Some(0), "{}", tool.log_text());
    let mut got = Vec::new();
    for path in files(&dir) {
        let n = name(&path);
        assert!(
            n.starts_with("to_file_gzip.testhost-000000.") && n.ends_with(".log.gz"),
            "{n}"
        );
        let raw = std::fs::read(&path).unwrap();
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_string(&mut text)
            .expect("valid gzip");
        got.extend(text.lines().map(String::from));
    }
    assert_each_once(got, want);
    let _ = std::fs::remove_dir_all(dir);
}

#[cfg(feature = "topic-pattern")]
#[test]
fn topics_are_discovered_through_lookupd_and_filtered_by_pattern() {
    let lookupd = Lookupd::start(&[]);
    let nsqd = Nsqd::start(&[
        "--broadcast-address=127.0.0.1",
        &format!("--lookupd-tcp-address={}", lookupd.tcp),
    ]);
    let dir = common::temp_dir("to_file_discover");
    let want = publish(&nsqd, "keep_me", "kept", 10);
    publish(&nsqd, "skip_me", "skipped", 10);
    common::eventually("lookupd to list both topics", || {
        let topics = http(lookupd.http, "GET", "/topics", b"").json();
        let listed = |name: &str| {
            topics["topics"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t == name))
        };
        listed("keep_me") && listed("skip_me")
    });
    let mut tool = ToFile::start(&[
        format!("--lookupd-http-address={}", lookupd.http),
        "--topic-pattern=^keep_".to_string(),
        "--topic-refresh=200ms".to_string(),
        format!("--output-dir={}", dir.display()),
        "--sync-interval=100ms".to_string(),
        "--host-identifier=testhost".to_string(),
    ]);
    tool.wait_for("every message FIN'd", || all_finished(&nsqd, "keep_me", 10));
    assert_eq!(tool.term(), Some(0), "{}", tool.log_text());
    assert!(channel_stats(&nsqd, "skip_me", "nsq_to_file").is_none());
    let names: Vec<String> = files(&dir).iter().map(|p| name(p)).collect();
    assert!(
        names.iter().all(|n| n.starts_with("keep_me.testhost.")),
        "{names:?}"
    );
    assert!(
        tool.log_text().contains("skipping topic skip_me"),
        "{}",
        tool.log_text()
    );
    assert_each_once(lines(&dir), want);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_flags_are_refused_with_gos_messages() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--nsqd-tcp-address=127.0.0.1:4150"],
            "--topic or --topic-pattern required",
        ),
        (
            &["--topic=t"],
            "--nsqd-tcp-address or --lookupd-http-address required.",
        ),
        (
            &["--nsqd-tcp-address=127.0.0.1:4150", "--topic-pattern=.*"],
            "--lookupd-http-address must be specified when no --topic specified",
        ),
        (
            &[
                "--nsqd-tcp-address=127.0.0.1:4150",
                "--topic=t",
                "--gzip-level=0",
            ],
            "invalid --gzip-level value (0), should be 1-9",
        ),
        (
            &["--no-such-flag"],
            "flag provided but not defined: -no-such-flag",
        ),
    ];
    for (args, message) in cases {
        let out = run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: stdout {:?}", out.stdout);
    }
    let out = run(&["--help"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty(), "stdout {:?}", out.stdout);
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("Usage of nsq_to_file:\n"));
    let out = run(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n", nsq::version_line("nsq_to_file"))
    );
}

#[cfg(not(feature = "gzip"))]
#[test]
fn gzip_without_the_feature_says_how_to_build_it() {
    let out = run(&["--nsqd-tcp-address=127.0.0.1:4150", "--topic=t", "--gzip"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--features gzip"), "{stderr}");
}
