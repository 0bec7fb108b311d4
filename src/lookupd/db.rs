//! nsqlookupd's registration database: which nsqd (producer) has which topics and
//! channels, when each was last heard from, and which are tombstoned for a topic.
//!
//! It follows nsqlookupd's model: registrations are `(category, key, subkey)` —
//! `client`, `topic:<t>`, `channel:<t>:<c>` — each holding producers by peer id (the
//! `ip:port` of the nsqd's TCP connection). Keys outlive their producers: a topic stays
//! listed after its last nsqd leaves, until an HTTP delete or an ephemeral unregister.
//! Plain data under one `Mutex`; no I/O, no clocks of its own (callers pass `now`).

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// A registration key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Registration {
    /// Every identified peer.
    Client,
    /// A topic.
    Topic(String),
    /// A channel of a topic.
    Channel(String, String),
}

/// What an nsqd said about itself in IDENTIFY, and when it was last heard from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// `ip:port` of its connection to us.
    pub id: String,
    /// Same as `id`.
    pub remote_address: String,
    /// Its hostname.
    pub hostname: String,
    /// The address consumers should connect to.
    pub broadcast_address: String,
    /// Its (broadcast) TCP port.
    pub tcp_port: u16,
    /// Its (broadcast) HTTP port.
    pub http_port: u16,
    /// Its version.
    pub version: String,
    /// Topology hints (empty by default).
    pub topology_zone: String,
    /// Topology hints (empty by default).
    pub topology_region: String,
    /// IDENTIFY or the last PING.
    pub last_update: Instant,
    /// The same moment, in Unix nanoseconds, for `/debug`.
    pub last_update_unix_ns: i64,
}

/// A producer as `/lookup` shows it, keys in nsqlookupd's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerView {
    /// `ip:port` of its connection.
    pub remote_address: String,
    /// Hostname.
    pub hostname: String,
    /// Broadcast address.
    pub broadcast_address: String,
    /// TCP port.
    pub tcp_port: u16,
    /// HTTP port.
    pub http_port: u16,
    /// Version.
    pub version: String,
    /// Topology zone.
    pub topology_zone: String,
    /// Topology region.
    pub topology_region: String,
}

impl PeerInfo {
    /// The `/lookup` view of this peer.
    pub fn view(&self) -> PeerView {
        PeerView {
            remote_address: self.remote_address.clone(),
            hostname: self.hostname.clone(),
            broadcast_address: self.broadcast_address.clone(),
            tcp_port: self.tcp_port,
            http_port: self.http_port,
            version: self.version.clone(),
            topology_zone: self.topology_zone.clone(),
            topology_region: self.topology_region.clone(),
        }
    }
}

/// A producer's tombstone in one registration: when it was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tombstone {
    /// When `/topic/tombstone` marked it, if it did.
    pub at: Option<Instant>,
    /// The same, in Unix nanoseconds.
    pub at_unix_ns: i64,
}

impl Tombstone {
    /// True while the tombstone is within `lifetime`.
    pub fn active(&self, now: Instant, lifetime: Duration) -> bool {
        self.at
            .is_some_and(|at| now.saturating_duration_since(at) < lifetime)
    }
}

/// A node as `/nodes` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The peer.
    pub peer: PeerInfo,
    /// Topics it is registered for.
    pub topics: Vec<String>,
    /// Whether it is tombstoned for each of `topics` (same length).
    pub tombstones: Vec<bool>,
}

/// The registration database.
#[derive(Debug, Default)]
pub struct Db {
    peers: HashMap<String, PeerInfo>,
    registrations: BTreeMap<Registration, BTreeMap<String, Tombstone>>,
}

impl Db {
    /// An empty database.
    pub fn new() -> Db {
        Db::default()
    }

    /// IDENTIFY: records the peer under `client`.
    pub fn add_peer(&mut self, peer: PeerInfo) {
        let id = peer.id.clone();
        self.peers.insert(id.clone(), peer);
        self.registrations
            .entry(Registration::Client)
            .or_default()
            .entry(id)
            .or_default();
    }

    /// PING: the peer is alive.
    pub fn touch_peer(&mut self, id: &str, now: Instant, now_unix_ns: i64) {
        if let Some(p) = self.peers.get_mut(id) {
            p.last_update = now;
            p.last_update_unix_ns = now_unix_ns;
        }
    }

    /// The peer's connection closed: it leaves every registration (keys stay).
    pub fn remove_peer(&mut self, id: &str) {
        self.peers.remove(id);
        for producers in self.registrations.values_mut() {
            producers.remove(id);
        }
    }

    fn add_producer(&mut self, key: Registration, id: &str) {
        self.registrations
            .entry(key)
            .or_default()
            .entry(id.to_string())
            .or_default();
    }

    /// Removes producer `id` from `key`; answers (removed, producers left).
    fn remove_producer(&mut self, key: &Registration, id: &str) -> (bool, usize) {
        match self.registrations.get_mut(key) {
            Some(producers) => {
                let removed = producers.remove(id).is_some();
                (removed, producers.len())
            }
            None => (false, 0),
        }
    }

