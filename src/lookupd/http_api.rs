//! nsqlookupd's HTTP API (NSQ-PROTOCOL.md §5): every route with nsqlookupd's status
//! codes, messages and JSON shapes, and the `X-NSQ-Content-Type: nsq; version=1.0`
//! header go-nsq keys on. Handlers are plain functions over an [`HttpContext`] and the
//! registration [`Db`](crate::lookupd::db::Db); activity and tombstones are judged at request time.
//!
//! The routes and handlers are in `routes`, the query arguments and the V1-header
//! answers in `reply`, the JSON shapes in `shapes`.

mod reply;
mod routes;
mod shapes;

pub use reply::{v1, V1_HEADER};
pub use routes::{router, HttpContext};
pub use shapes::GO_ZERO_TIME_UNIX_NS;

#[cfg(test)]
mod tests;
