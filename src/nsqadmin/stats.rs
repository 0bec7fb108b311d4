//! A topic's and a channel's numbers across nodes, as Go's nsqadmin answers them
//! (NSQADMIN.md §7): nsqd's `/stats` read per node, each node's row (`node`,
//! `hostname`, `memory_depth` = depth − backend depth), and the totals (`node:"*"`):
//! counters summed, `paused` if any node is, per-node rows sorted by hostname,
//! channels merged by name in first-seen order, clients concatenated. Unlike Go, the
//! per-node rows stay per-node (Go's merge overwrites the first node's channels) and
//! the E2E minimum is the minimum.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// nsqd's `/stats?format=json`, the parts nsqadmin reads.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
pub struct NsqdStats {
    pub topics: Option<Vec<NsqdTopic>>,
}

/// One topic of nsqd's `/stats`.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
pub struct NsqdTopic {
    pub topic_name: String,
    pub channels: Option<Vec<NsqdChannel>>,
    pub depth: i64,
    pub backend_depth: i64,
    pub message_count: i64,
    pub paused: bool,
    pub e2e_processing_latency: NsqdE2e,
}

/// One channel of nsqd's `/stats`.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
pub struct NsqdChannel {
    pub channel_name: String,
    pub depth: i64,
    pub backend_depth: i64,
    pub in_flight_count: i64,
    pub deferred_count: i64,
    pub message_count: i64,
    pub requeue_count: i64,
    pub timeout_count: i64,
    pub client_count: i64,
    pub clients: Option<Vec<Map<String, Value>>>,
    pub paused: bool,
    pub e2e_processing_latency: NsqdE2e,
}

/// nsqd's E2E percentiles.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
pub struct NsqdE2e {
    pub percentiles: Option<Vec<Quantile>>,
}

/// One nsqd percentile.
#[derive(Debug, Deserialize, Default, Clone, Copy)]
#[serde(default)]
pub struct Quantile {
    pub quantile: f64,
    pub value: f64,
}

/// A topic, on one node or in total.
#[derive(Debug, Serialize, Clone, Default)]
pub struct TopicStats {
    pub node: String,
    pub hostname: String,
    pub topic_name: String,
    pub depth: i64,
    pub memory_depth: i64,
    pub backend_depth: i64,
    pub message_count: i64,
    pub nodes: Option<Vec<TopicStats>>,
    pub channels: Option<Vec<ChannelStats>>,
    pub paused: bool,
    pub e2e_processing_latency: E2e,
}

/// A channel, on one node or in total.
#[derive(Debug, Serialize, Clone, Default)]
pub struct ChannelStats {
    pub node: String,
    pub hostname: String,
    pub topic_name: String,
    pub channel_name: String,
    pub depth: i64,
    pub memory_depth: i64,
    pub backend_depth: i64,
    pub in_flight_count: i64,
    pub deferred_count: i64,
    pub requeue_count: i64,
    pub timeout_count: i64,
    pub message_count: i64,
    pub client_count: i64,
    pub nodes: Option<Vec<ChannelStats>>,
    pub clients: Option<Vec<ClientStats>>,
    pub paused: bool,
    pub e2e_processing_latency: E2e,
}

/// A consumer connection, as nsqadmin lists it.
#[derive(Debug, Serialize, Clone, Default)]
pub struct ClientStats {
    pub node: String,
    pub remote_address: String,
    pub version: String,
    pub client_id: String,
    pub hostname: String,
    pub user_agent: String,
    pub connect_ts: i64,
    /// Nanoseconds since it connected.
    pub connected: i64,
    pub in_flight_count: i64,
    pub ready_count: i64,
    pub finish_count: i64,
    pub requeue_count: i64,
    pub message_count: i64,
    pub sample_rate: i64,
    pub deflate: bool,
    pub snappy: bool,
    pub authed: bool,
    pub auth_identity: String,
    pub auth_identity_url: String,
    pub tls: bool,
    pub tls_cipher_suite: String,
    pub tls_version: String,
    pub tls_negotiated_protocol: String,
    pub tls_negotiated_protocol_is_mutual: bool,
}

