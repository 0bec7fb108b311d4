//! Which nsqd hold what, as Go's nsqadmin finds out (NSQADMIN.md §6.1): in lookupd
//! mode from every nsqlookupd (`/topics`, `/lookup`, `/nodes`, `/channels`), in nsqd
//! mode from every configured nsqd (`/info`, `/stats`). Every fan-out asks the nodes
//! at once and keeps what answered; the others become warnings.

use super::upstream::{fan_out, gather, url, Upstream};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// The nodes nsqadmin was pointed at, and how it reaches them.
pub struct Cluster {
    pub(super) upstream: Upstream,
    /// `--lookupd-http-address` (lookupd mode when non-empty); `PUT
    /// /config/nsqlookupd_http_addresses` replaces it.
    pub(super) lookupds: Arc<RwLock<Vec<String>>>,
    /// `--nsqd-http-address` (nsqd mode).
    pub(super) nsqds: Vec<String>,
}

/// An nsqd as `/api/nodes` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Producer {
    /// `<lookupd>/<nsqd remote address>` per lookupd that knows it (nsqd mode: null).
    pub remote_addresses: Option<Vec<String>>,
    pub remote_address: String,
    pub hostname: String,
    pub broadcast_address: String,
    pub tcp_port: u16,
    pub http_port: u16,
    pub version: String,
    /// Its topics, sorted, with their tombstones (lookupd's `/nodes`).
    pub topics: Vec<ProducerTopic>,
    /// Its version is older than the newest seen.
    pub out_of_date: bool,
}

/// One topic of a producer.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct ProducerTopic {
    pub topic: String,
    pub tombstoned: bool,
}

impl Producer {
    /// `broadcast_address:http_port` (an IPv6 address in brackets): how the node is
    /// named in nsqadmin's URLs and JSON.
    pub fn http_address(&self) -> String {
        join(&self.broadcast_address, self.http_port)
    }

    fn tcp_address(&self) -> String {
        join(&self.broadcast_address, self.tcp_port)
    }
}

fn join(host: &str, port: u16) -> String {
    match host.contains(':') {
        true => format!("[{host}]:{port}"),
        false => format!("{host}:{port}"),
    }
}

