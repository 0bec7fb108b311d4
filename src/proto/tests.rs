//! Unit tests of the wire format: parsing every command, its exact NSQ errors and
//! limits, and the frames and messages it writes.

use super::*;

const ID: &[u8; 16] = b"0123456789abcdef";

fn limits() -> Limits {
    Limits {
        max_msg_size: 100,
        max_body_size: 1000,
        max_rdy_count: 2500,
        max_req_timeout_ms: 3_600_000,
    }
}

fn ctx(state: ClientState, limits: &Limits) -> ParseContext<'_> {
    ParseContext {
        state,
        heartbeats_enabled: true,
        limits,
        tls_missing: false,
    }
}

fn be32(n: i32) -> [u8; 4] {
    n.to_be_bytes()
}

/// `line` followed by `[size][body]`.
fn with_body(line: &[u8], body: &[u8]) -> Vec<u8> {
    let mut v = line.to_vec();
    v.extend_from_slice(&be32(body.len() as i32));
    v.extend_from_slice(body);
    v
}

/// `line` followed by a raw size and whatever bytes.
fn with_size(line: &[u8], size: i32, rest: &[u8]) -> Vec<u8> {
    let mut v = line.to_vec();
    v.extend_from_slice(&be32(size));
    v.extend_from_slice(rest);
    v
}

/// The records of an MPUB body: `[count][size][body]...`.
fn mpub_records(bodies: &[&[u8]]) -> Vec<u8> {
    let mut v = be32(bodies.len() as i32).to_vec();
    for b in bodies {
        v.extend_from_slice(&be32(b.len() as i32));
        v.extend_from_slice(b);
    }
    v
}

fn mpub(topic: &str, bodies: &[&[u8]]) -> Vec<u8> {
    with_body(format!("MPUB {topic}\n").as_bytes(), &mpub_records(bodies))
}

fn line_with_id(cmd: &str, id: &[u8], tail: &str) -> Vec<u8> {
    let mut v = format!("{cmd} ").into_bytes();
    v.extend_from_slice(id);
    v.extend_from_slice(tail.as_bytes());
    v
}

fn err_in(state: ClientState, buf: &[u8]) -> ProtoError {
    let l = limits();
    match parse(buf, &ctx(state, &l)) {
        Err(e) => e,
        other => panic!("expected an error for {buf:?}, got {other:?}"),
    }
}

fn err(buf: &[u8]) -> ProtoError {
    err_in(ClientState::Init, buf)
}

fn eof_err_in(state: ClientState, buf: &[u8]) -> ProtoError {
    let l = limits();
    parse_at_eof(buf, &ctx(state, &l))
        .unwrap_or_else(|| panic!("expected an EOF error for {buf:?}"))
}

fn eof_err(buf: &[u8]) -> ProtoError {
    eof_err_in(ClientState::Init, buf)
}

fn assert_fatal(e: &ProtoError, code: &str, desc: &str) {
    assert_eq!(e.code, code, "{e:?}");
    assert_eq!(e.desc, desc, "{e:?}");
    assert!(e.fatal, "{e:?} must be fatal");
}

fn ok_in(state: ClientState, buf: &[u8]) -> (Command<'_>, usize) {
    let l = limits();
    match parse(buf, &ctx(state, &l)) {
        Ok(Some((cmd, used))) => (cmd, used),
        other => panic!("expected a command for {buf:?}, got {other:?}"),
    }
}

/// Every valid command, with the state it is valid in and what it parses to.
fn valid_cases() -> Vec<(ClientState, Vec<u8>)> {
    use ClientState::*;
    vec![
        (Init, with_body(b"IDENTIFY\n", b"{\"a\":1}")),
        (Init, with_body(b"AUTH\n", b"secret")),
        (Init, b"SUB topic chan\n".to_vec()),
        (Init, b"SUB t#ephemeral c#ephemeral\r\n".to_vec()),
        (Subscribed, b"RDY 10\n".to_vec()),
        (Subscribed, b"RDY\n".to_vec()),
        (Closing, b"RDY 5\n".to_vec()),
        (Subscribed, line_with_id("FIN", ID, "\n")),
        (Closing, line_with_id("FIN", ID, "\n")),
        (Subscribed, line_with_id("REQ", ID, " 1500\n")),
        (Closing, line_with_id("TOUCH", ID, "\n")),
        (Subscribed, b"CLS\n".to_vec()),
        (Init, b"NOP\n".to_vec()),
        (Closing, b"NOP\r\n".to_vec()),
        (Init, with_body(b"PUB t1\n", b"hello")),
        (Subscribed, with_body(b"PUB t1\r\n", b"x")),
        (Closing, with_body(b"DPUB t1 1000\n", b"deferred")),
        (Init, mpub("t1", &[b"a", b"bb"])),
        (Subscribed, mpub("t1", &[b"only"])),
    ]
}

#[test]
fn client_state_numbers() {
    assert_eq!(ClientState::Init.as_number(), 0);
    assert_eq!(ClientState::Subscribed.as_number(), 3);
    assert_eq!(ClientState::Closing.as_number(), 4);
}

#[test]
fn identify_and_auth_parse_with_body() {
    let buf = with_body(b"IDENTIFY\n", b"{}");
    assert_eq!(
        ok_in(ClientState::Init, &buf),
        (Command::Identify(b"{}"), 9 + 4 + 2)
    );
    let buf = with_body(b"AUTH\n", b"s3cret");
    assert_eq!(
        ok_in(ClientState::Init, &buf),
        (Command::Auth(b"s3cret"), 5 + 4 + 6)
    );
}

#[test]
fn sub_parses_topic_and_channel() {
    let buf = b"SUB t3 ch\n";
    assert_eq!(
        ok_in(ClientState::Init, buf),
        (
            Command::Sub {
                topic: "t3",
                channel: "ch"
            },
            buf.len()
        )
    );
    let buf = b"SUB a.b_c-D9#ephemeral x#ephemeral\n";
    assert_eq!(
        ok_in(ClientState::Init, buf).0,
        Command::Sub {
            topic: "a.b_c-D9#ephemeral",
            channel: "x#ephemeral"
        }
    );
}

