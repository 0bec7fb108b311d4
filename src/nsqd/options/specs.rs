//! The table of nsqd's command-line flags: every flag Go nsqd accepts, its kind, its
//! default (taken from [`Options::default`]) and its help text; and each flag's
//! config key (`--config` files, `/config/:opt`). No checks here.

use super::settings::Options;
use crate::flags::{FlagKind, FlagSpec};

/// The flags Go nsqd names differently in a config file (and in `/config/:opt`):
/// (flag, config key). Every other flag's key is its name with `-` → `_`.
pub(crate) const RENAMED_CONFIG_KEYS: [(&str, &str); 4] = [
    ("node-id", "id"),
    ("lookupd-tcp-address", "nsqlookupd_tcp_addresses"),
    ("auth-http-address", "auth_http_addresses"),
    (
        "e2e-processing-latency-percentile",
        "e2e_processing_latency_percentiles",
    ),
];

/// A flag's config key, as `--config` files and `/config/:opt` name it; `None` for the
/// flags that are no option (`config`, `version`, the deprecated `worker-id`).
pub(crate) fn config_key(flag: &str) -> Option<String> {
    if flag == "worker-id" {
        return None;
    }
    match RENAMED_CONFIG_KEYS.iter().find(|(f, _)| *f == flag) {
        Some((_, key)) => Some(key.to_string()),
        None => crate::flags::config_file::default_config_key(flag),
    }
}

/// The config keys of every flag that has one (see [`config_key`]).
#[cfg(test)]
pub(crate) fn config_keys() -> Vec<String> {
    flag_specs(&Options::default())
        .iter()
        .filter_map(|s| config_key(s.name))
        .collect()
}

/// The flags, with `d`'s values as their defaults.
pub(super) fn flag_specs(d: &Options) -> Vec<FlagSpec> {
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
