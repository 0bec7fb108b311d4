//! NSQ bytes on the wire, with no I/O: the V2 magic, client commands, server frames,
//! the message layout, topic and channel name rules, and the error catalog.
//!
//! The parser is incremental and sans-IO: give [`parse`] the bytes a connection has
//! buffered and it answers with one complete command and how many bytes it used,
//! `Ok(None)` for "need more bytes", or the exact NSQ error to send. It checks the
//! client's state first, as nsqd does, so an error is reported as soon as it can be
//! known — a bad topic before its body arrives, a bad body size before the body.
//!
//! ```text
//! state machine (values are what /stats reports):
//!   init(0) --SUB--> subscribed(3) --CLS--> closing(4)
//!   IDENTIFY, AUTH, SUB: init only.  RDY: subscribed (ignored in closing).
//!   FIN, REQ, TOUCH: subscribed or closing.  CLS: subscribed.  PUB, MPUB, DPUB, NOP: any.
//! ```
//!
//! This module must never panic on peer input: every length is checked before use.

mod command;
mod context;
mod error;
mod frames;
mod message;
mod names;
mod parse;

pub mod commands;
pub mod v1;

pub use command::{Command, MpubBodies};
pub use context::{ClientState, Limits, ParseContext};
pub use error::ProtoError;
pub use frames::{
    parse_frame, read_i32, write_error, write_frame, write_response, Frame, FRAME_ERROR,
    FRAME_MESSAGE, FRAME_RESPONSE, HEARTBEAT, MAGIC_V2,
};
pub use message::{decode_message, write_message, DecodedMessage, MessageId, MESSAGE_HEADER_LEN};
pub use names::{go_quote, is_ephemeral, is_valid_name, valid_name, EPHEMERAL_SUFFIX};
pub use parse::{parse, parse_at_eof, parse_mpub_records, MAX_LINE};

#[cfg(test)]
mod tests;
