//! Unit tests of the V1 handler on a real reactor, and of the IDENTIFY reply bytes.

use super::*;
use crate::lookupd::db::{Db, PeerInfo};
use crate::reactor::{Reactor, Wakeup};
use handler::lock;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use std::time::Instant;

const NSQD_IDENTIFY: &str = r#"{"broadcast_address":"127.0.0.1","hostname":"vm","http_port":4151,"tcp_port":4150,"version":"1.3.0","topology_region":"","topology_zone":""}"#;
const HOUR: Duration = Duration::from_secs(3600);

/// A V1 handler on its own reactor thread, stopped on drop.
struct Running {
    addr: SocketAddr,
    db: Arc<Mutex<Db>>,
    wakeup: Wakeup,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl Running {
    fn start() -> Running {
        let reactor = Reactor::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = reactor.local_addr().unwrap();
        let wakeup = reactor.wakeup();
        let db = Arc::new(Mutex::new(Db::new()));
        let mut handler = V1Handler::new(db.clone(), identity());
        let thread = std::thread::spawn(move || reactor.run(&mut handler));
        Running {
            addr,
            db,
            wakeup,
            thread: Some(thread),
        }
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }

    fn lookup(&self, topic: &str) -> Option<(Vec<String>, Vec<PeerInfo>)> {
        lock(&self.db).lookup(topic, Instant::now(), HOUR, HOUR)
    }

    /// Waits until the DB satisfies `f` (the reactor works on its own thread).
    fn wait_for(&self, what: &str, f: impl Fn(&Db) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !f(&lock(&self.db)) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.wakeup.stop();
        if let Some(t) = self.thread.take() {
            t.join().unwrap().unwrap();
        }
    }
}

fn identity() -> Identity {
    Identity {
        broadcast_address: "127.0.0.1".into(),
        hostname: "lookup<host>".into(),
        tcp_port: 4160,
        http_port: 4161,
        version: "1.3.0".into(),
    }
}

fn identify_bytes(json: &str) -> Vec<u8> {
    let mut v = b"IDENTIFY\n".to_vec();
    v.extend_from_slice(&(json.len() as i32).to_be_bytes());
    v.extend_from_slice(json.as_bytes());
    v
}

fn read_response(s: &mut TcpStream) -> String {
    let mut size = [0u8; 4];
    s.read_exact(&mut size).unwrap();
    let mut data = vec![0u8; i32::from_be_bytes(size) as usize];
    s.read_exact(&mut data).unwrap();
    String::from_utf8(data).unwrap()
}

fn expect_closed(s: &mut TcpStream) {
    let mut buf = [0u8; 16];
    match s.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        other => panic!("expected close, got {other:?}"),
    }
}

/// Sends `bytes` and expects exactly `reply`, then a close.
fn fatal_case(server: &Running, bytes: &[u8], reply: &str) {
    let mut s = server.connect();
    s.write_all(bytes).unwrap();
    assert_eq!(
        read_response(&mut s),
        reply,
        "{:?}",
        String::from_utf8_lossy(bytes)
    );
    expect_closed(&mut s);
}

const REPLY: &str = r#"{"broadcast_address":"127.0.0.1","hostname":"lookup\u003chost\u003e","http_port":4161,"tcp_port":4160,"version":"1.3.0"}"#;

#[test]
fn nsqd_session_registers_and_disconnect_unregisters() {
    let server = Running::start();
    let mut s = server.connect();
    let me = s.local_addr().unwrap().to_string();
    s.write_all(b"  V1").unwrap();
    s.write_all(&identify_bytes(NSQD_IDENTIFY)).unwrap();
    assert_eq!(read_response(&mut s), REPLY);
    s.write_all(b"REGISTER t c\nREGISTER t\nREGISTER u\n")
        .unwrap();
    for _ in 0..3 {
        assert_eq!(read_response(&mut s), "OK");
    }
    let (channels, producers) = server.lookup("t").unwrap();
    assert_eq!(channels, vec!["c"]);
    assert_eq!(producers.len(), 1);
    let p = &producers[0];
    assert_eq!((p.id.as_str(), p.remote_address.as_str()), (&*me, &*me));
    assert_eq!(
        (p.hostname.as_str(), p.broadcast_address.as_str()),
        ("vm", "127.0.0.1")
    );
    assert_eq!(
        (p.tcp_port, p.http_port, p.version.as_str()),
        (4150, 4151, "1.3.0")
    );
    let before = p.last_update;
    s.write_all(b"PING\r\n").unwrap();
    assert_eq!(read_response(&mut s), "OK");
    let touched = &server.lookup("t").unwrap().1[0];
    assert!(touched.last_update > before);
    s.write_all(b"UNREGISTER t c\nUNREGISTER u\n").unwrap();
    assert_eq!(read_response(&mut s), "OK");
    assert_eq!(read_response(&mut s), "OK");
    assert_eq!(server.lookup("t").unwrap().1.len(), 1);
    assert!(server.lookup("u").unwrap().1.is_empty());
    assert_eq!(lock(&server.db).nodes(Instant::now(), HOUR, HOUR).len(), 1);
    drop(s);
    server.wait_for("the peer to leave", |db| {
        db.nodes(Instant::now(), HOUR, HOUR).is_empty()
    });
    // Keys stay.
    let (channels, producers) = server.lookup("t").unwrap();
    assert_eq!((channels.len(), producers.len()), (1, 0));
}