#[test]
fn rdy_counts() {
    let s = ClientState::Subscribed;
    assert_eq!(ok_in(s, b"RDY 10\n"), (Command::Rdy(Some(10)), 7));
    assert_eq!(ok_in(s, b"RDY\n"), (Command::Rdy(Some(1)), 4));
    // An empty parameter means zero.
    assert_eq!(ok_in(s, b"RDY \n"), (Command::Rdy(Some(0)), 5));
    assert_eq!(ok_in(s, b"RDY 0\n").0, Command::Rdy(Some(0)));
    assert_eq!(ok_in(s, b"RDY 2500\n").0, Command::Rdy(Some(2500)));
    assert_eq!(ok_in(s, b"RDY 007\n").0, Command::Rdy(Some(7)));
    // Closing: ignored whatever it says.
    let c = ClientState::Closing;
    assert_eq!(ok_in(c, b"RDY 5\n"), (Command::Rdy(None), 6));
    assert_eq!(ok_in(c, b"RDY 999999\n").0, Command::Rdy(None));
    assert_eq!(ok_in(c, b"RDY junk\n").0, Command::Rdy(None));
}

#[test]
fn fin_req_touch_parse_ids() {
    for s in [ClientState::Subscribed, ClientState::Closing] {
        let fin = line_with_id("FIN", ID, "\n");
        assert_eq!(ok_in(s, &fin), (Command::Fin(*ID), fin.len()));
        let touch = line_with_id("TOUCH", ID, "\n");
        assert_eq!(ok_in(s, &touch), (Command::Touch(*ID), touch.len()));
        let req = line_with_id("REQ", ID, " 1500\n");
        assert_eq!(
            ok_in(s, &req),
            (
                Command::Req {
                    id: *ID,
                    delay_ms: 1500
                },
                req.len()
            )
        );
    }
    // Any 16 bytes are an ID, even non-UTF-8 ones.
    let raw = [0xffu8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 0x0d, 0x80];
    let fin = line_with_id("FIN", &raw, "\n");
    assert_eq!(ok_in(ClientState::Subscribed, &fin).0, Command::Fin(raw));
    // The REQ delay is not clamped by the parser, nor is an empty delay an error.
    let req = line_with_id("REQ", ID, " 99999999999\n");
    assert_eq!(
        ok_in(ClientState::Subscribed, &req).0,
        Command::Req {
            id: *ID,
            delay_ms: 99_999_999_999
        }
    );
    let req = line_with_id("REQ", ID, " \n");
    assert_eq!(
        ok_in(ClientState::Subscribed, &req).0,
        Command::Req {
            id: *ID,
            delay_ms: 0
        }
    );
}

#[test]
fn cls_and_nop() {
    assert_eq!(ok_in(ClientState::Subscribed, b"CLS\n"), (Command::Cls, 4));
    for s in [
        ClientState::Init,
        ClientState::Subscribed,
        ClientState::Closing,
    ] {
        assert_eq!(ok_in(s, b"NOP\n"), (Command::Nop, 4));
    }
}

#[test]
fn pub_dpub_parse_with_body() {
    for s in [
        ClientState::Init,
        ClientState::Subscribed,
        ClientState::Closing,
    ] {
        let buf = with_body(b"PUB t1\n", b"hello");
        assert_eq!(
            ok_in(s, &buf),
            (
                Command::Pub {
                    topic: "t1",
                    body: b"hello"
                },
                7 + 4 + 5
            )
        );
        let buf = with_body(b"DPUB t1 1000\n", b"deferred");
        assert_eq!(
            ok_in(s, &buf),
            (
                Command::Dpub {
                    topic: "t1",
                    defer_ms: 1000,
                    body: b"deferred"
                },
                13 + 4 + 8
            )
        );
    }
    // Bodies may hold any bytes, newlines included; the limits are inclusive.
    let body = vec![b'\n'; 100];
    let buf = with_body(b"PUB t\n", &body);
    assert_eq!(
        ok_in(ClientState::Init, &buf).0,
        Command::Pub {
            topic: "t",
            body: &body
        }
    );
    let buf = with_body(b"DPUB t 0\n", b"x");
    assert_eq!(
        ok_in(ClientState::Init, &buf).0,
        Command::Dpub {
            topic: "t",
            defer_ms: 0,
            body: b"x"
        }
    );
    let buf = with_body(b"DPUB t 3600000\n", b"x");
    assert_eq!(
        ok_in(ClientState::Init, &buf).0,
        Command::Dpub {
            topic: "t",
            defer_ms: 3_600_000,
            body: b"x"
        }
    );
}

#[test]
fn mpub_parses_records_in_order() {
    // The capture of NSQ-PROTOCOL §1.10.
    let mut buf = b"MPUB t1\n".to_vec();
    buf.extend_from_slice(&[
        0, 0, 0, 0x0f, 0, 0, 0, 2, 0, 0, 0, 1, b'a', 0, 0, 0, 2, b'b', b'b',
    ]);
    let (cmd, used) = ok_in(ClientState::Init, &buf);
    assert_eq!(used, buf.len());
    let Command::Mpub { topic, bodies } = cmd else {
        panic!("not MPUB: {cmd:?}");
    };
    assert_eq!(topic, "t1");
    assert_eq!(bodies.len(), 2);
    assert!(!bodies.is_empty());
    let all: Vec<&[u8]> = bodies.collect();
    assert_eq!(all, vec![&b"a"[..], &b"bb"[..]]);

    let big = vec![7u8; 100];
    let buf = mpub("t", &[b"1", &big, b"333"]);
    let (cmd, used) = ok_in(ClientState::Closing, &buf);
    assert_eq!(used, buf.len());
    let Command::Mpub { bodies, .. } = cmd else {
        panic!("not MPUB");
    };
    let all: Vec<&[u8]> = bodies.collect();
    assert_eq!(all, vec![&b"1"[..], &big[..], &b"333"[..]]);
}

#[test]
fn every_valid_command_parses_whole_and_not_before() {
    let l = limits();
    for (state, buf) in valid_cases() {
        let c = ctx(state, &l);
        for k in 0..buf.len() {
            assert_eq!(
                parse(&buf[..k], &c),
                Ok(None),
                "prefix {k} of {buf:?} in {state:?}"
            );
        }
        let (_, used) = parse(&buf, &c).unwrap().unwrap();
        assert_eq!(used, buf.len(), "{buf:?}");
        // Whatever follows is not consumed.
        let mut more = buf.clone();
        more.extend_from_slice(b"NOP\nXYZ");
        let (_, used) = parse(&more, &c).unwrap().unwrap();
        assert_eq!(used, buf.len(), "{buf:?} followed by more");
        // And a complete command gives no EOF error.
        assert_eq!(parse_at_eof(&buf, &c), None, "{buf:?}");
    }
}

