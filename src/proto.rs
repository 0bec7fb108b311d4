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

use std::fmt;

pub mod commands;
pub mod v1;

/// The four bytes a V2 client sends first: two spaces, `V`, `2`.
pub const MAGIC_V2: &[u8; 4] = b"  V2";
/// Frame type of a response (`OK`, `CLOSE_WAIT`, `_heartbeat_`, JSON).
pub const FRAME_RESPONSE: i32 = 0;
/// Frame type of an error (`E_CODE text`).
pub const FRAME_ERROR: i32 = 1;
/// Frame type of a message.
pub const FRAME_MESSAGE: i32 = 2;
/// The heartbeat response body.
pub const HEARTBEAT: &[u8] = b"_heartbeat_";
/// Longest command line accepted before the connection is closed (Go's bufio size).
pub const MAX_LINE: usize = 16 * 1024;
/// Bytes of a message before its body: timestamp (8), attempts (2), id (16).
pub const MESSAGE_HEADER_LEN: usize = 26;
/// The suffix that marks a topic or channel as ephemeral.
pub const EPHEMERAL_SUFFIX: &str = "#ephemeral";

/// A message ID as it travels: 16 ASCII bytes (nsqd makes lowercase hex).
pub type MessageId = [u8; 16];

/// Where a V2 client is in its life; the numbers are what `/stats` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    /// Connected, not subscribed: may IDENTIFY, AUTH, SUB and publish.
    Init,
    /// Subscribed to one channel: may RDY, FIN, REQ, TOUCH, CLS and publish.
    Subscribed,
    /// Sent CLS: RDY is ignored, no more messages are sent.
    Closing,
}

impl ClientState {
    /// The number `/stats` shows for this state.
    pub fn as_number(self) -> i32 {
        match self {
            ClientState::Init => 0,
            ClientState::Subscribed => 3,
            ClientState::Closing => 4,
        }
    }
}

/// The server limits that decide whether a command is acceptable.
#[derive(Debug, Clone)]
pub struct Limits {
    /// `--max-msg-size`: largest single message body.
    pub max_msg_size: u64,
    /// `--max-body-size`: largest IDENTIFY, AUTH or MPUB body.
    pub max_body_size: u64,
    /// `--max-rdy-count`: largest RDY.
    pub max_rdy_count: u64,
    /// `--max-req-timeout` in milliseconds: largest DPUB delay.
    pub max_req_timeout_ms: u64,
}

/// What the parser needs to know about the connection besides its bytes.
#[derive(Debug, Clone, Copy)]
pub struct ParseContext<'a> {
    /// The connection's state.
    pub state: ClientState,
    /// False when the client negotiated `heartbeat_interval: -1` (SUB is then refused).
    pub heartbeats_enabled: bool,
    /// The server's limits.
    pub limits: &'a Limits,
}

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
    records: &'a [u8],
    count: usize,
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

/// An NSQ protocol error: its code, its text, and whether the connection closes after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtoError {
    /// The code, e.g. `E_INVALID`.
    pub code: &'static str,
    /// The human text after the code (empty for `E_BAD_PROTOCOL`).
    pub desc: String,
    /// Fatal errors are sent and then the connection is closed.
    pub fatal: bool,
}

impl ProtoError {
    /// A fatal error: answered, then the connection is closed.
    pub fn fatal(code: &'static str, desc: impl Into<String>) -> ProtoError {
        ProtoError {
            code,
            desc: desc.into(),
            fatal: true,
        }
    }

    /// A client error: answered, and the connection goes on.
    pub fn client(code: &'static str, desc: impl Into<String>) -> ProtoError {
        ProtoError {
            code,
            desc: desc.into(),
            fatal: false,
        }
    }

    /// The error for a bad magic.
    pub fn bad_protocol() -> ProtoError {
        ProtoError::fatal("E_BAD_PROTOCOL", "")
    }
}

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.desc.is_empty() {
            f.write_str(self.code)
        } else {
            write!(f, "{} {}", self.code, self.desc)
        }
    }
}

fn invalid(desc: impl Into<String>) -> ProtoError {
    ProtoError::fatal("E_INVALID", desc)
}

/// Parses one command from the start of `buf`.
///
/// Returns `Ok(Some((command, bytes_used)))`, `Ok(None)` when more bytes are needed,
/// or the error to answer with.
pub fn parse<'a>(
    buf: &'a [u8],
    ctx: &ParseContext<'_>,
) -> Result<Option<(Command<'a>, usize)>, ProtoError> {
    parse_inner(buf, ctx, false)
}