#[test]
fn commands_split_across_reads_and_ping_before_identify() {
    let server = Running::start();
    let mut s = server.connect();
    let mut all = b"  V1PING\n".to_vec();
    all.extend_from_slice(&identify_bytes(NSQD_IDENTIFY));
    all.extend_from_slice(b"REGISTER t c\n");
    for b in &all {
        s.write_all(&[*b]).unwrap();
        std::thread::sleep(Duration::from_micros(200));
    }
    assert_eq!(read_response(&mut s), "OK");
    assert_eq!(read_response(&mut s), REPLY);
    assert_eq!(read_response(&mut s), "OK");
    assert_eq!(server.lookup("t").unwrap().1.len(), 1);
}

#[test]
fn every_error_is_answered_then_closed() {
    let server = Running::start();
    let idf = identify_bytes(NSQD_IDENTIFY);
    let after = |tail: &[u8]| [b"  V1".as_slice(), &idf, tail].concat();
    fatal_case(&server, b"  V2", "E_BAD_PROTOCOL");
    fatal_case(&server, b"GET / HTTP/1.1\r\n", "E_BAD_PROTOCOL");
    fatal_case(&server, b"  V1FOO\n", "E_INVALID invalid command FOO");
    fatal_case(
        &server,
        b"  V1REGISTER t\n",
        "E_INVALID client must IDENTIFY",
    );
    fatal_case(
        &server,
        b"  V1UNREGISTER t\n",
        "E_INVALID client must IDENTIFY",
    );
    let e = "E_INVALID REGISTER insufficient number of params";
    let mut s = server.connect();
    s.write_all(&after(b"REGISTER\n")).unwrap();
    assert_eq!(read_response(&mut s), REPLY);
    assert_eq!(read_response(&mut s), e);
    expect_closed(&mut s);
    let cases: [(&[u8], &str); 5] = [
        (
            b"UNREGISTER\n",
            "E_INVALID UNREGISTER insufficient number of params",
        ),
        (
            b"REGISTER a/b\n",
            "E_BAD_TOPIC REGISTER topic name 'a/b' is not valid",
        ),
        (
            b"UNREGISTER t c!\n",
            "E_BAD_CHANNEL UNREGISTER channel name 'c!' is not valid",
        ),
        (b"IDENTIFY\n", "E_INVALID cannot IDENTIFY again"),
        (b"PING\nBAD\n", "E_INVALID invalid command BAD"),
    ];
    for (tail, want) in cases {
        let mut s = server.connect();
        s.write_all(&after(tail)).unwrap();
        assert_eq!(read_response(&mut s), REPLY);
        if tail.starts_with(b"PING") {
            assert_eq!(read_response(&mut s), "OK");
        }
        assert_eq!(read_response(&mut s), want);
        expect_closed(&mut s);
    }
    let body = |json: &str| [b"  V1".as_slice(), &identify_bytes(json)].concat();
    let decode = "E_BAD_BODY IDENTIFY failed to decode JSON body";
    let missing = "E_BAD_BODY IDENTIFY missing fields";
    fatal_case(&server, &body("{"), decode);
    fatal_case(&server, &body(""), decode);
    fatal_case(&server, &body("[1]"), decode);
    fatal_case(&server, &body(r#"{"tcp_port":"4150"}"#), decode);
    fatal_case(&server, &body(r#"{"tcp_port":70000}"#), decode);
    fatal_case(&server, &body("{}"), missing);
    fatal_case(&server, &body("null"), missing);
    fatal_case(
        &server,
        &body(r#"{"broadcast_address":"","tcp_port":1,"http_port":2,"version":"1"}"#),
        missing,
    );
    fatal_case(
        &server,
        &body(r#"{"broadcast_address":"h","tcp_port":1,"http_port":0,"version":"1"}"#),
        missing,
    );
    fatal_case(
        &server,
        &body(r#"{"broadcast_address":"h","tcp_port":1,"http_port":2,"version":null}"#),
        missing,
    );
    fatal_case(
        &server,
        b"  V1IDENTIFY\n\xff\xff\xff\xff",
        "E_BAD_BODY IDENTIFY invalid body size -1",
    );
    fatal_case(
        &server,
        b"  V1IDENTIFY\n\x7f\xff\xff\xff",
        "E_BAD_BODY IDENTIFY body too big 2147483647 > 1048576",
    );
    assert!(lock(&server.db)
        .nodes(Instant::now(), HOUR, HOUR)
        .is_empty());
}

#[test]
fn eof_inside_identify_is_answered() {
    let server = Running::start();
    let mut s = server.connect();
    s.write_all(b"  V1IDENTIFY\n\0\0\0\x10{}").unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(
        read_response(&mut s),
        "E_BAD_BODY IDENTIFY failed to read body"
    );
    expect_closed(&mut s);
    let mut s = server.connect();
    s.write_all(b"  V1PING\nREGIS").unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(read_response(&mut s), "OK");
    expect_closed(&mut s);
}

#[test]
fn lenient_json_like_go() {
    let server = Running::start();
    let mut s = server.connect();
    let json = r#"{"Broadcast_Address":"b","hostname":null,"tcp_port":1,"http_port":2,"version":"v","extra":[1,{}],"topology_zone":"z"}"#;
    s.write_all(&[b"  V1".as_slice(), &identify_bytes(json)].concat())
        .unwrap();
    assert_eq!(read_response(&mut s), REPLY);
    s.write_all(b"REGISTER t\n").unwrap();
    assert_eq!(read_response(&mut s), "OK");
    let p = server.lookup("t").unwrap().1.remove(0);
    assert_eq!(
        (
            p.broadcast_address.as_str(),
            p.hostname.as_str(),
            p.topology_zone.as_str()
        ),
        ("b", "", "z")
    );
}

#[test]
fn server_survives_garbage() {
    let server = Running::start();
    let mut seed = 0x1234_5678_9abc_def1u64;
    for round in 0..50 {
        let mut bytes = if round % 2 == 0 {
            b"  V1".to_vec()
        } else {
            Vec::new()
        };
        for _ in 0..(round * 7 % 200) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            bytes.push(seed as u8);
        }
        let mut s = server.connect();
        let _ = s.write_all(&bytes);
        let _ = s.shutdown(std::net::Shutdown::Write);
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink);
    }
    let mut s = server.connect();
    s.write_all(&[b"  V1".as_slice(), &identify_bytes(NSQD_IDENTIFY)].concat())
        .unwrap();
    assert_eq!(read_response(&mut s), REPLY);
}

/// The IDENTIFY reply's exact bytes, as the hand-built JSON wrote them before the
/// serde struct: keys sorted, Go's escaping (`<`, `>`, `&`, U+2028, U+2029, controls).
#[test]
fn identify_reply_json_bytes_with_special_characters() {
    let id = Identity {
        broadcast_address: "a<b>&c\"\\\n\t\u{1}é\u{2028}".into(),
        hostname: "h\u{2029}ost\r\u{7f}\u{8}\u{c}/".into(),
        tcp_port: 4160,
        http_port: 4161,
        version: "1.3.0</script>".into(),
    };
    let want = concat!(
        r#"{"broadcast_address":"a\u003cb\u003e\u0026c\"\\\n\t\u0001é\u2028","#,
        r#""hostname":"h\u2029ost\r"#,
        "\u{7f}",
        r#"\u0008\u000c/","http_port":4161,"tcp_port":4160,"#,
        r#""version":"1.3.0\u003c/script\u003e"}"#,
    );
    assert_eq!(id.reply_json(), want);
    assert_eq!(identity().reply_json(), REPLY);
}
