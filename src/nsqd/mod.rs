//! The nsqd program: its options, the V2 protocol handler, IDENTIFY negotiation, the
//! HTTP API with /stats, /metrics and statsd, and the server that ties them to listeners. `src/bin/nsqd.rs` is a thin main over this.
//!
//! Files, top-down: each imports only files listed below it (`server` wires everything;
//! nothing imports it).
//! - `server.rs`: starting and stopping nsqd — registry, listeners, reactor, threads.
//! - `http_api.rs`: the HTTP routes (uses `config_api`, `durability`, `lookup_peers`,
//!   `metrics`, `options`, `stats`).
//! - `v2/`: the V2 protocol handler for the reactor (uses `auth`, `durability`, `identify`).
//! - `statsd.rs`, `metrics.rs`: statsd pushes and `/metrics`, both over `stats`.
//! - `stats`: the `/stats` snapshot and its JSON and text renderings.
//! - `lookup_peers.rs`: registration with the lookupds (no nsqd imports).
//! - `config_api.rs`: `/config/:opt` over `options`.
//! - `tls_config.rs`: the TLS flags as one server configuration (uses `options`).
//! - `options/`: the command line — settings, flag table, checks (uses `auth`, `node_id`).
//! - `auth/`: the auth-server client — queries, replies, authorization matching.
//! - `identify.rs`: IDENTIFY decoding, negotiation and reply (pure).
//! - `durability.rs`: fsyncs and `nsqd.dat` writes off the registry lock.
//! - `node_id.rs`: the default node ID from the hostname.

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
pub mod tls_config;
pub mod v2;