/// The error nsqd answers when the peer closed its side with `buf` still unparsed:
/// the "failed to read ..." family. `None` means close quietly.
pub fn parse_at_eof(buf: &[u8], ctx: &ParseContext<'_>) -> Option<ProtoError> {
    parse_inner(buf, ctx, true).err()
}

fn parse_inner<'a>(
    buf: &'a [u8],
    ctx: &ParseContext<'_>,
    eof: bool,
) -> Result<Option<(Command<'a>, usize)>, ProtoError> {
    // nsqd reads lines through a 16 KiB buffer: the newline must be within it.
    let nl = match buf.iter().take(MAX_LINE).position(|&b| b == b'\n') {
        Some(nl) => nl,
        None if buf.len() >= MAX_LINE => return Err(invalid("command line too long")),
        None => return Ok(None),
    };
    let mut line = &buf[..nl];
    if line.last() == Some(&b'\r') {
        line = &line[..line.len() - 1];
    }
    let params: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let name = params[0];
    let rest = &buf[nl + 1..];
    let body_start = nl + 1;
    let state = ctx.state;
    let limits = ctx.limits;
    let done = |cmd: Command<'a>, used: usize| Ok(Some((cmd, used)));

    match name {
        b"IDENTIFY" => {
            if state != ClientState::Init {
                return Err(invalid("cannot IDENTIFY in current state"));
            }
            match sized_body(
                rest,
                limits.max_body_size,
                "IDENTIFY",
                BodyErrors::BODY,
                eof,
            )? {
                Some((body, n)) => done(Command::Identify(body), body_start + n),
                None => Ok(None),
            }
        }
        b"AUTH" => {
            if state != ClientState::Init {
                return Err(invalid("cannot AUTH in current state"));
            }
            if params.len() != 1 {
                return Err(invalid("AUTH invalid number of parameters"));
            }
            match sized_body(rest, limits.max_body_size, "AUTH", BodyErrors::BODY, eof)? {
                Some((body, n)) => done(Command::Auth(body), body_start + n),
                None => Ok(None),
            }
        }
        b"SUB" => {
            if state != ClientState::Init {
                return Err(invalid("cannot SUB in current state"));
            }
            if !ctx.heartbeats_enabled {
                return Err(invalid("cannot SUB with heartbeats disabled"));
            }
            if params.len() < 3 {
                return Err(invalid("SUB insufficient number of parameters"));
            }
            let topic = valid_name(params[1]).ok_or_else(|| {
                ProtoError::fatal(
                    "E_BAD_TOPIC",
                    format!("SUB topic name {} is not valid", go_quote(params[1])),
                )
            })?;
            let channel = valid_name(params[2]).ok_or_else(|| {
                ProtoError::fatal(
                    "E_BAD_CHANNEL",
                    format!("SUB channel name {} is not valid", go_quote(params[2])),
                )
            })?;
            done(Command::Sub { topic, channel }, body_start)
        }
        b"RDY" => {
            if state == ClientState::Closing {
                return done(Command::Rdy(None), body_start);
            }
            if state != ClientState::Subscribed {
                return Err(invalid("cannot RDY in current state"));
            }
            let count = match params.get(1) {
                None => 1,
                Some(p) => base10(p)
                    .ok_or_else(|| invalid(format!("RDY could not parse count {}", lossy(p))))?
                    as i64,
            };
            if count < 0 || count as u64 > limits.max_rdy_count {
                return Err(invalid(format!(
                    "RDY count {} out of range 0-{}",
                    count, limits.max_rdy_count
                )));
            }
            done(Command::Rdy(Some(count as u64)), body_start)
        }
        b"FIN" | b"REQ" | b"TOUCH" => {
            let word = lossy(name);
            if state == ClientState::Init {
                return Err(invalid(format!("cannot {word} in current state")));
            }
            let needed = if name == b"REQ" { 3 } else { 2 };
            if params.len() < needed {
                return Err(invalid(format!("{word} insufficient number of params")));
            }
            let id: MessageId = params[1]
                .try_into()
                .map_err(|_| invalid("invalid message ID"))?;
            let cmd = match name {
                b"FIN" => Command::Fin(id),
                b"TOUCH" => Command::Touch(id),
                _ => {
                    let delay_ms = base10(params[2]).ok_or_else(|| {
                        invalid(format!("REQ could not parse timeout {}", lossy(params[2])))
                    })?;
                    Command::Req { id, delay_ms }
                }
            };
            done(cmd, body_start)
        }
        b"CLS" => {
            if state != ClientState::Subscribed {
                return Err(invalid("cannot CLS in current state"));
            }
            done(Command::Cls, body_start)
        }
        b"NOP" => done(Command::Nop, body_start),
        b"PUB" => {
            if params.len() < 2 {
                return Err(invalid("PUB insufficient number of parameters"));
            }
            let topic = publish_topic(params[1], "PUB")?;
            match sized_body(rest, limits.max_msg_size, "PUB", BodyErrors::MESSAGE, eof)? {
                Some((body, n)) => done(Command::Pub { topic, body }, body_start + n),
                None => Ok(None),
            }
        }
        b"DPUB" => {
            if params.len() < 3 {
                return Err(invalid("DPUB insufficient number of parameters"));
            }
            let topic = publish_topic(params[1], "DPUB")?;
            let defer_ms = base10(params[2]).ok_or_else(|| {
                invalid(format!("DPUB could not parse timeout {}", lossy(params[2])))
            })?;
            if defer_ms > limits.max_req_timeout_ms {
                return Err(invalid(format!(
                    "DPUB timeout {} out of range 0-{}",
                    defer_ms, limits.max_req_timeout_ms
                )));
            }
            match sized_body(rest, limits.max_msg_size, "DPUB", BodyErrors::MESSAGE, eof)? {
                Some((body, n)) => done(
                    Command::Dpub {
                        topic,
                        defer_ms,
                        body,
                    },
                    body_start + n,
                ),
                None => Ok(None),
            }
        }
        b"MPUB" => {
            if params.len() < 2 {
                return Err(invalid("MPUB insufficient number of parameters"));
            }
            let topic = valid_name(params[1]).ok_or_else(|| {
                ProtoError::fatal(
                    "E_BAD_TOPIC",
                    format!(
                        "E_BAD_TOPIC MPUB topic name {} is not valid",
                        go_quote(params[1])
                    ),
                )
            })?;
            match mpub_body(rest, limits, eof)? {
                Some((bodies, n)) => done(Command::Mpub { topic, bodies }, body_start + n),
                None => Ok(None),
            }
        }
        _ => Err(invalid(format!("invalid command {}", lossy(name)))),
    }
}