/// lookupd's `/nodes` entry.
#[derive(Deserialize, Default)]
#[serde(default)]
struct LookupdNode {
    remote_address: String,
    hostname: String,
    broadcast_address: String,
    tcp_port: u16,
    http_port: u16,
    version: String,
    tombstones: Vec<bool>,
    topics: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Nodes {
    producers: Vec<LookupdNode>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Lookup {
    producers: Vec<LookupdNode>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Topics {
    topics: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Channels {
    channels: Vec<String>,
}

/// nsqd's `/info`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Info {
    version: String,
    broadcast_address: String,
    hostname: String,
    http_port: u16,
    tcp_port: u16,
}

/// The topic names in an nsqd's `/stats`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct TopicNames {
    topics: Option<Vec<TopicName>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TopicName {
    topic_name: String,
}

/// A result with the warnings of the nodes that did not answer.
pub type Partial<T> = Result<(T, Vec<String>), String>;

impl Cluster {
    /// True in lookupd mode.
    pub fn lookupd_mode(&self) -> bool {
        !self.lookupds().is_empty()
    }

    /// The lookupds now.
    pub fn lookupds(&self) -> Vec<String> {
        self.lookupds
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Every topic, sorted and deduplicated.
    pub fn topics(&self) -> Partial<Vec<String>> {
        let (lists, warnings) = if self.lookupd_mode() {
            let results = fan_out(&self.lookupds(), |a| {
                self.upstream
                    .get_json::<Topics>(&url(a, "/topics"))
                    .map(|t| t.topics)
            });
            gather(results, "nsqlookupd")?
        } else {
            let results = fan_out(&self.nsqds, |a| {
                let stats: TopicNames = self
                    .upstream
                    .get_json(&url(a, "/stats?format=json&include_clients=false"))?;
                Ok(stats
                    .topics
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| t.topic_name)
                    .collect())
            });
            gather(results, "nsqd")?
        };
        let mut topics: Vec<String> = lists.into_iter().flatten().collect();
        topics.sort();
        topics.dedup();
        Ok((topics, warnings))
    }

    /// The channels lookupd knows for `topic` (lookupd mode only).
    pub fn lookupd_channels(&self, topic: &str) -> Partial<Vec<String>> {
        let path = format!(
            "/channels?topic={}",
            crate::http::client::query_escape(topic)
        );
        let results = fan_out(&self.lookupds(), |a| {
            self.upstream
                .get_json::<Channels>(&url(a, &path))
                .map(|c| c.channels)
        });
        let (lists, warnings) = gather(results, "nsqlookupd")?;
        let mut channels: Vec<String> = lists.into_iter().flatten().collect();
        channels.sort();
        channels.dedup();
        Ok((channels, warnings))
    }

    /// Every nsqd, sorted by hostname, each with its topics.
    pub fn all_producers(&self) -> Partial<Vec<Producer>> {
        let (mut producers, warnings) = if self.lookupd_mode() {
            let results = fan_out(&self.lookupds(), |a| {
                self.upstream
                    .get_json::<Nodes>(&url(a, "/nodes"))
                    .map(|n| (a.clone(), n.producers))
            });
            let (answers, warnings) = gather(results, "nsqlookupd")?;
            (merge(answers, |p| p.tcp_address()), warnings)
        } else {
            let results = fan_out(&self.nsqds, |a| self.nsqd_producer(a, None));
            let (found, warnings) = gather(results, "nsqd")?;
            (found.into_iter().flatten().collect(), warnings)
        };
        mark_out_of_date(&mut producers);
        producers.sort_by(|a, b| a.hostname.cmp(&b.hostname));
        Ok((producers, warnings))
    }

    /// The nsqd that hold `topic`: lookupd mode asks every lookupd (`/lookup`,
    /// tombstoned producers left out); nsqd mode asks every nsqd for the topic.
    pub fn topic_producers(&self, topic: &str) -> Partial<Vec<Producer>> {
        if self.lookupd_mode() {
            return self.lookupd_topic_producers(topic);
        }
        let results = fan_out(&self.nsqds, |a| self.nsqd_producer(a, Some(topic)));
        let (found, warnings) = gather(results, "nsqd")?;
        Ok((found.into_iter().flatten().collect(), warnings))
    }

    /// The producers of `topic` as the lookupds list them (no lookupd: none).
    pub fn lookupd_topic_producers(&self, topic: &str) -> Partial<Vec<Producer>> {
        let lookupds = self.lookupds();
        if lookupds.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let path = format!("/lookup?topic={}", crate::http::client::query_escape(topic));
        let results = fan_out(&lookupds, |a| {
            self.upstream
                .get_json::<Lookup>(&url(a, &path))
                .map(|l| (a.clone(), l.producers))
        });
        let (answers, warnings) = gather(results, "nsqlookupd")?;
        let mut producers = merge(answers, |p| p.http_address());
        producers.sort_by(|a, b| a.hostname.cmp(&b.hostname));
        Ok((producers, warnings))
    }

    /// An nsqd of nsqd mode as a producer, if it holds `topic` (any topic: `None`).
    fn nsqd_producer(&self, addr: &str, topic: Option<&str>) -> Result<Option<Producer>, String> {
        let query = match topic {
            Some(t) => format!("&topic={}", crate::http::client::query_escape(t)),
            None => String::new(),
        };
        let stats: TopicNames = self.upstream.get_json(&url(
            addr,
            &format!("/stats?format=json&include_clients=false{query}"),
        ))?;
        let names: Vec<String> = stats
            .topics
            .unwrap_or_default()
            .into_iter()
            .map(|t| t.topic_name)
            .collect();
        if topic.is_some() && names.is_empty() {
            return Ok(None);
        }
        let info: Info = self.upstream.get_json(&url(addr, "/info"))?;
        let mut topics: Vec<ProducerTopic> = names
            .into_iter()
            .map(|topic| ProducerTopic {
                topic,
                tombstoned: false,
            })
            .collect();
        topics.sort_by(|a, b| a.topic.cmp(&b.topic));
        Ok(Some(Producer {
            remote_addresses: None,
            remote_address: String::new(),
            hostname: info.hostname,
            broadcast_address: info.broadcast_address,
            tcp_port: info.tcp_port,
            http_port: info.http_port,
            version: info.version,
            topics,
            out_of_date: false,
        }))
    }
}

/// Merges the lookupds' answers into one producer per `key`, each with one
/// `<lookupd>/<remote address>` per lookupd that reported it.
fn merge(
    answers: Vec<(String, Vec<LookupdNode>)>,
    key: impl Fn(&Producer) -> String,
) -> Vec<Producer> {
    let mut by_key: BTreeMap<String, Producer> = BTreeMap::new();
    let mut order = Vec::new();
    for (lookupd, nodes) in answers {
        for node in nodes {
            let mut topics: Vec<ProducerTopic> = (node.topics.iter().enumerate())
                .map(|(i, t)| ProducerTopic {
                    topic: t.clone(),
                    tombstoned: node.tombstones.get(i).copied().unwrap_or(false),
                })
                .collect();
            topics.sort_by(|a, b| a.topic.cmp(&b.topic));
            let remote = format!("{lookupd}/{}", node.remote_address);
            let producer = Producer {
                remote_addresses: Some(vec![remote.clone()]),
                remote_address: node.remote_address,
                hostname: node.hostname,
                broadcast_address: node.broadcast_address,
                tcp_port: node.tcp_port,
                http_port: node.http_port,
                version: node.version,
                topics,
                out_of_date: false,
            };
            let k = key(&producer);
            match by_key.get_mut(&k) {
                Some(known) => {
                    known
                        .remote_addresses
                        .get_or_insert_with(Vec::new)
                        .push(remote);
                    for t in producer.topics {
                        if !known.topics.iter().any(|k| k.topic == t.topic) {
                            known.topics.push(t);
                        }
                    }
                    known.topics.sort_by(|a, b| a.topic.cmp(&b.topic));
                }
                None => {
                    order.push(k.clone());
                    by_key.insert(k, producer);
                }
            }
        }
    }
    order
        .into_iter()
        .filter_map(|k| by_key.remove(&k))
        .collect()
}

/// Marks every producer whose version is below the highest seen.
fn mark_out_of_date(producers: &mut [Producer]) {
    let version = |v: &str| -> Vec<u64> {
        v.split(['.', '-'])
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    let newest = producers
        .iter()
        .map(|p| version(&p.version))
        .max()
        .unwrap_or_default();
    for p in producers {
        p.out_of_date = version(&p.version) < newest;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(remote: &str, port: u16, topics: &[&str], version: &str) -> LookupdNode {
        LookupdNode {
            remote_address: remote.into(),
            hostname: "vm".into(),
            broadcast_address: "127.0.0.1".into(),
            tcp_port: port,
            http_port: port + 1,
            version: version.into(),
            tombstones: vec![false; topics.len()],
            topics: topics.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn lookupd_answers_merge_per_node_with_every_lookupd_named() {
        let answers = vec![
            (
                "l1:4161".to_string(),
                vec![node("127.0.0.1:5", 4150, &["b", "a"], "1.3.0")],
            ),
            (
                "l2:4161".to_string(),
                vec![
                    node("127.0.0.1:6", 4150, &["c"], "1.3.0"),
                    node("x:1", 4250, &[], "1.2.1"),
                ],
            ),
        ];
        let mut merged = merge(answers, |p| p.tcp_address());
        mark_out_of_date(&mut merged);
        assert_eq!(merged.len(), 2);
        assert_eq!(
            merged[0].remote_addresses.as_deref(),
            Some(
                &[
                    "l1:4161/127.0.0.1:5".to_string(),
                    "l2:4161/127.0.0.1:6".to_string()
                ][..]
            )
        );
        let names: Vec<&str> = merged[0].topics.iter().map(|t| t.topic.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert!(!merged[0].out_of_date && merged[1].out_of_date);
        assert_eq!(merged[0].http_address(), "127.0.0.1:4151");
    }
}
