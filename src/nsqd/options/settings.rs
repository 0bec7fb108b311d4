//! nsqd's settings as typed values ([`Options`]) and Go nsqd's defaults for them.
//! No parsing here.

use crate::nsqd::node_id;
use std::time::Duration;

/// Settings for one nsqd process; `Default` gives Go nsqd's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// `<addr>:<port>` to listen on for TCP clients.
    pub tcp_address: String,
    /// `<addr>:<port>` to listen on for HTTP clients.
    pub http_address: String,
    /// `<addr>:<port>` to listen on for HTTPS clients.
    pub https_address: String,
    /// Address registered with lookupd (defaults to the OS hostname).
    pub broadcast_address: String,
    /// TCP port registered with lookupd; 0 means the port nsqd listens on.
    pub broadcast_tcp_port: u16,
    /// HTTP port registered with lookupd; 0 means the port nsqd listens on.
    pub broadcast_http_port: u16,
    /// Directory for disk-backed messages and metadata; empty means the current directory.
    pub data_path: String,
    /// Unique part of message IDs, in `0..1024` (defaults to a hash of the hostname).
    pub node_id: u16,
    /// Messages kept in memory per topic/channel before spilling to disk.
    pub mem_queue_size: u64,
    /// Bytes per diskqueue file before rolling to a new one.
    pub max_bytes_per_file: u64,
    /// Messages per diskqueue fsync.
    pub sync_every: u64,
    /// Longest time between diskqueue fsyncs.
    pub sync_timeout: Duration,
    /// Most workers checking in-flight and deferred timeouts at once. nsq-rs has no
    /// scan workers (timeouts fire at their deadlines): only Go's default is accepted.
    pub queue_scan_worker_pool_max: usize,
    /// Channels checked per queue-scan cycle. nsq-rs samples none (timeouts fire at
    /// their deadlines): only Go's default is accepted.
    pub queue_scan_selection_count: usize,
    /// Time between queue-scan cycles (not a flag in Go either).
    pub queue_scan_interval: Duration,
    /// Time between refreshes of the queue-scan worker pool (not a flag in Go either).
    pub queue_scan_refresh_interval: Duration,
    /// Fraction of dirty channels that makes a scan cycle repeat at once (not a flag in Go either).
    pub queue_scan_dirty_percent: f64,
    /// Default time before an unacknowledged message is requeued.
    pub msg_timeout: Duration,
    /// Longest message timeout a client may ask for.
    pub max_msg_timeout: Duration,
    /// Largest single message body, in bytes.
    pub max_msg_size: u64,
    /// Largest command body (e.g. MPUB), in bytes.
    pub max_body_size: u64,
    /// Longest requeue delay a client may ask for.
    pub max_req_timeout: Duration,
    /// Longest heartbeat interval a client may ask for.
    pub max_heartbeat_interval: Duration,
    /// Largest RDY count a client may set.
    pub max_rdy_count: u64,
    /// Largest output buffer a client may ask for, in bytes.
    pub max_output_buffer_size: u64,
    /// Longest output-buffer flush timeout a client may ask for.
    pub max_output_buffer_timeout: Duration,
    /// Shortest output-buffer flush timeout a client may ask for.
    pub min_output_buffer_timeout: Duration,
    /// Default time between flushes of a client's output buffer.
    pub output_buffer_timeout: Duration,
    /// Most consumers per channel; 0 means unlimited.
    pub max_channel_consumers: usize,
    /// Timeout for connecting to HTTP peers (lookupd, auth).
    pub http_client_connect_timeout: Duration,
    /// Timeout for a whole HTTP request to a peer.
    pub http_client_request_timeout: Duration,
    /// Log verbosity, lower-case: debug, info, warn, error or fatal.
    pub log_level: String,
    /// Text printed before every log line, e.g. `"[nsqd] "`.
    pub log_prefix: String,
    /// nsqlookupd TCP addresses to register with (`--lookupd-tcp-address`, repeatable).
    pub lookupd_tcp_addresses: Vec<String>,
    /// Path to the TLS certificate file.
    pub tls_cert: String,
    /// Path to the TLS key file.
    pub tls_key: String,
    /// Client certificate policy: `""`, `require` or `require-verify`.
    pub tls_client_auth_policy: String,
    /// Path to the certificate authority file.
    pub tls_root_ca_file: String,
    /// Whether clients must use TLS: `false`, `true` or `tcp-https`
    /// (a non-empty client auth policy turns `false` into `true`, as in Go).
    pub tls_required: String,
    /// Minimum TLS version: `ssl3.0`, `tls1.0`, `tls1.1`, `tls1.2` or `tls1.3`.
    pub tls_min_version: String,
    /// Whether clients may negotiate deflate compression.
    pub deflate: bool,
    /// Highest deflate level a client may negotiate, 1 to 9.
    pub max_deflate_level: u8,
    /// Whether clients may negotiate snappy compression.
    pub snappy: bool,
    /// Auth server addresses or URLs (`--auth-http-address`, repeatable).
    pub auth_http_addresses: Vec<String>,
    /// HTTP method for auth server requests, lower-case (`get` or `post`).
    pub auth_http_request_method: String,
    /// UDP `<addr>:<port>` of a statsd daemon; empty disables statsd.
    pub statsd_address: String,
    /// Prefix of statsd keys; `%s` is replaced by the host.
    pub statsd_prefix: String,
    /// Time between pushes to statsd.
    pub statsd_interval: Duration,
    /// Whether to send memory stats to statsd.
    pub statsd_mem_stats: bool,
    /// Size of statsd UDP packets, in bytes.
    pub statsd_udp_packet_size: usize,
    /// Whether to skip ephemeral topics and channels in statsd.
    pub statsd_exclude_ephemeral: bool,
    /// End-to-end processing latency percentiles to track, each in (0, 1], sorted descending.
    pub e2e_processing_latency_percentiles: Vec<f64>,
    /// Window over which the latency percentiles are computed.
    pub e2e_processing_latency_window_time: Duration,
}

