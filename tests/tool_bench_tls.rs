//! `nsq_bench` over TLS (`--tls-root-ca-file`), black-box against the real nsqd:
//! writer, reader and pubsub upgrade every connection after IDENTIFY's plain JSON
//! (§9) and run their loops inside TLS, so every message published arrives; a CA
//! that did not sign nsqd's certificate fails the handshake, and an nsqd without a
//! certificate is named as the cause. Certificates come from tests/common/tls.rs.
#![cfg(feature = "tls")]

mod common;

use common::tls::Pki;
use common::Nsqd;
use std::process::Command;

/// Runs `nsq_bench <mode>` against `nsqd`, trusting `ca`: (success, stdout, stderr).
fn bench(mode: &str, nsqd: &Nsqd, ca: &std::path::Path, extra: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nsq_bench"))
        .arg(mode)
        .arg(format!("--nsqd-tcp-address={}", nsqd.tcp))
        .arg(format!("--tls-root-ca-file={}", ca.display()))
        .args(["--workers=2", "--size=100"])
        .args(extra)
        .output()
        .expect("run nsq_bench");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

fn channel_depth(nsqd: &Nsqd, topic: &str) -> u64 {
    let stats = common::stats_json(nsqd, topic);
    stats["topics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["topic_name"] == topic)
        .flat_map(|t| t["channels"].as_array().cloned().unwrap_or_default())
        .map(|c| c["depth"].as_u64().unwrap_or(0) + c["in_flight_count"].as_u64().unwrap_or(0))
        .sum()
}

#[test]
fn writer_then_reader_over_tls_move_every_message() {
    let pki = Pki::new("bench");
    let args = pki.server_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let nsqd = Nsqd::start(&args);
    for target in [
        "/topic/create?topic=tb",
        "/channel/create?topic=tb&channel=ch",
    ] {
        assert_eq!(common::http(nsqd.http, "POST", target, b"").status, 200);
    }
    let (ok, out, err) = bench(
        "writer",
        &nsqd,
        &pki.ca,
        &["--topic=tb", "--count=3000", "--runfor=20s"],
    );
    assert!(ok, "writer failed: {err}");
    assert!(
        out.starts_with("duration: ") && out.contains(" ops/s - "),
        "{out}"
    );
    assert_eq!(channel_depth(&nsqd, "tb"), 3000);
    let (ok, out, err) = bench(
        "reader",
        &nsqd,
        &pki.ca,
        &["--topic=tb", "--channel=ch", "--runfor=1s"],
    );
    assert!(ok, "reader failed: {err}");
    assert!(out.starts_with("duration: "), "{out}");
    common::eventually("the readers' FINs", || channel_depth(&nsqd, "tb") == 0);
}

#[test]
fn pubsub_over_tls_reports_latency() {
    let pki = Pki::new("bench-ps");
    let args = pki.server_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let nsqd = Nsqd::start(&args);
    let (ok, out, err) = bench("pubsub", &nsqd, &pki.ca, &["--topic=tps", "--runfor=500ms"]);
    assert!(ok, "pubsub failed: {err}");
    assert!(out.contains("\nlatency: p50 "), "{out}");
}

#[test]
fn a_foreign_ca_or_a_plain_nsqd_fails_with_the_cause() {
    let pki = Pki::new("bench-a");
    let foreign = Pki::new("bench-b");
    let args = pki.server_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let nsqd = Nsqd::start(&args);
    let (ok, _, err) = bench("writer", &nsqd, &foreign.ca, &["--runfor=200ms"]);
    assert!(!ok);
    assert!(err.contains("certificate"), "{err}");
    let plain = Nsqd::start(&[]);
    let (ok, _, err) = bench("writer", &plain, &pki.ca, &["--runfor=200ms"]);
    assert!(!ok);
    assert!(err.contains("did not grant tls_v1"), "{err}");
}
