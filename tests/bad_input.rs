//! Bad input never panics nor kills nsqd. One live server takes a few hundred
//! connections of random bytes (with and without the V2 magic), huge and negative
//! sizes, truncated commands, garbage after valid commands, over-long lines, MPUBs
//! whose counts and sizes disagree, and a megabyte of zeros; where nsqd defines the
//! answer the exact error frame is asserted. Afterwards a good client must still
//! publish and consume, and the process must still be up.
//!
//! Each connection gets `common::WAIT` (30 s) to be answered and closed: a deadline
//! that only turns a hang into a failure, not a bound on how fast nsqd must be.
mod common;

use common::rng::Rng;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Longest any one bad connection may take to be answered and closed (a hang guard).
const CONN_LIMIT: Duration = common::WAIT;
const THREADS: usize = 8;
const MAGIC: &[u8] = b"  V2";
const MAX_MSG: i32 = 1024 * 1024; // nsqd's default --max-msg-size
const MAX_BODY: i32 = 5 * 1024 * 1024; // nsqd's default --max-body-size

/// What the client does once its bytes are written.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Finish {
    /// Keep the socket open: the server itself must answer and close.
    Wait,
    /// Shut down our sending side (the server reads EOF), then read what comes back.
    Eof,
    /// Close the socket at once and read nothing.
    Drop,
}

/// A frame as `(frame type, text)`.
type Frame = (i32, String);