#[test]
fn pipelined_input_parses_command_by_command() {
    let l = limits();
    for state in [
        ClientState::Init,
        ClientState::Subscribed,
        ClientState::Closing,
    ] {
        let cases: Vec<Vec<u8>> = valid_cases()
            .into_iter()
            .filter(|(s, _)| *s == state)
            .map(|(_, b)| b)
            .collect();
        let all: Vec<u8> = cases.concat();
        let c = ctx(state, &l);
        let mut pos = 0;
        for case in &cases {
            let (cmd, used) = parse(&all[pos..], &c).unwrap().unwrap();
            let (alone, alone_used) = parse(case, &c).unwrap().unwrap();
            assert_eq!(cmd, alone);
            assert_eq!(used, alone_used);
            pos += used;
        }
        assert_eq!(pos, all.len());
        assert_eq!(parse(&all[pos..], &c), Ok(None));
    }
}

#[test]
fn crlf_line_endings_are_stripped() {
    assert_eq!(
        ok_in(ClientState::Init, b"SUB t c\r\n"),
        (
            Command::Sub {
                topic: "t",
                channel: "c"
            },
            9
        )
    );
    assert_eq!(
        ok_in(ClientState::Subscribed, b"RDY 3\r\n"),
        (Command::Rdy(Some(3)), 7)
    );
    let fin = line_with_id("FIN", ID, "\r\n");
    assert_eq!(ok_in(ClientState::Subscribed, &fin).0, Command::Fin(*ID));
    let buf = with_body(b"PUB t\r\n", b"b");
    assert_eq!(
        ok_in(ClientState::Init, &buf),
        (
            Command::Pub {
                topic: "t",
                body: b"b"
            },
            buf.len()
        )
    );
    let buf = with_body(b"DPUB t 5\r\n", b"b");
    assert_eq!(
        ok_in(ClientState::Init, &buf).0,
        Command::Dpub {
            topic: "t",
            defer_ms: 5,
            body: b"b"
        }
    );
    assert_eq!(ok_in(ClientState::Subscribed, b"CLS\r\n").0, Command::Cls);
    // Only one `\r` right before `\n` is stripped.
    assert_fatal(&err(b"NOP\r\r\n"), "E_INVALID", "invalid command NOP\r");
    // A lone `\r` line is an empty command.
    assert_fatal(&err(b"\r\n"), "E_INVALID", "invalid command ");
}

#[test]
fn extra_params_are_ignored() {
    let buf = with_body(b"PUB t extra junk\n", b"x");
    assert_eq!(
        ok_in(ClientState::Init, &buf).0,
        Command::Pub {
            topic: "t",
            body: b"x"
        }
    );
    let buf = with_body(b"DPUB t 7 extra\n", b"x");
    assert_eq!(
        ok_in(ClientState::Init, &buf).0,
        Command::Dpub {
            topic: "t",
            defer_ms: 7,
            body: b"x"
        }
    );
    let buf = with_body(b"MPUB t extra\n", &mpub_records(&[b"x"]));
    assert!(matches!(
        ok_in(ClientState::Init, &buf).0,
        Command::Mpub { topic: "t", .. }
    ));
    assert_eq!(
        ok_in(ClientState::Init, b"SUB t c extra\n").0,
        Command::Sub {
            topic: "t",
            channel: "c"
        }
    );
    assert_eq!(
        ok_in(ClientState::Subscribed, b"RDY 4 extra\n").0,
        Command::Rdy(Some(4))
    );
    let fin = line_with_id("FIN", ID, " extra\n");
    assert_eq!(ok_in(ClientState::Subscribed, &fin).0, Command::Fin(*ID));
    let touch = line_with_id("TOUCH", ID, " extra\n");
    assert_eq!(
        ok_in(ClientState::Subscribed, &touch).0,
        Command::Touch(*ID)
    );
    let req = line_with_id("REQ", ID, " 9 extra\n");
    assert_eq!(
        ok_in(ClientState::Subscribed, &req).0,
        Command::Req {
            id: *ID,
            delay_ms: 9
        }
    );
    assert_eq!(ok_in(ClientState::Subscribed, b"CLS x\n").0, Command::Cls);
    assert_eq!(ok_in(ClientState::Init, b"NOP x y\n").0, Command::Nop);
    let buf = with_body(b"IDENTIFY x\n", b"{}");
    assert_eq!(ok_in(ClientState::Init, &buf).0, Command::Identify(b"{}"));
}

#[test]
fn unknown_and_empty_commands() {
    assert_fatal(&err(b"FOO bar\n"), "E_INVALID", "invalid command FOO");
    // Case-sensitive.
    assert_fatal(&err(b"nop\n"), "E_INVALID", "invalid command nop");
    assert_fatal(&err(b"\n"), "E_INVALID", "invalid command ");
    // A leading space makes the word empty.
    assert_fatal(&err(b" NOP\n"), "E_INVALID", "invalid command ");
    assert_eq!(err(b"\n").to_string(), "E_INVALID invalid command ");
    // Errors on the word come before any body bytes are needed.
    assert_fatal(
        &err_in(ClientState::Subscribed, b"PUBX t\n"),
        "E_INVALID",
        "invalid command PUBX",
    );
}

#[test]
fn state_table_of_section_1_4() {
    use ClientState::*;
    let fin = line_with_id("FIN", ID, "\n");
    let req = line_with_id("REQ", ID, " 0\n");
    let touch = line_with_id("TOUCH", ID, "\n");
    // (word, command bytes, states where it is accepted)
    let table: Vec<(&str, Vec<u8>, Vec<ClientState>)> = vec![
        ("IDENTIFY", with_body(b"IDENTIFY\n", b"{}"), vec![Init]),
        ("AUTH", with_body(b"AUTH\n", b"s"), vec![Init]),
        ("SUB", b"SUB t c\n".to_vec(), vec![Init]),
        ("RDY", b"RDY 1\n".to_vec(), vec![Subscribed, Closing]),
        ("FIN", fin, vec![Subscribed, Closing]),
        ("REQ", req, vec![Subscribed, Closing]),
        ("TOUCH", touch, vec![Subscribed, Closing]),
        ("CLS", b"CLS\n".to_vec(), vec![Subscribed]),
        (
            "PUB",
            with_body(b"PUB t\n", b"x"),
            vec![Init, Subscribed, Closing],
        ),
        ("MPUB", mpub("t", &[b"x"]), vec![Init, Subscribed, Closing]),
        (
            "DPUB",
            with_body(b"DPUB t 1\n", b"x"),
            vec![Init, Subscribed, Closing],
        ),
        ("NOP", b"NOP\n".to_vec(), vec![Init, Subscribed, Closing]),
    ];
    for (word, buf, ok_states) in &table {
        for state in [Init, Subscribed, Closing] {
            let l = limits();
            let got = parse(buf, &ctx(state, &l));
            if ok_states.contains(&state) {
                let (_, used) = got
                    .unwrap_or_else(|e| panic!("{word} in {state:?}: {e:?}"))
                    .unwrap_or_else(|| panic!("{word} in {state:?} incomplete"));
                assert_eq!(used, buf.len());
            } else {
                let e = got.expect_err(word);
                assert_fatal(&e, "E_INVALID", &format!("cannot {word} in current state"));
                assert_eq!(
                    e.to_string(),
                    format!("E_INVALID cannot {word} in current state")
                );
            }
        }
    }
    // RDY in closing is silently ignored.
    assert_eq!(
        ok_in(Closing, b"RDY 1\n").0,
        Command::Rdy(None),
        "RDY is ignored in closing"
    );
}

