//! This nsqlookupd as its IDENTIFY reply describes it, and that reply's JSON bytes:
//! keys sorted, as Go marshals its map, strings escaped as Go does. No I/O.

use serde::Serialize;

/// This nsqlookupd, as its IDENTIFY reply describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `--broadcast-address`.
    pub broadcast_address: String,
    /// The OS hostname.
    pub hostname: String,
    /// The real TCP listening port.
    pub tcp_port: u16,
    /// The real HTTP listening port.
    pub http_port: u16,
    /// The version reported (`crate::NSQ_VERSION`).
    pub version: String,
}

impl Identity {
    /// The IDENTIFY reply: keys sorted, as Go marshals its map; strings escaped as Go does.
    pub fn reply_json(&self) -> String {
        crate::common::json::to_string(&ReplyJson {
            broadcast_address: &self.broadcast_address,
            hostname: &self.hostname,
            http_port: self.http_port,
            tcp_port: self.tcp_port,
            version: &self.version,
        })
    }
}

/// The IDENTIFY reply's JSON object; fields in sorted key order, as Go writes a map.
#[derive(Serialize)]
struct ReplyJson<'a> {
    broadcast_address: &'a str,
    hostname: &'a str,
    http_port: u16,
    tcp_port: u16,
    version: &'a str,
}