/// E2E processing latency across nodes.
#[derive(Debug, Serialize, Clone, Default)]
pub struct E2e {
    pub count: i64,
    pub percentiles: Option<Vec<Percentile>>,
    pub topic: String,
    pub channel: String,
    pub host: String,
}

/// One quantile across nodes (Go's keys, alphabetical as its map writes them).
#[derive(Debug, Serialize, Clone, Copy, Default)]
pub struct Percentile {
    pub average: f64,
    pub count: f64,
    pub max: f64,
    pub min: f64,
    pub quantile: f64,
}

/// One node's answer: its `broadcast:http` address, hostname and stats.
pub struct NodeStats {
    pub node: String,
    pub hostname: String,
    pub stats: NsqdStats,
}

fn e2e_of(raw: &NsqdE2e, topic: &str, channel: &str, host: &str) -> E2e {
    let percentiles = raw.percentiles.as_ref().map(|ps| {
        ps.iter()
            .map(|q| Percentile {
                average: q.value,
                count: 1.0,
                max: q.value,
                min: q.value,
                quantile: q.quantile,
            })
            .collect::<Vec<_>>()
    });
    E2e {
        count: i64::from(percentiles.is_some()),
        percentiles: percentiles.filter(|p| !p.is_empty()),
        topic: topic.into(),
        channel: channel.into(),
        host: host.into(),
    }
}

/// Merges per-node E2E figures: max of maxima, min of minima, count-weighted means.
fn e2e_total(parts: &[&E2e], topic: &str, channel: &str) -> E2e {
    let mut merged: Vec<Percentile> = Vec::new();
    for p in parts
        .iter()
        .filter_map(|e| e.percentiles.as_ref())
        .flatten()
    {
        match merged.iter_mut().find(|m| m.quantile == p.quantile) {
            Some(m) => {
                let count = m.count + p.count;
                m.average = (m.average * m.count + p.average * p.count) / count;
                m.count = count;
                m.max = m.max.max(p.max);
                m.min = m.min.min(p.min);
            }
            None => merged.push(*p),
        }
    }
    merged.sort_by(|a, b| b.quantile.total_cmp(&a.quantile));
    E2e {
        count: parts.iter().map(|e| e.count).sum(),
        percentiles: (!merged.is_empty()).then_some(merged),
        topic: topic.into(),
        channel: channel.into(),
        host: "*".into(),
    }
}

fn client_of(raw: &Map<String, Value>, node: &str, now: i64) -> ClientStats {
    let s = |k: &str| raw.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let n = |k: &str| raw.get(k).and_then(Value::as_i64).unwrap_or(0);
    let b = |k: &str| raw.get(k).and_then(Value::as_bool).unwrap_or(false);
    let connect_ts = n("connect_ts");
    ClientStats {
        node: node.into(),
        remote_address: s("remote_address"),
        version: s("version"),
        client_id: s("client_id"),
        hostname: s("hostname"),
        user_agent: s("user_agent"),
        connect_ts,
        connected: (now - connect_ts).max(0) * 1_000_000_000,
        in_flight_count: n("in_flight_count"),
        ready_count: n("ready_count"),
        finish_count: n("finish_count"),
        requeue_count: n("requeue_count"),
        message_count: n("message_count"),
        sample_rate: n("sample_rate"),
        deflate: b("deflate"),
        snappy: b("snappy"),
        authed: b("authed"),
        auth_identity: s("auth_identity"),
        auth_identity_url: s("auth_identity_url"),
        tls: b("tls"),
        tls_cipher_suite: s("tls_cipher_suite"),
        tls_version: s("tls_version"),
        tls_negotiated_protocol: s("tls_negotiated_protocol"),
        tls_negotiated_protocol_is_mutual: b("tls_negotiated_protocol_is_mutual"),
    }
}

