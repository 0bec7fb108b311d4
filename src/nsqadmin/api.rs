//! nsqadmin's read routes (NSQADMIN.md §6.2): `/api/topics`, a topic, a channel,
//! the nodes, a node, the counter, and nsq-rs's `/api/rates/...` series. Each asks
//! the nodes that matter at once and answers what it found, with the others as a
//! warning; only when no node answered is it a 502.

use super::cluster::Producer;
use super::context::{error, ok_json, upstream_error, warning, Admin, WithMessage};
use super::rates::{unix_now, Sample};
use super::stats::{self, ChannelStats, NodeStats, NsqdStats, TopicStats};
use super::upstream::{fan_out, gather, url};
use crate::http::client::query_escape;
use crate::http::{Request, Response};
use serde::Serialize;
use std::collections::BTreeMap;

/// `GET /api/topics` (`?inactive=true`: the topics with no producer, and their
/// channels, from lookupd).
pub fn topics(admin: &Admin, req: &Request) -> Response {
    let inactive = req.query_param("inactive").ok().flatten().as_deref() == Some("true");
    let (topics, warnings) = match admin.cluster.topics() {
        Ok(found) => found,
        Err(_) if inactive && !admin.cluster.lookupd_mode() => return inactive_none(),
        Err(e) => return upstream_error(&e),
    };
    if !inactive {
        #[derive(Serialize)]
        struct Topics {
            topics: Vec<String>,
        }
        let message = warning(&[&warnings]);
        return ok_json(&WithMessage {
            value: Topics { topics },
            message,
        });
    }
    if !admin.cluster.lookupd_mode() {
        return inactive_none();
    }
    let mut out: BTreeMap<String, Option<Vec<String>>> = BTreeMap::new();
    let mut more = Vec::new();
    for topic in topics {
        match admin.cluster.lookupd_topic_producers(&topic) {
            Ok((producers, w)) if producers.is_empty() => {
                more.extend(w);
                let channels = match admin.cluster.lookupd_channels(&topic) {
                    Ok((c, w)) => {
                        more.extend(w);
                        c
                    }
                    Err(e) => {
                        more.push(e);
                        Vec::new()
                    }
                };
                out.insert(topic, (!channels.is_empty()).then_some(channels));
            }
            Ok((_, w)) => more.extend(w),
            Err(e) => more.push(e),
        }
    }
    #[derive(Serialize)]
    struct Inactive {
        topics: BTreeMap<String, Option<Vec<String>>>,
    }
    let message = warning(&[&warnings, &more]);
    ok_json(&WithMessage {
        value: Inactive { topics: out },
        message,
    })
}

/// nsqd mode has no inactive topics.
fn inactive_none() -> Response {
    ok_json(&serde_json::json!({"topics": {}, "message": ""}))
}

/// `GET /api/topics/:topic`.
pub fn topic(admin: &Admin, topic: &str) -> Response {
    let (producers, w1) = match admin.cluster.topic_producers(topic) {
        Ok(found) => found,
        Err(e) => return upstream_error(&e),
    };
    if producers.is_empty() {
        // Known to lookupd, produced nowhere: an empty topic, not Go's error page.
        let total = stats::topic_total(Vec::new(), topic);
        return ok_json(&WithMessage {
            value: total,
            message: warning(&[&w1]),
        });
    }
    let query = format!("topic={}&include_clients=false", query_escape(topic));
    let (nodes, w2) = match stats_of(admin, &producers, &query) {
        Ok(found) => found,
        Err(e) => return upstream_error(&e),
    };
    let rows = stats::topic_rows(&nodes, topic, unix_now() as i64);
    let total: TopicStats = stats::topic_total(rows, topic);
    ok_json(&WithMessage {
        value: total,
        message: warning(&[&w1, &w2]),
    })
}

/// `GET /api/topics/:topic/:channel`.
pub fn channel(admin: &Admin, topic: &str, channel: &str) -> Response {
    let (producers, w1) = match admin.cluster.topic_producers(topic) {
        Ok(found) => found,
        Err(e) => return upstream_error(&e),
    };
    let query = format!(
        "topic={}&channel={}",
        query_escape(topic),
        query_escape(channel)
    );
    let (nodes, w2) = match producers.is_empty() {
        true => (Vec::new(), Vec::new()),
        false => match stats_of(admin, &producers, &query) {
            Ok(found) => found,
            Err(e) => return upstream_error(&e),
        },
    };
    let rows: Vec<ChannelStats> = stats::topic_rows(&nodes, topic, unix_now() as i64)
        .into_iter()
        .flat_map(|t| t.channels.unwrap_or_default())
        .filter(|c| c.channel_name == channel)
        .collect();
    let message = warning(&[&w1, &w2]);
    if rows.is_empty() {
        return ok_json(&serde_json::json!({ "message": message }));
    }
    let total = stats::channel_total(rows, topic, channel);
    ok_json(&WithMessage {
        value: total,
        message,
    })
}

