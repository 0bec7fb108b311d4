//! A synchronous NSQ client on std threads: [`Conn`] (one V2 connection, TLS and
//! compression as negotiated), a [`Producer`] and a [`Consumer`] mirroring go-nsq,
//! and what the tools share: their TLS flags and go-nsq options (`tls_flags`), the
//! choice of a destination per message (`pool`, `--mode`) and the `--status-every`
//! lines (`status`). Every byte on the wire comes from [`crate::proto`].
//!
//! The client logs through the `log` crate and installs no logger: an application
//! sees its lines (go-nsq's wording: connecting, backoff, lookupd errors, each
//! repeated failure once with a count) through whatever logger it installs, or not at
//! all. A deliberate stop logs nothing above DEBUG.

pub mod config;
pub mod conn;
pub mod consumer;
pub mod error;
pub mod message;
pub mod pool;
pub mod producer;
pub mod status;
pub mod tls_flags;

pub use config::{BackoffStrategy, Config};
pub use conn::{Conn, Frame, Reader, ServerSettings, Writer};
pub use consumer::{Consumer, ConsumerStats, HandlerError};
pub use error::Error;
pub use message::Message;
pub use producer::{Producer, Transaction};
