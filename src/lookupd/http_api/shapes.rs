//! The JSON shapes of nsqlookupd's answers, fields in the order nsqlookupd prints
//! them (sorted where Go prints a map). Plain data, no locking, no I/O.

use crate::lookupd::db::{PeerInfo, PeerView, Registration, Tombstone};
use serde::Serialize;

/// Go's zero `time.Time` in Unix nanoseconds, which `/debug` prints for a producer
/// that was never tombstoned.
pub const GO_ZERO_TIME_UNIX_NS: i64 = -6_795_364_578_871_345_152;

#[derive(Serialize)]
pub(super) struct Topics {
    pub(super) topics: Vec<String>,
}

#[derive(Serialize)]
pub(super) struct Channels {
    pub(super) channels: Vec<String>,
}

#[derive(Serialize)]
pub(super) struct Lookup {
    pub(super) channels: Vec<String>,
    pub(super) producers: Vec<PeerView>,
}

/// A `/nodes` entry, keys in nsqlookupd's order.
#[derive(Serialize)]
pub(super) struct NodeView {
    pub(super) remote_address: String,
    pub(super) hostname: String,
    pub(super) broadcast_address: String,
    pub(super) tcp_port: u16,
    pub(super) http_port: u16,
    pub(super) version: String,
    pub(super) topology_zone: String,
    pub(super) topology_region: String,
    pub(super) tombstones: Vec<bool>,
    pub(super) topics: Vec<String>,
}

#[derive(Serialize)]
pub(super) struct Nodes {
    pub(super) producers: Vec<NodeView>,
}

/// A `/debug` producer entry; Go prints a map, so keys are sorted.
#[derive(Serialize)]
pub(super) struct DebugProducer {
    pub(super) broadcast_address: String,
    pub(super) hostname: String,
    pub(super) http_port: u16,
    pub(super) id: String,
    pub(super) last_update: i64,
    pub(super) tcp_port: u16,
    pub(super) tombstoned: bool,
    pub(super) tombstoned_at: i64,
    pub(super) topology_region: String,
    pub(super) topology_zone: String,
    pub(super) version: String,
}

pub(super) fn debug_key(key: &Registration) -> String {
    match key {
        Registration::Client => "client::".to_string(),
        Registration::Topic(t) => format!("topic:{t}:"),
        Registration::Channel(t, c) => format!("channel:{t}:{c}"),
    }
}

pub(super) fn debug_producer((peer, tombstone): (PeerInfo, Tombstone)) -> DebugProducer {
    DebugProducer {
        broadcast_address: peer.broadcast_address,
        hostname: peer.hostname,
        http_port: peer.http_port,
        id: peer.id,
        last_update: peer.last_update_unix_ns,
        tcp_port: peer.tcp_port,
        tombstoned: tombstone.at.is_some(),
        tombstoned_at: match tombstone.at {
            Some(_) => tombstone.at_unix_ns,
            None => GO_ZERO_TIME_UNIX_NS,
        },
        topology_region: peer.topology_region,
        topology_zone: peer.topology_zone,
        version: peer.version,
    }
}