#[test]
fn state_errors_come_before_the_body_arrives() {
    use ClientState::*;
    // Only the line is here: the state is known to be wrong already.
    assert_fatal(
        &err_in(Subscribed, b"IDENTIFY\n"),
        "E_INVALID",
        "cannot IDENTIFY in current state",
    );
    assert_fatal(
        &err_in(Closing, b"AUTH\n"),
        "E_INVALID",
        "cannot AUTH in current state",
    );
    // State before params.
    assert_fatal(
        &err_in(Subscribed, b"SUB\n"),
        "E_INVALID",
        "cannot SUB in current state",
    );
    assert_fatal(
        &err_in(Init, b"FIN\n"),
        "E_INVALID",
        "cannot FIN in current state",
    );
    assert_fatal(
        &err_in(Init, b"RDY junk\n"),
        "E_INVALID",
        "cannot RDY in current state",
    );
    assert_fatal(
        &err_in(Subscribed, b"AUTH extra\n"),
        "E_INVALID",
        "cannot AUTH in current state",
    );
}

#[test]
fn sub_with_heartbeats_disabled() {
    let l = limits();
    let c = ParseContext {
        state: ClientState::Init,
        heartbeats_enabled: false,
        limits: &l,
        tls_missing: false,
    };
    let e = parse(b"SUB t c\n", &c).unwrap_err();
    assert_fatal(&e, "E_INVALID", "cannot SUB with heartbeats disabled");
    // Checked before the params.
    let e = parse(b"SUB\n", &c).unwrap_err();
    assert_fatal(&e, "E_INVALID", "cannot SUB with heartbeats disabled");
    // Other commands do not care.
    assert_eq!(parse(b"NOP\n", &c), Ok(Some((Command::Nop, 4))));
}

#[test]
fn parameter_counts() {
    use ClientState::*;
    let cases: &[(ClientState, &[u8], &str)] = &[
        (Init, b"SUB\n", "SUB insufficient number of parameters"),
        (Init, b"SUB t\n", "SUB insufficient number of parameters"),
        (Init, b"PUB\n", "PUB insufficient number of parameters"),
        (Init, b"MPUB\n", "MPUB insufficient number of parameters"),
        (Init, b"DPUB\n", "DPUB insufficient number of parameters"),
        (Init, b"DPUB t\n", "DPUB insufficient number of parameters"),
        (Subscribed, b"FIN\n", "FIN insufficient number of params"),
        (Closing, b"TOUCH\n", "TOUCH insufficient number of params"),
        (Subscribed, b"REQ\n", "REQ insufficient number of params"),
        (
            Subscribed,
            b"REQ 0123456789abcdef\n",
            "REQ insufficient number of params",
        ),
        (Init, b"AUTH x\n", "AUTH invalid number of parameters"),
        (Init, b"AUTH \n", "AUTH invalid number of parameters"),
    ];
    for (state, buf, desc) in cases {
        assert_fatal(&err_in(*state, buf), "E_INVALID", desc);
    }
}

#[test]
fn message_id_must_be_16_bytes() {
    for cmd in ["FIN", "TOUCH"] {
        for id in [&b"0123456789abcde"[..], &b"0123456789abcdef0"[..], &b""[..]] {
            let buf = line_with_id(cmd, id, "\n");
            assert_fatal(
                &err_in(ClientState::Subscribed, &buf),
                "E_INVALID",
                "invalid message ID",
            );
        }
    }
    let buf = line_with_id("REQ", b"short", " 0\n");
    assert_fatal(
        &err_in(ClientState::Closing, &buf),
        "E_INVALID",
        "invalid message ID",
    );
    // The ID is checked before the REQ timeout.
    let buf = line_with_id("REQ", b"short", " x\n");
    assert_fatal(
        &err_in(ClientState::Subscribed, &buf),
        "E_INVALID",
        "invalid message ID",
    );
}

#[test]
fn rdy_number_errors() {
    let s = ClientState::Subscribed;
    assert_fatal(
        &err_in(s, b"RDY -1\n"),
        "E_INVALID",
        "RDY could not parse count -1",
    );
    assert_fatal(
        &err_in(s, b"RDY 1a\n"),
        "E_INVALID",
        "RDY could not parse count 1a",
    );
    assert_fatal(
        &err_in(s, b"RDY +5\n"),
        "E_INVALID",
        "RDY could not parse count +5",
    );
    assert_fatal(
        &err_in(s, b"RDY 2501\n"),
        "E_INVALID",
        "RDY count 2501 out of range 0-2500",
    );
    // nsqd converts the uint64 to int64: u64::MAX reads as -1.
    assert_fatal(
        &err_in(s, b"RDY 18446744073709551615\n"),
        "E_INVALID",
        "RDY count -1 out of range 0-2500",
    );
}

#[test]
fn req_timeout_errors() {
    let buf = line_with_id("REQ", ID, " abc\n");
    assert_fatal(
        &err_in(ClientState::Subscribed, &buf),
        "E_INVALID",
        "REQ could not parse timeout abc",
    );
    let buf = line_with_id("REQ", ID, " -5\n");
    assert_fatal(
        &err_in(ClientState::Closing, &buf),
        "E_INVALID",
        "REQ could not parse timeout -5",
    );
}

#[test]
fn dpub_timeout_errors() {
    assert_fatal(
        &err(b"DPUB t abc\n"),
        "E_INVALID",
        "DPUB could not parse timeout abc",
    );
    assert_fatal(
        &err(b"DPUB t -1\n"),
        "E_INVALID",
        "DPUB could not parse timeout -1",
    );
    assert_fatal(
        &err(b"DPUB t 3600001\n"),
        "E_INVALID",
        "DPUB timeout 3600001 out of range 0-3600000",
    );
    // Topic first, then timeout, then body.
    assert_fatal(
        &err(b"DPUB bad! abc\n"),
        "E_BAD_TOPIC",
        "DPUB topic name \"bad!\" is not valid",
    );
    assert_fatal(
        &err(&with_size(b"DPUB t 3600001\n", 0, b"")),
        "E_INVALID",
        "DPUB timeout 3600001 out of range 0-3600000",
    );
}

