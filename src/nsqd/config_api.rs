//! `/config/:opt`: nsqd's options addressed by their config names (the flag name with
//! `-` → `_`, plus nsqd's four renamed ones), encoded as nsqd encodes them: strings
//! raw, durations as nanoseconds, lists as JSON arrays, the log level as its number.
//! Only `nsqlookupd_tcp_addresses` and `log_level` can be changed at runtime.

use super::options::Options;
use serde_json::{json, Value};
use std::time::Duration;

/// An option's value as `/config` returns it.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    /// Sent raw as `text/plain`.
    Text(String),
    /// Sent as JSON.
    Json(Value),
}

fn ns(d: Duration) -> ConfigValue {
    ConfigValue::Json(json!(d.as_nanos() as u64))
}

fn text(s: &str) -> ConfigValue {
    ConfigValue::Text(s.to_string())
}

fn num(n: impl Into<Value>) -> ConfigValue {
    ConfigValue::Json(n.into())
}

/// The value of option `name`, or `None` for an unknown name.
pub fn get(o: &Options, name: &str) -> Option<ConfigValue> {
    Some(match name {
        "id" => num(o.node_id),
        "log_level" => num(crate::logging::level_number(&o.log_level)),
        "log_prefix" => text(&o.log_prefix),
        "tcp_address" => text(&o.tcp_address),
        "http_address" => text(&o.http_address),
        "https_address" => text(&o.https_address),
        "broadcast_address" => text(&o.broadcast_address),
        "broadcast_tcp_port" => num(o.broadcast_tcp_port),
        "broadcast_http_port" => num(o.broadcast_http_port),
        "nsqlookupd_tcp_addresses" => ConfigValue::Json(json!(o.lookupd_tcp_addresses)),
        "auth_http_addresses" => ConfigValue::Json(json!(o.auth_http_addresses)),
        "auth_http_request_method" => text(&o.auth_http_request_method),
        "http_client_connect_timeout" => ns(o.http_client_connect_timeout),
        "http_client_request_timeout" => ns(o.http_client_request_timeout),
        "data_path" => text(&o.data_path),
        "mem_queue_size" => num(o.mem_queue_size),
        "max_bytes_per_file" => num(o.max_bytes_per_file),
        "sync_every" => num(o.sync_every),
        "sync_timeout" => ns(o.sync_timeout),
        "queue_scan_interval" => ns(o.queue_scan_interval),
        "queue_scan_refresh_interval" => ns(o.queue_scan_refresh_interval),
        "queue_scan_selection_count" => num(o.queue_scan_selection_count as u64),
        "queue_scan_worker_pool_max" => num(o.queue_scan_worker_pool_max as u64),
        "queue_scan_dirty_percent" => num(o.queue_scan_dirty_percent),
        "msg_timeout" => ns(o.msg_timeout),
        "max_msg_timeout" => ns(o.max_msg_timeout),
        "max_msg_size" => num(o.max_msg_size),
        "max_body_size" => num(o.max_body_size),
        "max_req_timeout" => ns(o.max_req_timeout),
        "max_heartbeat_interval" => ns(o.max_heartbeat_interval),
        "max_rdy_count" => num(o.max_rdy_count),
        "max_output_buffer_size" => num(o.max_output_buffer_size),
        "max_output_buffer_timeout" => ns(o.max_output_buffer_timeout),
        "min_output_buffer_timeout" => ns(o.min_output_buffer_timeout),
        "output_buffer_timeout" => ns(o.output_buffer_timeout),
        "max_channel_consumers" => num(o.max_channel_consumers as u64),
        "statsd_address" => text(&o.statsd_address),
        "statsd_prefix" => text(&o.statsd_prefix),
        "statsd_interval" => ns(o.statsd_interval),
        "statsd_mem_stats" => num(o.statsd_mem_stats),
        "statsd_udp_packet_size" => num(o.statsd_udp_packet_size as u64),
        "statsd_exclude_ephemeral" => num(o.statsd_exclude_ephemeral),
        "e2e_processing_latency_window_time" => ns(o.e2e_processing_latency_window_time),
        "e2e_processing_latency_percentiles" => {
            ConfigValue::Json(json!(o.e2e_processing_latency_percentiles))
        }
        "tls_cert" => text(&o.tls_cert),
        "tls_key" => text(&o.tls_key),
        "tls_client_auth_policy" => text(&o.tls_client_auth_policy),
        "tls_root_ca_file" => text(&o.tls_root_ca_file),
        "tls_required" => num(match o.tls_required.as_str() {
            "true" => 1,
            "tcp-https" => 2,
            _ => 0,
        }),
        "tls_min_version" => num(match o.tls_min_version.as_str() {
            "ssl3.0" => 0x0300,
            "tls1.1" => 0x0302,
            "tls1.2" => 0x0303,
            "tls1.3" => 0x0304,
            _ => 0x0301,
        }),
        "deflate" => num(o.deflate),
        "max_deflate_level" => num(o.max_deflate_level),
        "snappy" => num(o.snappy),
        _ => return None,
    })
}

/// Why a PUT was refused; the text is nsqd's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutError {
    /// Not one of the two settable options.
    InvalidOption,
    /// The body is not a valid value.
    InvalidValue,
}

/// Applies a PUT of `body` to option `name`.
pub fn put(o: &mut Options, name: &str, body: &[u8]) -> Result<(), PutError> {
    match name {
        "nsqlookupd_tcp_addresses" => {
            let list: Vec<String> =
                serde_json::from_slice(body).map_err(|_| PutError::InvalidValue)?;
            o.lookupd_tcp_addresses = list;
        }
        "log_level" => {
            let level = std::str::from_utf8(body).map_err(|_| PutError::InvalidValue)?;
            let level = level.trim().to_ascii_lowercase();
            crate::logging::parse_level(&level).ok_or(PutError::InvalidValue)?;
            o.log_level = level;
        }
        _ => return Err(PutError::InvalidOption),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_encoded_as_nsqd_does() {
        let o = Options::default();
        assert_eq!(get(&o, "tcp_address"), Some(text("0.0.0.0:4150")));
        assert_eq!(get(&o, "msg_timeout"), Some(num(60_000_000_000u64)));
        assert_eq!(get(&o, "mem_queue_size"), Some(num(10_000u64)));
        assert_eq!(get(&o, "log_level"), Some(num(2)));
        assert_eq!(
            get(&o, "nsqlookupd_tcp_addresses"),
            Some(ConfigValue::Json(json!([])))
        );
        assert_eq!(get(&o, "nope"), None);
    }

    #[test]
    fn only_two_options_can_be_put() {
        let mut o = Options::default();
        put(&mut o, "log_level", b"DEBUG").unwrap();
        assert_eq!(get(&o, "log_level"), Some(num(1)));
        put(&mut o, "nsqlookupd_tcp_addresses", b"[\"127.0.0.1:4160\"]").unwrap();
        assert_eq!(o.lookupd_tcp_addresses, vec!["127.0.0.1:4160".to_string()]);
        assert_eq!(
            put(&mut o, "log_level", b"loud"),
            Err(PutError::InvalidValue)
        );
        assert_eq!(
            put(&mut o, "nsqlookupd_tcp_addresses", b"{"),
            Err(PutError::InvalidValue)
        );
        assert_eq!(
            put(&mut o, "mem_queue_size", b"5"),
            Err(PutError::InvalidOption)
        );
    }
}