    /// `REGISTER topic [channel]`: the channel registration (if any) and the topic's.
    /// An existing entry is kept as it is (a tombstone survives a re-register).
    pub fn register(&mut self, id: &str, topic: &str, channel: Option<&str>) {
        if let Some(channel) = channel {
            self.add_producer(Registration::Channel(topic.into(), channel.into()), id);
        }
        self.add_producer(Registration::Topic(topic.into()), id);
    }

    /// `UNREGISTER topic [channel]`, with nsqlookupd's ephemeral clean-up. Returns
    /// how many channel registrations an unexpected topic-wide UNREGISTER removed.
    pub fn unregister(&mut self, id: &str, topic: &str, channel: Option<&str>) -> usize {
        if let Some(channel) = channel {
            let key = Registration::Channel(topic.into(), channel.into());
            let (removed, left) = self.remove_producer(&key, id);
            if removed && left == 0 && crate::proto::is_ephemeral(channel) {
                self.registrations.remove(&key);
            }
            return 0;
        }
        let mut unexpected = 0;
        for key in self.channel_keys(topic) {
            if self.remove_producer(&key, id).0 {
                unexpected += 1;
            }
        }
        let key = Registration::Topic(topic.into());
        let (removed, left) = self.remove_producer(&key, id);
        if removed && left == 0 && crate::proto::is_ephemeral(topic) {
            self.registrations.remove(&key);
        }
        unexpected
    }

    fn channel_keys(&self, topic: &str) -> Vec<Registration> {
        self.registrations
            .keys()
            .filter(|k| matches!(k, Registration::Channel(t, _) if t == topic))
            .cloned()
            .collect()
    }

    /// HTTP create: a key with no producers (topic, and channel if given).
    pub fn add_key(&mut self, topic: &str, channel: Option<&str>) {
        if let Some(channel) = channel {
            self.registrations
                .entry(Registration::Channel(topic.into(), channel.into()))
                .or_default();
        }
        self.registrations
            .entry(Registration::Topic(topic.into()))
            .or_default();
    }

    /// HTTP topic delete: the topic's key and every channel key of it.
    pub fn delete_topic(&mut self, topic: &str) {
        for key in self.channel_keys(topic) {
            self.registrations.remove(&key);
        }
        self.registrations
            .remove(&Registration::Topic(topic.into()));
    }

    /// HTTP channel delete; false if there was no such channel key.
    pub fn delete_channel(&mut self, topic: &str, channel: &str) -> bool {
        self.registrations
            .remove(&Registration::Channel(topic.into(), channel.into()))
            .is_some()
    }

    /// Tombstones, for `topic`, every producer whose `broadcast_address:http_port`
    /// is `node`.
    pub fn tombstone(&mut self, topic: &str, node: &str, now: Instant, now_unix_ns: i64) {
        let Some(producers) = self
            .registrations
            .get_mut(&Registration::Topic(topic.into()))
        else {
            return;
        };
        for (id, tombstone) in producers.iter_mut() {
            let Some(peer) = self.peers.get(id) else {
                continue;
            };
            if format!("{}:{}", peer.broadcast_address, peer.http_port) == node {
                tombstone.at = Some(now);
                tombstone.at_unix_ns = now_unix_ns;
            }
        }
    }

    /// Every topic key.
    pub fn topics(&self) -> Vec<String> {
        self.registrations
            .keys()
            .filter_map(|k| match k {
                Registration::Topic(t) => Some(t.clone()),
                _ => None,
            })
            .collect()
    }

    /// Every channel key of `topic`.
    pub fn channels(&self, topic: &str) -> Vec<String> {
        self.registrations
            .keys()
            .filter_map(|k| match k {
                Registration::Channel(t, c) if t == topic => Some(c.clone()),
                _ => None,
            })
            .collect()
    }

    fn active(&self, id: &str, now: Instant, inactive_timeout: Duration) -> Option<&PeerInfo> {
        self.peers
            .get(id)
            .filter(|p| now.saturating_duration_since(p.last_update) <= inactive_timeout)
    }

    /// `/lookup`: `None` when the topic key does not exist; else its channels and its
    /// active, untombstoned producers.
    pub fn lookup(
        &self,
        topic: &str,
        now: Instant,
        inactive_timeout: Duration,
        tombstone_lifetime: Duration,
    ) -> Option<(Vec<String>, Vec<PeerInfo>)> {
        let producers = self.registrations.get(&Registration::Topic(topic.into()))?;
        let live = producers
            .iter()
            .filter(|(_, t)| !t.active(now, tombstone_lifetime))
            .filter_map(|(id, _)| self.active(id, now, inactive_timeout))
            .cloned()
            .collect();
        Some((self.channels(topic), live))
    }

