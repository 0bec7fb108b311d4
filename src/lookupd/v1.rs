//! nsqlookupd's V1 TCP protocol as a reactor handler: checks the magic, runs each
//! command [`crate::proto::v1`] parses against the registration `Db`, answers
//! `[int32 size][data]`, and removes an nsqd's registrations when its connection goes.
//!
//! Every V1 error is fatal: the error is answered and the connection closed. There is
//! no read deadline (nsqlookupd has none; nsqd's 15 s PING keeps `last_update` fresh).
//! It must never panic on peer bytes and never hold the DB lock across anything but
//! one command's DB call.
//!
//! The connection handling is in `handler`, what each command does in `commands`, this
//! nsqlookupd's IDENTIFY reply in `identity`.

mod commands;
mod handler;
mod identity;

pub use handler::{V1Conn, V1Handler, MAX_IDENTIFY_BODY};
pub use identity::Identity;

#[cfg(test)]
mod tests;
