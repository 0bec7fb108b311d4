//! `GET /stats`: a snapshot of topics, channels and clients copied under the registry
//! lock, and its renderings — the JSON and text formats of nsqd (§3.5 of the protocol
//! reference). The same snapshot feeds `/metrics` and the statsd pusher.
//!
//! [`collect`] only copies numbers and strings, so the lock is held briefly; all
//! formatting (and reading `/proc`) happens afterwards in [`to_json`] / [`to_text`].

use crate::common::gotime::{format_duration, rfc3339_utc};
use crate::common::json::{push_json_f64, push_json_str};
use crate::registry::channel::{Channel, Consumer};
use crate::registry::latency::LatencyWindow;
use crate::registry::topic::Topic;
use crate::registry::{ClientId, ClientInfo, Registry};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What `/stats` reports about the node itself.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    /// The version reported (`1.3.0`).
    pub version: String,
    /// When nsqd started, Unix seconds.
    pub start_time: i64,
    /// When nsqd started, for the uptime.
    pub started: Instant,
    /// `--e2e-processing-latency-percentile` (empty = not configured).
    pub e2e_percentiles: Vec<f64>,
}

/// The query of a `/stats` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsQuery {
    /// `format=json`.
    pub json: bool,
    /// `topic=`: only this topic.
    pub topic: Option<String>,
    /// `channel=`: only this channel (topics lacking it are left out).
    pub channel: Option<String>,
    /// `include_clients` (default true).
    pub include_clients: bool,
    /// `include_mem` (default true).
    pub include_mem: bool,
}

impl Default for StatsQuery {
    fn default() -> StatsQuery {
        StatsQuery {
            json: false,
            topic: None,
            channel: None,
            include_clients: true,
            include_mem: true,
        }
    }
}

/// nsqd's `boolParams`: `true`/`1` and `false`/`0`; anything else is "not given".
fn bool_param(value: Option<&str>) -> Option<bool> {
    match value? {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

impl StatsQuery {
    /// Reads the query-string pairs; the first occurrence of a key wins, as in nsqd.
    pub fn from_pairs(pairs: &[(String, String)]) -> StatsQuery {
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let non_empty = |key: &str| get(key).filter(|v| !v.is_empty()).map(str::to_string);
        StatsQuery {
            json: get("format") == Some("json"),
            topic: non_empty("topic"),
            channel: non_empty("channel"),
            include_clients: bool_param(get("include_clients")).unwrap_or(true),
            include_mem: bool_param(get("include_mem")).unwrap_or(true),
        }
    }
}

/// `e2e_processing_latency`: how many latencies the window holds and, when
/// percentiles are configured, `(quantile, nanoseconds)` sorted by quantile descending.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct E2eStats {
    /// Samples in the window.
    pub count: u64,
    /// `None` when not configured (JSON `null`).
    pub percentiles: Option<Vec<(f64, f64)>>,
}

/// One client as `/stats` shows it (in a channel's `clients` or in `producers`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// IDENTIFY `client_id`.
    pub client_id: String,
    /// IDENTIFY `hostname`.
    pub hostname: String,
    /// `ip:port` of the peer.
    pub remote_address: String,
    /// Protocol state number (0 init, 3 subscribed, 4 closing).
    pub state: i32,
    /// Its last RDY.
    pub ready_count: u64,
    /// Messages in flight to it.
    pub in_flight_count: u64,
    /// Messages delivered to it.
    pub message_count: u64,
    /// FINs it sent.
    pub finish_count: u64,
    /// REQs it sent.
    pub requeue_count: u64,
    /// Connect time, Unix seconds.
    pub connect_ts: i64,
    /// Its sample rate.
    pub sample_rate: u8,
    /// IDENTIFY `user_agent`.
    pub user_agent: String,
    /// At most one `(topic, count)` entry, as nsqd reports (the filtered topic if any).
    pub pub_counts: Vec<(String, u64)>,
    /// After AUTH: the identity and its URL (`authed` in the JSON).
    pub auth_identity: Option<(String, String)>,
    /// `"deflate"`, `"snappy"` or `""`.
    pub compression: &'static str,
}

