//! The V2 commands a client sends, as the parser hands them over: each one borrows its
//! names and bodies from the input buffer. Plain data, no I/O; the parsing is in
//! [`super::parse`].

use super::frames::read_i32;
use super::message::MessageId;

/// One complete client command, borrowing its names and bodies from the input buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// `IDENTIFY` with its JSON body.
    Identify(&'a [u8]),
    /// `AUTH` with its secret.
    Auth(&'a [u8]),
    /// `SUB <topic> <channel>`.
    Sub {
        /// A valid topic name.
        topic: &'a str,
        /// A valid channel name.
        channel: &'a str,
    },
    /// `RDY <count>`; `None` when sent in `closing` state, where it is ignored.
    Rdy(Option<u64>),
    /// `FIN <id>`.
    Fin(MessageId),
    /// `REQ <id> <delay_ms>`; the delay is not yet clamped.
    Req {
        /// The message.
        id: MessageId,
        /// Requested delay in milliseconds.
        delay_ms: u64,
    },
    /// `TOUCH <id>`.
    Touch(MessageId),
    /// `CLS`.
    Cls,
    /// `NOP`.
    Nop,
    /// `PUB <topic>` with one body.
    Pub {
        /// A valid topic name.
        topic: &'a str,
        /// The message body.
        body: &'a [u8],
    },
    /// `MPUB <topic>` with its records, already validated.
    Mpub {
        /// A valid topic name.
        topic: &'a str,
        /// The message bodies, in order.
        bodies: MpubBodies<'a>,
    },
    /// `DPUB <topic> <defer_ms>` with one body.
    Dpub {
        /// A valid topic name.
        topic: &'a str,
        /// Deferral in milliseconds, within `--max-req-timeout`.
        defer_ms: u64,
        /// The message body.
        body: &'a [u8],
    },
}

/// The validated records of an MPUB body: iterate to get each message body in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpubBodies<'a> {
    pub(super) records: &'a [u8],
    pub(super) count: usize,
}

impl<'a> MpubBodies<'a> {
    /// How many messages the MPUB carries.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when there are no messages (never for a parsed MPUB).
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

impl<'a> Iterator for MpubBodies<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.count == 0 {
            return None;
        }
        let size = read_i32(self.records, 0)? as usize;
        let body = self.records.get(4..4 + size)?;
        self.records = &self.records[4 + size..];
        self.count -= 1;
        Some(body)
    }
}
