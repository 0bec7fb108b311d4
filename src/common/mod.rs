//! What every program shares, below all of them: Go's duration and time formats
//! ([`gotime`]), Go's JSON ([`json`]) and where a program is on the network
//! ([`net`]). It imports nothing else of the crate.

pub mod gotime;
pub mod json;
pub mod net;