/// One channel.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChannelStats {
    /// Its name.
    pub name: String,
    /// `#ephemeral`.
    pub ephemeral: bool,
    /// Messages queued (memory + backend).
    pub depth: u64,
    /// Messages on disk (0 until disk spill exists).
    pub backend_depth: u64,
    /// Messages in flight.
    pub in_flight_count: u64,
    /// Deferred messages.
    pub deferred_count: u64,
    /// Messages the topic handed to it.
    pub message_count: u64,
    /// REQs.
    pub requeue_count: u64,
    /// In-flight timeouts.
    pub timeout_count: u64,
    /// Subscribed clients.
    pub client_count: u64,
    /// Subscribed clients' stats; `None` when `include_clients=false`.
    pub clients: Option<Vec<ClientStats>>,
    /// Paused.
    pub paused: bool,
    /// End-to-end latency.
    pub e2e: E2eStats,
}

/// One topic.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopicStats {
    /// Its name.
    pub name: String,
    /// `#ephemeral`.
    pub ephemeral: bool,
    /// Its channels, sorted by name (`[]` when none).
    pub channels: Vec<ChannelStats>,
    /// Messages held by the topic (memory + backend).
    pub depth: u64,
    /// Messages on disk (0 until disk spill exists).
    pub backend_depth: u64,
    /// Messages published.
    pub message_count: u64,
    /// Body bytes published.
    pub message_bytes: u64,
    /// Paused.
    pub paused: bool,
    /// Merge of its channels' latencies.
    pub e2e: E2eStats,
}

/// The `memory` object: Go runtime numbers in nsqd; best effort here (RSS from
/// `/proc/self/status` as `heap_in_use_bytes`, zeros elsewhere).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemStats {
    /// `heap_objects`.
    pub heap_objects: u64,
    /// `heap_idle_bytes`.
    pub heap_idle_bytes: u64,
    /// `heap_in_use_bytes`.
    pub heap_in_use_bytes: u64,
    /// `heap_released_bytes`.
    pub heap_released_bytes: u64,
    /// `gc_pause_usec_100`.
    pub gc_pause_usec_100: u64,
    /// `gc_pause_usec_99`.
    pub gc_pause_usec_99: u64,
    /// `gc_pause_usec_95`.
    pub gc_pause_usec_95: u64,
    /// `next_gc_bytes`.
    pub next_gc_bytes: u64,
    /// `gc_total_runs`.
    pub gc_total_runs: u64,
}

impl MemStats {
    /// Reads this process's memory numbers (zeros where unavailable).
    pub fn read() -> MemStats {
        std::fs::read_to_string("/proc/self/status")
            .map(|s| MemStats::from_proc_status(&s))
            .unwrap_or_default()
    }

    /// Parses the text of `/proc/self/status`: `VmRSS` becomes `heap_in_use_bytes`.
    pub fn from_proc_status(text: &str) -> MemStats {
        let kb = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
                .map_or(0, |v| v.saturating_mul(1024))
        };
        MemStats {
            heap_in_use_bytes: kb("VmRSS:"),
            ..MemStats::default()
        }
    }

    fn fields(&self) -> [(&'static str, u64); 9] {
        [
            ("heap_objects", self.heap_objects),
            ("heap_idle_bytes", self.heap_idle_bytes),
            ("heap_in_use_bytes", self.heap_in_use_bytes),
            ("heap_released_bytes", self.heap_released_bytes),
            ("gc_pause_usec_100", self.gc_pause_usec_100),
            ("gc_pause_usec_99", self.gc_pause_usec_99),
            ("gc_pause_usec_95", self.gc_pause_usec_95),
            ("next_gc_bytes", self.next_gc_bytes),
            ("gc_total_runs", self.gc_total_runs),
        ]
    }
}

/// Everything `/stats` shows, as plain owned data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// nsqd version.
    pub version: String,
    /// `OK` or `NOK - <error>`.
    pub health: String,
    /// Start time, Unix seconds.
    pub start_time: i64,
    /// Time since start.
    pub uptime: Duration,
    /// Wall-clock time of the snapshot, Unix seconds (for clients' connected time).
    pub now_unix: i64,
    /// The configured e2e percentiles, sorted descending (empty = not configured).
    pub e2e_percentiles: Vec<f64>,
    /// Topics sorted by name; `None` only for an unknown topic filter.
    pub topics: Option<Vec<TopicStats>>,
    /// Clients that have published; `None` when none or when clients are excluded.
    pub producers: Option<Vec<ClientStats>>,
    /// Whether the `memory` section is shown.
    pub include_mem: bool,
    /// Memory numbers; when `None` and `include_mem`, they are read while rendering.
    pub memory: Option<MemStats>,
    /// Beyond Go's /stats: each configured nsqlookupd and whether it is connected.
    pub lookupd_peers: Vec<(String, bool)>,
}

