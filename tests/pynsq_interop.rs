//! Interop with the official Python client, pynsq (pinned in tests/pynsq/requirements.txt,
//! installed into .venv by scripts/venv.sh): its Writer publishes and its Reader consumes
//! through our nsqd, with IDENTIFY feature negotiation and heartbeats.
mod common;

use common::pynsq::{run_script, venv_python};

use std::collections::{HashMap, HashSet};

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
    let tls = compression == "tls";
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
    assert_eq!(id["tls_v1"], tls, "{who}: tls_v1 in {id}");
    assert_eq!(id["auth_required"], false, "{who}: auth_required in {id}");
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

/// The same round trip with both pynsq clients asking for TLS (`tls_v1=True`, the CA
/// in `tls_options`); /stats shows their connections as TLS while they run.
#[cfg(feature = "tls")]
#[test]
fn pynsq_round_trip_over_tls() {
    venv_python();
    let pki = common::tls::Pki::new("pynsq");
    let args = pki.server_args();
    let nsqd = common::Nsqd::start(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (http, done) = (nsqd.http, stop.clone());
    // Every TLS client seen in /stats while the script runs, by client_id.
    let watcher = std::thread::spawn(move || {
        let mut seen: HashMap<String, Value> = HashMap::new();
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            let stats = common::http(http, "GET", "/stats?format=json", b"").json();
            for t in stats["topics"].as_array().into_iter().flatten() {
                let producers = t["channels"].as_array().into_iter().flatten();
                for c in producers.flat_map(|c| c["clients"].as_array().into_iter().flatten()) {
                    seen.insert(c["client_id"].to_string(), c.clone());
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        seen
    });
    let extra = [pki.ca.display().to_string()];
    round_trip_on(&nsqd, 3_000, "pynsq_tls", "tls", &extra);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = watcher.join().expect("stats watcher");
    assert!(!seen.is_empty(), "the Reader never showed in /stats");
    for c in seen.values() {
        assert_eq!(c["tls"], true, "{c}");
        assert_eq!(c["tls_version"], "TLS1.2", "pynsq asks for TLS 1.2: {c}");
        assert!(
            c["tls_cipher_suite"]
                .as_str()
                .is_some_and(|s| s.starts_with("TLS_")),
            "{c}"
        );
    }
}

fn round_trip(count: usize, topic: &'static str, compression: &str) {
    venv_python();
    let nsqd = common::Nsqd::start(&[]);
    round_trip_on(&nsqd, count, topic, compression, &[]);
}

fn round_trip_on(
    nsqd: &common::Nsqd,
    count: usize,
    topic: &'static str,
    compression: &str,
    extra: &[String],
) {
    let mut args = vec![
        nsqd.tcp.to_string(),
        topic.to_string(),
        count.to_string(),
        "45".to_string(),
        compression.to_string(),
    ];
    args.extend(extra.iter().cloned());
    let run = run_script("roundtrip.py", &args);
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
    // The PUB and MPUB commands the Writer's connection wrote to its socket, counted
    // there: both kinds were used, and together they carried each message once.
    let sent = |k: &str| {
        writer["sent"][k]
            .as_u64()
            .unwrap_or_else(|| panic!("no sent.{k} in {writer}"))
    };
    assert!(sent("pub") > 0, "no PUB went out: {writer}");
    assert!(sent("mpub") > 0, "no MPUB went out: {writer}");
    assert_eq!(
        sent("pub") + sent("mpub_messages"),
        count as u64,
        "messages sent in PUBs + MPUBs: {}",
        writer["sent"]
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

    // nsqd's side, once it has processed all of the Reader's connection (its close
    // comes after every FIN on the socket): it took in exactly `count` messages, and
    // every one was FINed — none is still in flight, queued again or deferred, and
    // none timed out or was requeued on the way.
    let channel = || {
        let stats = common::http(nsqd.http, "GET", "/stats?format=json", b"").json();
        stats["topics"]
            .as_array()
            .and_then(|ts| ts.iter().find(|t| t["topic_name"] == topic))
            .and_then(|t| t["channels"].as_array())
            .and_then(|cs| cs.iter().find(|c| c["channel_name"] == "interop"))
            .cloned()
            .unwrap_or_else(|| panic!("no channel {topic}/interop in {stats}"))
    };
    common::eventually("nsqd to see the Reader disconnect", || {
        channel()["client_count"] == 0
    });
    let ch = channel();
    for (key, want) in [
        ("message_count", count as u64),
        ("requeue_count", 0),
        ("timeout_count", 0),
    ] {
        assert_eq!(ch[key].as_u64(), Some(want), "{key} in {ch}");
    }
    common::assert_drained(nsqd, topic);

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
