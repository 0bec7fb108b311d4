//! nsqd's options: every command-line flag Go nsqd accepts, its default, and
//! the checks Go nsqd applies before starting.
//!
//! [`parse_args`] turns `argv[1..]` into a [`Command`]: run with [`Options`],
//! print help, or print the version. A rejected command line comes back as the
//! one-line message the binary prints to stderr before exiting with status 2.

use std::time::Duration;

use crate::flags::{self, FlagError, FlagKind, FlagSpec, Parsed};
use crate::logging;
use crate::nsqd::node_id;

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
    /// Most workers checking in-flight and deferred timeouts at once.
    pub queue_scan_worker_pool_max: usize,
    /// Channels checked per queue-scan cycle.
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

/// What the command line asks nsqd to do.
pub type Command = flags::Invocation<Options>;

/// Parses nsqd's command line. `args` excludes the program name (`argv[1..]`).
pub fn parse_args(args: &[String]) -> Result<Command, String> {
    let specs = flag_specs(&Options::default());
    flags::parse_program("nsqd", &specs, args, options_from)
}

fn flag_specs(d: &Options) -> Vec<FlagSpec> {
    use FlagKind as K;
    let dur = crate::common::gotime::format_duration;
    vec![
        FlagSpec::new("version", K::Bool, false, "print version string"),
        FlagSpec::new("config", K::String, "", "path to config file"),
        FlagSpec::new("log-level", K::String, &d.log_level, "set log verbosity: debug, info, warn, error, or fatal"),
        FlagSpec::new("log-prefix", K::String, &d.log_prefix, "log message prefix"),
        FlagSpec::new("verbose", K::Bool, false, "[deprecated] has no effect, use --log-level"),
        FlagSpec::new(
            "node-id",
            K::Int,
            d.node_id,
            "unique part for message IDs, (int) in range [0,1024) (default is hash of hostname)",
        ),
        FlagSpec::new("worker-id", K::Bool, false, "[deprecated] use --node-id"),
        FlagSpec::new("https-address", K::String, &d.https_address, "<addr>:<port> to listen on for HTTPS clients"),
        FlagSpec::new("http-address", K::String, &d.http_address, "<addr>:<port> to listen on for HTTP clients"),
        FlagSpec::new("tcp-address", K::String, &d.tcp_address, "<addr>:<port> to listen on for TCP clients"),
        FlagSpec::new(
            "auth-http-address",
            K::List,
            "",
            "<addr>:<port> or a full url to query auth server (may be given multiple times)",
        ),
        FlagSpec::new(
            "auth-http-request-method",
            K::String,
            &d.auth_http_request_method,
            "HTTP method to use for auth server requests",
        ),
        FlagSpec::new(
            "broadcast-address",
            K::String,
            &d.broadcast_address,
            "address that will be registered with lookupd (defaults to the OS hostname)",
        ),
        FlagSpec::new(
            "broadcast-tcp-port",
            K::Int,
            d.broadcast_tcp_port,
            "TCP port that will be registered with lookupd (defaults to the TCP port that this nsqd is listening on)",
        ),
        FlagSpec::new(
            "broadcast-http-port",
            K::Int,
            d.broadcast_http_port,
            "HTTP port that will be registered with lookupd (defaults to the HTTP port that this nsqd is listening on)",
        ),
        FlagSpec::new("lookupd-tcp-address", K::List, "", "lookupd TCP address (may be given multiple times)"),
        FlagSpec::new(
            "http-client-connect-timeout",
            K::Duration,
            dur(d.http_client_connect_timeout),
            "timeout for HTTP connect",
        ),
        FlagSpec::new(
            "http-client-request-timeout",
            K::Duration,
            dur(d.http_client_request_timeout),
            "timeout for HTTP request",
        ),
        FlagSpec::new("data-path", K::String, &d.data_path, "path to store disk-backed messages"),
        FlagSpec::new(
            "mem-queue-size",
            K::Int,
            d.mem_queue_size,
            "number of messages to keep in memory (per topic/channel)",
        ),
        FlagSpec::new(
            "max-bytes-per-file",
            K::Int,
            d.max_bytes_per_file,
            "number of bytes per diskqueue file before rolling",
        ),
        FlagSpec::new("sync-every", K::Int, d.sync_every, "number of messages per diskqueue fsync"),
        FlagSpec::new("sync-timeout", K::Duration, dur(d.sync_timeout), "duration of time per diskqueue fsync"),
        FlagSpec::new(
            "queue-scan-worker-pool-max",
            K::Int,
            d.queue_scan_worker_pool_max,
            "max concurrency for checking in-flight and deferred message timeouts",
        ),
        FlagSpec::new(
            "queue-scan-selection-count",
            K::Int,
            d.queue_scan_selection_count,
            "number of channels to check per cycle (every 100ms) for in-flight and deferred timeouts",
        ),
        FlagSpec::new(
            "msg-timeout",
            K::Duration,
            dur(d.msg_timeout),
            "default duration to wait before auto-requeing a message",
        ),
        FlagSpec::new(
            "max-msg-timeout",
            K::Duration,
            dur(d.max_msg_timeout),
            "maximum duration before a message will timeout",
        ),
        FlagSpec::new("max-msg-size", K::Int, d.max_msg_size, "maximum size of a single message in bytes"),
        FlagSpec::new(
            "max-req-timeout",
            K::Duration,
            dur(d.max_req_timeout),
            "maximum requeuing timeout for a message",
        ),
        FlagSpec::new("max-body-size", K::Int, d.max_body_size, "maximum size of a single command body"),
        FlagSpec::new(
            "max-heartbeat-interval",
            K::Duration,
            dur(d.max_heartbeat_interval),
            "maximum client configurable duration of time between client heartbeats",
        ),
        FlagSpec::new("max-rdy-count", K::Int, d.max_rdy_count, "maximum RDY count for a client"),
        FlagSpec::new(
            "max-output-buffer-size",
            K::Int,
            d.max_output_buffer_size,
            "maximum client configurable size (in bytes) for a client output buffer",
        ),
        FlagSpec::new(
            "max-output-buffer-timeout",
            K::Duration,
            dur(d.max_output_buffer_timeout),
            "maximum client configurable duration of time between flushing to a client",
        ),
        FlagSpec::new(
            "min-output-buffer-timeout",
            K::Duration,
            dur(d.min_output_buffer_timeout),
            "minimum client configurable duration of time between flushing to a client",
        ),
        FlagSpec::new(
            "output-buffer-timeout",
            K::Duration,
            dur(d.output_buffer_timeout),
            "default duration of time between flushing data to clients",
        ),
        FlagSpec::new(
            "max-channel-consumers",
            K::Int,
            d.max_channel_consumers,
            "maximum channel consumer connection count per nsqd instance (default 0, i.e., unlimited)",
        ),
        FlagSpec::new(
            "statsd-address",
            K::String,
            &d.statsd_address,
            "UDP <addr>:<port> of a statsd daemon for pushing stats",
        ),
        FlagSpec::new(
            "statsd-interval",
            K::Duration,
            dur(d.statsd_interval),
            "duration between pushing to statsd",
        ),
        FlagSpec::new(
            "statsd-mem-stats",
            K::Bool,
            d.statsd_mem_stats,
            "toggle sending memory and GC stats to statsd",
        ),
        FlagSpec::new(
            "statsd-prefix",
            K::String,
            &d.statsd_prefix,
            "prefix used for keys sent to statsd (%s for host replacement)",
        ),
        FlagSpec::new(
            "statsd-udp-packet-size",
            K::Int,
            d.statsd_udp_packet_size,
            "the size in bytes of statsd UDP packets",
        ),
        FlagSpec::new(
            "statsd-exclude-ephemeral",
            K::Bool,
            d.statsd_exclude_ephemeral,
            "Skip ephemeral topics and channels when sending stats to statsd",
        ),
        FlagSpec::new(
            "e2e-processing-latency-percentile",
            K::List,
            "",
            "message processing time percentiles (as float (0, 1.0]) to track (can be specified multiple times or comma separated '1.0,0.99,0.95', default none)",
        ),
        FlagSpec::new(
            "e2e-processing-latency-window-time",
            K::Duration,
            dur(d.e2e_processing_latency_window_time),
            "calculate end to end latency quantiles for this duration of time (ie: 60s would only show quantile calculations from the past 60 seconds)",
        ),
        FlagSpec::new("tls-cert", K::String, &d.tls_cert, "path to certificate file"),
        FlagSpec::new("tls-key", K::String, &d.tls_key, "path to key file"),
        FlagSpec::new(
            "tls-client-auth-policy",
            K::String,
            &d.tls_client_auth_policy,
            "client certificate auth policy ('require' or 'require-verify')",
        ),
        FlagSpec::new("tls-root-ca-file", K::String, &d.tls_root_ca_file, "path to certificate authority file"),
        FlagSpec::new(
            "tls-required",
            K::Bool,
            &d.tls_required,
            "require TLS for client connections (true, false, tcp-https)",
        ),
        FlagSpec::new(
            "tls-min-version",
            K::String,
            &d.tls_min_version,
            "minimum SSL/TLS version acceptable ('ssl3.0', 'tls1.0', 'tls1.1', 'tls1.2' or 'tls1.3')",
        ),
        FlagSpec::new(
            "deflate",
            K::Bool,
            d.deflate,
            "enable deflate feature negotiation (client compression)",
        ),
        FlagSpec::new(
            "max-deflate-level",
            K::Int,
            d.max_deflate_level,
            "max deflate compression level a client can negotiate (> values == > nsqd CPU usage)",
        ),
        FlagSpec::new("snappy", K::Bool, d.snappy, "enable snappy feature negotiation (client compression)"),
    ]
}

