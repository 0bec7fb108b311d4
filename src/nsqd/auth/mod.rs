//! The auth-server client behind `--auth-http-address`: what a connection's AUTH secret
//! may do.
//!
//! This module owns the HTTP exchange with the auth servers (Go's `QueryAnyAuthd` and
//! `QueryAuthd`), the validation of their reply, and the check of one SUB or publish
//! against what was granted (Go's `IsAllowed`). The reply is parsed sans-IO by `parse`.
//! It never touches a client connection, never puts the secret into an error text, and
//! never trusts the reply: a bad field is a query failure, not a panic. [`AuthServers::query`]
//! blocks, so nsqd calls it from a worker thread, never from the reactor.
//!
//! Regular expressions come from the `regex` crate (RE2 syntax, as Go's `regexp`) behind
//! the `auth` feature; without it no authorization can exist and every query fails.
//!
//! Files (each imports only those listed before it):
//! - `pattern.rs`: the compiled regexes and [`SUPPORTED`] (the `auth` feature).
//! - `grant.rs`: [`Authorizations`] — identity, expiry, and the `allows` check.
//! - `reply.rs`: parsing and validating a reply; [`AuthError`].
//! - `query.rs`: [`AuthServers`] — the requests, the rotation over servers.

mod grant;
mod pattern;
mod query;
mod reply;

pub use grant::Authorizations;
pub use pattern::SUPPORTED;
pub use query::AuthServers;
pub use reply::AuthError;

#[cfg(all(test, not(feature = "auth")))]
mod tests_without_regex;

#[cfg(all(test, feature = "auth"))]
mod tests;