fn publish_topic<'a>(raw: &'a [u8], cmd: &str) -> Result<&'a str, ProtoError> {
    valid_name(raw).ok_or_else(|| {
        ProtoError::fatal(
            "E_BAD_TOPIC",
            format!("{cmd} topic name {} is not valid", go_quote(raw)),
        )
    })
}

/// The wording of body errors differs between IDENTIFY/AUTH and PUB/DPUB.
#[derive(Clone, Copy)]
struct BodyErrors {
    code: &'static str,
    read_size: &'static str,
    invalid: &'static str,
    too_big: &'static str,
    read_body: &'static str,
}

impl BodyErrors {
    const BODY: BodyErrors = BodyErrors {
        code: "E_BAD_BODY",
        read_size: "failed to read body size",
        invalid: "invalid body size",
        too_big: "body too big",
        read_body: "failed to read body",
    };
    const MESSAGE: BodyErrors = BodyErrors {
        code: "E_BAD_MESSAGE",
        read_size: "failed to read message body size",
        invalid: "invalid message body size",
        too_big: "message too big",
        read_body: "failed to read message body",
    };
}

/// Reads `[int32 size][size bytes]`, checking the size against `1..=max`.
fn sized_body<'a>(
    rest: &'a [u8],
    max: u64,
    cmd: &str,
    e: BodyErrors,
    eof: bool,
) -> Result<Option<(&'a [u8], usize)>, ProtoError> {
    let Some(size) = read_i32(rest, 0) else {
        return need(eof, || {
            ProtoError::fatal(e.code, format!("{cmd} {}", e.read_size))
        });
    };
    // IDENTIFY/AUTH check "too big" first and PUB/DPUB "invalid" first in nsqd, but
    // the two cannot both hold, so one order serves both.
    if size > 0 && size as u64 > max {
        return Err(ProtoError::fatal(
            e.code,
            format!("{cmd} {} {size} > {max}", e.too_big),
        ));
    }
    if size <= 0 {
        return Err(ProtoError::fatal(
            e.code,
            format!("{cmd} {} {size}", e.invalid),
        ));
    }
    let end = 4 + size as usize;
    match rest.get(4..end) {
        Some(body) => Ok(Some((body, end))),
        None => need(eof, || {
            ProtoError::fatal(e.code, format!("{cmd} {}", e.read_body))
        }),
    }
}

