//! What `/stats` shows, as plain owned data: the node's own facts ([`NodeInfo`]) and
//! the [`Snapshot`] of topics, channels and clients that [`collect`](super::collect)
//! copies out of the registry. No formatting here (see `json.rs` and `text.rs`).

use std::time::{Duration, Instant};

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
    /// What the TLS handshake agreed; `None`: no TLS.
    pub tls: Option<crate::tls::TlsInfo>,
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

    /// The `memory` keys in nsqd's order, with their values.
    pub(super) fn fields(&self) -> [(&'static str, u64); 9] {
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