#[test]
fn bad_topic_and_channel_names_are_go_quoted() {
    assert_fatal(
        &err(b"PUB bad!topic\n"),
        "E_BAD_TOPIC",
        "PUB topic name \"bad!topic\" is not valid",
    );
    assert_fatal(
        &err(b"SUB bad!topic c\n"),
        "E_BAD_TOPIC",
        "SUB topic name \"bad!topic\" is not valid",
    );
    assert_fatal(
        &err(b"SUB t bad:chan\n"),
        "E_BAD_CHANNEL",
        "SUB channel name \"bad:chan\" is not valid",
    );
    // Topic is checked before the channel.
    assert_fatal(
        &err(b"SUB bad! bad!\n"),
        "E_BAD_TOPIC",
        "SUB topic name \"bad!\" is not valid",
    );
    // Splitting on every space: a double space gives an empty name.
    assert_fatal(
        &err(b"SUB  t c\n"),
        "E_BAD_TOPIC",
        "SUB topic name \"\" is not valid",
    );
    assert_fatal(
        &err(b"PUB \n"),
        "E_BAD_TOPIC",
        "PUB topic name \"\" is not valid",
    );
    // The MPUB quirk: the code is repeated in the text.
    let e = err(b"MPUB bad!topic\n");
    assert_fatal(
        &e,
        "E_BAD_TOPIC",
        "E_BAD_TOPIC MPUB topic name \"bad!topic\" is not valid",
    );
    assert_eq!(
        e.to_string(),
        "E_BAD_TOPIC E_BAD_TOPIC MPUB topic name \"bad!topic\" is not valid"
    );
    // Control and non-UTF-8 bytes.
    assert_fatal(
        &err(b"PUB a\tb\x01\x7f\xff\"\\\n"),
        "E_BAD_TOPIC",
        "PUB topic name \"a\\tb\\x01\\x7f\\xff\\\"\\\\\" is not valid",
    );
    assert_fatal(
        &err(b"SUB t c\x00\r\n"),
        "E_BAD_CHANNEL",
        "SUB channel name \"c\\x00\" is not valid",
    );
    assert_fatal(
        &err("PUB caf\u{e9}\n".as_bytes()),
        "E_BAD_TOPIC",
        "PUB topic name \"caf\u{e9}\" is not valid",
    );
    // A 65-byte name.
    let long = "a".repeat(65);
    assert_fatal(
        &err(format!("PUB {long}\n").as_bytes()),
        "E_BAD_TOPIC",
        &format!("PUB topic name \"{long}\" is not valid"),
    );
}

#[test]
fn go_quote_matches_go_percent_q() {
    assert_eq!(go_quote(b""), "\"\"");
    assert_eq!(go_quote(b"abc"), "\"abc\"");
    assert_eq!(go_quote(b"\"\\"), "\"\\\"\\\\\"");
    assert_eq!(
        go_quote(b"\x07\x08\x0c\n\r\t\x0b"),
        "\"\\a\\b\\f\\n\\r\\t\\v\""
    );
    assert_eq!(go_quote(b"\x00\x01\x1f\x7f"), "\"\\x00\\x01\\x1f\\x7f\"");
    // Invalid UTF-8 bytes one by one; valid sequences kept.
    assert_eq!(go_quote(b"\xff\xfe"), "\"\\xff\\xfe\"");
    assert_eq!(go_quote(b"a\xc3"), "\"a\\xc3\"");
    assert_eq!(go_quote("é✓".as_bytes()), "\"é✓\"");
    // U+0085 (C1 control).
    assert_eq!(go_quote("\u{85}".as_bytes()), "\"\\u0085\"");
    // A literal U+FFFD is printable in Go.
    assert_eq!(go_quote("\u{fffd}".as_bytes()), "\"\u{fffd}\"");
}

#[test]
fn go_quote_escapes_non_printable_non_control_runes() {
    // Go's strconv.Quote escapes every rune that is not unicode.IsPrint, not only
    // controls: no-break space, soft hyphen, zero-width space, line separator.
    assert_eq!(go_quote("\u{a0}".as_bytes()), "\"\\u00a0\"");
    assert_eq!(go_quote("\u{ad}".as_bytes()), "\"\\u00ad\"");
    assert_eq!(go_quote("\u{200b}".as_bytes()), "\"\\u200b\"");
    assert_eq!(go_quote("\u{2028}".as_bytes()), "\"\\u2028\"");
    assert_eq!(go_quote("\u{e0001}".as_bytes()), "\"\\U000e0001\"");
}

#[test]
fn name_rules() {
    assert!(is_valid_name(b"a"));
    assert!(is_valid_name(b"Az09._-"));
    assert!(is_valid_name(b"..."));
    assert!(is_valid_name(b"t#ephemeral"));
    assert!(is_valid_name("a".repeat(64).as_bytes()));
    assert!(!is_valid_name("a".repeat(65).as_bytes()));
    // The suffix counts toward 64.
    assert!(is_valid_name(
        format!("{}#ephemeral", "a".repeat(54)).as_bytes()
    ));
    assert!(!is_valid_name(
        format!("{}#ephemeral", "a".repeat(55)).as_bytes()
    ));
    assert!(!is_valid_name(b""));
    assert!(!is_valid_name(b"#ephemeral"));
    assert!(!is_valid_name(b"a#ephemeral#ephemeral"));
    assert!(!is_valid_name(b"a#Ephemeral"));
    assert!(!is_valid_name(b"a#eph"));
    assert!(!is_valid_name(b"a#"));
    for bad in [b' ', b'!', b':', b'/', b'*', b'#', b'\0', 0xff, b'\n'] {
        assert!(!is_valid_name(&[b'a', bad]), "{bad:#x}");
    }
    assert!(!is_valid_name("é".as_bytes()));
    assert_eq!(valid_name(b"ok.name"), Some("ok.name"));
    assert_eq!(valid_name(b"no name"), None);
    assert!(is_ephemeral("x#ephemeral"));
    assert!(!is_ephemeral("x"));
    assert!(!is_ephemeral("x#ephemeralx"));
    assert_eq!(EPHEMERAL_SUFFIX, "#ephemeral");
}