/// Reads and validates an MPUB body: size, count, then each record, all inside the body.
fn mpub_body<'a>(
    rest: &'a [u8],
    limits: &Limits,
    eof: bool,
) -> Result<Option<(MpubBodies<'a>, usize)>, ProtoError> {
    let bad_body = |d: String| ProtoError::fatal("E_BAD_BODY", d);
    let Some(size) = read_i32(rest, 0) else {
        return need(eof, || bad_body("MPUB failed to read body size".into()));
    };
    if size <= 0 {
        return Err(bad_body(format!("MPUB invalid body size {size}")));
    }
    if size as u64 > limits.max_body_size {
        return Err(bad_body(format!(
            "MPUB body too big {size} > {}",
            limits.max_body_size
        )));
    }
    let size = size as usize;
    let complete = rest.len() >= 4 + size;
    let body = &rest[4..rest.len().min(4 + size)];
    match mpub_records(body, limits, complete, eof)? {
        Some(bodies) => Ok(Some((bodies, 4 + size))),
        None => Ok(None),
    }
}

/// Validates MPUB records — `[int32 count]` then `count × ([int32 size][bytes])` —
/// that fill exactly `body` (the HTTP `/mpub?binary=true` body, or a TCP MPUB body).
pub fn parse_mpub_records<'a>(
    body: &'a [u8],
    limits: &Limits,
) -> Result<MpubBodies<'a>, ProtoError> {
    match mpub_records(body, limits, true, true)? {
        Some(bodies) => Ok(bodies),
        None => Err(ProtoError::fatal(
            "E_BAD_BODY",
            "MPUB failed to read message count",
        )),
    }
}

/// `complete`: the whole declared body is in `body`; `eof`: no more bytes will come.
fn mpub_records<'a>(
    body: &'a [u8],
    limits: &Limits,
    complete: bool,
    eof: bool,
) -> Result<Option<MpubBodies<'a>>, ProtoError> {
    let bad_body = |d: String| ProtoError::fatal("E_BAD_BODY", d);
    let bad_msg = |d: String| ProtoError::fatal("E_BAD_MESSAGE", d);
    // Records may not run past the declared body: once it is all here, a short
    // record is a read failure, as it would be at end of stream.
    let short = eof || complete;
    let Some(count) = read_i32(body, 0) else {
        return need(short, || {
            bad_body("MPUB failed to read message count".into())
        });
    };
    let max_count = (limits.max_body_size.saturating_sub(4) / 5) as i64;
    if count <= 0 || count as i64 > max_count {
        return Err(bad_body(format!("MPUB invalid message count {count}")));
    }
    if !complete && !eof {
        return Ok(None);
    }
    let mut pos = 4;
    for i in 0..count {
        let Some(msg_size) = read_i32(body, pos) else {
            return need(short, || {
                bad_msg(format!("MPUB failed to read message({i}) body size"))
            });
        };
        if msg_size <= 0 {
            return Err(bad_msg(format!(
                "MPUB invalid message({i}) body size {msg_size}"
            )));
        }
        if msg_size as u64 > limits.max_msg_size {
            return Err(bad_msg(format!(
                "MPUB message too big {msg_size} > {}",
                limits.max_msg_size
            )));
        }
        pos += 4 + msg_size as usize;
        if pos > body.len() {
            return need(short, || bad_msg("MPUB failed to read message body".into()));
        }
    }
    if pos != body.len() {
        return Err(bad_body(format!(
            "MPUB body size {} does not match its {count} messages",
            body.len()
        )));
    }
    Ok(Some(MpubBodies {
        records: &body[4..],
        count: count as usize,
    }))
}

fn need<T>(eof: bool, err: impl FnOnce() -> ProtoError) -> Result<Option<T>, ProtoError> {
    if eof {
        Err(err())
    } else {
        Ok(None)
    }
}

