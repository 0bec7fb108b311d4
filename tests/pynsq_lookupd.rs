//! Discovery interop with the official Python client, pynsq (pinned in
//! tests/pynsq/requirements.txt, installed into .venv by scripts/venv.sh): two nsqd
//! register with one nsqlookupd, and a pynsq Reader given only the lookupd's HTTP
//! address finds both through `/lookup` and consumes every message of both exactly once.
mod common;

use common::pynsq::{run_script, venv_python};

use std::collections::{BTreeMap, HashSet};

use common::{eventually, http, Lookupd, Nsqd};
use serde_json::Value;

/// Messages published to each nsqd.
const PER_NSQD: usize = 200;
const TOPIC: &str = "t";
const CHANNEL: &str = "c";

fn body(source: &str, i: usize) -> String {
    format!("{source}-{i:04}")
}

/// Waits until `/lookup?topic=TOPIC` on the lookupd lists exactly `tcp_ports`.
fn wait_for_producers(lookupd: &Lookupd, mut tcp_ports: Vec<u64>) {
    tcp_ports.sort();
    eventually(&format!("lookupd to list producers {tcp_ports:?}"), || {
        let resp = http(lookupd.http, "GET", &format!("/lookup?topic={TOPIC}"), b"");
        let mut got: Vec<u64> = if resp.status == 200 {
            resp.json()["producers"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|p| p["tcp_port"].as_u64())
                .collect()
        } else {
            Vec::new()
        };
        got.sort();
        got == tcp_ports
    });
}

/// Channel `CHANNEL` of `TOPIC` in nsqd's `/stats?format=json`.
fn channel_stats(nsqd: &Nsqd) -> Value {
    let stats = http(
        nsqd.http,
        "GET",
        &format!("/stats?format=json&topic={TOPIC}&channel={CHANNEL}"),
        b"",
    )
    .json();
    stats["topics"][0]["channels"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["channel_name"] == CHANNEL))
        .cloned()
        .unwrap_or_else(|| panic!("no channel {CHANNEL} in {stats}"))
}

#[test]
fn pynsq_reader_discovers_both_nsqds_through_lookupd() {
    venv_python();
    let lookupd = Lookupd::start(&[]);
    let flag = format!("--lookupd-tcp-address={}", lookupd.tcp);
    let nsqds = [
        ("n1", Nsqd::start(&["--broadcast-address=127.0.0.1", &flag])),
        ("n2", Nsqd::start(&["--broadcast-address=127.0.0.1", &flag])),
    ];
    for (source, nsqd) in &nsqds {
        let bodies: Vec<String> = (0..PER_NSQD).map(|i| body(source, i)).collect();
        let refs: Vec<&[u8]> = bodies.iter().map(|b| b.as_bytes()).collect();
        let mut c = nsqd.client();
        for chunk in refs.chunks(50) {
            c.mpub(TOPIC, chunk);
        }
    }
    wait_for_producers(
        &lookupd,
        nsqds.iter().map(|(_, n)| u64::from(n.tcp.port())).collect(),
    );

    let run = run_script(
        "lookupd_reader.py",
        &[
            lookupd.http.to_string(),
            TOPIC.to_string(),
            CHANNEL.to_string(),
            (2 * PER_NSQD).to_string(),
            "45".to_string(),
        ],
    );
    let report: Value = serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "lookupd_reader.py ({}) printed no JSON report ({e}); stderr:\n{}",
            run.status, run.stderr
        )
    });
    let summary = {
        let mut r = report.clone();
        r.as_object_mut().unwrap().remove("bodies");
        r
    };
    assert!(
        report.get("timeout").is_none(),
        "lookupd_reader.py timed out ({}): {summary}; stderr:\n{}",
        report["timeout"],
        run.stderr
    );
    assert_eq!(
        report["errors"],
        Value::Array(vec![]),
        "connection errors: {summary}"
    );
    assert_eq!(report["duplicates"], Value::Array(vec![]), "{summary}");
    assert_eq!(report["received"], 2 * PER_NSQD, "{summary}");
    assert_eq!(report["distinct"], 2 * PER_NSQD, "{summary}");
    let got: HashSet<&str> = report["bodies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    let want: HashSet<String> = nsqds
        .iter()
        .flat_map(|(s, _)| (0..PER_NSQD).map(move |i| body(s, i)))
        .collect();
    let want: HashSet<&str> = want.iter().map(|s| s.as_str()).collect();
    assert_eq!(got, want, "bodies differ");
    let by_source: BTreeMap<String, u64> = report["by_source"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    let expected: BTreeMap<String, u64> = nsqds
        .iter()
        .map(|(s, _)| (s.to_string(), PER_NSQD as u64))
        .collect();
    assert_eq!(by_source, expected, "not received from both nsqds");
    let mut connected: Vec<String> = report["connected_to"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    connected.sort();
    let mut tcp: Vec<String> = nsqds.iter().map(|(_, n)| n.tcp.to_string()).collect();
    tcp.sort();
    assert_eq!(
        connected, tcp,
        "Reader did not connect to the advertised nsqds"
    );
    assert!(
        run.status.success(),
        "lookupd_reader.py failed ({}); stderr:\n{}",
        run.status,
        run.stderr
    );

    // Every message was FINed: none left queued or in flight on either nsqd. The
    // Reader is gone from a channel once nsqd has read all it sent (every FIN) and
    // its close; only then are the counts final.
    for (source, nsqd) in &nsqds {
        eventually(&format!("the Reader to leave {source}"), || {
            channel_stats(nsqd)["client_count"] == 0
        });
        let c = channel_stats(nsqd);
        assert_eq!(c["message_count"], PER_NSQD, "{source}: {c}");
        assert_eq!(c["depth"], 0, "{source}: {c}");
        assert_eq!(c["in_flight_count"], 0, "{source}: {c}");
        assert_eq!(c["requeue_count"], 0, "{source}: {c}");
        assert_eq!(c["timeout_count"], 0, "{source}: {c}");
    }
}
