//! `GET /metrics`: the `/stats` snapshot in the Prometheus text exposition format
//! (version 0.0.4). Every metric family gets its `# HELP` and `# TYPE` once, even
//! when it has no samples; the e2e latency family appears only when percentiles are
//! configured.

use super::stats::{ChannelStats, Snapshot, TopicStats};
use std::fmt::Write as _;

/// A label value escaped for the exposition format (`\`, `"` and newline).
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

type TopicValue = fn(&TopicStats) -> u64;
type ChannelValue = fn(&ChannelStats) -> u64;

const TOPIC_FAMILIES: &[(&str, &str, &str, TopicValue)] = &[
    (
        "nsq_topic_depth",
        "gauge",
        "Messages held by the topic.",
        |t| t.depth,
    ),
    (
        "nsq_topic_backend_depth",
        "gauge",
        "Messages of the topic on disk.",
        |t| t.backend_depth,
    ),
    (
        "nsq_topic_message_count",
        "counter",
        "Messages published to the topic.",
        |t| t.message_count,
    ),
    (
        "nsq_topic_message_bytes",
        "counter",
        "Body bytes published to the topic.",
        |t| t.message_bytes,
    ),
    (
        "nsq_topic_paused",
        "gauge",
        "1 when the topic is paused.",
        |t| u64::from(t.paused),
    ),
];

const CHANNEL_FAMILIES: &[(&str, &str, &str, ChannelValue)] = &[
    (
        "nsq_channel_depth",
        "gauge",
        "Messages queued in the channel.",
        |c| c.depth,
    ),
    (
        "nsq_channel_backend_depth",
        "gauge",
        "Messages of the channel on disk.",
        |c| c.backend_depth,
    ),
    (
        "nsq_channel_in_flight_count",
        "gauge",
        "Messages delivered and not yet finished.",
        |c| c.in_flight_count,
    ),
    (
        "nsq_channel_deferred_count",
        "gauge",
        "Deferred messages.",
        |c| c.deferred_count,
    ),
    (
        "nsq_channel_message_count",
        "counter",
        "Messages handed to the channel.",
        |c| c.message_count,
    ),
    (
        "nsq_channel_requeue_count",
        "counter",
        "Messages requeued.",
        |c| c.requeue_count,
    ),
    (
        "nsq_channel_timeout_count",
        "counter",
        "In-flight timeouts.",
        |c| c.timeout_count,
    ),
    (
        "nsq_channel_consumer_count",
        "gauge",
        "Subscribed clients.",
        |c| c.client_count,
    ),
    (
        "nsq_channel_paused",
        "gauge",
        "1 when the channel is paused.",
        |c| u64::from(c.paused),
    ),
];

/// The syncer thread's counters (`nsqd/durability.rs`), shown next to the snapshot.
#[derive(Debug, Clone, Copy, Default)]
pub struct SyncCounters {
    /// Group commits done with `--sync-every=1` (each one fsync round).
    pub commits: u64,
    /// Queue syncs run (a queue's data files, then its meta file and directory).
    pub queue_syncs: u64,
}