/// Reads every flag into typed options and applies Go nsqd's checks.
fn options_from(p: &Parsed) -> Result<Options, String> {
    let s = |name: &str| p.get_string(name).map_err(|e| e.to_string());
    let b = |name: &str| p.get_bool(name).map_err(|e| e.to_string());
    let d = |name: &str| p.get_duration(name).map_err(|e| e.to_string());
    let l = |name: &str| p.get_list(name).map_err(|e| e.to_string());
    let mut opts = Options {
        tcp_address: s("tcp-address")?,
        http_address: s("http-address")?,
        https_address: s("https-address")?,
        broadcast_address: s("broadcast-address")?,
        broadcast_tcp_port: port(p, "broadcast-tcp-port")?,
        broadcast_http_port: port(p, "broadcast-http-port")?,
        data_path: s("data-path")?,
        node_id: int_in(p, "node-id", 0, 1023, ">= 0 and < 1024")?,
        mem_queue_size: int_in(p, "mem-queue-size", 0, i64::MAX, ">= 0")?,
        max_bytes_per_file: positive(p, "max-bytes-per-file")?,
        sync_every: positive(p, "sync-every")?,
        sync_timeout: d("sync-timeout")?,
        queue_scan_worker_pool_max: positive(p, "queue-scan-worker-pool-max")?,
        queue_scan_selection_count: positive(p, "queue-scan-selection-count")?,
        msg_timeout: d("msg-timeout")?,
        max_msg_timeout: d("max-msg-timeout")?,
        max_msg_size: positive(p, "max-msg-size")?,
        max_body_size: positive(p, "max-body-size")?,
        max_req_timeout: d("max-req-timeout")?,
        max_heartbeat_interval: d("max-heartbeat-interval")?,
        max_rdy_count: positive(p, "max-rdy-count")?,
        max_output_buffer_size: positive(p, "max-output-buffer-size")?,
        max_output_buffer_timeout: d("max-output-buffer-timeout")?,
        min_output_buffer_timeout: d("min-output-buffer-timeout")?,
        output_buffer_timeout: d("output-buffer-timeout")?,
        max_channel_consumers: int_in(p, "max-channel-consumers", 0, i64::MAX, ">= 0")?,
        http_client_connect_timeout: d("http-client-connect-timeout")?,
        http_client_request_timeout: d("http-client-request-timeout")?,
        log_level: log_level(&s("log-level")?)?,
        log_prefix: s("log-prefix")?,
        lookupd_tcp_addresses: l("lookupd-tcp-address")?,
        tls_cert: s("tls-cert")?,
        tls_key: s("tls-key")?,
        tls_client_auth_policy: s("tls-client-auth-policy")?,
        tls_root_ca_file: s("tls-root-ca-file")?,
        tls_required: tls_required(&s("tls-required")?)?,
        tls_min_version: tls_min_version(&s("tls-min-version")?)?,
        deflate: b("deflate")?,
        max_deflate_level: int_in(p, "max-deflate-level", 1, 9, "[1,9]")?,
        snappy: b("snappy")?,
        auth_http_addresses: l("auth-http-address")?,
        auth_http_request_method: s("auth-http-request-method")?.to_ascii_lowercase(),
        statsd_address: s("statsd-address")?,
        statsd_prefix: s("statsd-prefix")?,
        statsd_interval: d("statsd-interval")?,
        statsd_mem_stats: b("statsd-mem-stats")?,
        statsd_udp_packet_size: positive(p, "statsd-udp-packet-size")?,
        statsd_exclude_ephemeral: b("statsd-exclude-ephemeral")?,
        e2e_processing_latency_percentiles: percentiles(&l("e2e-processing-latency-percentile")?)?,
        e2e_processing_latency_window_time: d("e2e-processing-latency-window-time")?,
        ..Options::default()
    };
    // The deprecated flags are accepted and ignored, but must still be well-formed.
    b("verbose")?;
    b("worker-id")?;
    if !opts.tls_client_auth_policy.is_empty() && opts.tls_required == "false" {
        opts.tls_required = "true".to_string();
    }
    if opts.tls_required != "false" && opts.tls_cert.is_empty() && opts.tls_key.is_empty() {
        return Err("cannot require TLS client connections without TLS key and cert".to_string());
    }
    if !opts.auth_http_addresses.is_empty() && !super::auth::SUPPORTED {
        return Err(
            "--auth-http-address needs nsqd built with `cargo build --features auth`".to_string(),
        );
    }
    Ok(opts)
}

