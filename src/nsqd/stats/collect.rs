//! [`collect`]: copies topics, channels and clients out of the registry into a
//! [`Snapshot`], with the registry lock held by the caller. It only copies numbers and
//! strings (no formatting, no I/O), so the lock is held briefly.

use super::query::StatsQuery;
use super::snapshot::{ChannelStats, ClientStats, E2eStats, NodeInfo, Snapshot, TopicStats};
use crate::registry::channel::{Channel, Consumer};
use crate::registry::latency::LatencyWindow;
use crate::registry::topic::Topic;
use crate::registry::{ClientId, ClientInfo, Registry};
use std::collections::{BTreeMap, HashMap};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn window_stats(window: &mut LatencyWindow, quantiles: &[f64], now: Instant) -> E2eStats {
    let count = window.count(now);
    let mut percentiles = window.percentiles(quantiles, now);
    if percentiles.is_empty() {
        percentiles = quantiles.iter().map(|&q| (q, 0.0)).collect();
    }
    E2eStats {
        count,
        percentiles: Some(percentiles),
    }
}

fn zero_e2e(quantiles: &[f64]) -> E2eStats {
    E2eStats {
        count: 0,
        percentiles: Some(quantiles.iter().map(|&q| (q, 0.0)).collect()),
    }
}

fn channel_e2e(channel: &mut Channel, quantiles: &[f64], now: Instant) -> E2eStats {
    if quantiles.is_empty() {
        return E2eStats::default();
    }
    match &mut channel.e2e {
        Some(window) => window_stats(window, quantiles, now),
        None => zero_e2e(quantiles),
    }
}

/// nsqd aggregates every channel of the topic (whatever the channel filter); a topic
/// without channels has no aggregate (`"percentiles": null`).
fn topic_e2e(topic: &Topic, quantiles: &[f64], now: Instant) -> E2eStats {
    if quantiles.is_empty() || topic.channels.is_empty() {
        return E2eStats::default();
    }
    let mut merged: Option<LatencyWindow> = None;
    for window in topic.channels.values().filter_map(|c| c.e2e.as_ref()) {
        match &mut merged {
            Some(m) => m.merge(window),
            None => merged = Some(window.clone()),
        }
    }
    match &mut merged {
        Some(window) => window_stats(window, quantiles, now),
        None => zero_e2e(quantiles),
    }
}

/// nsqd's quirk: at most one `pub_counts` entry — the filtered topic's when a topic
/// filter is set, else the first one.
fn pub_counts(info: &ClientInfo, topic_filter: Option<&str>) -> Vec<(String, u64)> {
    match topic_filter {
        Some(t) => info
            .pub_counts
            .get(t)
            .map(|&n| vec![(t.to_string(), n)])
            .unwrap_or_default(),
        None => info
            .pub_counts
            .iter()
            .next()
            .map(|(t, &n)| vec![(t.clone(), n)])
            .unwrap_or_default(),
    }
}

fn client_stats(
    info: &ClientInfo,
    consumer: Option<&Consumer>,
    topic_filter: Option<&str>,
) -> ClientStats {
    ClientStats {
        client_id: info.client_id.clone(),
        hostname: info.hostname.clone(),
        remote_address: info.remote.to_string(),
        state: info.state.as_number(),
        ready_count: consumer.map_or(0, |c| c.rdy),
        in_flight_count: consumer.map_or(0, |c| c.in_flight),
        message_count: consumer.map_or(0, |c| c.message_count),
        finish_count: consumer.map_or(0, |c| c.finish_count),
        requeue_count: consumer.map_or(0, |c| c.requeue_count),
        connect_ts: info.connect_ts,
        sample_rate: info.sample_rate,
        user_agent: info.user_agent.clone(),
        pub_counts: pub_counts(info, topic_filter),
        auth_identity: info.auth_identity.clone(),
        compression: info.compression,
        tls: info.tls.as_deref().cloned(),
    }
}