#[test]
fn pub_and_dpub_body_size_errors() {
    for (cmd, line) in [("PUB", &b"PUB t\n"[..]), ("DPUB", &b"DPUB t 10\n"[..])] {
        // Reported as soon as the size is read, before the body arrives.
        assert_fatal(
            &err(&with_size(line, 0, b"")),
            "E_BAD_MESSAGE",
            &format!("{cmd} invalid message body size 0"),
        );
        assert_fatal(
            &err(&with_size(line, -1, b"")),
            "E_BAD_MESSAGE",
            &format!("{cmd} invalid message body size -1"),
        );
        assert_fatal(
            &err(&with_size(line, i32::MIN, b"")),
            "E_BAD_MESSAGE",
            &format!("{cmd} invalid message body size {}", i32::MIN),
        );
        assert_fatal(
            &err(&with_size(line, 101, b"")),
            "E_BAD_MESSAGE",
            &format!("{cmd} message too big 101 > 100"),
        );
        assert_fatal(
            &err(&with_size(line, i32::MAX, b"")),
            "E_BAD_MESSAGE",
            &format!("{cmd} message too big {} > 100", i32::MAX),
        );
    }
    // The topic is checked before the body size.
    assert_fatal(
        &err(&with_size(b"PUB bad!\n", 0, b"")),
        "E_BAD_TOPIC",
        "PUB topic name \"bad!\" is not valid",
    );
}

#[test]
fn identify_and_auth_body_size_errors() {
    for cmd in ["IDENTIFY", "AUTH"] {
        let line = format!("{cmd}\n");
        let line = line.as_bytes();
        assert_fatal(
            &err(&with_size(line, 0, b"")),
            "E_BAD_BODY",
            &format!("{cmd} invalid body size 0"),
        );
        assert_fatal(
            &err(&with_size(line, -7, b"")),
            "E_BAD_BODY",
            &format!("{cmd} invalid body size -7"),
        );
        assert_fatal(
            &err(&with_size(line, 1001, b"")),
            "E_BAD_BODY",
            &format!("{cmd} body too big 1001 > 1000"),
        );
        // The maximum itself is fine.
        let body = vec![b' '; 1000];
        assert_eq!(
            ok_in(ClientState::Init, &with_body(line, &body)).1,
            line.len() + 1004
        );
    }
}

#[test]
fn mpub_body_and_count_errors() {
    let bad_body = |buf: &[u8], desc: &str| assert_fatal(&err(buf), "E_BAD_BODY", desc);
    bad_body(&with_size(b"MPUB t\n", 0, b""), "MPUB invalid body size 0");
    bad_body(
        &with_size(b"MPUB t\n", -3, b""),
        "MPUB invalid body size -3",
    );
    bad_body(
        &with_size(b"MPUB t\n", 1001, b""),
        "MPUB body too big 1001 > 1000",
    );
    // Count checked as soon as it is here, before the records arrive.
    bad_body(
        &with_size(b"MPUB t\n", 100, &be32(0)),
        "MPUB invalid message count 0",
    );
    bad_body(
        &with_size(b"MPUB t\n", 100, &be32(-1)),
        "MPUB invalid message count -1",
    );
    // At most (max_body_size - 4) / 5 = 199 messages.
    bad_body(
        &with_size(b"MPUB t\n", 1000, &be32(200)),
        "MPUB invalid message count 200",
    );
    let l = limits();
    assert_eq!(
        parse(
            &with_size(b"MPUB t\n", 1000, &be32(199)),
            &ctx(ClientState::Init, &l)
        ),
        Ok(None)
    );
    // A body too short to hold the count.
    bad_body(
        &with_size(b"MPUB t\n", 2, &[0, 0]),
        "MPUB failed to read message count",
    );
    // Topic before body.
    assert_eq!(err(&with_size(b"MPUB bad!\n", 0, b"")).code, "E_BAD_TOPIC");
}

#[test]
fn mpub_record_errors() {
    let bad_msg = |buf: &[u8], desc: &str| assert_fatal(&err(buf), "E_BAD_MESSAGE", desc);
    // Record 1 has size 0.
    let mut records = mpub_records(&[b"a", b"b"]);
    records[9..13].copy_from_slice(&be32(0));
    records.truncate(13);
    bad_msg(
        &with_body(b"MPUB t\n", &records),
        "MPUB invalid message(1) body size 0",
    );
    // Record 0 negative.
    let mut records = be32(1).to_vec();
    records.extend_from_slice(&be32(-2));
    bad_msg(
        &with_body(b"MPUB t\n", &records),
        "MPUB invalid message(0) body size -2",
    );
    // Record too big for max-msg-size.
    let big = vec![1u8; 101];
    bad_msg(
        &with_body(b"MPUB t\n", &mpub_records(&[b"ok", &big])),
        "MPUB message too big 101 > 100",
    );
    // Records overrunning the declared body: a record body...
    let records = mpub_records(&[b"abc", b"defg"]);
    let mut buf = with_size(b"MPUB t\n", (records.len() - 2) as i32, &records);
    buf.extend_from_slice(b"NOP\n");
    bad_msg(&buf, "MPUB failed to read message body");
    // ...or a record size.
    let records = mpub_records(&[b"abc", b"defg"]);
    let declared = 4 + 4 + 3 + 2;
    let buf = with_size(b"MPUB t\n", declared, &records);
    bad_msg(&buf, "MPUB failed to read message(1) body size");
    // Records that do not fill the declared body: E_BAD_BODY.
    let mut records = mpub_records(&[b"abc"]);
    records.extend_from_slice(b"junk");
    let e = err(&with_body(b"MPUB t\n", &records));
    assert_eq!(e.code, "E_BAD_BODY");
    assert!(e.fatal);
}