/// One node's channel row.
fn channel_row(c: &NsqdChannel, topic: &str, node: &str, hostname: &str, now: i64) -> ChannelStats {
    let clients: Vec<ClientStats> = (c.clients.iter().flatten())
        .map(|raw| client_of(raw, node, now))
        .collect();
    ChannelStats {
        node: node.into(),
        hostname: hostname.into(),
        topic_name: topic.into(),
        channel_name: c.channel_name.clone(),
        depth: c.depth,
        memory_depth: c.depth - c.backend_depth,
        backend_depth: c.backend_depth,
        in_flight_count: c.in_flight_count,
        deferred_count: c.deferred_count,
        requeue_count: c.requeue_count,
        timeout_count: c.timeout_count,
        message_count: c.message_count,
        client_count: c.client_count,
        nodes: None,
        clients: (!clients.is_empty()).then_some(clients),
        paused: c.paused,
        e2e_processing_latency: e2e_of(&c.e2e_processing_latency, topic, &c.channel_name, node),
    }
}

/// One node's topic row, with its own channels.
fn topic_row(t: &NsqdTopic, node: &str, hostname: &str, now: i64) -> TopicStats {
    let channels: Vec<ChannelStats> = (t.channels.iter().flatten())
        .map(|c| channel_row(c, &t.topic_name, node, hostname, now))
        .collect();
    TopicStats {
        node: node.into(),
        hostname: hostname.into(),
        topic_name: t.topic_name.clone(),
        depth: t.depth,
        memory_depth: t.depth - t.backend_depth,
        backend_depth: t.backend_depth,
        message_count: t.message_count,
        nodes: None,
        channels: (!channels.is_empty()).then_some(channels),
        paused: t.paused,
        e2e_processing_latency: e2e_of(&t.e2e_processing_latency, &t.topic_name, "", node),
    }
}

/// Every node's rows for `topic` (nodes without it are left out), sorted by hostname.
pub fn topic_rows(nodes: &[NodeStats], topic: &str, now: i64) -> Vec<TopicStats> {
    let mut rows: Vec<TopicStats> = nodes
        .iter()
        .flat_map(|n| {
            (n.stats.topics.iter().flatten())
                .filter(|t| t.topic_name == topic)
                .map(|t| topic_row(t, &n.node, &n.hostname, now))
        })
        .collect();
    rows.sort_by(|a, b| a.hostname.cmp(&b.hostname));
    rows
}

/// The total of per-node channel rows (`node:"*"`), with them as `nodes`.
pub fn channel_total(rows: Vec<ChannelStats>, topic: &str, channel: &str) -> ChannelStats {
    let mut total = ChannelStats {
        node: "*".into(),
        topic_name: topic.into(),
        channel_name: channel.into(),
        ..ChannelStats::default()
    };
    let mut clients = Vec::new();
    for r in &rows {
        total.depth += r.depth;
        total.memory_depth += r.memory_depth;
        total.backend_depth += r.backend_depth;
        total.in_flight_count += r.in_flight_count;
        total.deferred_count += r.deferred_count;
        total.requeue_count += r.requeue_count;
        total.timeout_count += r.timeout_count;
        total.message_count += r.message_count;
        total.client_count += r.client_count;
        total.paused |= r.paused;
        clients.extend(r.clients.iter().flatten().cloned());
    }
    clients.sort_by(|a, b| a.hostname.cmp(&b.hostname));
    let e2e: Vec<&E2e> = rows.iter().map(|r| &r.e2e_processing_latency).collect();
    total.e2e_processing_latency = e2e_total(&e2e, topic, channel);
    total.clients = (!clients.is_empty()).then_some(clients);
    let mut rows = rows;
    rows.sort_by(|a, b| a.hostname.cmp(&b.hostname));
    total.nodes = Some(rows);
    total
}