/// Big-endian i32 at `pos`, if four bytes are there.
pub fn read_i32(buf: &[u8], pos: usize) -> Option<i32> {
    let b = buf.get(pos..pos.checked_add(4)?)?;
    Some(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Go's `ByteToBase10`: decimal digits only (empty is 0), wrapping on overflow.
fn base10(b: &[u8]) -> Option<u64> {
    b.iter().try_fold(0u64, |n, &d| {
        d.is_ascii_digit()
            .then(|| n.wrapping_mul(10).wrapping_add(u64::from(d - b'0')))
    })
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// True when `name` is a valid topic or channel name:
/// `^[.a-zA-Z0-9_-]+(#ephemeral)?$`, 1 to 64 bytes in all.
pub fn is_valid_name(name: &[u8]) -> bool {
    if name.is_empty() || name.len() > 64 {
        return false;
    }
    let base = name
        .strip_suffix(EPHEMERAL_SUFFIX.as_bytes())
        .unwrap_or(name);
    !base.is_empty()
        && base
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The name as a `&str` when it is valid (valid names are ASCII).
pub fn valid_name(name: &[u8]) -> Option<&str> {
    if is_valid_name(name) {
        std::str::from_utf8(name).ok()
    } else {
        None
    }
}

/// True for names ending in `#ephemeral`.
pub fn is_ephemeral(name: &str) -> bool {
    name.ends_with(EPHEMERAL_SUFFIX)
}

/// Quotes bytes as Go's `%q` does, so error texts match nsqd's.
pub fn go_quote(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len() + 2);
    out.push('"');
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\x07' => out.push_str("\\a"),
                '\x08' => out.push_str("\\b"),
                '\x0c' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\x0b' => out.push_str("\\v"),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c if !go_printable(c) && (c as u32) < 0x10000 => {
                    out.push_str(&format!("\\u{:04x}", c as u32))
                }
                c if !go_printable(c) => out.push_str(&format!("\\U{:08x}", c as u32)),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.IsPrint`, closely enough for error texts: controls, format
/// characters and every space but U+0020 are not printable.
fn go_printable(c: char) -> bool {
    let u = c as u32;
    !(c.is_control()
        || (c.is_whitespace() && c != ' ')
        || matches!(u, 0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x180e)
        || matches!(u, 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x206f | 0xfeff)
        || matches!(u, 0xfff9..=0xfffb | 0xe0001..=0xe007f | 0xd800..=0xdfff)
        || matches!(u, 0xe000..=0xf8ff | 0xf0000..=0x10ffff))
}

/// Appends one frame: `[size][type][data]`, size counting type and data.
pub fn write_frame(out: &mut Vec<u8>, frame_type: i32, data: &[u8]) {
    let size = (4 + data.len()) as i32;
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(&frame_type.to_be_bytes());
    out.extend_from_slice(data);
}

/// Appends a response frame (`OK`, `CLOSE_WAIT`, JSON, ...).
pub fn write_response(out: &mut Vec<u8>, data: &[u8]) {
    write_frame(out, FRAME_RESPONSE, data);
}

/// Appends an error frame carrying `err`'s wire text.
pub fn write_error(out: &mut Vec<u8>, err: &ProtoError) {
    write_frame(out, FRAME_ERROR, err.to_string().as_bytes());
}

/// Appends a message frame: `[size][2][ts][attempts][id][body]`.
pub fn write_message(out: &mut Vec<u8>, ts: i64, attempts: u16, id: &MessageId, body: &[u8]) {
    let size = (4 + MESSAGE_HEADER_LEN + body.len()) as i32;
    out.reserve(8 + MESSAGE_HEADER_LEN + body.len());
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(&FRAME_MESSAGE.to_be_bytes());
    out.extend_from_slice(&ts.to_be_bytes());
    out.extend_from_slice(&attempts.to_be_bytes());
    out.extend_from_slice(id);
    out.extend_from_slice(body);
}

/// A message decoded from the data of a message frame (or a disk record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedMessage<'a> {
    /// Publish time, Unix nanoseconds.
    pub timestamp: i64,
    /// Delivery attempts so far.
    pub attempts: u16,
    /// The message ID.
    pub id: MessageId,
    /// The body.
    pub body: &'a [u8],
}

/// Decodes the 26-byte header and body of a message; `None` when too short.
pub fn decode_message(data: &[u8]) -> Option<DecodedMessage<'_>> {
    let header = data.get(..MESSAGE_HEADER_LEN)?;
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&header[..8]);
    let mut id = [0u8; 16];
    id.copy_from_slice(&header[10..26]);
    Some(DecodedMessage {
        timestamp: i64::from_be_bytes(ts),
        attempts: u16::from_be_bytes([header[8], header[9]]),
        id,
        body: &data[MESSAGE_HEADER_LEN..],
    })
}

/// A frame read by a client: its type and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<'a> {
    /// 0 response, 1 error, 2 message.
    pub frame_type: i32,
    /// The data after the type.
    pub data: &'a [u8],
}

/// Parses one server frame from `buf`: `Ok(None)` for need more, `Err` for a size that
/// cannot be a frame (negative, below 4, or above `max`).
pub fn parse_frame(buf: &[u8], max: usize) -> Result<Option<(Frame<'_>, usize)>, String> {
    let Some(size) = read_i32(buf, 0) else {
        return Ok(None);
    };
    if size < 4 || size as usize > max {
        return Err(format!("invalid frame size {size}"));
    }
    let end = 4 + size as usize;
    let Some(frame_type) = read_i32(buf, 4) else {
        return Ok(None);
    };
    match buf.get(8..end) {
        Some(data) => Ok(Some((Frame { frame_type, data }, end))),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests;