/// Every producer's `/stats?format=json&<query>`, in parallel.
fn stats_of(
    admin: &Admin,
    producers: &[Producer],
    query: &str,
) -> Result<(Vec<NodeStats>, Vec<String>), String> {
    let up = &admin.cluster.upstream;
    let results = fan_out(producers, |p| {
        let node = p.http_address();
        let stats: NsqdStats = up.get_json(&url(&node, &format!("/stats?format=json&{query}")))?;
        Ok(NodeStats {
            node,
            hostname: p.hostname.clone(),
            stats,
        })
    });
    gather(results, "nsqd")
}

/// `GET /api/nodes`.
pub fn nodes(admin: &Admin) -> Response {
    #[derive(Serialize)]
    struct Nodes {
        nodes: Vec<Producer>,
    }
    match admin.cluster.all_producers() {
        Ok((nodes, w)) => ok_json(&WithMessage {
            value: Nodes { nodes },
            message: warning(&[&w]),
        }),
        Err(e) => upstream_error(&e),
    }
}

/// `GET /api/nodes/:node`: every topic of one nsqd, with channels and clients.
pub fn node(admin: &Admin, node: &str) -> Response {
    let (producers, w1) = match admin.cluster.all_producers() {
        Ok(found) => found,
        Err(e) => return upstream_error(&e),
    };
    let Some(producer) = producers.into_iter().find(|p| p.http_address() == node) else {
        return error(404, "NODE_NOT_FOUND");
    };
    let (nodes, w2) = match stats_of(
        admin,
        std::slice::from_ref(&producer),
        "include_clients=true",
    ) {
        Ok(found) => found,
        Err(e) => return upstream_error(&e),
    };
    let now = unix_now() as i64;
    let names: Vec<String> = (nodes.iter())
        .flat_map(|n| {
            n.stats
                .topics
                .iter()
                .flatten()
                .map(|t| t.topic_name.clone())
        })
        .collect();
    let topics: Vec<TopicStats> = names
        .iter()
        .flat_map(|t| stats::topic_rows(&nodes, t, now))
        .collect();
    let total_messages = topics.iter().map(|t| t.message_count).sum::<i64>();
    let total_clients = (topics.iter())
        .flat_map(|t| t.channels.iter().flatten())
        .map(|c| c.client_count)
        .sum::<i64>();
    #[derive(Serialize)]
    struct Node {
        node: String,
        topics: Vec<TopicStats>,
        total_messages: i64,
        total_clients: i64,
    }
    let value = Node {
        node: node.into(),
        topics,
        total_messages,
        total_clients,
    };
    ok_json(&WithMessage {
        value,
        message: warning(&[&w1, &w2]),
    })
}

/// `GET /api/counter`: every channel's message count, per node.
pub fn counter(admin: &Admin) -> Response {
    let (producers, w1) = match admin.cluster.all_producers() {
        Ok(found) => found,
        Err(e) => return upstream_error(&e),
    };
    let (nodes, w2) = match stats_of(admin, &producers, "include_clients=false") {
        Ok(found) => found,
        Err(e) => return upstream_error(&e),
    };
    #[derive(Serialize)]
    struct Count {
        node: String,
        topic_name: String,
        channel_name: String,
        message_count: i64,
    }
    let mut counts = BTreeMap::new();
    for n in &nodes {
        for t in n.stats.topics.iter().flatten() {
            for c in t.channels.iter().flatten() {
                let key = format!("{}:{}:{}", t.topic_name, c.channel_name, n.node);
                counts.insert(
                    key,
                    Count {
                        node: n.node.clone(),
                        topic_name: t.topic_name.clone(),
                        channel_name: c.channel_name.clone(),
                        message_count: c.message_count,
                    },
                );
            }
        }
    }
    #[derive(Serialize)]
    struct Stats {
        stats: BTreeMap<String, Count>,
    }
    ok_json(&WithMessage {
        value: Stats { stats: counts },
        message: warning(&[&w1, &w2]),
    })
}

/// `GET /api/rates/topics/:topic[/:channel]` (nsq-rs): the sampled series.
pub fn rates(admin: &Admin, topic: &str, channel: Option<&str>) -> Response {
    #[derive(Serialize)]
    struct Series<'a> {
        topic: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        channel: Option<&'a str>,
        interval: u64,
        window: u64,
        samples: Vec<Sample>,
    }
    let value = Series {
        topic,
        channel,
        interval: admin.rates.interval.as_secs().max(1),
        window: admin.rates.window().as_secs(),
        samples: admin.rates.series(topic, channel.unwrap_or("")),
    };
    ok_json(&WithMessage {
        value,
        message: String::new(),
    })
}