impl Default for Options {
    fn default() -> Self {
        let hostname = crate::common::net::hostname();
        Options {
            tcp_address: "0.0.0.0:4150".to_string(),
            http_address: "0.0.0.0:4151".to_string(),
            https_address: "0.0.0.0:4152".to_string(),
            node_id: node_id::default_node_id(&hostname),
            broadcast_address: hostname,
            broadcast_tcp_port: 0,
            broadcast_http_port: 0,
            data_path: String::new(),
            mem_queue_size: 10_000,
            max_bytes_per_file: 100 * 1024 * 1024,
            sync_every: 2500,
            sync_timeout: Duration::from_secs(2),
            queue_scan_worker_pool_max: 4,
            queue_scan_selection_count: 20,
            queue_scan_interval: Duration::from_millis(100),
            queue_scan_refresh_interval: Duration::from_secs(5),
            queue_scan_dirty_percent: 0.25,
            msg_timeout: Duration::from_secs(60),
            max_msg_timeout: Duration::from_secs(15 * 60),
            max_msg_size: 1024 * 1024,
            max_body_size: 5 * 1024 * 1024,
            max_req_timeout: Duration::from_secs(3600),
            max_heartbeat_interval: Duration::from_secs(60),
            max_rdy_count: 2500,
            max_output_buffer_size: 64 * 1024,
            max_output_buffer_timeout: Duration::from_secs(30),
            min_output_buffer_timeout: Duration::from_millis(25),
            output_buffer_timeout: Duration::from_millis(250),
            max_channel_consumers: 0,
            http_client_connect_timeout: Duration::from_secs(2),
            http_client_request_timeout: Duration::from_secs(5),
            log_level: "info".to_string(),
            log_prefix: "[nsqd] ".to_string(),
            lookupd_tcp_addresses: Vec::new(),
            tls_cert: String::new(),
            tls_key: String::new(),
            tls_client_auth_policy: String::new(),
            tls_root_ca_file: String::new(),
            tls_required: "false".to_string(),
            tls_min_version: "tls1.0".to_string(),
            deflate: true,
            max_deflate_level: 6,
            snappy: true,
            auth_http_addresses: Vec::new(),
            auth_http_request_method: "get".to_string(),
            statsd_address: String::new(),
            statsd_prefix: "nsq.%s".to_string(),
            statsd_interval: Duration::from_secs(60),
            statsd_mem_stats: true,
            statsd_udp_packet_size: 508,
            statsd_exclude_ephemeral: false,
            e2e_processing_latency_percentiles: Vec::new(),
            e2e_processing_latency_window_time: Duration::from_secs(600),
        }
    }
}
