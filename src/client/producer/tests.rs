//! The producer against a scripted fake nsqd on loopback.

use super::*;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

/// The longest any one step of a test may wait.
const WAIT: Duration = Duration::from_secs(5);

const IDENTIFY_REPLY: &[u8] = br#"{"max_rdy_count":2500,"version":"1.3.0","max_msg_timeout":900000,"msg_timeout":60000,"tls_v1":false,"deflate":false,"deflate_level":6,"max_deflate_level":6,"snappy":false,"sample_rate":0,"auth_required":false,"output_buffer_size":16384,"output_buffer_timeout":250}"#;

/// The fake nsqd's end of one connection.
struct Peer {
    stream: TcpStream,
}

impl Peer {
    /// Accepts the next connection (within [`WAIT`]) and does the handshake: the
    /// magic, IDENTIFY, a JSON reply.
    fn accept(listener: &TcpListener) -> Peer {
        let deadline = Instant::now() + WAIT;
        let stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(5))
                }
                Err(e) => panic!("fake nsqd accept: {e}"),
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut peer = Peer { stream };
        let mut magic = [0u8; 4];
        peer.stream.read_exact(&mut magic).unwrap();
        assert_eq!(&magic, proto::MAGIC_V2);
        let body = peer.expect("IDENTIFY");
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["feature_negotiation"], true);
        peer.frame(proto::FRAME_RESPONSE, IDENTIFY_REPLY);
        peer
    }

    /// The next command line and its body (empty for bodiless commands); `None` once
    /// the producer has closed the connection.
    fn command(&mut self) -> Option<(String, Vec<u8>)> {
        let mut line = Vec::new();
        let mut byte = [0u8];
        loop {
            match self.stream.read(&mut byte) {
                Ok(0) => return None,
                Ok(_) if byte[0] == b'\n' => break,
                Ok(_) => line.push(byte[0]),
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return None,
                Err(e) => panic!("fake nsqd read: {e}"),
            }
        }
        let line = String::from_utf8(line).unwrap();
        let mut body = Vec::new();
        if ["PUB ", "MPUB ", "DPUB ", "IDENTIFY", "AUTH"]
            .iter()
            .any(|p| line.starts_with(p))
        {
            let mut size = [0u8; 4];
            self.stream.read_exact(&mut size).unwrap();
            body.resize(u32::from_be_bytes(size) as usize, 0);
            self.stream.read_exact(&mut body).unwrap();
        }
        Some((line, body))
    }

    /// Reads a command, checks its line and returns its body.
    fn expect(&mut self, want: &str) -> Vec<u8> {
        let (line, body) = self.command().expect("a command, not EOF");
        assert_eq!(line, want);
        body
    }

    fn expect_eof(&mut self) {
        if let Some((line, _)) = self.command() {
            panic!("expected the producer to close, got {line:?}");
        }
    }

    fn frame(&mut self, frame_type: i32, data: &[u8]) {
        let mut out = ((data.len() + 4) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(&frame_type.to_be_bytes());
        out.extend_from_slice(data);
        self.stream.write_all(&out).unwrap();
    }

    fn ok(&mut self) {
        self.frame(proto::FRAME_RESPONSE, b"OK");
    }
}

/// Runs `script` as a fake nsqd on a free loopback port; returns its address.
fn fake(script: impl FnOnce(TcpListener) + Send + 'static) -> (String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    (addr, thread::spawn(move || script(listener)))
}

fn producer(addr: &str) -> Producer {
    Producer::new(addr, Config::default()).unwrap()
}

#[test]
fn producer_is_send_and_sync() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Producer>();
}

#[test]
fn new_checks_the_config_and_does_not_connect() {
    let config = Config {
        sample_rate: 100,
        ..Config::default()
    };
    let e = Producer::new("127.0.0.1:4150", config).unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e}");

    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let p = producer(&free.to_string());
    assert_eq!(p.addr(), free.to_string());
    assert!(matches!(p.publish("t", b"x"), Err(Error::Io(_))));
}

