//! nsqlookupd's V1 protocol on the wire, with no I/O: the magic, the four commands nsqd
//! sends (`IDENTIFY`, `REGISTER`, `UNREGISTER`, `PING`) and the `[int32 size][data]`
//! responses, which — unlike V2 frames — carry no frame type.
//!
//! ```text
//! connection: "  V1", then lines; IDENTIFY alone is followed by [int32 size][JSON].
//!   not identified --IDENTIFY--> identified
//!   PING: any time.  REGISTER, UNREGISTER: identified only.  IDENTIFY: once.
//! every error is fatal: it is answered, then the connection is closed.
//! ```
//!
//! Checks run in nsqlookupd's order, so the same bad input gets the same error text:
//! the command word, then the IDENTIFY state, then the parameters, then the body.
//! Unlike Go, a negative or huge IDENTIFY size is refused rather than allocated.
//!
//! This module must never panic on peer input: every length is checked before use.

use super::{is_valid_name, read_i32, ProtoError};

/// The four bytes an nsqd sends first: two spaces, `V`, `1`.
pub const MAGIC_V1: &[u8; 4] = b"  V1";
/// Longest command line accepted (newline included). nsqd's lines are at most
/// `UNREGISTER` and two 64-byte names; Go reads lines unbounded, we must not.
pub const MAX_LINE: usize = super::MAX_LINE;

/// One complete V1 command, borrowing from the input buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command<'a> {
    /// `IDENTIFY` with its JSON body (possibly empty; decoding is the caller's).
    Identify(&'a [u8]),
    /// `REGISTER <topic> [<channel>]`.
    Register {
        /// A valid topic name.
        topic: &'a str,
        /// A valid channel name, if one was given.
        channel: Option<&'a str>,
    },
    /// `UNREGISTER <topic> [<channel>]`.
    Unregister {
        /// A valid topic name.
        topic: &'a str,
        /// A valid channel name, if one was given.
        channel: Option<&'a str>,
    },
    /// `PING`.
    Ping,
}

fn invalid(desc: impl Into<String>) -> ProtoError {
    ProtoError::fatal("E_INVALID", desc)
}

fn bad_body(desc: impl Into<String>) -> ProtoError {
    ProtoError::fatal("E_BAD_BODY", desc)
}

/// Parses one command from the start of `buf`.
///
/// `identified`: the connection has IDENTIFY'd. `max_body`: the largest IDENTIFY body.
/// Returns `Ok(Some((command, bytes_used)))`, `Ok(None)` when more bytes are needed, or
/// the (always fatal) error to answer with.
pub fn parse(
    buf: &[u8],
    identified: bool,
    max_body: usize,
) -> Result<Option<(Command<'_>, usize)>, ProtoError> {
    parse_inner(buf, identified, max_body, false)
}

/// The error nsqlookupd answers when the peer closed its side with `buf` unparsed:
/// a started IDENTIFY body that never came. `None` means close quietly (Go drops a
/// partial line without a word).
pub fn parse_at_eof(buf: &[u8], identified: bool, max_body: usize) -> Option<ProtoError> {
    parse_inner(buf, identified, max_body, true).err()
}