/// Renders the snapshot as Prometheus text (`text/plain; version=0.0.4`).
pub fn prometheus(snapshot: &Snapshot, sync: SyncCounters) -> String {
    let mut out = String::with_capacity(4096);
    let topics = snapshot.topics.as_deref().unwrap_or_default();
    for (name, kind, help, value) in TOPIC_FAMILIES {
        header(&mut out, name, kind, help);
        for t in topics {
            sample(&mut out, name, &[("topic", &t.name)], value(t));
        }
    }
    for (name, kind, help, value) in CHANNEL_FAMILIES {
        header(&mut out, name, kind, help);
        for t in topics {
            for c in &t.channels {
                sample(
                    &mut out,
                    name,
                    &[("topic", &t.name), ("channel", &c.name)],
                    value(c),
                );
            }
        }
    }
    if !snapshot.e2e_percentiles.is_empty() {
        let name = "nsq_channel_e2e_processing_latency_seconds";
        header(
            &mut out,
            name,
            "gauge",
            "Publish-to-FIN latency at each configured quantile over the sliding window.",
        );
        for t in topics {
            for c in &t.channels {
                for &(q, ns) in c.e2e.percentiles.iter().flatten() {
                    let q = q.to_string();
                    sample(
                        &mut out,
                        name,
                        &[("topic", &t.name), ("channel", &c.name), ("quantile", &q)],
                        ns / 1e9,
                    );
                }
            }
        }
    }
    header(
        &mut out,
        "nsqd_uptime_seconds",
        "gauge",
        "Seconds since nsqd started.",
    );
    sample(
        &mut out,
        "nsqd_uptime_seconds",
        &[],
        snapshot.uptime.as_secs_f64(),
    );
    let counters = [
        (
            "nsqd_sync_commits_total",
            "Group commits with --sync-every=1: each is one fsync round covering every publish that waited for it.",
            sync.commits,
        ),
        (
            "nsqd_fsyncs_total",
            "Queue syncs (fsync of a queue's data files, then its meta file and directory).",
            sync.queue_syncs,
        ),
    ];
    for (name, help, value) in counters {
        header(&mut out, name, "counter", help);
        sample(&mut out, name, &[], value);
    }
    header(&mut out, "nsqd_info", "gauge", "nsqd version, as a label.");
    sample(&mut out, "nsqd_info", &[("version", &snapshot.version)], 1);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nsqd::stats::tests::{node, sample_registry};
    use crate::nsqd::stats::{collect, to_json, StatsQuery};
    use crate::registry::latency::LatencyWindow;
    use std::collections::HashMap;
    use std::time::{Duration, Instant};

    /// Parses sample lines into `name{labels}` → value, checking the line syntax.
    fn parse(text: &str) -> HashMap<String, f64> {
        let mut out = HashMap::new();
        for line in text.lines() {
            if line.starts_with('#') {
                continue;
            }
            let (key, value) = line.rsplit_once(' ').expect("sample line");
            let value: f64 = value.parse().expect("float value");
            out.insert(key.to_string(), value);
        }
        out
    }

    #[test]
    fn values_match_stats() {
        let now = Instant::now();
        let mut reg = sample_registry(now);
        let snap = collect(&mut reg, &StatsQuery::default(), &node(Vec::new()), now);
        let text = prometheus(&snap, SyncCounters::default());
        let v: serde_json::Value = serde_json::from_str(&to_json(&snap)).unwrap();
        let m = parse(&text);
        for t in v["topics"].as_array().unwrap() {
            let name = t["topic_name"].as_str().unwrap();
            let l = format!("{{topic=\"{name}\"}}");
            assert_eq!(
                m[&format!("nsq_topic_depth{l}")],
                t["depth"].as_f64().unwrap()
            );
            assert_eq!(
                m[&format!("nsq_topic_message_count{l}")],
                t["message_count"].as_f64().unwrap()
            );
            assert_eq!(
                m[&format!("nsq_topic_message_bytes{l}")],
                t["message_bytes"].as_f64().unwrap()
            );
            assert_eq!(
                m[&format!("nsq_topic_paused{l}")],
                f64::from(u8::from(t["paused"].as_bool().unwrap()))
            );
            for c in t["channels"].as_array().unwrap() {
                let l = format!(
                    "{{topic=\"{name}\",channel=\"{}\"}}",
                    c["channel_name"].as_str().unwrap()
                );
                for (metric, key) in [
                    ("depth", "depth"),
                    ("backend_depth", "backend_depth"),
                    ("in_flight_count", "in_flight_count"),
                    ("deferred_count", "deferred_count"),
                    ("message_count", "message_count"),
                    ("requeue_count", "requeue_count"),
                    ("timeout_count", "timeout_count"),
                    ("consumer_count", "client_count"),
                ] {
                    assert_eq!(
                        m[&format!("nsq_channel_{metric}{l}")],
                        c[key].as_f64().unwrap(),
                        "{metric}"
                    );
                }
            }
        }
        assert_eq!(
            m["nsq_channel_in_flight_count{topic=\"h1\",channel=\"chx\"}"],
            1.0
        );
        assert_eq!(m["nsq_channel_paused{topic=\"h2\",channel=\"c1\"}"], 1.0);
        assert_eq!(m["nsqd_info{version=\"1.3.0\"}"], 1.0);
        assert!(m.contains_key("nsqd_uptime_seconds"));
        assert!(!text.contains("e2e"), "not configured");
    }

    #[test]
    fn help_and_type_once_even_without_samples() {
        let mut reg = crate::registry::Registry::new(crate::nsqd::stats::tests::config(Vec::new()));
        let snap = collect(
            &mut reg,
            &StatsQuery::default(),
            &node(Vec::new()),
            Instant::now(),
        );
        let text = prometheus(&snap, SyncCounters::default());
        for family in TOPIC_FAMILIES
            .iter()
            .map(|f| f.0)
            .chain(CHANNEL_FAMILIES.iter().map(|f| f.0))
        {
            assert_eq!(
                text.matches(&format!("# TYPE {family} ")).count(),
                1,
                "{family}"
            );
            assert_eq!(
                text.matches(&format!("# HELP {family} ")).count(),
                1,
                "{family}"
            );
            assert!(!text.lines().any(|l| l.starts_with(&format!("{family}{{"))));
        }
        assert!(text.contains("# TYPE nsq_topic_message_count counter\n"));
        assert!(text.contains("# TYPE nsq_channel_depth gauge\n"));
    }

    #[test]
    fn e2e_quantiles_in_seconds() {
        let now = Instant::now();
        let mut reg = crate::registry::Registry::new(crate::nsqd::stats::tests::config(vec![0.99]));
        reg.channel("t", "c", now);
        let mut w = LatencyWindow::new(Duration::from_secs(600), now);
        w.record(2_000_000, now);
        reg.topics
            .get_mut("t")
            .unwrap()
            .channels
            .get_mut("c")
            .unwrap()
            .e2e = Some(w);
        let snap = collect(&mut reg, &StatsQuery::default(), &node(vec![0.99]), now);
        let m = parse(&prometheus(&snap, SyncCounters::default()));
        assert_eq!(
            m["nsq_channel_e2e_processing_latency_seconds{topic=\"t\",channel=\"c\",quantile=\"0.99\"}"],
            0.002
        );
    }

    #[test]
    fn label_escaping() {
        assert_eq!(escape("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
        let mut out = String::new();
        sample(&mut out, "x", &[("v", "q\"")], 1);
        assert_eq!(out, "x{v=\"q\\\"\"} 1\n");
    }
}