impl Snapshot {
    /// The memory section to show, if any.
    pub fn memory_stats(&self) -> Option<MemStats> {
        self.include_mem
            .then(|| self.memory.clone().unwrap_or_else(MemStats::read))
    }
}

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

// ---------------------------------------------------------------------------------
// JSON

struct Obj<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Obj<'a> {
    fn new(out: &'a mut String) -> Obj<'a> {
        out.push('{');
        Obj { out, first: true }
    }
    fn key(&mut self, k: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push('"');
        self.out.push_str(k);
        self.out.push_str("\":");
        self.out
    }
    fn num(&mut self, k: &str, v: impl std::fmt::Display) {
        let out = self.key(k);
        let _ = write!(out, "{v}");
    }
    fn str(&mut self, k: &str, v: &str) {
        push_json_str(self.key(k), v);
    }
    fn bool(&mut self, k: &str, v: bool) {
        self.key(k).push_str(if v { "true" } else { "false" });
    }
    fn end(self) {
        self.out.push('}');
    }
}

fn push_list<T>(out: &mut String, items: Option<&[T]>, mut each: impl FnMut(&mut String, &T)) {
    let Some(items) = items else {
        out.push_str("null");
        return;
    };
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(out, item);
    }
    out.push(']');
}

fn push_e2e(out: &mut String, e2e: &E2eStats) {
    let mut o = Obj::new(out);
    o.num("count", e2e.count);
    push_list(
        o.key("percentiles"),
        e2e.percentiles.as_deref(),
        |out, &(q, v)| {
            out.push_str("{\"quantile\":");
            push_json_f64(out, q);
            out.push_str(",\"value\":");
            push_json_f64(out, v);
            out.push('}');
        },
    );
    o.end();
}

fn push_client(out: &mut String, c: &ClientStats) {
    let mut o = Obj::new(out);
    o.str("client_id", &c.client_id);
    o.str("hostname", &c.hostname);
    o.str("version", "V2");
    o.str("remote_address", &c.remote_address);
    o.num("state", c.state);
    o.num("ready_count", c.ready_count);
    o.num("in_flight_count", c.in_flight_count);
    o.num("message_count", c.message_count);
    o.num("finish_count", c.finish_count);
    o.num("requeue_count", c.requeue_count);
    o.num("connect_ts", c.connect_ts);
    o.num("sample_rate", c.sample_rate);
    o.bool("deflate", c.compression == "deflate");
    o.bool("snappy", c.compression == "snappy");
    o.str("user_agent", &c.user_agent);
    if let Some((identity, url)) = &c.auth_identity {
        o.bool("authed", true);
        if !identity.is_empty() {
            o.str("auth_identity", identity);
        }
        if !url.is_empty() {
            o.str("auth_identity_url", url);
        }
    }
    o.str("topology_zone", "");
    o.str("topology_region", "");
    if !c.pub_counts.is_empty() {
        push_list(
            o.key("pub_counts"),
            Some(&c.pub_counts[..]),
            |out, (t, n)| {
                let mut p = Obj::new(out);
                p.str("topic", t);
                p.num("count", n);
                p.end();
            },
        );
    }
    o.bool("tls", false);
    o.str("tls_cipher_suite", "");
    o.str("tls_version", "");
    o.str("tls_negotiated_protocol", "");
    o.bool("tls_negotiated_protocol_is_mutual", false);
    o.end();
}

fn push_channel(out: &mut String, c: &ChannelStats) {
    let mut o = Obj::new(out);
    o.str("channel_name", &c.name);
    o.num("depth", c.depth);
    o.num("backend_depth", c.backend_depth);
    o.num("in_flight_count", c.in_flight_count);
    o.num("deferred_count", c.deferred_count);
    o.num("message_count", c.message_count);
    o.num("requeue_count", c.requeue_count);
    o.num("timeout_count", c.timeout_count);
    o.num("client_count", c.client_count);
    push_list(o.key("clients"), c.clients.as_deref(), push_client);
    o.bool("paused", c.paused);
    push_e2e(o.key("e2e_processing_latency"), &c.e2e);
    o.end();
}