fn parse_inner(
    buf: &[u8],
    identified: bool,
    max_body: usize,
    eof: bool,
) -> Result<Option<(Command<'_>, usize)>, ProtoError> {
    let nl = match buf.iter().take(MAX_LINE).position(|&b| b == b'\n') {
        Some(nl) => nl,
        None if buf.len() >= MAX_LINE => return Err(invalid("command line too long")),
        None => return Ok(None),
    };
    let line = trim_space(&buf[..nl]);
    let params: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let used = nl + 1;
    match params[0] {
        b"PING" => Ok(Some((Command::Ping, used))),
        b"IDENTIFY" => {
            if identified {
                return Err(invalid("cannot IDENTIFY again"));
            }
            let rest = &buf[used..];
            let Some(size) = read_i32(rest, 0) else {
                return need(eof, || bad_body("IDENTIFY failed to read body size"));
            };
            if size < 0 {
                return Err(bad_body(format!("IDENTIFY invalid body size {size}")));
            }
            if size as usize > max_body {
                return Err(bad_body(format!(
                    "IDENTIFY body too big {size} > {max_body}"
                )));
            }
            let end = 4 + size as usize;
            match rest.get(4..end) {
                Some(body) => Ok(Some((Command::Identify(body), used + end))),
                None => need(eof, || bad_body("IDENTIFY failed to read body")),
            }
        }
        word @ (b"REGISTER" | b"UNREGISTER") => {
            let cmd = if word == b"REGISTER" {
                "REGISTER"
            } else {
                "UNREGISTER"
            };
            if !identified {
                return Err(invalid("client must IDENTIFY"));
            }
            let (topic, channel) = topic_channel(cmd, &params[1..])?;
            let command = if word == b"REGISTER" {
                Command::Register { topic, channel }
            } else {
                Command::Unregister { topic, channel }
            };
            Ok(Some((command, used)))
        }
        word => Err(invalid(format!("invalid command {}", lossy(word)))),
    }
}

/// Go's `getTopicChan`: a missing topic, then the topic, then a non-empty channel.
/// An empty channel (`REGISTER t  c`) means none, as in Go.
fn topic_channel<'a>(
    cmd: &str,
    params: &[&'a [u8]],
) -> Result<(&'a str, Option<&'a str>), ProtoError> {
    let Some(&topic) = params.first() else {
        return Err(invalid(format!("{cmd} insufficient number of params")));
    };
    let channel = params.get(1).copied().unwrap_or_default();
    let topic = name(topic).ok_or_else(|| {
        ProtoError::fatal(
            "E_BAD_TOPIC",
            format!("{cmd} topic name '{}' is not valid", lossy(topic)),
        )
    })?;
    if channel.is_empty() {
        return Ok((topic, None));
    }
    let channel = name(channel).ok_or_else(|| {
        ProtoError::fatal(
            "E_BAD_CHANNEL",
            format!("{cmd} channel name '{}' is not valid", lossy(channel)),
        )
    })?;
    Ok((topic, Some(channel)))
}

fn name(raw: &[u8]) -> Option<&str> {
    if is_valid_name(raw) {
        std::str::from_utf8(raw).ok()
    } else {
        None
    }
}

