//! The incremental V2 command parser, with no I/O: one command from the bytes a
//! connection has buffered, checked against the client's state and the server's limits
//! in nsqd's order, with nsqd's exact error texts. It must never panic on peer input:
//! every length is checked before use.

use super::command::{Command, MpubBodies};
use super::context::{ClientState, Limits, ParseContext};
use super::error::{invalid, ProtoError};
use super::frames::read_i32;
use super::message::MessageId;
use super::names::{go_quote, valid_name};

/// Longest command line accepted before the connection is closed (Go's bufio size).
pub const MAX_LINE: usize = 16 * 1024;

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
    if ctx.tls_missing && name != b"IDENTIFY" {
        let name = String::from_utf8_lossy(name);
        return Err(invalid(format!(
            "cannot {name} in current state (TLS required)"
        )));
    }

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
