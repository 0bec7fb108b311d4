//! The nsqlookupd program: the registration database, the V1 TCP protocol nsqd speaks
//! to it, its HTTP API, its options and the server that ties them to listeners.
//! `src/bin/nsqlookupd.rs` is a thin main over this.

pub mod db;
pub mod http_api;
pub mod options;
pub mod server;
pub mod v1;