fn need<T>(eof: bool, err: impl FnOnce() -> ProtoError) -> Result<Option<T>, ProtoError> {
    if eof {
        Err(err())
    } else {
        Ok(None)
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Go's `strings.TrimSpace` on bytes: Unicode white space off both ends, stopping at
/// the first byte that is not valid UTF-8.
fn trim_space(line: &[u8]) -> &[u8] {
    let start = match line.utf8_chunks().next() {
        Some(chunk) => chunk.valid().len() - chunk.valid().trim_start().len(),
        None => 0,
    };
    let line = &line[start..];
    let end = match line.utf8_chunks().last() {
        Some(chunk) if chunk.invalid().is_empty() => {
            line.len() - (chunk.valid().len() - chunk.valid().trim_end().len())
        }
        _ => line.len(),
    };
    &line[..end]
}

/// Appends one response: `[int32 size][data]`.
pub fn write_response(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(&(data.len() as i32).to_be_bytes());
    out.extend_from_slice(data);
}

/// Appends an error response: `err`'s wire text, framed as any response.
pub fn write_error(out: &mut Vec<u8>, err: &ProtoError) {
    write_response(out, err.to_string().as_bytes());
}

/// For clients: one response from the start of `buf` and the bytes it used, or `None`
/// until it is complete. A negative size never completes; use
/// [`parse_response_limited`] to reject it.
pub fn parse_response(buf: &[u8]) -> Option<(&[u8], usize)> {
    parse_response_limited(buf, i32::MAX as usize)
        .ok()
        .flatten()
}

/// For clients: like [`parse_response`], but a size that is negative or above `max`
/// is an error rather than a wait.
pub fn parse_response_limited(buf: &[u8], max: usize) -> Result<Option<(&[u8], usize)>, String> {
    let Some(size) = read_i32(buf, 0) else {
        return Ok(None);
    };
    if size < 0 || size as usize > max {
        return Err(format!("invalid response size {size}"));
    }
    let end = 4 + size as usize;
    Ok(buf.get(4..end).map(|data| (data, end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 1000;
    const NSQD_IDENTIFY: &str = r#"{"broadcast_address":"127.0.0.1","hostname":"vm","http_port":4151,"tcp_port":4150,"version":"1.3.0","topology_region":"","topology_zone":""}"#;

    fn with_body(line: &[u8], body: &[u8]) -> Vec<u8> {
        with_size(line, body.len() as i32, body)
    }

    fn with_size(line: &[u8], size: i32, rest: &[u8]) -> Vec<u8> {
        let mut v = line.to_vec();
        v.extend_from_slice(&size.to_be_bytes());
        v.extend_from_slice(rest);
        v
    }

    fn ok(buf: &[u8], identified: bool) -> (Command<'_>, usize) {
        parse(buf, identified, MAX)
            .expect("no error")
            .expect("complete")
    }

    fn err(buf: &[u8], identified: bool) -> String {
        parse(buf, identified, MAX)
            .expect_err("an error")
            .to_string()
    }

    #[test]
    fn the_commands_nsqd_sends() {
        let identify = with_body(b"IDENTIFY\n", NSQD_IDENTIFY.as_bytes());
        assert_eq!(
            ok(&identify, false),
            (Command::Identify(NSQD_IDENTIFY.as_bytes()), identify.len())
        );
        let reg = |topic, channel| Command::Register { topic, channel };
        let unreg = |topic, channel| Command::Unregister { topic, channel };
        assert_eq!(ok(b"REGISTER t c\n", true), (reg("t", Some("c")), 13));
        assert_eq!(ok(b"REGISTER t\n", true), (reg("t", None), 11));
        assert_eq!(ok(b"UNREGISTER t c\n", true), (unreg("t", Some("c")), 15));
        assert_eq!(ok(b"UNREGISTER t\n", true), (unreg("t", None), 13));
        assert_eq!(ok(b"PING\n", false), (Command::Ping, 5));
        assert_eq!(ok(b"PING\n", true), (Command::Ping, 5));
        let eph = b"REGISTER t#ephemeral c#ephemeral\n";
        assert_eq!(ok(eph, true).0, reg("t#ephemeral", Some("c#ephemeral")));
    }

    #[test]
    fn one_command_at_a_time_from_a_stream() {
        let mut buf = b"PING\nREGISTER a b\n".to_vec();
        buf.extend_from_slice(&with_body(b"IDENTIFY\n", b"{}"));
        let (cmd, n) = ok(&buf, true);
        assert_eq!((cmd, n), (Command::Ping, 5));
        let (_, m) = ok(&buf[n..], true);
        assert_eq!(m, 13);
        // IDENTIFY's body is not mistaken for a line.
        assert_eq!(ok(&buf[n + m..], false), (Command::Identify(b"{}"), 15));
    }

    #[test]
    fn lines_are_trimmed_and_split_on_single_spaces() {
        let reg = |topic, channel| Command::Register { topic, channel };
        assert_eq!(ok(b"  REGISTER t c \r\n", true).0, reg("t", Some("c")));
        assert_eq!(ok(b"\tPING\x0b\r\n", true).0, Command::Ping);
        assert_eq!(ok("PING\u{a0}\u{3000}\n".as_bytes(), true).0, Command::Ping);
        // An empty channel is no channel; extra parameters are ignored.
        assert_eq!(ok(b"REGISTER t  c\n", true).0, reg("t", None));
        assert_eq!(ok(b"REGISTER t c d\n", true).0, reg("t", Some("c")));
        assert_eq!(ok(b"PING extra\n", false).0, Command::Ping);
        assert_eq!(
            err(b"REGISTER  t\n", true),
            "E_BAD_TOPIC REGISTER topic name '' is not valid"
        );
        // Invalid UTF-8 stops the trim and is not a command.
        assert_eq!(ok(b"PING \xff\n", true).0, Command::Ping);
        assert_eq!(
            err(b"PING\xff\n", true),
            "E_INVALID invalid command PING\u{fffd}"
        );
        assert_eq!(
            err(b" \xffPING\n", true),
            "E_INVALID invalid command \u{fffd}PING"
        );
    }

    #[test]
    fn every_prefix_of_a_valid_command_needs_more() {
        let mut session = with_body(b"IDENTIFY\n", NSQD_IDENTIFY.as_bytes());
        let after_identify = session.len();
        session.extend_from_slice(b"REGISTER t c\nREGISTER t\nPING\r\nUNREGISTER t c\n");
        let mut pos = 0;
        while pos < session.len() {
            let identified = pos >= after_identify;
            let rest = &session[pos..];
            for cut in 0..rest.len() {
                match parse(&rest[..cut], identified, MAX) {
                    Ok(None) => {}
                    Ok(Some((_, n))) => assert!(n <= cut, "used {n} of {cut}"),
                    Err(e) => panic!("prefix {:?}: {e}", &rest[..cut]),
                }
            }
            pos += ok(rest, identified).1;
        }
    }

    #[test]
    fn error_texts_match_nsqlookupd() {
        let cases: &[(&[u8], bool, &str)] = &[
            (b"FOO\n", true, "E_INVALID invalid command FOO"),
            (b"\n", false, "E_INVALID invalid command "),
            (b"ping\n", false, "E_INVALID invalid command ping"),
            (b"REGISTER t\n", false, "E_INVALID client must IDENTIFY"),
            (b"UNREGISTER\n", false, "E_INVALID client must IDENTIFY"),
            (
                b"REGISTER\n",
                true,
                "E_INVALID REGISTER insufficient number of params",
            ),
            (
                b"UNREGISTER \n",
                true,
                "E_INVALID UNREGISTER insufficient number of params",
            ),
            (
                b"REGISTER b@d c\n",
                true,
                "E_BAD_TOPIC REGISTER topic name 'b@d' is not valid",
            ),
            (
                b"UNREGISTER t b@d\n",
                true,
                "E_BAD_CHANNEL UNREGISTER channel name 'b@d' is not valid",
            ),
            (b"IDENTIFY\n", true, "E_INVALID cannot IDENTIFY again"),
            (
                &[b"IDENTIFY\n".as_slice(), &(-1i32).to_be_bytes()].concat(),
                false,
                "E_BAD_BODY IDENTIFY invalid body size -1",
            ),
            (
                &[b"IDENTIFY\n".as_slice(), &1001i32.to_be_bytes()].concat(),
                false,
                "E_BAD_BODY IDENTIFY body too big 1001 > 1000",
            ),
        ];
        for (input, identified, want) in cases {
            let e = parse(input, *identified, MAX).expect_err("an error");
            assert!(e.fatal);
            assert_eq!(e.to_string(), *want, "{:?}", lossy(input));
        }
        let long = vec![b'P'; MAX_LINE];
        assert_eq!(err(&long, true), "E_INVALID command line too long");
        let mut fits = vec![b' '; MAX_LINE - 5];
        fits.extend_from_slice(b"PING\n");
        assert_eq!(ok(&fits, true), (Command::Ping, MAX_LINE));
    }

    #[test]
    fn a_name_is_checked_before_its_channel_and_state_before_both() {
        assert_eq!(
            err(b"REGISTER b@d b@d\n", true),
            "E_BAD_TOPIC REGISTER topic name 'b@d' is not valid"
        );
        assert_eq!(
            err(b"REGISTER b@d\n", false),
            "E_INVALID client must IDENTIFY"
        );
        let long = "x".repeat(65);
        assert_eq!(
            err(format!("REGISTER t {long}\n").as_bytes(), true),
            format!("E_BAD_CHANNEL REGISTER channel name '{long}' is not valid")
        );
    }

    #[test]
    fn empty_identify_body_is_left_to_the_json_decoder() {
        // Go reads zero bytes and then fails to decode them; the caller does the same.
        let buf = with_size(b"IDENTIFY\n", 0, b"PING\n");
        assert_eq!(ok(&buf, false), (Command::Identify(b""), 13));
        let exact = with_body(b"IDENTIFY\n", &[b'x'; MAX]);
        assert_eq!(ok(&exact, false).1, exact.len());
    }

    #[test]
    fn eof_inside_identify_is_a_read_error_and_elsewhere_quiet() {
        let eof = |b: &[u8]| parse_at_eof(b, false, MAX).map(|e| e.to_string());
        assert_eq!(
            eof(b"IDENTIFY\n\0\0"),
            Some("E_BAD_BODY IDENTIFY failed to read body size".into())
        );
        assert_eq!(
            eof(&with_size(b"IDENTIFY\n", 10, b"{}")),
            Some("E_BAD_BODY IDENTIFY failed to read body".into())
        );
        assert_eq!(eof(b"REGIST"), None);
        assert_eq!(eof(b"IDENTIFY"), None);
        assert_eq!(eof(b""), None);
        assert_eq!(eof(b"FOO\n"), Some("E_INVALID invalid command FOO".into()));
    }

    #[test]
    fn responses_round_trip() {
        let mut out = Vec::new();
        write_response(&mut out, b"OK");
        write_error(&mut out, &ProtoError::bad_protocol());
        assert_eq!(&out[..6], b"\0\0\0\x02OK");
        assert_eq!(&out[6..], b"\0\0\0\x0eE_BAD_PROTOCOL");
        let (data, n) = parse_response(&out).expect("complete");
        assert_eq!((data, n), (&b"OK"[..], 6));
        let (data, m) = parse_response(&out[n..]).expect("complete");
        assert_eq!((data, m), (&b"E_BAD_PROTOCOL"[..], 18));
        for cut in 0..out.len() - m {
            assert_eq!(parse_response(&out[n..n + cut]), None);
        }
        let neg = (-5i32).to_be_bytes();
        assert_eq!(parse_response(&neg), None);
        assert!(parse_response_limited(&neg, 100).is_err());
        assert!(parse_response_limited(&out[n..], 13).is_err());
        assert_eq!(parse_response_limited(&out, 2), Ok(Some((&b"OK"[..], 6))));
    }

    #[test]
    fn random_bytes_never_panic() {
        // xorshift64*: deterministic, no crates.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed >> 12;
            seed ^= seed << 25;
            seed ^= seed >> 27;
            seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        let pieces: [&[u8]; 12] = [
            b"IDENTIFY",
            b"REGISTER",
            b"UNREGISTER",
            b"PING",
            b" ",
            b"\n",
            b"\r",
            b"t",
            b"#ephemeral",
            b"\xff\xfe",
            b"\0\0\0\x02",
            b"\x80\0\0\0",
        ];
        for _ in 0..20_000 {
            let mut buf = Vec::new();
            for _ in 0..next() % 12 {
                match next() % 3 {
                    0 => buf.push(next() as u8),
                    _ => buf.extend_from_slice(pieces[(next() % 12) as usize]),
                }
            }
            for identified in [false, true] {
                let max = (next() % 64) as usize;
                if let Ok(Some((_, n))) = parse(&buf, identified, max) {
                    assert!(n > 0 && n <= buf.len());
                }
                let _ = parse_at_eof(&buf, identified, max);
                let _ = parse_response(&buf);
                let _ = parse_response_limited(&buf, max);
            }
        }
    }
}
