//! `/config/:opt` (NSQADMIN.md §8): an option's value, and the two that change at
//! runtime (`nsqlookupd_http_addresses`, `log_level`), for clients inside
//! `--allow-config-from-cidr`.

use super::context::{error, v1, Admin};
use super::options::Options;
use crate::http::{Request, Response};
use std::net::IpAddr;
use std::time::Duration;

/// Bodies of a PUT above this are refused.
const MAX_VALUE: usize = 1 << 20;

/// A `GET` or `PUT /config/:opt`.
pub fn handle(admin: &Admin, req: &Request, opt: &str) -> Response {
    let cidr = admin.options().allow_config_from_cidr;
    if !cidr.is_empty() {
        let Some(remote) = req.remote else {
            return error(400, "INVALID_REMOTE_ADDR");
        };
        if !in_cidr(remote.ip(), &cidr) {
            return error(403, "FORBIDDEN");
        }
    }
    if req.method == "PUT" {
        if req.body.is_empty() || req.body.len() > MAX_VALUE {
            return error(413, "INVALID_VALUE");
        }
        if let Err(resp) = put(admin, opt, &req.body) {
            return resp;
        }
    }
    match get(&admin.options(), opt) {
        Some(Value::Text(t)) => v1(Response::text(200, t)),
        Some(Value::Json(j)) => v1(Response::json(200, crate::common::json::to_string(&j))),
        None => error(400, "INVALID_OPTION"),
    }
}

/// An option's value: raw text for strings, JSON for the rest.
enum Value {
    Text(String),
    Json(serde_json::Value),
}

fn ns(d: Duration) -> Value {
    Value::Json((d.as_nanos() as u64).into())
}

fn get(o: &Options, opt: &str) -> Option<Value> {
    let text = |s: &str| Value::Text(s.to_string());
    let list = |l: &[String]| Value::Json(l.into());
    Some(match opt {
        "http_address" => text(&o.http_address),
        "base_path" => text(&o.base_path),
        "dev_static_dir" => text(&o.dev_static_dir),
        "graphite_url" => text(""),
        "proxy_graphite" => Value::Json(false.into()),
        "statsd_prefix" => text("nsq.%s"),
        "statsd_counter_format" => text("stats.counters.%s.count"),
        "statsd_gauge_format" => text("stats.gauges.%s"),
        "statsd_interval" => ns(Duration::from_secs(60)),
        "nsqlookupd_http_addresses" => list(&o.lookupd_http_addresses),
        "nsqd_http_addresses" => list(&o.nsqd_http_addresses),
        "http_client_connect_timeout" => ns(o.http_client_connect_timeout),
        "http_client_request_timeout" => ns(o.http_client_request_timeout),
        "http_client_tls_insecure_skip_verify" => {
            Value::Json(o.http_client_tls_insecure_skip_verify.into())
        }
        "http_client_tls_root_ca_file" => text(&o.http_client_tls_root_ca_file),
        "http_client_tls_cert" => text(&o.http_client_tls_cert),
        "http_client_tls_key" => text(&o.http_client_tls_key),
        "allow_config_from_cidr" => text(&o.allow_config_from_cidr),
        "notification_http_endpoint" => text(&o.notification_http_endpoint),
        "acl_http_header" => text(&o.acl_http_header),
        "admin_users" => list(&o.admin_users),
        "log_level" => Value::Json(crate::logging::level_number(&o.log_level).into()),
        "log_prefix" => text(&o.log_prefix),
        "sample_interval" => ns(o.sample_interval),
        "sample_window" => ns(o.sample_window),
        _ => return None,
    })
}

fn put(admin: &Admin, opt: &str, body: &[u8]) -> Result<(), Response> {
    let invalid = || error(400, "INVALID_VALUE");
    let mut o = admin.options.write().unwrap_or_else(|p| p.into_inner());
    match opt {
        "nsqlookupd_http_addresses" => {
            let list: Vec<String> = serde_json::from_slice(body).map_err(|_| invalid())?;
            *admin
                .cluster
                .lookupds
                .write()
                .unwrap_or_else(|p| p.into_inner()) = list.clone();
            o.lookupd_http_addresses = list;
        }
        "log_level" => {
            let level = std::str::from_utf8(body)
                .map_err(|_| invalid())?
                .trim()
                .to_ascii_lowercase();
            let filter = crate::logging::parse_level(&level).ok_or_else(invalid)?;
            log::set_max_level(filter);
            o.log_level = level;
        }
        _ => return Err(error(400, "INVALID_OPTION")),
    }
    Ok(())
}

/// True if `ip` is inside `cidr` (`a.b.c.d/n` or an IPv6 one); a bad CIDR holds nobody.
pub fn in_cidr(ip: IpAddr, cidr: &str) -> bool {
    let Some((net, bits)) = parse_cidr(cidr) else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// `addr/bits`, as Go's `net.ParseCIDR` takes it.
pub fn parse_cidr(cidr: &str) -> Option<(IpAddr, u8)> {
    let (addr, bits) = cidr.split_once('/')?;
    let ip: IpAddr = addr.parse().ok()?;
    let bits: u8 = bits.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((ip, bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_hold_their_addresses() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(in_cidr(ip("127.0.0.1"), "127.0.0.1/8"));
        assert!(in_cidr(ip("127.9.9.9"), "127.0.0.1/8"));
        assert!(!in_cidr(ip("10.0.0.1"), "127.0.0.1/8"));
        assert!(in_cidr(ip("10.0.0.1"), "0.0.0.0/0"));
        assert!(in_cidr(ip("::1"), "::1/128"));
        assert!(!in_cidr(ip("127.0.0.1"), "bad"));
        assert_eq!(parse_cidr("1.2.3.4/33"), None);
    }

    #[test]
    fn values_as_go_encodes_them() {
        let o = Options::default();
        assert!(matches!(get(&o, "log_prefix"), Some(Value::Text(t)) if t == "[nsqadmin] "));
        assert!(matches!(get(&o, "log_level"), Some(Value::Json(j)) if j == 2));
        assert!(
            matches!(get(&o, "http_client_request_timeout"), Some(Value::Json(j)) if j == 5_000_000_000u64)
        );
        assert!(get(&o, "logger").is_none());
    }
}
