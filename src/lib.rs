//! nsq-rs: NSQ, the realtime distributed messaging platform, rebuilt in Rust.
//!
//! The crate is a library (`nsq`) with one thin binary per program in `src/bin/`.
//! Arrows point one way (ARCHITECTURE.md; checked by `tests/architecture.rs`):
//! `bin -> nsqd, lookupd, client -> registry, diskqueue -> proto, reactor, http, common`.
//! The lower rooms know nothing of the programs that use them.
//!
//! - [`proto`]: bytes on the wire, no I/O — V2 and V1 commands, frames, messages, names,
//!   errors.
//! - [`reactor`]: the mio event loop — listeners, connection buffers, timers, a waker.
//! - [`http`]: a small HTTP/1.1 server (event loop, worker pool, router, limits) and the
//!   blocking [`http::client`].
//! - [`common`]: Go's duration, time and JSON formats, address resolution, the hostname.
//! - [`listen`]: listening sockets with Go's backlog (`socket2`).
//! - [`compress`]: deflate and snappy streams for V2 connections (optional features).
//! - [`flags`]: Go-style command-line flags (`-flag`, `--flag=value`, repeatable lists).
//! - [`logging`]: NSQ-style log lines (`[nsqd] 2026/11/24 10:00:00.000000 INFO: ...`).
//! - [`diskqueue`]: go-diskqueue's on-disk FIFO, byte for byte.
//! - [`registry`]: nsqd's state — topics, channels, queues, in-flight and deferred messages.
//! - [`nsqd`]: the nsqd program — options, the V2 handler, HTTP API, stats, the server.
//! - [`lookupd`]: the nsqlookupd program — registration db, V1 protocol, HTTP API.
//! - [`nsqadmin`]: the nsqadmin program — cluster queries, its API, the web UI.
//! - [`client`]: the client library — Conn, Producer, Consumer — used by the tools.
//! - [`program`]: what each main does — flags, logging, signals, start, clean stop.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod common;
pub mod compress;
pub mod diskqueue;
pub mod flags;
pub mod http;
pub mod listen;
pub mod logging;
pub mod lookupd;
pub mod nsqadmin;
pub mod nsqd;
pub mod program;
pub mod proto;
pub mod reactor;
pub mod registry;
pub mod tls;

/// The NSQ version nsq-rs reports to clients and tools (`/info`, IDENTIFY, lookupd).
/// It is the Go release we are wire-compatible with; tools parse it as semver.
pub const NSQ_VERSION: &str = "1.3.0";

/// The one line every program and tool prints for `--version` (on stdout, exit 0):
/// `nsqd v1.3.0 (nsq-rs 0.1.0)`, as Go's `nsqd v1.3.0 (built w/go1.21)`.
pub fn version_line(program: &str) -> String {
    format!(
        "{program} v{NSQ_VERSION} (nsq-rs {})",
        env!("CARGO_PKG_VERSION")
    )
}