    /// `/nodes`: every active identified peer with its topics and tombstones.
    pub fn nodes(
        &self,
        now: Instant,
        inactive_timeout: Duration,
        tombstone_lifetime: Duration,
    ) -> Vec<Node> {
        let Some(clients) = self.registrations.get(&Registration::Client) else {
            return Vec::new();
        };
        clients
            .keys()
            .filter_map(|id| self.active(id, now, inactive_timeout))
            .map(|peer| {
                let mut topics = Vec::new();
                let mut tombstones = Vec::new();
                for (key, producers) in &self.registrations {
                    if let (Registration::Topic(t), Some(ts)) = (key, producers.get(&peer.id)) {
                        topics.push(t.clone());
                        tombstones.push(ts.active(now, tombstone_lifetime));
                    }
                }
                Node {
                    peer: peer.clone(),
                    topics,
                    tombstones,
                }
            })
            .collect()
    }

    /// Every registration with producers, for `/debug`: (key, [(peer, tombstone)]).
    pub fn dump(&self) -> Vec<(Registration, Vec<(PeerInfo, Tombstone)>)> {
        self.registrations
            .iter()
            .filter(|(_, producers)| !producers.is_empty())
            .map(|(key, producers)| {
                let list = producers
                    .iter()
                    .filter_map(|(id, t)| self.peers.get(id).map(|p| (p.clone(), *t)))
                    .collect();
                (key.clone(), list)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(id: &str, http_port: u16, now: Instant) -> PeerInfo {
        PeerInfo {
            id: id.into(),
            remote_address: id.into(),
            hostname: "h".into(),
            broadcast_address: "127.0.0.1".into(),
            tcp_port: http_port - 1,
            http_port,
            version: "1.3.0".into(),
            topology_zone: String::new(),
            topology_region: String::new(),
            last_update: now,
            last_update_unix_ns: 0,
        }
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn register_lookup_and_disconnect_keep_keys() {
        let now = Instant::now();
        let mut db = Db::new();
        db.add_peer(peer("a:1", 4151, now));
        db.add_peer(peer("b:2", 5151, now));
        db.register("a:1", "t", Some("c"));
        db.register("b:2", "t", None);
        let (channels, producers) = db.lookup("t", now, HOUR, HOUR).unwrap();
        assert_eq!(channels, vec!["c"]);
        assert_eq!(producers.len(), 2);
        db.remove_peer("a:1");
        let (channels, producers) = db.lookup("t", now, HOUR, HOUR).unwrap();
        assert_eq!((channels.len(), producers.len()), (1, 1));
        assert!(db.lookup("nope", now, HOUR, HOUR).is_none());
        assert_eq!(db.topics(), vec!["t"]);
    }

    #[test]
    fn inactive_producers_drop_out_of_lookup_and_nodes() {
        let start = Instant::now();
        let mut db = Db::new();
        db.add_peer(peer("a:1", 4151, start));
        db.register("a:1", "t", None);
        let later = start + Duration::from_secs(301);
        let timeout = Duration::from_secs(300);
        assert!(db.lookup("t", later, timeout, HOUR).unwrap().1.is_empty());
        assert!(db.nodes(later, timeout, HOUR).is_empty());
        db.touch_peer("a:1", later, 1);
        assert_eq!(db.nodes(later, timeout, HOUR).len(), 1);
    }

    #[test]
    fn tombstones_hide_from_lookup_not_nodes_and_expire() {
        let start = Instant::now();
        let mut db = Db::new();
        db.add_peer(peer("a:1", 4151, start));
        db.register("a:1", "t", None);
        db.register("a:1", "u", None);
        db.tombstone("t", "127.0.0.1:4151", start, 1);
        let life = Duration::from_secs(45);
        assert!(db.lookup("t", start, HOUR, life).unwrap().1.is_empty());
        let nodes = db.nodes(start, HOUR, life);
        assert_eq!(nodes[0].topics, vec!["t", "u"]);
        assert_eq!(nodes[0].tombstones, vec![true, false]);
        db.register("a:1", "t", None);
        assert!(db.lookup("t", start, HOUR, life).unwrap().1.is_empty());
        let after = start + Duration::from_secs(46);
        assert_eq!(db.lookup("t", after, HOUR, life).unwrap().1.len(), 1);
    }

    #[test]
    fn ephemeral_keys_go_with_their_last_producer() {
        let now = Instant::now();
        let mut db = Db::new();
        db.add_peer(peer("a:1", 4151, now));
        db.register("a:1", "t", Some("c#ephemeral"));
        db.register("a:1", "t", Some("d"));
        db.unregister("a:1", "t", Some("c#ephemeral"));
        db.unregister("a:1", "t", Some("d"));
        assert_eq!(db.channels("t"), vec!["d"]);
        db.register("a:1", "e#ephemeral", None);
        assert_eq!(db.unregister("a:1", "e#ephemeral", None), 0);
        assert_eq!(db.topics(), vec!["t"]);
    }

    #[test]
    fn http_keys_and_deletes() {
        let mut db = Db::new();
        db.add_key("t", Some("c"));
        assert_eq!(
            (db.topics(), db.channels("t")),
            (vec!["t".into()], vec!["c".into()])
        );
        assert!(db.delete_channel("t", "c"));
        assert!(!db.delete_channel("t", "c"));
        db.add_key("t", Some("d"));
        db.delete_topic("t");
        assert!(db.topics().is_empty() && db.channels("t").is_empty());
    }
}