/// An integer flag that must be at least 1.
fn positive<T: TryFrom<i64>>(p: &Parsed, name: &str) -> Result<T, String> {
    int_in(p, name, 1, i64::MAX, "> 0")
}

/// An integer flag holding a TCP/UDP port, 0 included.
fn port(p: &Parsed, name: &str) -> Result<u16, String> {
    int_in(p, name, 0, 65535, "a port number (0-65535)")
}

/// An integer flag in `min..=max`, converted to the field's type; otherwise
/// `--name must be <rule>`.
fn int_in<T: TryFrom<i64>>(
    p: &Parsed,
    name: &str,
    min: i64,
    max: i64,
    rule: &str,
) -> Result<T, String> {
    let value = p.get_i64(name).map_err(|e| e.to_string())?;
    let out_of_range = || format!("--{name} must be {rule}");
    if value < min || value > max {
        return Err(out_of_range());
    }
    T::try_from(value).map_err(|_| out_of_range())
}

fn log_level(value: &str) -> Result<String, String> {
    match logging::parse_level(value) {
        Some(_) => Ok(value.to_ascii_lowercase()),
        None => Err(FlagError::invalid_value(
            "log-level",
            value,
            format!("invalid log-level '{value}'"),
        )
        .to_string()),
    }
}

fn tls_required(value: &str) -> Result<String, String> {
    let lower = value.to_ascii_lowercase();
    if lower == "tcp-https" {
        return Ok(lower);
    }
    match flags::parse_bool(&lower) {
        Some(required) => Ok(required.to_string()),
        None => Err(FlagError::InvalidBool {
            flag: "tls-required".to_string(),
            value: value.to_string(),
            reason: "parse error".to_string(),
        }
        .to_string()),
    }
}

