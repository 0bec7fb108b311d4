//! Interop with the official Python client, pynsq (pinned in tests/pynsq/requirements.txt,
//! installed into .venv by scripts/venv.sh): its Writer publishes and its Reader consumes
//! through our nsqd, with IDENTIFY feature negotiation and heartbeats.
mod common;

use common::pynsq::{run_script, venv_python};

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::Value;

/// The body roundtrip.py publishes as message `i`, decoded as latin-1 like its report.
fn expected_body(i: usize) -> String {
    let mut s = format!("{i:05}:");
    s.extend(std::iter::repeat_n(
        char::from(b'a' + (i % 26) as u8),
        i % 97,
    ));
    s.extend(std::iter::repeat_n('\u{ff}', i % 3));
    s
}

/// Checks what one pynsq client saw on its connection: no errors, no close, heartbeats,
/// and an IDENTIFY reply that is negotiated JSON (pynsq sends feature_negotiation: true)
/// granting exactly the compression asked for ("plain": none).
fn check_client(who: &str, v: &Value, compression: &str) {
    assert_eq!(v["errors"], Value::Array(vec![]), "{who} saw errors: {v}");
    assert_eq!(
        v["closes"], 0,
        "{who}'s connection was closed by the server"
    );
    let heartbeats = v["heartbeats"].as_u64().unwrap_or(0);
    assert!(heartbeats >= 2, "{who} saw {heartbeats} heartbeats");
    let id = &v["identify"];
    assert!(
        id.is_object(),
        "{who}: IDENTIFY reply is not negotiated JSON: {id}"
    );
    assert!(
        id["max_rdy_count"].as_u64().unwrap_or(0) >= 250,
        "{who}: max_rdy_count below the Reader's max_in_flight: {id}"
    );
    assert!(id["version"].is_string(), "{who}: no version: {id}");
    assert!(id["msg_timeout"].is_u64(), "{who}: no msg_timeout: {id}");
    for feature in ["tls_v1", "auth_required"] {
        assert_eq!(id[feature], false, "{who}: {feature} in {id}");
    }
    for feature in ["deflate", "snappy"] {
        assert_eq!(
            id[feature],
            feature == compression,
            "{who}: {feature} in {id}"
        );
    }
}

#[test]
fn pynsq_writer_and_reader_round_trip_10000_messages_exactly_once() {
    round_trip(10_000, "pynsq_interop", "plain");
}

/// The same round trip with both pynsq clients asking for deflate (feature `deflate`).
#[cfg(feature = "deflate")]
#[test]
fn pynsq_round_trip_over_deflate() {
    round_trip(3_000, "pynsq_deflate", "deflate");
}

/// The same round trip with both pynsq clients asking for snappy (feature `snappy`).
#[cfg(feature = "snappy")]
#[test]
fn pynsq_round_trip_over_snappy() {
    round_trip(3_000, "pynsq_snappy", "snappy");
}

fn round_trip(count: usize, topic: &'static str, compression: &str) {
    venv_python();
    // A short msg timeout so a message pynsq failed to FIN would be redelivered below.
    let nsqd = common::Nsqd::start(&["--msg-timeout=3s"]);
    let run = run_script(
        "roundtrip.py",
        &[
            nsqd.tcp.to_string(),
            topic.to_string(),
            count.to_string(),
            "45".to_string(),
            compression.to_string(),
        ],
    );
    let report: Value = serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "roundtrip.py ({}) printed no JSON report ({e}); stderr:\n{}",
            run.status, run.stderr
        )
    });
    assert!(
        report.get("timeout").is_none(),
        "roundtrip.py timed out waiting for {}; stderr:\n{}",
        report["timeout"],
        run.stderr
    );

    let writer = &report["writer"];
    assert_eq!(writer["acked"], count, "writer: {writer}");
    assert_eq!(writer["failures"], Value::Array(vec![]), "writer failures");
    assert!(
        writer["commands"]["pub"].as_u64().unwrap() > 0,
        "no PUB used"
    );
    assert!(
        writer["commands"]["mpub"].as_u64().unwrap() > 0,
        "no MPUB used"
    );
    check_client("Writer", writer, compression);

    let reader = &report["reader"];
    let bodies: Vec<&str> = reader["bodies"]
        .as_array()
        .expect("reader bodies")
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for b in &bodies {
        *seen.entry(b).or_default() += 1;
    }
    let dups: Vec<_> = seen.iter().filter(|(_, &n)| n > 1).take(5).collect();
    assert!(dups.is_empty(), "duplicate deliveries, e.g. {dups:?}");
    let expected: HashSet<String> = (0..count).map(expected_body).collect();
    let missing: Vec<_> = expected
        .iter()
        .filter(|b| !seen.contains_key(b.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} bodies missing, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    let unexpected: Vec<_> = seen.keys().filter(|b| !expected.contains(**b)).collect();
    assert!(
        unexpected.is_empty(),
        "bodies never published: {unexpected:?}"
    );
    assert_eq!(bodies.len(), count);
    assert_eq!(seen.len(), count);
    check_client("Reader", reader, compression);
    assert!(
        run.status.success(),
        "roundtrip.py failed ({}); stderr:\n{}",
        run.status,
        run.stderr
    );

    // Every message was FINed: nothing is left on the channel, and nothing comes back
    // after the (3 s) msg timeout as it would for a message still in flight.
    let mut c = common::consumer(&nsqd, "{}", topic, "interop", 100);
    if let Some(m) = c.try_read_message(Duration::from_secs(4)) {
        panic!(
            "message {:?} redelivered after the Reader FINed everything (attempts {})",
            String::from_utf8_lossy(&m.body),
            m.attempts
        );
    }

    let log = nsqd.log_text();
    let complaints: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("ERROR") || l.contains("WARN"))
        .collect();
    assert!(
        complaints.is_empty(),
        "nsqd complained:\n{}",
        complaints.join("\n")
    );
}
