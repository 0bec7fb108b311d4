//! [`to_text`]: the text body of `GET /stats` (without `format=json`), laid out as
//! nsqd's. Rendering only: the snapshot is already copied (reading `/proc` for the
//! memory section is the only I/O).

use super::snapshot::{ClientStats, E2eStats, Snapshot};
use crate::common::gotime::{format_duration, rfc3339_utc};
use std::fmt::Write as _;
use std::time::Duration;

/// nsqd's `NanoSecondToHuman`.
pub(super) fn nanos_to_human(v: f64) -> String {
    let (v, suffix) = if v > 1e9 {
        (v / 1e9, "s")
    } else if v > 1e6 {
        (v / 1e6, "ms")
    } else if v > 1e3 {
        (v / 1e3, "us")
    } else {
        (v, "ns")
    };
    format!("{v:.1}{suffix}")
}

fn e2e_text(e2e: &E2eStats) -> String {
    e2e.percentiles
        .iter()
        .flatten()
        .map(|&(_, v)| nanos_to_human(v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A client line as nsqd's `ClientV2Stats.String()` writes it (producer form when it
/// has published).
fn client_text(c: &ClientStats, now_unix: i64) -> String {
    let port = c.remote_address.rsplit_once(':').map_or("", |(_, p)| p);
    let id = format!("{}:{} {}", c.hostname, port, c.user_agent);
    let connected = format_duration(Duration::from_secs(
        now_unix.saturating_sub(c.connect_ts).max(0) as u64,
    ));
    if !c.pub_counts.is_empty() {
        let total: u64 = c.pub_counts.iter().map(|(_, n)| n).sum();
        let topics: Vec<String> = c
            .pub_counts
            .iter()
            .map(|(t, n)| format!("{t}={n}"))
            .collect();
        return format!(
            "[V2 {id:<21}] msgs: {total:<8} topics: {} connected: {connected}",
            topics.join(",")
        );
    }
    format!(
        "[V2 {id:<21}] state: {} inflt: {:<4} rdy: {:<4} fin: {:<8} re-q: {:<8} msgs: {:<8} connected: {connected}",
        c.state, c.in_flight_count, c.ready_count, c.finish_count, c.requeue_count, c.message_count
    )
}

/// The text body (`GET /stats` without `format=json`).
pub fn to_text(snapshot: &Snapshot) -> String {
    let mut w = String::with_capacity(1024);
    let _ = writeln!(w, "nsqd v{} (built w/nsq-rs)", snapshot.version);
    let _ = writeln!(w, "start_time {}", rfc3339_utc(snapshot.start_time));
    let _ = writeln!(w, "uptime {}", format_duration(snapshot.uptime));
    let _ = writeln!(w, "\nHealth: {}", snapshot.health);
    if let Some(mem) = snapshot.memory_stats() {
        w.push_str("\nMemory:\n");
        for (k, v) in mem.fields() {
            let _ = writeln!(w, "   {k:<25}\t{v}");
        }
    }
    let topics = snapshot.topics.as_deref().unwrap_or_default();
    if topics.is_empty() {
        w.push_str("\nTopics: None\n");
    } else {
        w.push_str("\nTopics:");
    }
    for t in topics {
        let _ = writeln!(
            w,
            "\n{}[{:<15}] depth: {:<5} be-depth: {:<5} msgs: {:<8} e2e%: {}",
            if t.paused { "*P " } else { "   " },
            t.name,
            t.depth,
            t.backend_depth,
            t.message_count,
            e2e_text(&t.e2e)
        );
        for c in &t.channels {
            let _ = writeln!(
                w,
                "{}[{:<25}] depth: {:<5} be-depth: {:<5} inflt: {:<4} def: {:<4} re-q: {:<5} timeout: {:<5} msgs: {:<8} e2e%: {}",
                if c.paused { "   *P " } else { "      " },
                c.name,
                c.depth,
                c.backend_depth,
                c.in_flight_count,
                c.deferred_count,
                c.requeue_count,
                c.timeout_count,
                c.message_count,
                e2e_text(&c.e2e)
            );
            for client in c.clients.iter().flatten() {
                let _ = writeln!(w, "        {}", client_text(client, snapshot.now_unix));
            }
        }
    }
    match snapshot.producers.as_deref() {
        Some(list) if !list.is_empty() => {
            w.push_str("\nProducers:\n");
            for p in list {
                let _ = writeln!(w, "   {}", client_text(p, snapshot.now_unix));
            }
        }
        _ => w.push_str("\nProducers: None\n"),
    }
    w
}