/// What must come back before the connection is closed.
enum Expect {
    /// Exactly these frames: `(frame type, text)`.
    Frames(Vec<Frame>),
    /// Any frames that satisfy the check (described by the text).
    Check(&'static str, fn(&[Frame]) -> bool),
}

struct Case {
    name: String,
    bytes: Vec<u8>,
    finish: Finish,
    expect: Expect,
}

fn be(n: i32) -> [u8; 4] {
    n.to_be_bytes()
}

/// `[int32 size][body]`.
fn sized(body: &[u8]) -> Vec<u8> {
    cat(&[&be(body.len() as i32), body])
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn err(text: &str) -> Frame {
    (1, text.to_string())
}

fn ok() -> Frame {
    (0, "OK".to_string())
}

/// Nothing, or one error frame with any E_ code: what a fatal error or a quiet close gives.
fn at_most_one_error(frames: &[Frame]) -> bool {
    frames.len() <= 1 && frames.iter().all(|(t, s)| *t == 1 && s.starts_with("E_"))
}

/// At most one E_INVALID error (e.g. a line too long to be a command).
fn at_most_invalid(frames: &[Frame]) -> bool {
    frames.len() <= 1
        && frames
            .iter()
            .all(|(t, s)| *t == 1 && s.starts_with("E_INVALID"))
}

fn only_bad_protocol(frames: &[Frame]) -> bool {
    frames.len() <= 1 && frames.iter().all(|f| *f == err("E_BAD_PROTOCOL"))
}

/// Encodes an MPUB body: count, then size-prefixed records.
fn mpub(count: i32, records: &[&[u8]]) -> Vec<u8> {
    let mut out = be(count).to_vec();
    for r in records {
        out.extend_from_slice(&be(r.len() as i32));
        out.extend_from_slice(r);
    }
    out
}

fn all_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |name: &str, bytes: Vec<u8>, finish: Finish, expect: Expect| {
        cases.push(Case {
            name: name.to_string(),
            bytes,
            finish,
            expect,
        });
    };
    use Finish::*;

    // (b) huge, zero and negative sizes after each sized command.
    let sized_cmds: [(&str, &[u8], &str, &str, i32); 5] = [
        (
            "PUB",
            b"PUB t\n",
            "E_BAD_MESSAGE PUB",
            "invalid message body size",
            MAX_MSG,
        ),
        (
            "DPUB",
            b"DPUB t 100\n",
            "E_BAD_MESSAGE DPUB",
            "invalid message body size",
            MAX_MSG,
        ),
        (
            "MPUB",
            b"MPUB t\n",
            "E_BAD_BODY MPUB",
            "invalid body size",
            MAX_BODY,
        ),
        (
            "IDENTIFY",
            b"IDENTIFY\n",
            "E_BAD_BODY IDENTIFY",
            "invalid body size",
            MAX_BODY,
        ),
        (
            "AUTH",
            b"AUTH\n",
            "E_BAD_BODY AUTH",
            "invalid body size",
            MAX_BODY,
        ),
    ];
    for (cmd, line, prefix, invalid, max) in sized_cmds {
        let too_big = match cmd {
            "PUB" | "DPUB" => "message too big",
            _ => "body too big",
        };
        for size in [-5, -1, i32::MIN, 0] {
            add(
                &format!("{cmd} size {size}"),
                cat(&[MAGIC, line, &be(size)]),
                Wait,
                Expect::Frames(vec![err(&format!("{prefix} {invalid} {size}"))]),
            );
        }
        for size in [max + 1, i32::MAX] {
            add(
                &format!("{cmd} size {size}"),
                cat(&[MAGIC, line, &be(size)]),
                Wait,
                Expect::Frames(vec![err(&format!("{prefix} {too_big} {size} > {max}"))]),
            );
        }
        // The largest legal size, then the client vanishes mid-body.
        add(
            &format!("{cmd} max size then drop"),
            cat(&[MAGIC, line, &be(max), &[b'{'; 100]]),
            Drop,
            Expect::Frames(vec![]),
        );
        add(
            &format!("{cmd} huge size then drop"),
            cat(&[MAGIC, line, &be(i32::MAX), b"abc"]),
            Drop,
            Expect::Frames(vec![]),
        );
    }
    add(
        "DPUB timeout out of range",
        cat(&[MAGIC, b"DPUB t 99999999999\n", &be(1), b"x"]),
        Wait,
        Expect::Frames(vec![err(
            "E_INVALID DPUB timeout 99999999999 out of range 0-3600000",
        )]),
    );

    // (c) truncated commands followed by a close (EOF: the error still comes back).
    let truncated: [(&str, Vec<u8>, Option<&str>); 16] = [
        ("empty", vec![], None),
        ("partial magic", b"  V".to_vec(), None),
        ("magic only", MAGIC.to_vec(), None),
        ("line without newline", cat(&[MAGIC, b"PUB t"]), None),
        ("SUB without newline", cat(&[MAGIC, b"SUB t ch"]), None),
        (
            "PUB half a size",
            cat(&[MAGIC, b"PUB t\n", &[0, 0]]),
            Some("E_BAD_MESSAGE PUB failed to read message body size"),
        ),
        (
            "PUB short body",
            cat(&[MAGIC, b"PUB t\n", &be(10), b"abc"]),
            Some("E_BAD_MESSAGE PUB failed to read message body"),
        ),
        (
            "DPUB short body",
            cat(&[MAGIC, b"DPUB t 10\n", &be(10), b"abc"]),
            Some("E_BAD_MESSAGE DPUB failed to read message body"),
        ),
        (
            "IDENTIFY no size",
            cat(&[MAGIC, b"IDENTIFY\n"]),
            Some("E_BAD_BODY IDENTIFY failed to read body size"),
        ),
        (
            "IDENTIFY short body",
            cat(&[MAGIC, b"IDENTIFY\n", &be(100), b"{"]),
            Some("E_BAD_BODY IDENTIFY failed to read body"),
        ),
        (
            "AUTH short body",
            cat(&[MAGIC, b"AUTH\n", &be(100), b"x"]),
            Some("E_BAD_BODY AUTH failed to read body"),
        ),
        (
            "MPUB one byte of size",
            cat(&[MAGIC, b"MPUB t\n", &[0]]),
            Some("E_BAD_BODY MPUB failed to read body size"),
        ),
        (
            "MPUB no count",
            cat(&[MAGIC, b"MPUB t\n", &be(20)]),
            Some("E_BAD_BODY MPUB failed to read message count"),
        ),
        (
            "MPUB second record missing",
            cat(&[MAGIC, b"MPUB t\n", &be(20), &be(2), &be(3), b"abc"]),
            Some("E_BAD_MESSAGE MPUB failed to read message(1) body size"),
        ),
        (
            "MPUB record cut short",
            cat(&[MAGIC, b"MPUB t\n", &be(20), &be(2), &be(10), b"abc"]),
            Some("E_BAD_MESSAGE MPUB failed to read message body"),
        ),
        (
            "SUB then half a FIN",
            cat(&[MAGIC, b"SUB t ch\nFIN 0123"]),
            None,
        ),
    ];
    for (name, bytes, error) in truncated {
        let mut frames: Vec<Frame> = error.map(err).into_iter().collect();
        if name == "SUB then half a FIN" {
            frames.insert(0, ok());
        }
        add(
            &format!("truncated: {name}, then drop"),
            bytes.clone(),
            Drop,
            Expect::Frames(vec![]),
        );
        add(
            &format!("truncated: {name}, then EOF"),
            bytes,
            Eof,
            Expect::Frames(frames),
        );
    }

    // (d) a valid prefix, then garbage.
    let pub_hello = cat(&[b"PUB t\n", &be(5), b"hello"]);
    let prefixed: [(&str, Vec<u8>, Vec<Frame>); 13] = [
        (
            "PUB then garbage line",
            cat(&[MAGIC, &pub_hello, b"garbage!!\n"]),
            vec![ok(), err("E_INVALID invalid command garbage!!")],
        ),
        (
            "NOP then control bytes",
            cat(&[MAGIC, b"NOP\n\x00\x01\x02\n"]),
            vec![err("E_INVALID invalid command \u{0}\u{1}\u{2}")],
        ),
        (
            "empty line",
            cat(&[MAGIC, b"\r\n"]),
            vec![err("E_INVALID invalid command ")],
        ),
        (
            "IDENTIFY not JSON",
            cat(&[MAGIC, b"IDENTIFY\n", &be(9), b"{not json"]),
            vec![err("E_BAD_BODY IDENTIFY failed to decode JSON body")],
        ),
        (
            "IDENTIFY bad heartbeat",
            cat(&[
                MAGIC,
                b"IDENTIFY\n",
                &sized(br#"{"heartbeat_interval":100}"#),
            ]),
            vec![err(
                "E_BAD_BODY IDENTIFY heartbeat interval (100) is invalid",
            )],
        ),
        (
            "PUB no topic",
            cat(&[MAGIC, b"PUB\n"]),
            vec![err("E_INVALID PUB insufficient number of parameters")],
        ),
        (
            "PUB bad topic",
            cat(&[MAGIC, b"PUB bad*topic\n", &be(1), b"x"]),
            vec![err(
                r#"E_BAD_TOPIC PUB topic name "bad*topic" is not valid"#,
            )],
        ),
        (
            "SUB then bad RDY",
            cat(&[MAGIC, b"SUB t ch\nRDY abc\n"]),
            vec![ok(), err("E_INVALID RDY could not parse count abc")],
        ),
        (
            "SUB then RDY too big",
            cat(&[MAGIC, b"SUB t ch\nRDY 99999\n"]),
            vec![ok(), err("E_INVALID RDY count 99999 out of range 0-2500")],
        ),
        (
            "FIN before SUB",
            cat(&[MAGIC, b"FIN 0123456789abcdef\n"]),
            vec![err("E_INVALID cannot FIN in current state")],
        ),
        (
            "DPUB bad timeout",
            cat(&[MAGIC, b"DPUB t abc\n"]),
            vec![err("E_INVALID DPUB could not parse timeout abc")],
        ),
        (
            "PUB then PUB size -1",
            cat(&[MAGIC, &pub_hello, b"PUB t\n", &be(-1)]),
            vec![ok(), err("E_BAD_MESSAGE PUB invalid message body size -1")],
        ),
        (
            "HTTP request",
            b"GET ".to_vec(),
            vec![err("E_BAD_PROTOCOL")],
        ),
    ];
    for (name, bytes, frames) in prefixed {
        add(
            &format!("prefix+garbage: {name}"),
            bytes,
            Wait,
            Expect::Frames(frames),
        );
    }
    add(
        "prefix+garbage: HTTP request line",
        b"GET /stats HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        Eof,
        Expect::Check("at most E_BAD_PROTOCOL", only_bad_protocol),
    );

    // (e) 100 KB command lines without a newline.
    for (name, prefix) in [
        ("bare", &b""[..]),
        ("after NOP", &b"NOP\n"[..]),
        ("as a PUB topic", &b"PUB "[..]),
    ] {
        add(
            &format!("100KB line {name}"),
            cat(&[MAGIC, prefix, &vec![b'A'; 100 * 1024]]),
            Wait,
            Expect::Check("at most one E_INVALID", at_most_invalid),
        );
    }

    // (f) MPUB counts and sizes that disagree with the body size. Go nsqd never looks
    // at the body size once it is in range: it reads `count` records off the stream
    // (§1.5 MPUB QUIRK), so it answers OK to the three mismatches below that hold
    // `count` whole records, and takes any bytes left over for the next command.
    // nsq-rs parses strictly inside the declared body (the reference's
    // recommendation), so each of those gets the one fatal error asserted here.
    let two = mpub(2, &[b"abc", b"defg"]);
    let mut three_of_two = two.clone();
    three_of_two[..4].copy_from_slice(&be(3));
    add(
        "MPUB count 3, body holds 2",
        cat(&[MAGIC, b"MPUB t\n", &be(two.len() as i32), &three_of_two]),
        Eof,
        Expect::Frames(vec![err(
            "E_BAD_MESSAGE MPUB failed to read message(2) body size",
        )]),
    );
    let mut one_of_two = two.clone();
    one_of_two[..4].copy_from_slice(&be(1));
    // Go: OK, then "\0\0\0\x04defg" is an unterminated line at EOF (closed quietly).
    add(
        "MPUB count 1, body holds 2",
        cat(&[MAGIC, b"MPUB t\n", &be(two.len() as i32), &one_of_two]),
        Eof,
        Expect::Frames(vec![err(
            "E_BAD_BODY MPUB body size 19 does not match its 1 messages",
        )]),
    );
    // Go: OK (it reads the whole 5-byte record past the 8-byte body).
    let one = mpub(1, &[b"hello"]);
    add(
        "MPUB body size smaller than its record",
        cat(&[MAGIC, b"MPUB t\n", &be(8), &one]),
        Eof,
        Expect::Frames(vec![err("E_BAD_MESSAGE MPUB failed to read message body")]),
    );
    // Go: OK, then "xxxxxx" is an unterminated line at EOF (closed quietly).
    add(
        "MPUB body size larger than its record",
        cat(&[
            MAGIC,
            b"MPUB t\n",
            &be(one.len() as i32 + 6),
            &one,
            b"xxxxxx",
        ]),
        Eof,
        Expect::Frames(vec![err(
            "E_BAD_BODY MPUB body size 19 does not match its 1 messages",
        )]),
    );
    for count in [0, -1, i32::MIN, i32::MAX, (MAX_BODY - 4) / 5 + 1] {
        add(
            &format!("MPUB count {count}"),
            cat(&[
                MAGIC,
                b"MPUB t\n",
                &sized(&cat(&[&be(count), &be(1), b"x"])),
            ]),
            Wait,
            Expect::Frames(vec![err(&format!(
                "E_BAD_BODY MPUB invalid message count {count}"
            ))]),
        );
    }
    for (i, size, text) in [
        (1, -7, "E_BAD_MESSAGE MPUB invalid message(1) body size -7"),
        (0, 0, "E_BAD_MESSAGE MPUB invalid message(0) body size 0"),
        (
            1,
            i32::MAX,
            "E_BAD_MESSAGE MPUB message too big 2147483647 > 1048576",
        ),
        (
            0,
            MAX_MSG + 1,
            "E_BAD_MESSAGE MPUB message too big 1048577 > 1048576",
        ),
    ] {
        let mut body = be(2).to_vec();
        if i == 1 {
            body.extend_from_slice(&be(3));
            body.extend_from_slice(b"abc");
        }
        body.extend_from_slice(&be(size));
        add(
            &format!("MPUB record {i} size {size}"),
            cat(&[MAGIC, b"MPUB t\n", &sized(&body)]),
            Wait,
            Expect::Frames(vec![err(text)]),
        );
    }

    // (g) a megabyte of zeros, with and without the magic, and as a legal PUB body.
    let zeros = vec![0u8; 1024 * 1024];
    add(
        "1MB zeros after magic",
        cat(&[MAGIC, &zeros]),
        Wait,
        Expect::Check("at most one E_INVALID", at_most_invalid),
    );
    add(
        "1MB zeros without magic",
        zeros.clone(),
        Wait,
        Expect::Check("at most E_BAD_PROTOCOL", only_bad_protocol),
    );
    add(
        "1MB zeros as a max-size PUB body",
        cat(&[MAGIC, b"PUB zeros\n", &be(MAX_MSG), &zeros]),
        Eof,
        Expect::Frames(vec![ok()]),
    );

    // (a) random bytes, with and without the magic first.
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..120 {
        let len = 1 + rng.below(4096);
        let mut bytes = rng.bytes(len);
        let finish = [Finish::Eof, Finish::Wait, Finish::Drop][i % 3];
        if bytes.starts_with(MAGIC) {
            bytes[0] = b'X';
        }
        add(
            &format!("random #{i} ({len} bytes, no magic, {finish:?})"),
            bytes,
            finish,
            Expect::Check("at most E_BAD_PROTOCOL", only_bad_protocol),
        );
        let len = 1 + rng.below(4096);
        let finish = [Finish::Eof, Finish::Drop][i % 2];
        add(
            &format!("random #{i} ({len} bytes after magic, {finish:?})"),
            cat(&[MAGIC, &rng.bytes(len)]),
            finish,
            Expect::Check("at most one error frame", at_most_one_error),
        );
    }
    cases
}

/// How a connection ended.
#[derive(Debug)]
enum End {
    Closed,
    Reset,
    TimedOut,
}

/// Sends the case's bytes and reads frames until the server closes (or [`CONN_LIMIT`]).
fn exchange(addr: SocketAddr, case: &Case) -> Result<(Vec<Frame>, End), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).unwrap();
    stream.set_write_timeout(Some(CONN_LIMIT)).unwrap();
    // The server may close before it has read everything (a fatal error early on):
    // a failed write is then expected, and what it answered is still read below.
    let _ = stream.write_all(&case.bytes);
    match case.finish {
        Finish::Drop => return Ok((vec![], End::Closed)),
        Finish::Eof => {
            let _ = stream.shutdown(Shutdown::Write);
        }
        Finish::Wait => {}
    }
    let deadline = Instant::now() + CONN_LIMIT;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    let end = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break End::TimedOut;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut chunk) {
            Ok(0) => break End::Closed,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break End::TimedOut
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break End::Reset,
        }
    };
    let mut frames = Vec::new();
    let mut rest = &buf[..];
    while !rest.is_empty() {
        if rest.len() < 8 {
            return Err(format!(
                "{} trailing bytes after frames {frames:?}",
                rest.len()
            ));
        }
        let size = i32::from_be_bytes(rest[..4].try_into().unwrap());
        if !(4..=(MAX_MSG + 64)).contains(&size) || rest.len() < 4 + size as usize {
            return Err(format!("bad frame size {size} after frames {frames:?}"));
        }
        let frame_type = i32::from_be_bytes(rest[4..8].try_into().unwrap());
        let data = &rest[8..4 + size as usize];
        frames.push((frame_type, String::from_utf8_lossy(data).into_owned()));
        rest = &rest[4 + size as usize..];
    }
    Ok((frames, end))
}