fn push_topic(out: &mut String, t: &TopicStats) {
    let mut o = Obj::new(out);
    o.str("topic_name", &t.name);
    push_list(o.key("channels"), Some(&t.channels[..]), push_channel);
    o.num("depth", t.depth);
    o.num("backend_depth", t.backend_depth);
    o.num("message_count", t.message_count);
    o.num("message_bytes", t.message_bytes);
    o.bool("paused", t.paused);
    push_e2e(o.key("e2e_processing_latency"), &t.e2e);
    o.end();
}

/// The `format=json` body, byte-compatible with nsqd's (compact, no trailing newline).
pub fn to_json(snapshot: &Snapshot) -> String {
    let mut out = String::with_capacity(1024);
    let mut o = Obj::new(&mut out);
    o.str("version", &snapshot.version);
    o.str("health", &snapshot.health);
    o.num("start_time", snapshot.start_time);
    push_list(o.key("topics"), snapshot.topics.as_deref(), push_topic);
    if let Some(mem) = snapshot.memory_stats() {
        let mut m = Obj::new(o.key("memory"));
        for (k, v) in mem.fields() {
            m.num(k, v);
        }
        m.end();
    }
    push_list(
        o.key("producers"),
        snapshot.producers.as_deref(),
        push_client,
    );
    let peers = o.key("lookupd_peers");
    peers.push('[');
    for (i, (address, connected)) in snapshot.lookupd_peers.iter().enumerate() {
        if i > 0 {
            peers.push(',');
        }
        let mut p = Obj::new(peers);
        p.str("address", address);
        p.bool("connected", *connected);
        p.end();
    }
    peers.push(']');
    o.end();
    out
}

// ---------------------------------------------------------------------------------
// Text

