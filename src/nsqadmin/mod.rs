//! nsqadmin: the web UI over a whole cluster, and Go nsqadmin's HTTP API.
//!
//! Files (each imports only those listed before it):
//! - `options.rs`: the flags (Go's, plus `--sample-interval`/`--sample-window`).
//! - `upstream.rs`: one call to an nsqd or lookupd, errors in Go's words, fan-out.
//! - `cluster.rs`: which nsqd hold what (lookupd mode or nsqd mode).
//! - `stats.rs`: a topic's and a channel's numbers per node and in total.
//! - `rates.rs`: the sampling thread and the rate series (beyond Go: no Graphite).
//! - `notify.rs`: the `--notification-http-endpoint` webhook.
//! - `context.rs`: the shared state and the API's answers.
//! - `api.rs`: the read routes; `actions.rs`: the write routes; `config.rs`:
//!   `/config/:opt`.
//! - `web.rs`: routing under `--base-path`, the page shell and the UI files
//!   (`ui/`: hand-written HTML, CSS and JavaScript, embedded).
//! - `server.rs`: start (Go's checks, in order) and stop.

mod actions;
mod api;
mod cluster;
mod config;
mod context;
mod notify;
pub mod options;
mod rates;
pub mod server;
mod stats;
mod upstream;
mod web;
