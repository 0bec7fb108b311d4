//! Black-box durability tests: what nsqd keeps across a clean stop (SIGTERM) and a
//! restart on the same `--data-path`; taking over a data directory written by Go nsqd
//! v1.3.0; the data-directory lock; and files a Go nsqd can read back (go-diskqueue
//! meta and records, `nsqd.dat`). The crash (SIGKILL) rounds are in
//! `tests/durability_crash.rs`.
//!
//! Restart tests run the binary through [`Node`], which, unlike `common::Nsqd`, leaves
//! the data directory alone when it stops; [`Dir`] removes it at the end of the test.

mod common;

use common::node::{channel, num, topic, Dir, Node};
use common::{Client, Msg, WAIT};
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

/// The `key` of every object in `list`, sorted.
fn names(list: &Value, key: &str) -> Vec<String> {
    let mut out: Vec<String> = list
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v[key].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Polls `f` until it returns true or `limit` passes (a deadline that only turns a hang
/// into a failure: callers pass [`WAIT`]).
fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Reads `n` messages, FINning them in batches (fewer write syscalls).
fn consume_fin(c: &mut Client, n: usize) -> Vec<Msg> {
    let mut out = Vec::with_capacity(n);
    let mut fins = Vec::new();
    while out.len() < n {
        let m = c
            .try_read_message(WAIT)
            .unwrap_or_else(|| panic!("only {} of {n} messages arrived", out.len()));
        fins.extend_from_slice(b"FIN ");
        fins.extend_from_slice(&m.id);
        fins.push(b'\n');
        out.push(m);
        if out.len() % 100 == 0 || out.len() == n {
            c.send(&fins);
            fins.clear();
        }
    }
    out
}

fn assert_no_more(c: &mut Client, wait: Duration) {
    if let Some(m) = c.try_read_message(wait) {
        panic!(
            "unexpected extra message {:?} ({})",
            String::from_utf8_lossy(&m.body),
            m.id_str()
        );
    }
}

/// Test 1: 100,000 messages, mostly spilled to disk, survive SIGTERM and come back
/// exactly once and in publish order.
#[test]
fn sigterm_keeps_100k_spilled_messages_in_order() {
    const N: usize = 100_000;
    const BATCH: usize = 1000;
    let dir = Dir::new("dur-100k");
    let node = Node::start(&dir.0, &["--mem-queue-size=100"]);
    node.post("/topic/create?topic=big");
    node.post("/channel/create?topic=big&channel=c");

    let mut p = node.client();
    for b in 0..N / BATCH {
        let bodies: Vec<Vec<u8>> = (b * BATCH..(b + 1) * BATCH)
            .map(|i| format!("msg-{i:06}").into_bytes())
            .collect();
        let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
        p.mpub("big", &refs);
    }
    drop(p);

    let mut last = Value::Null;
    let settled = wait_until(WAIT, || {
        last = node.stats();
        let t = topic(&last, "big");
        num(&t["depth"]) == 0 && num(&channel(t, "c")["depth"]) == N as u64
    });
    assert!(settled, "topic not drained into channel: {last}");
    let t = topic(&last, "big");
    let c = channel(t, "c");
    assert_eq!(num(&t["message_count"]), N as u64);
    assert!(
        num(&c["backend_depth"]) >= (N - 100) as u64,
        "expected at most 100 in memory: {c}"
    );
    node.stop();

    let node = Node::start(&dir.0, &["--mem-queue-size=100"]);
    let s = node.stats();
    assert_eq!(
        num(&channel(topic(&s, "big"), "c")["depth"]),
        N as u64,
        "{s}"
    );
    let mut cons = node.consumer("big", "c", 2500);
    let msgs = consume_fin(&mut cons, N);
    let mut ids = HashSet::new();
    for (i, m) in msgs.iter().enumerate() {
        assert_eq!(
            String::from_utf8_lossy(&m.body),
            format!("msg-{i:06}"),
            "message #{i} out of order"
        );
        assert_eq!(m.attempts, 1, "message #{i}");
        assert!(ids.insert(m.id), "duplicate id {}", m.id_str());
    }
    assert_no_more(&mut cons, Duration::from_millis(500));
    let mut last = Value::Null;
    assert!(
        wait_until(WAIT, || {
            last = node.stats();
            let c = channel(topic(&last, "big"), "c");
            num(&c["depth"]) == 0 && num(&c["in_flight_count"]) == 0
        }),
        "not all finished: {last}"
    );
    drop(cons);
    node.stop();
}

/// Test 2: a deferred message keeps its due time across a clean restart.
#[test]
fn dpub_deferral_survives_sigterm() {
    let dir = Dir::new("dur-defer");
    let node = Node::start(&dir.0, &[]);
    node.post("/topic/create?topic=later");
    node.post("/channel/create?topic=later&channel=c");
    let t0 = Instant::now();
    let mut p = node.client();
    p.dpub("later", 60_000, b"in-a-minute");
    drop(p);
    let s = node.stats();
    assert_eq!(
        num(&channel(topic(&s, "later"), "c")["deferred_count"]),
        1,
        "{s}"
    );
    node.stop();

    let node = Node::start(&dir.0, &[]);
    let mut cons = node.consumer("later", "c", 1);
    let mut last = Value::Null;
    assert!(
        wait_until(WAIT, || {
            last = node.stats();
            num(&channel(topic(&last, "later"), "c")["deferred_count"]) == 1
        }),
        "deferred_count after restart: {last}"
    );
    let early = cons.try_read_message(Duration::from_secs(5));
    assert!(
        early.is_none(),
        "deferred message delivered {:?} after the DPUB",
        t0.elapsed()
    );
    let s = node.stats();
    assert_eq!(
        num(&channel(topic(&s, "later"), "c")["deferred_count"]),
        1,
        "{s}"
    );
    // Due 60 s after the DPUB; WAIT past that only turns a hang into a failure.
    let left = (t0 + Duration::from_secs(60) + WAIT).saturating_duration_since(Instant::now());
    let m = cons
        .try_read_message(left)
        .expect("deferred message never delivered");
    let elapsed = t0.elapsed();
    assert!(
        elapsed >= Duration::from_millis(59_900),
        "delivered early: {elapsed:?}"
    );
    assert_eq!(m.body, b"in-a-minute");
    cons.fin(&m.id);
    drop(cons);
    node.stop();
}

#[test]
fn many_queues_survive_repeated_clean_stops() {
    // A clean stop writes its queues side by side and skips those already on disk
    // as they are; every message must still come back, stop after stop.
    const N: usize = 300;
    let dir = Dir::new("dur-many");
    let node = Node::start(&dir.0, &[]);
    let mut p = node.client();
    for i in 0..N {
        node.post(&format!("/topic/create?topic=q{i}"));
        node.post(&format!("/channel/create?topic=q{i}&channel=c"));
        p.publish(&format!("q{i}"), format!("m{i}").as_bytes());
    }
    drop(p);
    node.stop();
    for i in [0, N - 1] {
        let meta = std::fs::read_to_string(dir.0.join(format!("q{i}:c.diskqueue.meta.dat")))
            .expect("channel meta file after SIGTERM");
        assert_eq!(parse_meta(&meta).0, 1, "q{i}:c meta {meta:?}");
    }
    // Restarted and stopped with nothing changed, then restarted again.
    Node::start(&dir.0, &[]).stop();
    let node = Node::start(&dir.0, &[]);
    let s = node.stats();
    for i in 0..N {
        let ch = channel(topic(&s, &format!("q{i}")), "c");
        assert_eq!(num(&ch["depth"]), 1, "q{i}: {ch}");
    }
    for i in 0..N {
        let mut c = node.consumer(&format!("q{i}"), "c", 1);
        let m = c.read_message();
        assert_eq!(m.body, format!("m{i}").as_bytes(), "q{i}");
        c.fin(&m.id);
    }
    node.stop();
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Reads `expected.unread.len()` messages and compares them, in order, with the
/// fixture's list (attempts one more than stored: this is a new delivery).
fn expect_fixture_messages(c: &mut Client, queue: &str, expected: &Value) {
    let unread = expected[queue]["unread"].as_array().expect("unread list");
    let msgs = consume_fin(c, unread.len());
    for (i, (m, e)) in msgs.iter().zip(unread).enumerate() {
        let body = unhex(e["body_hex"].as_str().unwrap());
        assert_eq!(
            m.body,
            body,
            "{queue} #{i}: body {:?}, expected {:?}",
            String::from_utf8_lossy(&m.body),
            e["body"]
        );
        assert_eq!(m.id_str(), e["id"].as_str().unwrap(), "{queue} #{i} id");
        assert_eq!(
            u64::from(m.attempts),
            num(&e["attempts"]) + 1,
            "{queue} #{i} attempts"
        );
    }
    assert_no_more(c, Duration::from_millis(500));
}

/// Test 3: nsq-rs takes over a data dir written by Go nsqd 1.3.0.
#[test]
fn takes_over_go_nsqd_data_dir() {
    let fixtures = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures"));
    let expected: Value = serde_json::from_slice(
        &std::fs::read(fixtures.join("go-nsqd-1.3.0-expected.json")).expect("expected json"),
    )
    .expect("parse expected json");
    let dir = Dir::new("dur-go");
    for entry in std::fs::read_dir(fixtures.join("go-nsqd-1.3.0-data")).expect("fixture dir") {
        let entry = entry.unwrap();
        let to = dir.0.join(entry.file_name());
        std::fs::copy(entry.path(), &to).expect("copy fixture file");
        let perm = std::os::unix::fs::PermissionsExt::from_mode(0o644);
        std::fs::set_permissions(&to, perm).unwrap();
    }
    let node = Node::start(&dir.0, &["--node-id=7"]);

    let s = node.stats();
    assert_eq!(
        names(&s["topics"], "topic_name"),
        [
            "fixture_empty",
            "fixture_nochannel",
            "fixture_paused_topic",
            "fixture_topic"
        ],
        "{s}"
    );
    let depth = |q: &str| num(&expected[q]["depth"]);
    let t = topic(&s, "fixture_topic");
    assert_eq!(t["paused"], false);
    assert_eq!(num(&t["depth"]), depth("fixture_topic"));
    assert_eq!(names(&t["channels"], "channel_name"), ["ch_a", "ch_paused"]);
    let a = channel(t, "ch_a");
    assert_eq!(
        (num(&a["depth"]), &a["paused"]),
        (depth("fixture_topic:ch_a"), &Value::Bool(false))
    );
    let p = channel(t, "ch_paused");
    assert_eq!(
        (num(&p["depth"]), &p["paused"]),
        (depth("fixture_topic:ch_paused"), &Value::Bool(true))
    );
    let t = topic(&s, "fixture_empty");
    assert_eq!((num(&t["depth"]), &t["paused"]), (0, &Value::Bool(false)));
    assert_eq!(t["channels"].as_array().map(Vec::len), Some(0), "{t}");
    let t = topic(&s, "fixture_nochannel");
    assert_eq!(num(&t["depth"]), depth("fixture_nochannel"));
    assert_eq!(t["paused"], false);
    assert_eq!(t["channels"].as_array().map(Vec::len), Some(0), "{t}");
    let t = topic(&s, "fixture_paused_topic");
    assert_eq!(
        (num(&t["depth"]), &t["paused"]),
        (depth("fixture_paused_topic"), &Value::Bool(true))
    );
    assert_eq!(names(&t["channels"], "channel_name"), ["c"]);
    let c = channel(t, "c");
    assert_eq!(
        (num(&c["depth"]), &c["paused"]),
        (depth("fixture_paused_topic:c"), &Value::Bool(false))
    );

    // ch_a: 905 in disk order.
    let mut ca = node.consumer("fixture_topic", "ch_a", 100);
    expect_fixture_messages(&mut ca, "fixture_topic:ch_a", &expected);

    // ch_paused: nothing until unpaused, then all 1005.
    let mut cp = node.consumer("fixture_topic", "ch_paused", 100);
    assert_no_more(&mut cp, Duration::from_secs(1));
    node.post("/channel/unpause?topic=fixture_topic&channel=ch_paused");
    expect_fixture_messages(&mut cp, "fixture_topic:ch_paused", &expected);

    // fixture_nochannel: its 50 go to the first channel.
    let mut cn = node.consumer("fixture_nochannel", "late", 100);
    expect_fixture_messages(&mut cn, "fixture_nochannel", &expected);

    // fixture_paused_topic: held until the topic is unpaused.
    let mut ct = node.consumer("fixture_paused_topic", "c", 100);
    assert_no_more(&mut ct, Duration::from_secs(1));
    node.post("/topic/unpause?topic=fixture_paused_topic");
    expect_fixture_messages(&mut ct, "fixture_paused_topic", &expected);

    drop((ca, cp, cn, ct));
    node.stop();
}

/// Test 4: topics, channels and pause flags survive a restart; ephemeral ones do not;
/// nsqd.dat has Go's JSON shape.
#[test]
fn metadata_survives_sigterm_in_go_format() {
    let dir = Dir::new("dur-meta");
    let node = Node::start(&dir.0, &[]);
    node.post("/topic/create?topic=meta_a");
    node.post("/channel/create?topic=meta_a&channel=c1");
    node.post("/channel/create?topic=meta_a&channel=c2");
    node.post("/topic/create?topic=meta_b");
    node.post("/channel/create?topic=meta_b&channel=x");
    node.post("/topic/create?topic=meta_c");
    node.post("/topic/create?topic=meta_eph%23ephemeral");
    node.post("/topic/pause?topic=meta_b");
    node.post("/channel/pause?topic=meta_a&channel=c2");
    // An ephemeral channel with a live subscriber at the stop.
    let eph = node.consumer("meta_a", "e#ephemeral", 1);
    let s = node.stats();
    assert_eq!(
        names(&topic(&s, "meta_a")["channels"], "channel_name"),
        ["c1", "c2", "e#ephemeral"]
    );
    topic(&s, "meta_eph#ephemeral");
    node.stop();
    drop(eph);

    let raw = std::fs::read_to_string(dir.0.join("nsqd.dat")).expect("nsqd.dat");
    let raw = raw.trim_end();
    assert!(raw.starts_with("{\"topics\":["), "nsqd.dat: {raw}");
    assert!(raw.ends_with("],\"version\":\"1.3.0\"}"), "nsqd.dat: {raw}");
    for part in [
        "{\"name\":\"meta_c\",\"paused\":false,\"channels\":null}",
        "{\"name\":\"meta_b\",\"paused\":true,\"channels\":[{\"name\":\"x\",\"paused\":false}]}",
        "{\"name\":\"meta_a\",\"paused\":false,\"channels\":[",
        "{\"name\":\"c1\",\"paused\":false}",
        "{\"name\":\"c2\",\"paused\":true}",
    ] {
        assert!(raw.contains(part), "nsqd.dat lacks {part}: {raw}");
    }
    assert!(!raw.contains("ephemeral"), "nsqd.dat: {raw}");
    let meta: Value = serde_json::from_str(raw).expect("nsqd.dat is JSON");
    assert_eq!(
        names(&meta["topics"], "name"),
        ["meta_a", "meta_b", "meta_c"]
    );

    let node = Node::start(&dir.0, &[]);
    let s = node.stats();
    assert_eq!(
        names(&s["topics"], "topic_name"),
        ["meta_a", "meta_b", "meta_c"],
        "{s}"
    );
    let a = topic(&s, "meta_a");
    assert_eq!(a["paused"], false);
    assert_eq!(names(&a["channels"], "channel_name"), ["c1", "c2"]);
    assert_eq!(channel(a, "c1")["paused"], false);
    assert_eq!(channel(a, "c2")["paused"], true);
    let b = topic(&s, "meta_b");
    assert_eq!(b["paused"], true);
    assert_eq!(names(&b["channels"], "channel_name"), ["x"]);
    assert_eq!(channel(b, "x")["paused"], false);
    let c = topic(&s, "meta_c");
    assert_eq!(c["paused"], false);
    assert_eq!(c["channels"].as_array().map(Vec::len), Some(0), "{c}");
    node.stop();
}

/// Test 5: a second nsqd on a data dir in use fails to start.
#[test]
fn second_nsqd_on_same_data_path_fails() {
    let dir = Dir::new("dur-lock");
    let node = Node::start(&dir.0, &[]);
    let mut p = node.client();
    p.publish("locked", b"one");

    let args = vec![
        "--tcp-address=127.0.0.1:0".to_string(),
        "--http-address=127.0.0.1:0".to_string(),
        format!("--data-path={}", dir.0.display()),
    ];
    let (mut second, log) = common::spawn_logged(env!("CARGO_BIN_EXE_nsqd"), &args);
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Ok(Some(status)) = second.try_wait() {
            break Some(status);
        }
        if Instant::now() >= deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let _ = second.kill();
    let _ = second.wait();
    let status = status
        .unwrap_or_else(|| panic!("second nsqd still running; log:\n{}", log.lock().unwrap()));
    assert!(
        status.code().is_some_and(|c| c != 0),
        "second nsqd exit: {status}; log:\n{}",
        log.lock().unwrap()
    );

    // The first is unharmed.
    p.publish("locked", b"two");
    let s = node.stats();
    assert_eq!(num(&topic(&s, "locked")["depth"]), 2, "{s}");
    // nsqd.dat is written by the syncer thread soon after the topic appeared.
    let mut raw = String::new();
    assert!(
        wait_until(WAIT, || {
            raw = std::fs::read_to_string(dir.0.join("nsqd.dat")).unwrap_or_default();
            let meta: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
            meta["topics"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t["name"] == "locked"))
        }),
        "nsqd.dat never named the topic: {raw}"
    );
    drop(p);
    node.stop();
}

/// One go-diskqueue meta file: depth, read (file, pos), write (file, pos).
fn parse_meta(text: &str) -> (u64, (u64, u64), (u64, u64)) {
    let lines: Vec<&str> = text.split('\n').collect();
    assert_eq!(lines.len(), 4, "meta not 3 lines + final newline: {text:?}");
    assert_eq!(lines[3], "", "meta: {text:?}");
    let pair = |s: &str| {
        let (a, b) = s
            .split_once(',')
            .unwrap_or_else(|| panic!("meta: {text:?}"));
        (
            a.parse().expect("meta number"),
            b.parse().expect("meta number"),
        )
    };
    (
        lines[0].parse().expect("meta depth"),
        pair(lines[1]),
        pair(lines[2]),
    )
}

/// The payloads of queue `name`'s records from its read position to its write position.
fn read_queue(dir: &Path, name: &str) -> (u64, Vec<Vec<u8>>) {
    let meta = std::fs::read_to_string(dir.join(format!("{name}.diskqueue.meta.dat")))
        .unwrap_or_else(|e| panic!("{name} meta: {e}"));
    let (depth, (rf, rp), (wf, wp)) = parse_meta(&meta);
    let mut records = Vec::new();
    for n in rf..=wf {
        let path = dir.join(format!("{name}.diskqueue.{n:06}.dat"));
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(_) if n == wf && wp == 0 => Vec::new(),
            Err(e) => panic!("{}: {e}", path.display()),
        };
        let mut pos = if n == rf { rp as usize } else { 0 };
        let end = if n == wf { wp as usize } else { data.len() };
        assert!(
            end <= data.len(),
            "{name} {n}: write pos {end} > size {}",
            data.len()
        );
        while pos < end {
            assert!(pos + 4 <= end, "{name} {n}: torn length at {pos}");
            let len = i32::from_be_bytes(data[pos..pos + 4].try_into().unwrap());
            assert!(len >= 26, "{name} {n}: record length {len} at {pos}");
            let len = len as usize;
            assert!(pos + 4 + len <= end, "{name} {n}: torn record at {pos}");
            records.push(data[pos + 4..pos + 4 + len].to_vec());
            pos += 4 + len;
        }
    }
    (depth, records)
}

/// Test 6: after a clean stop with messages spilled, the go-diskqueue files are what
/// a Go nsqd reads: 3-line meta, and as many records as the meta depth says.
#[test]
fn spilled_queues_are_go_readable_after_sigterm() {
    let dir = Dir::new("dur-gofmt");
    let args = ["--mem-queue-size=10", "--max-bytes-per-file=4096"];
    let node = Node::start(&dir.0, &args);
    node.post("/topic/create?topic=gr");
    node.post("/channel/create?topic=gr&channel=c1");
    node.post("/channel/create?topic=gr&channel=c2");
    let mut p = node.client();
    for b in 0..10 {
        let bodies: Vec<Vec<u8>> = (b * 100..(b + 1) * 100)
            .map(|i| format!("gr-{i:06}").into_bytes())
            .collect();
        let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
        p.mpub("gr", &refs);
        let bodies: Vec<Vec<u8>> = (b * 50..(b + 1) * 50)
            .map(|i| format!("nc-{i:06}").into_bytes())
            .collect();
        let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
        p.mpub("gr_nochan", &refs);
    }
    drop(p);
    let mut last = Value::Null;
    assert!(
        wait_until(WAIT, || {
            last = node.stats();
            let t = topic(&last, "gr");
            num(&t["depth"]) == 0
                && num(&channel(t, "c1")["depth"]) == 1000
                && num(&channel(t, "c2")["depth"]) == 1000
        }),
        "not fanned out: {last}"
    );
    // c1: 30 finished, 20 left in flight at the stop.
    let mut c = node.consumer("gr", "c1", 50);
    let mut got = Vec::new();
    for _ in 0..50 {
        got.push(c.read_message());
    }
    c.rdy(0);
    for m in &got[..30] {
        c.fin(&m.id);
    }
    assert!(
        wait_until(WAIT, || {
            last = node.stats();
            num(&channel(topic(&last, "gr"), "c1")["in_flight_count"]) == 20
        }),
        "FINs not applied: {last}"
    );
    node.stop();
    drop(c);

    let expect = [
        ("gr", 0usize),
        ("gr:c1", 970),
        ("gr:c2", 1000),
        ("gr_nochan", 500),
    ];
    for (name, want) in expect {
        let (depth, records) = read_queue(&dir.0, name);
        assert_eq!(
            records.len() as u64,
            depth,
            "{name}: records from the read position vs meta depth"
        );
        assert_eq!(records.len(), want, "{name} records");
    }
    let decode = |r: &Vec<u8>| common::decode_message(r);
    let (_, nc) = read_queue(&dir.0, "gr_nochan");
    for (i, r) in nc.iter().enumerate() {
        let m = decode(r);
        assert_eq!(m.body, format!("nc-{i:06}").into_bytes(), "gr_nochan #{i}");
        assert_eq!(m.attempts, 0);
    }
    let (_, c1) = read_queue(&dir.0, "gr:c1");
    let bodies: Vec<String> = c1
        .iter()
        .map(|r| String::from_utf8_lossy(&decode(r).body).into_owned())
        .collect();
    // The queue in order, then the in-flight ones (in no particular order, as in Go).
    for (i, b) in bodies[..950].iter().enumerate() {
        assert_eq!(*b, format!("gr-{:06}", i + 50), "gr:c1 #{i}");
    }
    let mut tail = bodies[950..].to_vec();
    tail.sort();
    let want: Vec<String> = (30..50).map(|i| format!("gr-{i:06}")).collect();
    assert_eq!(tail, want, "gr:c1 in-flight records at the end");
    for r in &c1[950..] {
        assert_eq!(decode(r).attempts, 1, "in-flight attempts kept");
    }
    let (_, c2) = read_queue(&dir.0, "gr:c2");
    for (i, r) in c2.iter().enumerate() {
        assert_eq!(
            decode(r).body,
            format!("gr-{i:06}").into_bytes(),
            "gr:c2 #{i}"
        );
    }

    // And it reads its own files back.
    let node = Node::start(&dir.0, &args);
    let s = node.stats();
    let t = topic(&s, "gr");
    assert_eq!(num(&channel(t, "c1")["depth"]), 970, "{s}");
    assert_eq!(num(&channel(t, "c2")["depth"]), 1000, "{s}");
    assert_eq!(num(&topic(&s, "gr_nochan")["depth"]), 500, "{s}");
    node.stop();
}