#[test]
fn eof_yields_failed_to_read_errors() {
    let eb = |buf: &[u8], code: &str, desc: &str| assert_fatal(&eof_err(buf), code, desc);
    // PUB / DPUB.
    eb(
        b"PUB t\n",
        "E_BAD_MESSAGE",
        "PUB failed to read message body size",
    );
    eb(
        b"PUB t\n\0\0",
        "E_BAD_MESSAGE",
        "PUB failed to read message body size",
    );
    eb(
        &with_size(b"PUB t\n", 5, b"he"),
        "E_BAD_MESSAGE",
        "PUB failed to read message body",
    );
    eb(
        b"DPUB t 5\n\0",
        "E_BAD_MESSAGE",
        "DPUB failed to read message body size",
    );
    eb(
        &with_size(b"DPUB t 5\n", 5, b""),
        "E_BAD_MESSAGE",
        "DPUB failed to read message body",
    );
    // IDENTIFY / AUTH.
    eb(
        b"IDENTIFY\n",
        "E_BAD_BODY",
        "IDENTIFY failed to read body size",
    );
    eb(
        &with_size(b"IDENTIFY\n", 10, b"{}"),
        "E_BAD_BODY",
        "IDENTIFY failed to read body",
    );
    eb(
        b"AUTH\n\0\0\0",
        "E_BAD_BODY",
        "AUTH failed to read body size",
    );
    eb(
        &with_size(b"AUTH\n", 3, b"x"),
        "E_BAD_BODY",
        "AUTH failed to read body",
    );
    // MPUB, at each step.
    eb(b"MPUB t\n", "E_BAD_BODY", "MPUB failed to read body size");
    eb(
        &with_size(b"MPUB t\n", 20, &[0, 0]),
        "E_BAD_BODY",
        "MPUB failed to read message count",
    );
    let records = mpub_records(&[b"abc", b"defg"]);
    let full = with_body(b"MPUB t\n", &records);
    let first_record_end = 7 + 4 + 4 + 4 + 3;
    eb(
        &full[..first_record_end],
        "E_BAD_MESSAGE",
        "MPUB failed to read message(1) body size",
    );
    eb(
        &full[..first_record_end + 2],
        "E_BAD_MESSAGE",
        "MPUB failed to read message(1) body size",
    );
    eb(
        &full[..first_record_end + 5],
        "E_BAD_MESSAGE",
        "MPUB failed to read message body",
    );
    eb(
        &full[..7 + 4 + 4 + 4 + 1],
        "E_BAD_MESSAGE",
        "MPUB failed to read message body",
    );
    eb(
        &full[..7 + 4 + 4],
        "E_BAD_MESSAGE",
        "MPUB failed to read message(0) body size",
    );
    // A partial line, or nothing, closes quietly.
    let l = limits();
    let c = ctx(ClientState::Init, &l);
    assert_eq!(parse_at_eof(b"", &c), None);
    assert_eq!(parse_at_eof(b"PUB t", &c), None);
    assert_eq!(parse_at_eof(b"NOP", &c), None);
    // Validation errors still win at EOF.
    assert_fatal(
        &eof_err(&with_size(b"PUB t\n", 0, b"")),
        "E_BAD_MESSAGE",
        "PUB invalid message body size 0",
    );
    assert_fatal(
        &eof_err_in(ClientState::Subscribed, b"PUB bad!\n"),
        "E_BAD_TOPIC",
        "PUB topic name \"bad!\" is not valid",
    );
}

#[test]
fn every_proper_prefix_of_a_body_command_fails_at_eof() {
    let l = limits();
    let c = ctx(ClientState::Init, &l);
    let cases: Vec<(Vec<u8>, usize)> = vec![
        (with_body(b"PUB t\n", b"hello"), 6),
        (with_body(b"DPUB t 1\n", b"hello"), 9),
        (with_body(b"IDENTIFY\n", b"{}"), 9),
        (with_body(b"AUTH\n", b"abc"), 5),
        (mpub("t", &[b"a", b"bb"]), 7),
    ];
    for (buf, line_len) in cases {
        for k in 0..buf.len() {
            let got = parse_at_eof(&buf[..k], &c);
            if k < line_len {
                assert_eq!(got, None, "prefix {k} of {buf:?}");
            } else {
                let e = got.unwrap_or_else(|| panic!("prefix {k} of {buf:?}"));
                assert!(e.desc.contains("failed to read"), "{e:?}");
                assert!(e.fatal);
            }
        }
    }
}

#[test]
fn overlong_line_without_newline_errors() {
    let l = limits();
    let c = ctx(ClientState::Init, &l);
    let mut buf = b"PUB ".to_vec();
    buf.resize(MAX_LINE + 1, b'a');
    let e = parse(&buf, &c).unwrap_err();
    assert_eq!(e.code, "E_INVALID");
    assert!(e.fatal);
    assert!(parse_at_eof(&buf, &c).is_some());
    // A shorter partial line just waits.
    assert_eq!(parse(&buf[..1000], &c), Ok(None));
    // A long line with its newline is parsed (here: an invalid topic).
    let mut line = b"PUB ".to_vec();
    line.resize(200, b'a');
    line.push(b'\n');
    assert_eq!(parse(&line, &c).unwrap_err().code, "E_BAD_TOPIC");
}

#[test]
fn proto_error_display_and_constructors() {
    let e = ProtoError::bad_protocol();
    assert_eq!(e.to_string(), "E_BAD_PROTOCOL");
    assert!(e.fatal);
    let e = ProtoError::client("E_FIN_FAILED", "FIN x failed ID not in flight");
    assert!(!e.fatal);
    assert_eq!(e.to_string(), "E_FIN_FAILED FIN x failed ID not in flight");
    let e = ProtoError::fatal("E_INVALID", "x");
    assert!(e.fatal);
    assert_eq!(e.to_string(), "E_INVALID x");
}

#[test]
fn frames_have_exact_bytes() {
    assert_eq!(MAGIC_V2, b"  V2");
    let mut out = Vec::new();
    write_response(&mut out, b"OK");
    assert_eq!(out, [0, 0, 0, 6, 0, 0, 0, 0, 0x4f, 0x4b]);

    let mut out = Vec::new();
    write_response(&mut out, HEARTBEAT);
    let mut want = vec![0, 0, 0, 0x0f, 0, 0, 0, 0];
    want.extend_from_slice(b"_heartbeat_");
    assert_eq!(out, want);

    let mut out = Vec::new();
    write_error(
        &mut out,
        &ProtoError::fatal("E_INVALID", "cannot RDY in current state"),
    );
    let text = b"E_INVALID cannot RDY in current state";
    let mut want = ((4 + text.len()) as i32).to_be_bytes().to_vec();
    want.extend_from_slice(&[0, 0, 0, 1]);
    want.extend_from_slice(text);
    assert_eq!(out, want);

    let mut out = Vec::new();
    write_error(&mut out, &ProtoError::bad_protocol());
    let mut want = vec![0, 0, 0, 18, 0, 0, 0, 1];
    want.extend_from_slice(b"E_BAD_PROTOCOL");
    assert_eq!(out, want);

    // Frames append.
    let mut out = b"xx".to_vec();
    write_frame(&mut out, FRAME_MESSAGE, b"");
    assert_eq!(out, [b'x', b'x', 0, 0, 0, 4, 0, 0, 0, 2]);
}

#[test]
fn message_frame_layout() {
    let id = *b"18a643cfc5669000";
    let ts: i64 = 0x18ea_d900_1122_3344;
    let mut out = Vec::new();
    write_message(&mut out, ts, 1, &id, b"hello");
    let mut want = vec![0, 0, 0, 0x23, 0, 0, 0, 2];
    want.extend_from_slice(&ts.to_be_bytes());
    want.extend_from_slice(&[0, 1]);
    want.extend_from_slice(&id);
    want.extend_from_slice(b"hello");
    assert_eq!(out, want);
    assert_eq!(out.len(), 8 + MESSAGE_HEADER_LEN + 5);

    let (frame, used) = parse_frame(&out, 1 << 20).unwrap().unwrap();
    assert_eq!(used, out.len());
    assert_eq!(frame.frame_type, FRAME_MESSAGE);
    let m = decode_message(frame.data).unwrap();
    assert_eq!(
        m,
        DecodedMessage {
            timestamp: ts,
            attempts: 1,
            id,
            body: b"hello"
        }
    );
}