/// The total of per-node topic rows (`node:"*"`): sums, channels merged by name in
/// first-seen order (each a [`channel_total`]), the rows as `nodes`.
pub fn topic_total(rows: Vec<TopicStats>, topic: &str) -> TopicStats {
    let mut total = TopicStats {
        node: "*".into(),
        topic_name: topic.into(),
        ..TopicStats::default()
    };
    let mut by_channel: Vec<(String, Vec<ChannelStats>)> = Vec::new();
    for r in &rows {
        total.depth += r.depth;
        total.memory_depth += r.memory_depth;
        total.backend_depth += r.backend_depth;
        total.message_count += r.message_count;
        total.paused |= r.paused;
        for c in r.channels.iter().flatten() {
            match by_channel
                .iter_mut()
                .find(|(name, _)| *name == c.channel_name)
            {
                Some((_, list)) => list.push(c.clone()),
                None => by_channel.push((c.channel_name.clone(), vec![c.clone()])),
            }
        }
    }
    let channels: Vec<ChannelStats> = by_channel
        .into_iter()
        .map(|(name, list)| channel_total(list, topic, &name))
        .collect();
    total.channels = (!channels.is_empty()).then_some(channels);
    let e2e: Vec<&E2e> = rows.iter().map(|r| &r.e2e_processing_latency).collect();
    total.e2e_processing_latency = e2e_total(&e2e, topic, "");
    total.nodes = Some(rows);
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(node: &str, hostname: &str, json: &str) -> NodeStats {
        NodeStats {
            node: node.into(),
            hostname: hostname.into(),
            stats: serde_json::from_str(json).unwrap(),
        }
    }

    #[test]
    fn totals_sum_nodes_and_merge_channels_by_name() {
        let a = node(
            "a:4151",
            "vm2",
            r#"{"topics":[{"topic_name":"t","depth":3,"backend_depth":1,"message_count":7,"paused":true,
            "channels":[{"channel_name":"c","depth":2,"in_flight_count":1,"message_count":7,"client_count":1,
              "clients":[{"client_id":"x","hostname":"h2","connect_ts":100,"ready_count":5}],
              "e2e_processing_latency":{"count":1,"percentiles":[{"quantile":0.99,"value":10.0}]}}]}]}"#,
        );
        let b = node(
            "b:4151",
            "vm1",
            r#"{"topics":[{"topic_name":"t","depth":1,"message_count":3,
            "channels":[{"channel_name":"d","depth":1},{"channel_name":"c","depth":4,
              "e2e_processing_latency":{"count":1,"percentiles":[{"quantile":0.99,"value":20.0}]}}]},
            {"topic_name":"other","depth":100}]}"#,
        );
        let rows = topic_rows(&[a, b], "t", 110);
        assert_eq!(rows[0].hostname, "vm1", "sorted by hostname");
        let total = topic_total(rows, "t");
        assert_eq!(
            (total.node.as_str(), total.depth, total.memory_depth),
            ("*", 4, 3)
        );
        assert_eq!(total.message_count, 10);
        assert!(total.paused);
        let channels = total.channels.as_ref().unwrap();
        let names: Vec<&str> = channels.iter().map(|c| c.channel_name.as_str()).collect();
        assert_eq!(names, ["d", "c"], "first-seen order");
        let c = &channels[1];
        assert_eq!(
            (c.depth, c.in_flight_count, c.nodes.as_ref().unwrap().len()),
            (6, 1, 2)
        );
        let client = &c.clients.as_ref().unwrap()[0];
        assert_eq!(
            (client.node.as_str(), client.connected, client.ready_count),
            ("a:4151", 10_000_000_000, 5)
        );
        let p = c.e2e_processing_latency.percentiles.as_ref().unwrap()[0];
        assert_eq!((p.min, p.max, p.average, p.count), (10.0, 20.0, 15.0, 2.0));
        // Per-node rows stay per node.
        let per_node = total.nodes.as_ref().unwrap();
        assert_eq!(per_node[1].channels.as_ref().unwrap()[0].node, "a:4151");
    }
}