#[test]
fn bad_topic_names_fail_before_anything_is_sent() {
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let p = producer(&free.to_string());
    let long = "x".repeat(65);
    for topic in ["", "a b", "a\nPUB", long.as_str(), "#ephemeral"] {
        let e = p.publish(topic, b"x").unwrap_err();
        assert!(matches!(e, Error::InvalidName(_)), "{topic:?}: {e}");
    }
    let (tx, rx) = mpsc::channel::<Transaction<()>>();
    let e = p
        .multi_publish_async("a/b", &[b"x"], tx.clone(), ())
        .unwrap_err();
    assert!(matches!(e, Error::InvalidName(_)), "{e}");
    let e = p
        .deferred_publish_async("a/b", Duration::ZERO, b"x", tx, ())
        .unwrap_err();
    assert_eq!(e.to_string(), r#"invalid topic name "a/b""#);
    assert!(rx.recv().is_err(), "no transaction for a refused call");
}

#[test]
fn commands_go_out_as_go_nsq_writes_them_and_ok_is_success() {
    let (addr, server) = fake(|listener| {
        let mut peer = Peer::accept(&listener);
        assert_eq!(peer.expect("PUB t"), b"hello");
        peer.ok();
        let mut mpub = Vec::new();
        commands::multi_publish(&mut mpub, "t", &[&b"a"[..], b"bc"]);
        assert_eq!(peer.expect("MPUB t"), mpub[b"MPUB t\n".len() + 4..]);
        peer.ok();
        assert_eq!(peer.expect("DPUB t 1500"), b"later");
        peer.ok();
        peer.expect_eof();
    });
    let p = producer(&addr);
    p.publish("t", b"hello").unwrap();
    p.multi_publish("t", &[&b"a"[..], b"bc"]).unwrap();
    p.deferred_publish("t", Duration::from_millis(1500), b"later")
        .unwrap();
    p.stop();
    server.join().unwrap();
}

#[test]
fn an_error_frame_fails_its_command_and_ends_the_connection() {
    let (addr, server) = fake(|listener| {
        let mut first = Peer::accept(&listener);
        first.expect("PUB t");
        first.expect("PUB t");
        first.frame(
            proto::FRAME_ERROR,
            b"E_BAD_MESSAGE PUB invalid message body size 0",
        );
        // nsqd closes after an error to a publish; the producer must not wait for it.
        first.expect_eof();
        let mut second = Peer::accept(&listener);
        second.expect("PUB t");
        second.ok();
        second.expect_eof();
    });
    let p = producer(&addr);
    let (tx, rx) = mpsc::channel();
    p.publish_async("t", b"", tx.clone(), 0).unwrap();
    p.publish_async("t", b"behind", tx, 1).unwrap();
    let t = rx.recv_timeout(WAIT).unwrap();
    assert_eq!(t.args, 0);
    let e = t.result.unwrap_err();
    assert!(matches!(e, Error::Protocol(_)));
    assert_eq!(e.code(), Some("E_BAD_MESSAGE"));
    assert_eq!(
        e.to_string(),
        "E_BAD_MESSAGE PUB invalid message body size 0"
    );
    let t = rx.recv_timeout(WAIT).unwrap();
    assert_eq!(t.args, 1);
    assert!(matches!(t.result, Err(Error::NotConnected)));
    // The result arrived with the connection already given up: this call redials.
    p.publish("t", b"next").unwrap();
    drop(p);
    server.join().unwrap();
}

#[test]
fn a_heartbeat_is_answered_with_nop_and_answers_no_command() {
    let (addr, server) = fake(|listener| {
        let mut peer = Peer::accept(&listener);
        peer.expect("PUB t");
        peer.frame(proto::FRAME_RESPONSE, proto::HEARTBEAT);
        assert_eq!(peer.expect("NOP"), b"");
        peer.ok();
        peer.expect_eof();
    });
    let p = producer(&addr);
    p.publish("t", b"x").unwrap();
    drop(p);
    server.join().unwrap();
}

#[test]
fn a_lost_connection_fails_pending_commands_in_order_then_the_next_call_reconnects() {
    let (addr, server) = fake(|listener| {
        let mut first = Peer::accept(&listener);
        first.expect("PUB t");
        first.expect("MPUB t");
        first.expect("DPUB t 10");
        first.ok();
        drop(first);
        let mut second = Peer::accept(&listener);
        second.expect("PUB t");
        second.ok();
        second.expect_eof();
    });
    let p = producer(&addr);
    let (tx, rx) = mpsc::channel();
    p.publish_async("t", b"a", tx.clone(), 0).unwrap();
    p.multi_publish_async("t", &[b"b"], tx.clone(), 1).unwrap();
    p.deferred_publish_async("t", Duration::from_millis(10), b"c", tx, 2)
        .unwrap();
    let got: Vec<_> = (0..3).map(|_| rx.recv_timeout(WAIT).unwrap()).collect();
    assert_eq!(got.iter().map(|t| t.args).collect::<Vec<_>>(), [0, 1, 2]);
    assert!(got[0].result.is_ok());
    assert!(matches!(got[1].result, Err(Error::NotConnected)));
    assert!(matches!(got[2].result, Err(Error::NotConnected)));
    p.publish("t", b"again").unwrap();
    drop(p);
    server.join().unwrap();
}

#[test]
fn a_stray_response_or_message_closes_the_connection() {
    let mut message = 1_700_000_000_000_000_000i64.to_be_bytes().to_vec();
    message.extend_from_slice(&1u16.to_be_bytes());
    message.extend_from_slice(b"0123456789abcdef");
    message.extend_from_slice(b"body");
    let (closed_tx, closed) = mpsc::channel();
    let (addr, server) = fake(move |listener| {
        for (frame_type, data) in [(proto::FRAME_RESPONSE, &b"OK"[..]), (2, &message)] {
            let mut peer = Peer::accept(&listener);
            peer.expect("NOP");
            peer.frame(frame_type, data);
            peer.expect_eof();
            closed_tx.send(()).unwrap();
        }
        let mut peer = Peer::accept(&listener);
        peer.expect("PUB t");
        peer.ok();
        peer.expect_eof();
    });
    let p = producer(&addr);
    for _ in 0..2 {
        p.ping().unwrap();
        closed.recv_timeout(WAIT).unwrap();
    }
    p.publish("t", b"x").unwrap();
    drop(p);
    server.join().unwrap();
}

#[test]
fn stop_fails_waiting_commands_and_later_calls_are_stopped() {
    let (got_tx, got) = mpsc::channel();
    let (addr, server) = fake(move |listener| {
        let mut peer = Peer::accept(&listener);
        peer.expect("PUB t");
        peer.expect("PUB t");
        got_tx.send(()).unwrap();
        peer.expect_eof();
    });
    let p = Arc::new(producer(&addr));
    let (tx, rx) = mpsc::channel();
    p.publish_async("t", b"async", tx.clone(), 7).unwrap();
    let waiting = {
        let p = Arc::clone(&p);
        thread::spawn(move || p.publish("t", b"sync"))
    };
    got.recv_timeout(WAIT).unwrap();
    p.stop();
    let t = rx.recv_timeout(WAIT).unwrap();
    assert_eq!(t.args, 7);
    assert!(matches!(t.result, Err(Error::NotConnected)));
    assert!(matches!(waiting.join().unwrap(), Err(Error::NotConnected)));
    assert!(matches!(p.publish("t", b"x"), Err(Error::Stopped)));
    assert!(matches!(
        p.publish_async("t", b"x", tx, 8),
        Err(Error::Stopped)
    ));
    assert!(matches!(p.ping(), Err(Error::Stopped)));
    p.stop();
    server.join().unwrap();
}