#[test]
fn decode_message_edges() {
    assert_eq!(decode_message(&[0u8; 25]), None);
    let m = decode_message(&[0u8; 26]).unwrap();
    assert_eq!(m.body, b"");
    assert_eq!(m.attempts, 0);
    let mut out = Vec::new();
    write_message(&mut out, -1, u16::MAX, ID, b"");
    let m = decode_message(&out[8..]).unwrap();
    assert_eq!(m.timestamp, -1);
    assert_eq!(m.attempts, 65535);
    assert_eq!(&m.id, ID);
}

#[test]
fn parse_frame_round_trips_and_waits() {
    let mut out = Vec::new();
    write_response(&mut out, b"OK");
    write_error(&mut out, &ProtoError::fatal("E_INVALID", "x"));
    write_message(&mut out, 42, 3, ID, b"body");
    write_response(&mut out, HEARTBEAT);

    let mut pos = 0;
    let mut frames = Vec::new();
    while let Some((f, used)) = parse_frame(&out[pos..], 1 << 20).unwrap() {
        assert!(used <= out.len() - pos);
        frames.push((f.frame_type, f.data.to_vec()));
        pos += used;
    }
    assert_eq!(pos, out.len());
    assert_eq!(frames.len(), 4);
    assert_eq!(frames[0], (FRAME_RESPONSE, b"OK".to_vec()));
    assert_eq!(frames[1], (FRAME_ERROR, b"E_INVALID x".to_vec()));
    assert_eq!(frames[2].0, FRAME_MESSAGE);
    let m = decode_message(&frames[2].1).unwrap();
    assert_eq!((m.timestamp, m.attempts, m.body), (42, 3, &b"body"[..]));
    assert_eq!(frames[3], (FRAME_RESPONSE, HEARTBEAT.to_vec()));

    // Every proper prefix of one frame waits.
    let mut one = Vec::new();
    write_message(&mut one, 1, 1, ID, b"abc");
    for k in 0..one.len() {
        assert_eq!(parse_frame(&one[..k], 1 << 20), Ok(None), "prefix {k}");
    }
}

#[test]
fn parse_frame_rejects_bad_sizes() {
    assert!(parse_frame(&(-1i32).to_be_bytes(), 100).is_err());
    assert!(parse_frame(&3i32.to_be_bytes(), 100).is_err());
    assert!(parse_frame(&101i32.to_be_bytes(), 100).is_err());
    assert_eq!(
        parse_frame(&1_213_486_160i32.to_be_bytes(), 1 << 20),
        Err("invalid frame size 1213486160".to_string())
    );
    // Exactly 4: an empty frame.
    let buf = [0, 0, 0, 4, 0, 0, 0, 0];
    assert_eq!(
        parse_frame(&buf, 100),
        Ok(Some((
            Frame {
                frame_type: 0,
                data: b""
            },
            8
        )))
    );
    // The maximum itself is fine.
    let mut buf = 100i32.to_be_bytes().to_vec();
    buf.extend_from_slice(&[0u8; 100]);
    assert_eq!(parse_frame(&buf, 100).unwrap().unwrap().1, 104);
}

#[test]
fn read_i32_bounds() {
    assert_eq!(read_i32(&[0, 0, 1, 0], 0), Some(256));
    assert_eq!(read_i32(&[9, 0xff, 0xff, 0xff, 0xfe], 1), Some(-2));
    assert_eq!(read_i32(&[0, 0, 0], 0), None);
    assert_eq!(read_i32(&[0, 0, 0, 0], 1), None);
    assert_eq!(read_i32(&[0, 0, 0, 0], usize::MAX), None);
}

/// xorshift64, seeded, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_input_never_panics_or_overreads() {
    let fragments: Vec<Vec<u8>> = {
        let mut f: Vec<Vec<u8>> = [
            &b"IDENTIFY"[..],
            b"AUTH",
            b"SUB",
            b"RDY",
            b"FIN",
            b"REQ",
            b"TOUCH",
            b"CLS",
            b"NOP",
            b"PUB",
            b"MPUB",
            b"DPUB",
            b" ",
            b"\n",
            b"\r\n",
            b"t",
            b"c#ephemeral",
            b"0123456789abcdef",
            b"123",
            b"\xff",
        ]
        .iter()
        .map(|s| s.to_vec())
        .collect();
        for n in [0i32, 1, 2, 5, 16, 100, 1000, -1, i32::MAX, i32::MIN] {
            f.push(n.to_be_bytes().to_vec());
        }
        f
    };
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let states = [
        ClientState::Init,
        ClientState::Subscribed,
        ClientState::Closing,
    ];
    for round in 0..30_000 {
        let mut buf = Vec::new();
        let parts = rng.below(12);
        for _ in 0..parts {
            if rng.below(3) == 0 {
                let n = rng.below(8);
                for _ in 0..n {
                    buf.push(rng.next() as u8);
                }
            } else {
                buf.extend_from_slice(&fragments[rng.below(fragments.len())]);
            }
        }
        let l = Limits {
            max_msg_size: [0, 1, 5, 100, u64::MAX][rng.below(5)],
            max_body_size: [0, 3, 4, 9, 1000, u64::MAX][rng.below(6)],
            max_rdy_count: [0, 2500, u64::MAX][rng.below(3)],
            max_req_timeout_ms: [0, 3_600_000, u64::MAX][rng.below(3)],
        };
        let c = ParseContext {
            state: states[rng.below(3)],
            heartbeats_enabled: rng.below(4) != 0,
            limits: &l,
            tls_missing: false,
        };
        // Parse the whole buffer as a connection would.
        let mut pos = 0;
        while let Ok(Some((cmd, used))) = parse(&buf[pos..], &c) {
            assert!(used > 0, "round {round}: zero-length {cmd:?}");
            assert!(
                used <= buf.len() - pos,
                "round {round}: used {used} of {}",
                buf.len() - pos
            );
            if let Command::Mpub { bodies, .. } = cmd {
                assert_eq!(bodies.count(), bodies.len());
            }
            pos += used;
        }
        let _ = parse_at_eof(&buf[pos..], &c);
        let _ = parse_at_eof(&buf, &c);
        let _ = parse_frame(&buf, 1 << 20);
        let _ = decode_message(&buf);
        let _ = go_quote(&buf);
    }
}
