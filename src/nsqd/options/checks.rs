//! From parsed flags to [`Options`]: typed reads, Go nsqd's range and value checks, and
//! its messages for a rejected command line.

use super::settings::Options;
use crate::flags::{self, FlagError, Parsed};
use crate::logging;

/// Reads every flag into typed options and applies Go nsqd's checks.
pub(super) fn options_from(p: &Parsed) -> Result<Options, String> {
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
        log_level: logging::level_flag(&s("log-level")?)?,
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
    if !opts.auth_http_addresses.is_empty() && !crate::nsqd::auth::SUPPORTED {
        return Err(
            "--auth-http-address needs nsqd built with `cargo build --features auth`".to_string(),
        );
    }
    if !matches!(opts.auth_http_request_method.as_str(), "get" | "post") {
        return Err("--auth-http-request-method must be post or get".to_string());
    }
    refuse_unsupported(p, &opts)?;
    Ok(opts)
}

/// Flags whose effect nsq-rs does not have: refused unless left at Go's default, so
/// a value is never accepted and ignored. Feature-gated flags are refused in a build
/// without their feature when they ask for it.
fn refuse_unsupported(p: &Parsed, opts: &Options) -> Result<(), String> {
    let d = Options::default();
    let unsupported =
        |flag: &str, why: &str| Err(format!("--{flag} is not supported by nsq-rs ({why})"));
    const NO_SCAN: &str = "in-flight and deferred timeouts fire at their own deadlines";
    if opts.queue_scan_worker_pool_max != d.queue_scan_worker_pool_max {
        return unsupported(
            "queue-scan-worker-pool-max",
            &format!("{NO_SCAN}; there is no scan worker pool"),
        );
    }
    if opts.queue_scan_selection_count != d.queue_scan_selection_count {
        return unsupported(
            "queue-scan-selection-count",
            &format!("{NO_SCAN}; no channels are sampled"),
        );
    }
    let needs = |flag: &str, feature: &str| {
        Err(format!(
            "--{flag} needs nsqd built with `cargo build --features {feature}`"
        ))
    };
    if opts.auth_http_request_method != d.auth_http_request_method && !crate::nsqd::auth::SUPPORTED
    {
        return needs("auth-http-request-method", "auth");
    }
    // `--deflate` and `--snappy` default to true; given explicitly, they ask for
    // what a build without the feature cannot offer.
    if p.is_set("deflate") && opts.deflate && !crate::compress::DEFLATE {
        return needs("deflate", "deflate");
    }
    if p.is_set("snappy") && opts.snappy && !crate::compress::SNAPPY {
        return needs("snappy", "snappy");
    }
    Ok(())
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