/// Runs one case; `Err` describes how the server got it wrong.
fn run_case(addr: SocketAddr, case: &Case) -> Result<(), String> {
    let (frames, end) = exchange(addr, case)?;
    if case.finish == Finish::Drop {
        return Ok(());
    }
    let ended = match end {
        End::Closed => true,
        // A server closing with our unread bytes in its buffer resets the connection;
        // only the lenient checks allow that, as frames may then be lost.
        End::Reset => matches!(case.expect, Expect::Check(..)),
        End::TimedOut => false,
    };
    let frames_ok = match &case.expect {
        Expect::Frames(want) => frames == *want,
        Expect::Check(_, check) => check(&frames),
    };
    if ended && frames_ok {
        return Ok(());
    }
    let want = match &case.expect {
        Expect::Frames(want) => format!("{want:?} then close"),
        Expect::Check(desc, _) => format!("{desc}, then close"),
    };
    Err(format!("expected {want}; got {frames:?} then {end:?}"))
}

/// True if nsqd still accepts a connection and answers a command.
fn answers(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return false;
    };
    s.set_read_timeout(Some(CONN_LIMIT)).unwrap();
    let mut line = MAGIC.to_vec();
    line.extend_from_slice(b"PUB alive\n");
    line.extend_from_slice(&be(1));
    line.push(b'!');
    let mut reply = [0u8; 10];
    s.write_all(&line).is_ok()
        && s.read_exact(&mut reply).is_ok()
        && reply == *b"\0\0\0\x06\0\0\0\0OK"
}

#[test]
fn bad_input_never_panics_nor_kills_nsqd() {
    let nsqd = common::Nsqd::start(&[]);
    let addr = nsqd.tcp;
    let cases = all_cases();
    let total = cases.len();
    assert!((250..=600).contains(&total), "{total} connections");
    let queue = Arc::new(Mutex::new(cases.into_iter().rev().collect::<Vec<_>>()));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let queue = queue.clone();
            let failures = failures.clone();
            std::thread::spawn(move || loop {
                let Some(case) = queue.lock().unwrap().pop() else {
                    break;
                };
                if let Err(e) = run_case(addr, &case) {
                    failures.lock().unwrap().push(format!("{}: {e}", case.name));
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker thread");
    }

    // The server is still up and still serves a good client end to end.
    assert!(answers(addr), "nsqd no longer answers after bad input");
    let mut p = nsqd.client();
    p.publish("after_bad_input", b"still here");
    let mut c = common::consumer(&nsqd, "{}", "after_bad_input", "ch", 1);
    let m = c.read_message();
    assert_eq!(m.body, b"still here");
    c.fin(&m.id);
    let log = nsqd.log_text();
    assert!(!log.contains("panicked"), "nsqd panicked:\n{log}");

    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {total} bad-input connections were mishandled:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
