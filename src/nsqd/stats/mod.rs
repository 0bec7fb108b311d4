//! `GET /stats`: a snapshot of topics, channels and clients copied under the registry
//! lock, and its renderings — the JSON and text formats of nsqd (§3.5 of the protocol
//! reference). The same snapshot feeds `/metrics` and the statsd pusher.
//!
//! [`collect`] only copies numbers and strings, so the lock is held briefly; all
//! formatting (and reading `/proc`) happens afterwards in [`to_json`] / [`to_text`].
//!
//! Files:
//! - `query.rs`: [`StatsQuery`], the request's query string.
//! - `snapshot.rs`: the plain data ([`NodeInfo`], [`Snapshot`], [`TopicStats`],
//!   [`ChannelStats`], [`ClientStats`], [`E2eStats`], [`MemStats`]).
//! - `collect.rs`: [`collect`], copying the registry into a snapshot (lock held).
//! - `json.rs`: [`to_json`], the `format=json` body.
//! - `text.rs`: [`to_text`], the text body.
//! - `tests.rs`: tests, and helpers shared with the `/metrics` and statsd tests.

mod collect;
mod json;
mod query;
mod snapshot;
mod text;

#[cfg(test)]
pub(crate) mod tests;

pub use collect::collect;
pub use json::to_json;
pub use query::StatsQuery;
pub use snapshot::{ChannelStats, ClientStats, E2eStats, MemStats, NodeInfo, Snapshot, TopicStats};
pub use text::to_text;