fn channel_stats(
    channel: &mut Channel,
    clients: &HashMap<ClientId, ClientInfo>,
    query: &StatsQuery,
    quantiles: &[f64],
    now: Instant,
) -> ChannelStats {
    let filter = query.topic.as_deref();
    let listed = query.include_clients.then(|| {
        channel
            .consumers
            .iter()
            .filter_map(|c| {
                clients
                    .get(&c.client)
                    .map(|info| client_stats(info, Some(c), filter))
            })
            .collect()
    });
    ChannelStats {
        name: channel.name.clone(),
        ephemeral: channel.ephemeral,
        depth: channel.depth() as u64,
        backend_depth: channel.backend_depth(),
        in_flight_count: channel.in_flight_count() as u64,
        deferred_count: channel.deferred_count() as u64,
        message_count: channel.message_count,
        requeue_count: channel.requeue_count,
        timeout_count: channel.timeout_count,
        client_count: channel.consumers.len() as u64,
        clients: listed,
        paused: channel.paused,
        e2e: channel_e2e(channel, quantiles, now),
    }
}

fn topic_stats(
    topic: &mut Topic,
    clients: &HashMap<ClientId, ClientInfo>,
    query: &StatsQuery,
    quantiles: &[f64],
    now: Instant,
) -> Option<TopicStats> {
    if let Some(c) = &query.channel {
        if !topic.channels.contains_key(c) {
            return None;
        }
    }
    let e2e = topic_e2e(topic, quantiles, now);
    let channels = topic
        .channels
        .values_mut()
        .filter(|c| query.channel.as_ref().is_none_or(|f| *f == c.name))
        .map(|c| channel_stats(c, clients, query, quantiles, now))
        .collect();
    Some(TopicStats {
        name: topic.name.clone(),
        ephemeral: topic.ephemeral,
        channels,
        depth: topic.depth() as u64,
        backend_depth: topic.backend_depth(),
        message_count: topic.message_count,
        message_bytes: topic.message_bytes,
        paused: topic.paused,
        e2e,
    })
}

fn producers(
    topics: &BTreeMap<String, Topic>,
    clients: &HashMap<ClientId, ClientInfo>,
    topic_filter: Option<&str>,
) -> Option<Vec<ClientStats>> {
    let mut ids: Vec<ClientId> = clients
        .iter()
        .filter(|(_, info)| !info.pub_counts.is_empty())
        .map(|(&id, _)| id)
        .collect();
    if ids.is_empty() {
        return None;
    }
    ids.sort_unstable();
    let list = ids
        .into_iter()
        .filter_map(|id| {
            let info = clients.get(&id)?;
            let consumer = info.subscription.as_ref().and_then(|(t, c)| {
                topics
                    .get(t)?
                    .channels
                    .get(c)?
                    .consumers
                    .iter()
                    .find(|k| k.client == id)
            });
            Some(client_stats(info, consumer, topic_filter))
        })
        .collect();
    Some(list)
}

/// Copies what `/stats` shows out of the registry; call it with the lock held. It
/// only copies (the e2e windows slide forward to `now`, hence `&mut`).
pub fn collect(
    registry: &mut Registry,
    query: &StatsQuery,
    node: &NodeInfo,
    now: Instant,
) -> Snapshot {
    let mut quantiles = node.e2e_percentiles.clone();
    quantiles.sort_by(|a, b| b.total_cmp(a));
    let mut snapshot = Snapshot {
        version: node.version.clone(),
        health: registry
            .disk_error()
            .map_or_else(|| "OK".to_string(), |e| format!("NOK - {e}")),
        start_time: node.start_time,
        uptime: now.saturating_duration_since(node.started),
        now_unix: unix_now(),
        e2e_percentiles: quantiles,
        topics: None,
        producers: None,
        include_mem: query.include_mem,
        memory: None,
        lookupd_peers: Vec::new(),
    };
    if let Some(t) = &query.topic {
        if !registry.topics.contains_key(t) {
            // nsqd returns empty stats: topics and producers both null.
            return snapshot;
        }
    }
    let clients = &registry.clients;
    let topics = registry
        .topics
        .values_mut()
        .filter(|t| query.topic.as_ref().is_none_or(|f| *f == t.name))
        .filter_map(|t| topic_stats(t, clients, query, &snapshot.e2e_percentiles, now))
        .collect();
    snapshot.topics = Some(topics);
    if query.include_clients {
        snapshot.producers = producers(&registry.topics, &registry.clients, query.topic.as_deref());
    }
    snapshot
}
