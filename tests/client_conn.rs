//! The client library's `Conn` against the real nsqd (IDENTIFY negotiation, commands,
//! messages, heartbeats) and against a fake nsqd that requires AUTH.

mod common;

use common::Nsqd;
use nsq::client::{Config, Conn, Error, Frame};
use nsq::proto::commands;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

fn cmd(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    f(&mut out);
    out
}

#[test]
fn identify_negotiates_and_messages_flow() {
    let nsqd = Nsqd::start(&["--max-rdy-count=300"]);
    let config = Config {
        msg_timeout: Duration::from_secs(30),
        ..Config::default()
    };
    let addr = nsqd.tcp.to_string();
    let mut conn = Conn::connect(&addr, &config).expect("connect");
    assert_eq!(conn.settings.max_rdy_count, 300);
    assert_eq!(conn.settings.msg_timeout, 30_000);
    assert!(!conn.settings.auth_required);
    assert_eq!(conn.settings.version, nsq::NSQ_VERSION);

    let reply = conn
        .command(&cmd(|o| commands::publish(o, "conn_t", b"hello")))
        .unwrap();
    assert_eq!(reply, b"OK");
    let err = conn
        .command(&cmd(|o| commands::publish(o, "bad!topic", b"x")))
        .unwrap_err();
    assert_eq!(err.code(), Some("E_BAD_TOPIC"), "{err}");

    let mut sub = Conn::connect(&addr, &config).unwrap();
    assert_eq!(
        sub.command(&cmd(|o| commands::sub(o, "conn_t", "c")))
            .unwrap(),
        b"OK"
    );
    sub.writer.send(&cmd(|o| commands::rdy(o, 1))).unwrap();
    match sub.reader.read_frame().unwrap() {
        Frame::Message(m) => {
            assert_eq!((m.body.as_slice(), m.attempts), (&b"hello"[..], 1));
            assert_eq!(m.nsqd_address, addr);
            sub.writer.send(&cmd(|o| commands::fin(o, &m.id))).unwrap();
        }
        other => panic!("expected a message, got {other:?}"),
    }
    sub.writer.send(&cmd(commands::cls)).unwrap();
    assert_eq!(
        sub.reader.read_frame().unwrap(),
        Frame::Response(b"CLOSE_WAIT".to_vec())
    );
}

#[test]
fn heartbeats_are_answered_so_the_connection_stays_up() {
    let nsqd = Nsqd::start(&[]);
    let config = Config {
        heartbeat_interval: Some(Duration::from_millis(1000)),
        read_timeout: Duration::from_secs(5),
        ..Config::default()
    };
    let Conn {
        mut reader, writer, ..
    } = Conn::connect(&nsqd.tcp.to_string(), &config).unwrap();
    // nsqd closes a client that misses two heartbeats (2 s here): read across 3.5 s.
    let handle = std::thread::spawn(move || reader.read_frame());
    std::thread::sleep(Duration::from_millis(3500));
    assert!(
        !handle.is_finished(),
        "only heartbeats came, and none reached the caller"
    );
    writer
        .send(&cmd(|o| commands::publish(o, "hb", b"x")))
        .unwrap();
    let frame = handle.join().unwrap().expect("still connected");
    assert_eq!(frame, Frame::Response(b"OK".to_vec()));
}

/// A fake nsqd that answers IDENTIFY with `auth_required` and AUTH with `reply`.
fn fake_auth_nsqd(reply: &'static [u8]) -> (String, std::thread::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut replied_identify = false;
        while Instant::now() < deadline {
            let n = match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            seen.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&seen).into_owned();
            if !replied_identify && text.contains("IDENTIFY") && text.contains('}') {
                let json = br#"{"max_rdy_count":2500,"version":"1.3.0","auth_required":true}"#;
                let mut frame = ((json.len() + 4) as i32).to_be_bytes().to_vec();
                frame.extend_from_slice(&0i32.to_be_bytes());
                frame.extend_from_slice(json);
                s.write_all(&frame).unwrap();
                replied_identify = true;
            }
            if text.contains("AUTH\n") && seen.ends_with(b"secret") {
                let mut frame = ((reply.len() + 4) as i32).to_be_bytes().to_vec();
                let kind: i32 = if reply.starts_with(b"E_") { 1 } else { 0 };
                frame.extend_from_slice(&kind.to_be_bytes());
                frame.extend_from_slice(reply);
                s.write_all(&frame).unwrap();
            }
        }
        seen
    });
    (addr, handle)
}

#[test]
fn auth_required_without_a_secret_is_a_clear_error() {
    let (addr, server) = fake_auth_nsqd(b"unused");
    let err = Conn::connect(&addr, &Config::default()).unwrap_err();
    assert!(matches!(err, Error::Auth(_)), "{err:?}");
    assert!(err.to_string().contains("no auth_secret"), "{err}");
    drop(err);
    let seen = server.join().unwrap();
    assert!(
        !String::from_utf8_lossy(&seen).contains("AUTH"),
        "no AUTH without a secret"
    );
}

#[test]
fn auth_is_sent_when_required() {
    let (addr, server) =
        fake_auth_nsqd(br#"{"identity":"alice","identity_url":"","permission_count":1}"#);
    let config = Config {
        auth_secret: "secret".into(),
        ..Config::default()
    };
    let conn = Conn::connect(&addr, &config).expect("authenticated");
    assert!(conn.settings.auth_required);
    conn.close();
    let seen = server.join().unwrap();
    assert!(seen.ends_with(b"AUTH\n\x00\x00\x00\x06secret"), "{seen:?}");

    let (addr, server) = fake_auth_nsqd(b"E_AUTH_FAILED AUTH failed");
    let err = Conn::connect(&addr, &config).unwrap_err();
    assert!(
        matches!(err, Error::Auth(ref t) if t.contains("E_AUTH_FAILED")),
        "{err:?}"
    );
    drop(err);
    server.join().unwrap();
}

#[test]
fn dial_failure_is_an_io_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = Conn::connect(&format!("127.0.0.1:{port}"), &Config::default()).unwrap_err();
    assert!(matches!(err, Error::Io(_)), "{err:?}");
}