/// nsqd's `NanoSecondToHuman`.
fn nanos_to_human(v: f64) -> String {
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::proto::ClientState;
    use crate::registry::Config;
    use serde_json::Value;

    pub(crate) fn config(percentiles: Vec<f64>) -> Config {
        Config {
            node_id: 1,
            mem_queue_size: 100,
            data_path: None,
            disk: crate::diskqueue::Config {
                max_bytes_per_file: 1 << 20,
                min_msg_size: 26,
                max_msg_size: 1 << 20,
                sync_every: 2500,
            },
            max_msg_timeout: Duration::from_secs(900),
            max_channel_consumers: 0,
            e2e_percentiles: percentiles,
            e2e_window: Duration::from_secs(600),
        }
    }

    pub(crate) fn info(port: u16) -> ClientInfo {
        ClientInfo {
            remote: format!("127.0.0.1:{port}").parse().unwrap(),
            client_id: "cid".into(),
            hostname: "host.example".into(),
            user_agent: "probe/1.0".into(),
            state: ClientState::Init,
            msg_timeout: Duration::from_secs(60),
            sample_rate: 0,
            heartbeat_interval: Some(Duration::from_secs(30)),
            output_buffer_size: 16384,
            output_buffer_timeout: Duration::from_millis(250),
            connect_ts: 1_000,
            subscription: None,
            pub_counts: Default::default(),
            auth_identity: None,
            compression: "",
        }
    }

    pub(crate) fn node(percentiles: Vec<f64>) -> NodeInfo {
        NodeInfo {
            version: "1.3.0".into(),
            start_time: 1_795_486_829,
            started: Instant::now(),
            e2e_percentiles: percentiles,
        }
    }

    /// h1: channel chx with consumer 1 (one in flight, one finished) and a producer 2;
    /// h2: paused topic with channel c1 and no clients; h3: no channels.
    pub(crate) fn sample_registry(now: Instant) -> Registry {
        let mut reg = Registry::new(config(Vec::new()));
        reg.add_client(1, info(44658));
        reg.subscribe(1, "h1", "chx", now).unwrap();
        reg.rdy(1, 1);
        let mut producer = info(44674);
        producer.client_id = "127.0.0.1".into();
        producer.hostname = "127.0.0.1".into();
        producer.user_agent = String::new();
        reg.add_client(2, producer);
        reg.publish("h1", [&b"hello"[..], b"world", b"!!!!!!"], 0, now)
            .unwrap();
        reg.count_publish(2, "h1", 3);
        let mut got = Vec::new();
        reg.pump(now, |c, m| got.push((c, m.id)));
        assert_eq!(got.len(), 1);
        reg.channel("h2", "c1", now);
        reg.set_topic_paused("h2", true, now).unwrap();
        reg.set_channel_paused("h2", "c1", true).unwrap();
        reg.topic("h3");
        reg.publish("h3", [&b"x"[..]], 0, now).unwrap();
        reg
    }

    fn q(pairs: &[(&str, &str)]) -> StatsQuery {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        StatsQuery::from_pairs(&owned)
    }

    fn snapshot(reg: &mut Registry, query: &StatsQuery) -> Snapshot {
        let mut s = collect(reg, query, &node(Vec::new()), Instant::now());
        s.memory = Some(MemStats {
            heap_in_use_bytes: 4096,
            ..MemStats::default()
        });
        s
    }

    fn json(s: &Snapshot) -> Value {
        serde_json::from_str(&to_json(s)).expect("valid JSON")
    }

    /// Keys in document order (serde_json without preserve_order sorts, so re-scan).
    fn keys_in_order(text: &str, obj_start: usize) -> Vec<String> {
        let bytes = text.as_bytes();
        let mut keys = Vec::new();
        let mut depth = 0i32;
        let mut i = obj_start;
        let mut in_str = false;
        let mut str_start = 0;
        let mut expect_key = false;
        while i < bytes.len() {
            let c = bytes[i];
            if in_str {
                if c == b'\\' {
                    i += 2;
                    continue;
                }
                if c == b'"' {
                    in_str = false;
                    if depth == 1 && expect_key {
                        keys.push(text[str_start..i].to_string());
                        expect_key = false;
                    }
                }
            } else {
                match c {
                    b'"' => {
                        in_str = true;
                        str_start = i + 1;
                    }
                    b'{' | b'[' => {
                        depth += 1;
                        if depth == 1 {
                            expect_key = true;
                        }
                    }
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    b',' if depth == 1 => expect_key = true,
                    _ => {}
                }
            }
            i += 1;
        }
        keys
    }

    fn keys_at(text: &str, marker: &str) -> Vec<String> {
        let at = text
            .find(marker)
            .unwrap_or_else(|| panic!("{marker} in {text}"));
        let start = text[..at].rfind('{').unwrap();
        keys_in_order(text, start)
    }

    #[test]
    fn query_parsing_follows_nsqd() {
        let d = q(&[]);
        assert_eq!(d, StatsQuery::default());
        let s = q(&[
            ("format", "json"),
            ("topic", "t"),
            ("channel", "c"),
            ("include_clients", "false"),
            ("include_mem", "0"),
        ]);
        assert!(s.json && !s.include_clients && !s.include_mem);
        assert_eq!(
            (s.topic.as_deref(), s.channel.as_deref()),
            (Some("t"), Some("c"))
        );
        let s = q(&[
            ("format", "text"),
            ("include_clients", "nope"),
            ("include_mem", "1"),
            ("topic", ""),
        ]);
        assert!(!s.json && s.include_clients && s.include_mem && s.topic.is_none());
        let s = q(&[("include_clients", "0"), ("include_clients", "true")]);
        assert!(!s.include_clients, "first value wins");
    }

    #[test]
    fn json_keys_and_order_match_nsqd() {
        let now = Instant::now();
        let mut reg = sample_registry(now);
        let s = snapshot(&mut reg, &StatsQuery::default());
        let text = to_json(&s);
        assert_eq!(
            keys_in_order(&text, 0),
            [
                "version",
                "health",
                "start_time",
                "topics",
                "memory",
                "producers",
                "lookupd_peers"
            ]
        );
        assert_eq!(
            keys_at(&text, "\"topic_name\":\"h1\""),
            [
                "topic_name",
                "channels",
                "depth",
                "backend_depth",
                "message_count",
                "message_bytes",
                "paused",
                "e2e_processing_latency"
            ]
        );
        assert_eq!(
            keys_at(&text, "\"channel_name\":\"chx\""),
            [
                "channel_name",
                "depth",
                "backend_depth",
                "in_flight_count",
                "deferred_count",
                "message_count",
                "requeue_count",
                "timeout_count",
                "client_count",
                "clients",
                "paused",
                "e2e_processing_latency"
            ]
        );
        let client_keys = [
            "client_id",
            "hostname",
            "version",
            "remote_address",
            "state",
            "ready_count",
            "in_flight_count",
            "message_count",
            "finish_count",
            "requeue_count",
            "connect_ts",
            "sample_rate",
            "deflate",
            "snappy",
            "user_agent",
            "topology_zone",
            "topology_region",
            "tls",
            "tls_cipher_suite",
            "tls_version",
            "tls_negotiated_protocol",
            "tls_negotiated_protocol_is_mutual",
        ];
        assert_eq!(keys_at(&text, "\"client_id\":\"cid\""), client_keys);
        let mut producer_keys: Vec<&str> = client_keys.to_vec();
        producer_keys.insert(17, "pub_counts");
        assert_eq!(keys_at(&text, "\"client_id\":\"127.0.0.1\""), producer_keys);
        assert_eq!(
            keys_at(&text, "\"heap_objects\""),
            [
                "heap_objects",
                "heap_idle_bytes",
                "heap_in_use_bytes",
                "heap_released_bytes",
                "gc_pause_usec_100",
                "gc_pause_usec_99",
                "gc_pause_usec_95",
                "next_gc_bytes",
                "gc_total_runs"
            ]
        );
    }

    #[test]
    fn json_values() {
        let now = Instant::now();
        let mut reg = sample_registry(now);
        let v = json(&snapshot(&mut reg, &StatsQuery::default()));
        assert_eq!(v["version"], "1.3.0");
        assert_eq!(v["health"], "OK");
        assert_eq!(v["start_time"], 1_795_486_829);
        assert_eq!(v["memory"]["heap_in_use_bytes"], 4096);
        let topics = v["topics"].as_array().unwrap();
        let names: Vec<&str> = topics
            .iter()
            .map(|t| t["topic_name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["h1", "h2", "h3"]);
        let h1 = &topics[0];
        assert_eq!(h1["message_count"], 3);
        assert_eq!(h1["message_bytes"], 16);
        assert_eq!(h1["depth"], 0);
        assert_eq!(h1["backend_depth"], 0);
        assert_eq!(h1["paused"], false);
        assert_eq!(
            h1["e2e_processing_latency"],
            serde_json::json!({"count":0,"percentiles":null})
        );
        let chx = &h1["channels"][0];
        assert_eq!(chx["depth"], 2);
        assert_eq!(chx["in_flight_count"], 1);
        assert_eq!(chx["deferred_count"], 0);
        assert_eq!(chx["message_count"], 3);
        assert_eq!(chx["client_count"], 1);
        let c = &chx["clients"][0];
        assert_eq!(c["version"], "V2");
        assert_eq!(c["remote_address"], "127.0.0.1:44658");
        assert_eq!(c["state"], 3);
        assert_eq!(c["ready_count"], 1);
        assert_eq!(c["in_flight_count"], 1);
        assert_eq!(c["message_count"], 1);
        assert_eq!(c["user_agent"], "probe/1.0");
        assert_eq!(c["tls"], false);
        assert!(c.get("authed").is_none() && c.get("pub_counts").is_none());
        let h2 = &topics[1];
        assert_eq!(h2["paused"], true);
        assert_eq!(h2["channels"][0]["paused"], true);
        assert_eq!(h2["channels"][0]["clients"], serde_json::json!([]));
        assert_eq!(topics[2]["channels"], serde_json::json!([]));
        assert_eq!(topics[2]["depth"], 1);
        let producers = v["producers"].as_array().unwrap();
        assert_eq!(producers.len(), 1);
        assert_eq!(
            producers[0]["pub_counts"],
            serde_json::json!([{"topic":"h1","count":3}])
        );
        assert_eq!(producers[0]["state"], 0);
    }

    #[test]
    fn null_versus_empty_rules() {
        let now = Instant::now();
        let mut empty = Registry::new(config(Vec::new()));
        let v = json(&snapshot(&mut empty, &StatsQuery::default()));
        assert_eq!(v["topics"], serde_json::json!([]));
        assert_eq!(v["producers"], Value::Null);

        let mut reg = sample_registry(now);
        let v = json(&snapshot(&mut reg, &q(&[("topic", "nope")])));
        assert_eq!(v["topics"], Value::Null);
        assert_eq!(v["producers"], Value::Null);

        let v = json(&snapshot(
            &mut reg,
            &q(&[("include_clients", "false"), ("include_mem", "false")]),
        ));
        assert!(v.get("memory").is_none());
        assert_eq!(v["producers"], Value::Null);
        assert_eq!(v["topics"][0]["channels"][0]["clients"], Value::Null);
        assert_eq!(v["topics"][0]["channels"][0]["client_count"], 1);
        assert!(!to_json(&snapshot(&mut reg, &q(&[("include_mem", "false")]))).contains("memory"));
    }

    #[test]
    fn topic_and_channel_filters() {
        let now = Instant::now();
        let mut reg = sample_registry(now);
        reg.channel("h1", "other", now);
        let v = json(&snapshot(&mut reg, &q(&[("topic", "h1")])));
        let topics = v["topics"].as_array().unwrap();
        assert_eq!(topics.len(), 1);
        assert_eq!(topics[0]["channels"].as_array().unwrap().len(), 2);

        let v = json(&snapshot(&mut reg, &q(&[("channel", "c1")])));
        let topics = v["topics"].as_array().unwrap();
        assert_eq!(topics.len(), 1, "topics lacking c1 are omitted");
        assert_eq!(topics[0]["topic_name"], "h2");

        let v = json(&snapshot(
            &mut reg,
            &q(&[("topic", "h1"), ("channel", "c1")]),
        ));
        assert_eq!(v["topics"], serde_json::json!([]));

        let v = json(&snapshot(
            &mut reg,
            &q(&[("topic", "h1"), ("channel", "other")]),
        ));
        assert_eq!(v["topics"][0]["channels"].as_array().unwrap().len(), 1);
        assert_eq!(v["topics"][0]["channels"][0]["channel_name"], "other");
    }

    #[test]
    fn pub_counts_quirk() {
        let now = Instant::now();
        let mut reg = sample_registry(now);
        reg.publish("h3", [&b"y"[..]], 0, now).unwrap();
        reg.count_publish(2, "h3", 1);
        let v = json(&snapshot(&mut reg, &StatsQuery::default()));
        assert_eq!(v["producers"][0]["pub_counts"].as_array().unwrap().len(), 1);
        let v = json(&snapshot(&mut reg, &q(&[("topic", "h3")])));
        assert_eq!(
            v["producers"][0]["pub_counts"],
            serde_json::json!([{"topic":"h3","count":1}])
        );
        let v = json(&snapshot(&mut reg, &q(&[("topic", "h2")])));
        assert_eq!(
            v["producers"].as_array().unwrap().len(),
            1,
            "still a producer"
        );
        assert!(v["producers"][0].get("pub_counts").is_none());

        // A consumer that also published appears in both places, with its counters.
        reg.count_publish(1, "h1", 2);
        let v = json(&snapshot(&mut reg, &StatsQuery::default()));
        let producers = v["producers"].as_array().unwrap();
        assert_eq!(producers.len(), 2);
        assert_eq!(producers[0]["client_id"], "cid");
        assert_eq!(producers[0]["in_flight_count"], 1);
        assert_eq!(
            v["topics"][0]["channels"][0]["clients"][0]["pub_counts"][0]["count"],
            2
        );
    }

    #[test]
    fn e2e_percentiles_when_configured() {
        let now = Instant::now();
        let mut reg = Registry::new(config(vec![0.5, 0.99]));
        reg.channel("t", "a", now);
        reg.channel("t", "b", now);
        let mut w = LatencyWindow::new(Duration::from_secs(600), now);
        for v in 1..=100 {
            w.record(v * 1000, now);
        }
        reg.topics
            .get_mut("t")
            .unwrap()
            .channels
            .get_mut("a")
            .unwrap()
            .e2e = Some(w);
        reg.topic("empty");
        let s = collect(
            &mut reg,
            &StatsQuery::default(),
            &node(vec![0.5, 0.99]),
            now,
        );
        assert_eq!(s.e2e_percentiles, [0.99, 0.5]);
        let v: Value = serde_json::from_str(&to_json(&s)).unwrap();
        let t = &v["topics"][1];
        assert_eq!(t["topic_name"], "t");
        assert_eq!(
            t["e2e_processing_latency"],
            serde_json::json!({"count":100,"percentiles":[{"quantile":0.99,"value":99000},{"quantile":0.5,"value":50000}]})
        );
        assert_eq!(t["channels"][0]["e2e_processing_latency"]["count"], 100);
        assert_eq!(
            t["channels"][1]["e2e_processing_latency"],
            serde_json::json!({"count":0,"percentiles":[{"quantile":0.99,"value":0},{"quantile":0.5,"value":0}]})
        );
        // A topic with no channels has no aggregate, as in nsqd.
        assert_eq!(
            v["topics"][0]["e2e_processing_latency"],
            serde_json::json!({"count":0,"percentiles":null})
        );
        let raw = to_json(&s);
        assert!(raw.contains(r#"{"quantile":0.99,"value":99000}"#), "{raw}");
        let text = to_text(&s);
        assert!(
            text.contains("msgs: 0        e2e%: 99.0us, 50.0us\n"),
            "{text}"
        );
    }

    #[test]
    fn go_json_number_and_string_encoding() {
        let mut s = String::new();
        for v in [0.0, 0.99, 1.0, 1234567.0, 1e21, 1.5e-7, 0.000001] {
            push_json_f64(&mut s, v);
            s.push(' ');
        }
        assert_eq!(s, "0 0.99 1 1234567 1e+21 1.5e-7 0.000001 ");
        let mut s = String::new();
        push_json_str(&mut s, "a\"b\\c\n<&>\u{1}é");
        assert_eq!(s, r#""a\"b\\c\n\u003c\u0026\u003e\u0001é""#);
    }

    #[test]
    fn go_durations_and_times() {
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_duration(Duration::from_nanos(999)), "999ns");
        assert_eq!(format_duration(Duration::from_nanos(1500)), "1.5\u{b5}s");
        assert_eq!(format_duration(Duration::from_micros(1500)), "1.5ms");
        assert_eq!(
            format_duration(Duration::from_nanos(47_070_241_453)),
            "47.070241453s"
        );
        assert_eq!(format_duration(Duration::from_secs(60)), "1m0s");
        assert_eq!(format_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(format_duration(Duration::from_secs(3723)), "1h2m3s");
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(1_795_486_829), "2026-11-24T02:20:29Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(nanos_to_human(1000.0), "1000.0ns");
        assert_eq!(nanos_to_human(2_500_000_000.0), "2.5s");
    }

    #[test]
    fn text_format() {
        let now = Instant::now();
        let mut reg = sample_registry(now);
        let mut s = snapshot(&mut reg, &StatsQuery::default());
        s.uptime = Duration::from_nanos(47_070_241_453);
        s.now_unix = 1_000;
        let text = to_text(&s);
        let expected = concat!(
            "nsqd v1.3.0 (built w/nsq-rs)\n",
            "start_time 2026-11-24T02:20:29Z\n",
            "uptime 47.070241453s\n",
            "\n",
            "Health: OK\n",
            "\n",
            "Memory:\n",
            "   heap_objects             \t0\n",
            "   heap_idle_bytes          \t0\n",
            "   heap_in_use_bytes        \t4096\n",
            "   heap_released_bytes      \t0\n",
            "   gc_pause_usec_100        \t0\n",
            "   gc_pause_usec_99         \t0\n",
            "   gc_pause_usec_95         \t0\n",
            "   next_gc_bytes            \t0\n",
            "   gc_total_runs            \t0\n",
            "\n",
            "Topics:\n",
            "   [h1             ] depth: 0     be-depth: 0     msgs: 3        e2e%: \n",
            "      [chx                      ] depth: 2     be-depth: 0     inflt: 1    def: 0    re-q: 0     timeout: 0     msgs: 3        e2e%: \n",
            "        [V2 host.example:44658 probe/1.0] state: 3 inflt: 1    rdy: 1    fin: 0        re-q: 0        msgs: 1        connected: 0s\n",
            "\n",
            "*P [h2             ] depth: 0     be-depth: 0     msgs: 0        e2e%: \n",
            "   *P [c1                       ] depth: 0     be-depth: 0     inflt: 0    def: 0    re-q: 0     timeout: 0     msgs: 0        e2e%: \n",
            "\n",
            "   [h3             ] depth: 1     be-depth: 0     msgs: 1        e2e%: \n",
            "\n",
            "Producers:\n",
            "   [V2 127.0.0.1:44674      ] msgs: 3        topics: h1=3 connected: 0s\n",
        );
        assert_eq!(text, expected);

        let mut empty = Registry::new(config(Vec::new()));
        let text = to_text(&snapshot(&mut empty, &q(&[("include_mem", "false")])));
        assert!(!text.contains("Memory:"));
        assert!(
            text.ends_with("\nHealth: OK\n\nTopics: None\n\nProducers: None\n"),
            "{text}"
        );
    }

    #[test]
    fn memory_from_proc_status() {
        let m = MemStats::from_proc_status("Name:\tnsqd\nVmRSS:\t   2248 kB\nVmData:\t 100 kB\n");
        assert_eq!(m.heap_in_use_bytes, 2248 * 1024);
        assert_eq!(MemStats::from_proc_status("garbage").heap_in_use_bytes, 0);
    }
}