fn tls_min_version(value: &str) -> Result<String, String> {
    match value.to_ascii_lowercase().as_str() {
        "" => Ok("tls1.0".to_string()),
        v @ ("ssl3.0" | "tls1.0" | "tls1.1" | "tls1.2" | "tls1.3") => Ok(v.to_string()),
        v => Err(FlagError::invalid_value(
            "tls-min-version",
            value,
            format!("unknown tlsVersionOption {v:?}"),
        )
        .to_string()),
    }
}

/// Parses repeated and comma-separated percentiles, each in (0, 1], sorted descending like Go.
fn percentiles(values: &[String]) -> Result<Vec<f64>, String> {
    let mut out = Vec::new();
    for item in values.iter().flat_map(|v| v.split(',')) {
        let value: f64 = item.trim().parse().map_err(|_| {
            FlagError::invalid_value("e2e-processing-latency-percentile", item, "parse error")
                .to_string()
        })?;
        if !(value > 0.0 && value <= 1.0) {
            return Err(format!(
                "invalid E2E processing latency percentile: {value}"
            ));
        }
        out.push(value);
    }
    out.sort_by(|a, b| b.total_cmp(a));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        flags::program_tests::parse(parse_args, args)
    }

    fn run(args: &[&str]) -> Options {
        flags::program_tests::run(parse_args, args)
    }

    fn err(args: &[&str]) -> String {
        flags::program_tests::err(parse_args, args)
    }

    #[test]
    fn no_flags_gives_go_defaults() {
        let opts = run(&[]);
        assert_eq!(opts, Options::default());
        assert_eq!(opts.tcp_address, "0.0.0.0:4150");
        assert_eq!(opts.mem_queue_size, 10_000);
        assert_eq!(opts.max_bytes_per_file, 104_857_600);
        assert_eq!(opts.msg_timeout, Duration::from_secs(60));
        assert_eq!(opts.max_msg_timeout, Duration::from_secs(900));
        assert_eq!(opts.min_output_buffer_timeout, Duration::from_millis(25));
        assert_eq!(opts.max_msg_size, 1_048_576);
        assert_eq!(opts.max_body_size, 5_242_880);
        assert_eq!(opts.statsd_udp_packet_size, 508);
        assert_eq!(
            opts.e2e_processing_latency_window_time,
            Duration::from_secs(600)
        );
        assert_eq!(opts.broadcast_address, crate::common::net::hostname());
        assert_eq!(
            opts.node_id,
            node_id::default_node_id(&crate::common::net::hostname())
        );
        assert!(opts.deflate && opts.snappy && opts.statsd_mem_stats);
        assert_eq!(opts.tls_required, "false");
    }

    #[test]
    fn flags_set_fields() {
        let opts = run(&[
            "--tcp-address=127.0.0.1:5150",
            "-http-address",
            "127.0.0.1:5151",
            "--node-id=1023",
            "--mem-queue-size=0",
            "--msg-timeout=1m30s",
            "--max-rdy-count=10",
            "--lookupd-tcp-address=a:4160",
            "--lookupd-tcp-address",
            "b:4160",
            "--deflate=false",
            "--max-deflate-level=9",
            "--log-level=WARN",
            "--data-path=/tmp/x",
            "--broadcast-tcp-port=4150",
            "--verbose",
            "--worker-id",
        ]);
        assert_eq!(opts.tcp_address, "127.0.0.1:5150");
        assert_eq!(opts.http_address, "127.0.0.1:5151");
        assert_eq!(opts.node_id, 1023);
        assert_eq!(opts.mem_queue_size, 0);
        assert_eq!(opts.msg_timeout, Duration::from_secs(90));
        assert_eq!(opts.max_rdy_count, 10);
        assert_eq!(opts.lookupd_tcp_addresses, vec!["a:4160", "b:4160"]);
        assert!(!opts.deflate);
        assert_eq!(opts.max_deflate_level, 9);
        assert_eq!(opts.log_level, "warn");
        assert_eq!(opts.data_path, "/tmp/x");
        assert_eq!(opts.broadcast_tcp_port, 4150);
    }

    #[test]
    fn help_and_version() {
        for help in ["-h", "-help", "--help"] {
            let Ok(Command::Help(text)) = parse(&[help]) else {
                panic!("no help for {help}")
            };
            assert!(text.starts_with("Usage of nsqd:\n"));
            assert!(text.contains("  -mem-queue-size int\n    \tnumber of messages to keep in memory (per topic/channel) (default 10000)\n"));
            assert!(text.contains("(default 1m0s)"));
            assert!(text.contains("(default \"0.0.0.0:4150\")"));
            for spec in flag_specs(&Options::default()) {
                assert!(
                    text.contains(&format!("  -{}", spec.name)),
                    "help lacks {}",
                    spec.name
                );
            }
        }
        assert_eq!(parse(&["--version"]), Ok(Command::Version));
    }

    #[test]
    fn go_style_errors() {
        assert_eq!(err(&["--nope"]), "flag provided but not defined: -nope");
        assert_eq!(
            err(&["--tcp-address"]),
            "flag needs an argument: -tcp-address"
        );
        assert_eq!(
            err(&["--mem-queue-size=abc"]),
            "invalid value \"abc\" for flag -mem-queue-size: parse error"
        );
        assert_eq!(
            err(&["--msg-timeout=60"]),
            "invalid value \"60\" for flag -msg-timeout: parse error"
        );
        assert_eq!(
            err(&["--deflate=maybe"]),
            "invalid boolean value \"maybe\" for -deflate: parse error"
        );
        assert_eq!(
            err(&["--config=nsqd.toml"]),
            "--config is not supported yet; pass flags"
        );
        assert!(err(&["--deflate", "false"]).contains("unexpected argument \"false\""));
    }

    #[test]
    fn range_checks() {
        assert_eq!(
            err(&["--node-id=1024"]),
            "--node-id must be >= 0 and < 1024"
        );
        assert_eq!(err(&["--node-id=-1"]), "--node-id must be >= 0 and < 1024");
        assert_eq!(
            err(&["--max-deflate-level=0"]),
            "--max-deflate-level must be [1,9]"
        );
        assert_eq!(
            err(&["--max-deflate-level=10"]),
            "--max-deflate-level must be [1,9]"
        );
        assert_eq!(
            err(&["--mem-queue-size=-1"]),
            "--mem-queue-size must be >= 0"
        );
        assert_eq!(err(&["--max-msg-size=0"]), "--max-msg-size must be > 0");
        assert_eq!(err(&["--sync-every=0"]), "--sync-every must be > 0");
        assert!(err(&["--broadcast-http-port=70000"]).starts_with("--broadcast-http-port must be"));
        assert_eq!(
            err(&["--log-level=loud"]),
            "invalid value \"loud\" for flag -log-level: invalid log-level 'loud'"
        );
        assert_eq!(run(&["--log-level=fatal"]).log_level, "fatal");
    }

    #[test]
    fn percentiles_accept_repeats_and_commas() {
        let opts = run(&[
            "--e2e-processing-latency-percentile=0.5,1.0",
            "--e2e-processing-latency-percentile",
            "0.99",
        ]);
        assert_eq!(
            opts.e2e_processing_latency_percentiles,
            vec![1.0, 0.99, 0.5]
        );
        assert_eq!(
            err(&["--e2e-processing-latency-percentile=0"]),
            "invalid E2E processing latency percentile: 0"
        );
        assert_eq!(
            err(&["--e2e-processing-latency-percentile=0.5,1.5"]),
            "invalid E2E processing latency percentile: 1.5"
        );
        assert!(err(&["--e2e-processing-latency-percentile=x"]).contains("parse error"));
    }

    #[test]
    fn tls_options() {
        assert_eq!(
            run(&["--tls-required=tcp-https", "--tls-cert=c", "--tls-key=k"]).tls_required,
            "tcp-https"
        );
        assert_eq!(
            run(&["--tls-required", "--tls-cert=c", "--tls-key=k"]).tls_required,
            "true"
        );
        assert_eq!(
            run(&[
                "--tls-client-auth-policy=require",
                "--tls-cert=c",
                "--tls-key=k"
            ])
            .tls_required,
            "true"
        );
        assert_eq!(
            err(&["--tls-required"]),
            "cannot require TLS client connections without TLS key and cert"
        );
        assert_eq!(run(&["--tls-min-version=TLS1.2"]).tls_min_version, "tls1.2");
        assert_eq!(
            err(&["--tls-min-version=tls9"]),
            "invalid value \"tls9\" for flag -tls-min-version: unknown tlsVersionOption \"tls9\""
        );
    }
}
