//! The client library's `Conn` against the real nsqd (IDENTIFY negotiation, commands,
//! messages, heartbeats) and against a fake nsqd that requires AUTH.

mod common;

use common::{eventually, Nsqd, WAIT};
use nsq::client::{Config, Conn, Error, Frame};
use nsq::proto::commands;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// One client command: its line (without `\n`) and, for those that have one, its body.
type Command = (String, Option<Vec<u8>>);

/// Takes the complete commands off the front of `buf` (after the `  V2` magic).
fn take_commands(buf: &mut Vec<u8>, magic_seen: &mut bool) -> Vec<Command> {
    let mut out = Vec::new();
    if !*magic_seen {
        if buf.len() < 4 {
            return out;
        }
        assert_eq!(&buf[..4], b"  V2", "magic");
        buf.drain(..4);
        *magic_seen = true;
    }
    while let Some(end) = buf.iter().position(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(&buf[..end]).into_owned();
        let has_body =
            ["IDENTIFY", "AUTH", "PUB", "MPUB", "DPUB"].contains(&line.split(' ').next().unwrap());
        if !has_body {
            buf.drain(..=end);
            out.push((line, None));
            continue;
        }
        let Some(size) = buf.get(end + 1..end + 5) else {
            break;
        };
        let size = i32::from_be_bytes(size.try_into().unwrap()) as usize;
        if buf.len() < end + 5 + size {
            break;
        }
        let body = buf[end + 5..end + 5 + size].to_vec();
        buf.drain(..end + 5 + size);
        out.push((line, Some(body)));
    }
    out
}

/// Takes the complete `(type, data)` frames off the front of `buf`.
fn take_frames(buf: &mut Vec<u8>) -> Vec<(i32, Vec<u8>)> {
    let mut out = Vec::new();
    while buf.len() >= 4 {
        let size = i32::from_be_bytes(buf[..4].try_into().unwrap()) as usize;
        if buf.len() < 4 + size {
            break;
        }
        let kind = i32::from_be_bytes(buf[4..8].try_into().unwrap());
        out.push((kind, buf[8..4 + size].to_vec()));
        buf.drain(..4 + size);
    }
    out
}

/// What went through a [`tap`]: the client's commands and nsqd's frames.
#[derive(Default)]
struct Seen {
    commands: Vec<Command>,
    frames: Vec<(i32, Vec<u8>)>,
}

/// A proxy in front of nsqd for one connection, recording what goes each way.
fn tap(nsqd: SocketAddr) -> (SocketAddr, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = seen.clone();
    std::thread::spawn(move || {
        let (client, _) = listener.accept().unwrap();
        let server = TcpStream::connect(nsqd).unwrap();
        let up = (client.try_clone().unwrap(), server.try_clone().unwrap());
        let down = (server, client);
        let rec = record.clone();
        std::thread::spawn(move || {
            let (mut from, mut to) = up;
            let (mut buf, mut magic) = (Vec::new(), false);
            pump(&mut from, &mut to, |bytes| {
                buf.extend_from_slice(bytes);
                let commands = take_commands(&mut buf, &mut magic);
                rec.lock().unwrap().commands.extend(commands);
            });
        });
        let (mut from, mut to) = down;
        let mut buf = Vec::new();
        pump(&mut from, &mut to, |bytes| {
            buf.extend_from_slice(bytes);
            let frames = take_frames(&mut buf);
            record.lock().unwrap().frames.extend(frames);
        });
    });
    (addr, seen)
}

/// Forwards `from` to `to`, showing every chunk to `saw` first; closes both at the end.
fn pump(from: &mut TcpStream, to: &mut TcpStream, mut saw: impl FnMut(&[u8])) {
    let mut chunk = [0u8; 16384];
    loop {
        let n = match from.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        saw(&chunk[..n]);
        if to.write_all(&chunk[..n]).is_err() {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

#[test]
fn heartbeats_are_answered_so_the_connection_stays_up() {
    let nsqd = Nsqd::start(&[]);
    let (addr, seen) = tap(nsqd.tcp);
    let config = Config {
        heartbeat_interval: Some(Duration::from_millis(1000)),
        read_timeout: WAIT,
        ..Config::default()
    };
    let Conn {
        mut reader, writer, ..
    } = Conn::connect(&addr.to_string(), &config).unwrap();
    let handle = std::thread::spawn(move || reader.read_frame());
    // nsqd closes a client silent for two heartbeats: see three go by, each answered
    // with a NOP by the library (the caller's read_frame is still waiting).
    let heartbeat = (0, b"_heartbeat_".to_vec());
    eventually("three heartbeats, each answered", || {
        let seen = seen.lock().unwrap();
        let beats = seen.frames.iter().filter(|f| **f == heartbeat).count();
        let nops = seen.commands.iter().filter(|c| c.0 == "NOP").count();
        beats >= 3 && nops >= 3
    });
    writer
        .send(&cmd(|o| commands::publish(o, "hb", b"x")))
        .unwrap();
    // Still connected, and the first frame the caller gets is the PUB's answer: no
    // heartbeat reached it.
    let frame = handle.join().unwrap().expect("still connected");
    assert_eq!(frame, Frame::Response(b"OK".to_vec()));
    let seen = seen.lock().unwrap();
    let names: Vec<&str> = seen.commands.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names[0], "IDENTIFY", "{names:?}");
    assert_eq!(names.last(), Some(&"PUB hb"), "{names:?}");
    assert!(
        names[1..names.len() - 1].iter().all(|n| *n == "NOP"),
        "{names:?}"
    );
}

/// A fake nsqd that answers IDENTIFY with `auth_required` and AUTH with `reply`;
/// returns the commands it received once the client hangs up.
fn fake_auth_nsqd(reply: &'static [u8]) -> (String, std::thread::JoinHandle<Vec<Command>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        let frame = |kind: i32, data: &[u8]| {
            let mut out = ((data.len() + 4) as i32).to_be_bytes().to_vec();
            out.extend_from_slice(&kind.to_be_bytes());
            out.extend_from_slice(data);
            out
        };
        let (mut buf, mut magic) = (Vec::new(), false);
        let mut seen = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = match s.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            buf.extend_from_slice(&chunk[..n]);
            for command in take_commands(&mut buf, &mut magic) {
                match command.0.as_str() {
                    "IDENTIFY" => {
                        let json =
                            br#"{"max_rdy_count":2500,"version":"1.3.0","auth_required":true}"#;
                        s.write_all(&frame(0, json)).unwrap();
                    }
                    "AUTH" => {
                        let kind = if reply.starts_with(b"E_") { 1 } else { 0 };
                        s.write_all(&frame(kind, reply)).unwrap();
                    }
                    _ => {}
                }
                seen.push(command);
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
    let names: Vec<&str> = seen.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["IDENTIFY"], "no AUTH without a secret");
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
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].0, "IDENTIFY");
    assert_eq!(seen[1], ("AUTH".to_string(), Some(b"secret".to_vec())));

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
    // Nothing can listen on port 0: the dial is refused, every time.
    let err = Conn::connect("127.0.0.1:0", &Config::default()).unwrap_err();
    assert!(matches!(err, Error::Io(_)), "{err:?}");
}
