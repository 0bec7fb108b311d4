//! The nsqd program: its options, the V2 protocol handler, IDENTIFY negotiation, the
//! HTTP API with /stats, /metrics and statsd, and the server that ties them to listeners. `src/bin/nsqd.rs` is a thin main over this.

pub mod auth;
pub mod config_api;
pub mod durability;
pub mod http_api;
pub mod identify;
pub mod lookup_peers;
pub mod metrics;
pub mod node_id;
pub mod options;
pub mod server;
pub mod stats;
pub mod statsd;
pub mod v2;
