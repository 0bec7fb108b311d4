//! `nsq_bench` against a durable nsqd (`--mem-queue-size=0 --sync-every=1`), as
//! `make bench`'s durable phase runs it, black-box: `--batch-size=1` publishes each
//! message as its own PUB, the writer prints NSQ's result line and then a
//! `publish latency:` line counting its commands, and every message acknowledged is
//! in the channel; pubsub with `--readers` reports end-to-end and publish latency;
//! `--readers` is refused outside pubsub.

mod common;

use common::Nsqd;
use std::process::Command;

/// Runs `nsq_bench <mode>` against `nsqd`: (success, stdout, stderr).
fn bench(mode: &str, nsqd: &Nsqd, extra: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nsq_bench"))
        .arg(mode)
        .arg(format!("--nsqd-tcp-address={}", nsqd.tcp))
        .arg("--size=100")
        .args(extra)
        .output()
        .expect("run nsq_bench");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// A durable nsqd with `topic` and its channel `ch` created.
fn durable_nsqd(topic: &str) -> Nsqd {
    let nsqd = Nsqd::start(&["--mem-queue-size=0", "--sync-every=1"]);
    for target in [
        format!("/topic/create?topic={topic}"),
        format!("/channel/create?topic={topic}&channel=ch"),
    ] {
        assert_eq!(common::http(nsqd.http, "POST", &target, b"").status, 200);
    }
    nsqd
}

/// (topic message_count, channel ch depth + in flight) from `/stats`.
fn counts(nsqd: &Nsqd, topic: &str) -> (u64, u64) {
    let stats = common::stats_json(nsqd, topic);
    let t = stats["topics"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["topic_name"] == topic)
        .cloned()
        .unwrap_or_else(|| panic!("no topic {topic} in {stats}"));
    let queued = t["channels"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["channel_name"] == "ch")
        .map(|c| c["depth"].as_u64().unwrap_or(0) + c["in_flight_count"].as_u64().unwrap_or(0))
        .sum();
    (t["message_count"].as_u64().unwrap_or(0), queued)
}

/// The `publish latency:` line of `out`, checked for its shape.
fn publish_latency(out: &str) -> &str {
    let line = out
        .lines()
        .find(|l| l.starts_with("publish latency: "))
        .unwrap_or_else(|| panic!("no publish latency line in {out:?}"));
    for part in ["p50 ", " - p99 ", " - p99.9 ", " - max "] {
        assert!(line.contains(part), "{line}");
    }
    line
}

#[test]
fn batch_size_one_publishes_each_message_as_a_pub_and_reports_its_latency() {
    let nsqd = durable_nsqd("dur");
    let (ok, out, err) = bench(
        "writer",
        &nsqd,
        &[
            "--topic=dur",
            "--batch-size=1",
            "--pipeline=1",
            "--workers=4",
            "--count=200",
            "--runfor=60s",
        ],
    );
    assert!(ok, "writer failed: {err}");
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("duration: ") && first.contains(" ops/s - "),
        "{out}"
    );
    assert!(publish_latency(&out).ends_with("(200 PUBs)"), "{out}");
    assert_eq!(counts(&nsqd, "dur"), (200, 200));
}

#[test]
fn mpub_batches_report_their_latency_per_mpub() {
    let nsqd = durable_nsqd("durm");
    let (ok, out, err) = bench(
        "writer",
        &nsqd,
        &[
            "--topic=durm",
            "--batch-size=50",
            "--workers=2",
            "--count=200",
            "--runfor=60s",
        ],
    );
    assert!(ok, "writer failed: {err}");
    assert!(
        publish_latency(&out).ends_with("(4 MPUBs of up to 50)"),
        "{out}"
    );
    assert_eq!(counts(&nsqd, "durm"), (200, 200));
}

#[test]
fn pubsub_with_one_at_a_time_writers_and_fewer_readers() {
    let nsqd = durable_nsqd("durps");
    let (ok, out, err) = bench(
        "pubsub",
        &nsqd,
        &[
            "--topic=durps",
            "--channel=ch",
            "--batch-size=1",
            "--pipeline=1",
            "--workers=4",
            "--readers=1",
            "--runfor=500ms",
        ],
    );
    assert!(ok, "pubsub failed: {err}");
    assert!(out.starts_with("duration: "), "{out}");
    assert!(out.contains("\npublished: "), "{out}");
    assert!(publish_latency(&out).ends_with(" PUBs)"), "{out}");
    let published: u64 = out
        .lines()
        .find_map(|l| l.strip_prefix("published: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no published count in {out:?}"));
    assert!(published > 0, "{out}");
    assert_eq!(counts(&nsqd, "durps").0, published);
}

#[test]
fn readers_is_refused_outside_pubsub() {
    let out = Command::new(env!("CARGO_BIN_EXE_nsq_bench"))
        .args(["writer", "--readers=2", "--nsqd-tcp-address=127.0.0.1:1"])
        .output()
        .expect("run nsq_bench");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--readers is not supported by nsq_bench writer (used by pubsub only)"),
        "{out:?}"
    );
}
