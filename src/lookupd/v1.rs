//! nsqlookupd's V1 TCP protocol as a reactor handler: checks the magic, runs each
//! command [`crate::proto::v1`] parses against the registration [`Db`], answers
//! `[int32 size][data]`, and removes an nsqd's registrations when its connection goes.
//!
//! Every V1 error is fatal: the error is answered and the connection closed. There is
//! no read deadline (nsqlookupd has none; nsqd's 15 s PING keeps `last_update` fresh).
//! It must never panic on peer bytes and never hold the DB lock across anything but
//! one command's DB call.

use super::db::{Db, PeerInfo};
use crate::proto::v1::{self as wire, Command, MAGIC_V1};
use crate::proto::ProtoError;
use crate::reactor::{ConnId, Handler, Net, Timers};
use serde_json::{Map, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Largest IDENTIFY body accepted. nsqd's is about 200 bytes; Go lookupd has no limit
/// (and panics on a negative size), we refuse anything above this.
pub const MAX_IDENTIFY_BODY: usize = 1024 * 1024;

/// This nsqlookupd, as its IDENTIFY reply describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `--broadcast-address`.
    pub broadcast_address: String,
    /// The OS hostname.
    pub hostname: String,
    /// The real TCP listening port.
    pub tcp_port: u16,
    /// The real HTTP listening port.
    pub http_port: u16,
    /// The version reported (`crate::NSQ_VERSION`).
    pub version: String,
}

impl Identity {
    /// The IDENTIFY reply: keys sorted, as Go marshals its map; strings escaped as Go does.
    pub fn reply_json(&self) -> String {
        let mut out = String::from("{\"broadcast_address\":");
        crate::common::json::push_json_str(&mut out, &self.broadcast_address);
        out.push_str(",\"hostname\":");
        crate::common::json::push_json_str(&mut out, &self.hostname);
        out.push_str(&format!(
            ",\"http_port\":{},\"tcp_port\":{},\"version\":",
            self.http_port, self.tcp_port
        ));
        crate::common::json::push_json_str(&mut out, &self.version);
        out.push('}');
        out
    }
}

/// One V1 connection's protocol state.
#[derive(Debug)]
pub struct V1Conn {
    peer: SocketAddr,
    /// `peer` as text: the peer id in the DB.
    peer_id: String,
    magic_ok: bool,
    identified: bool,
}

/// nsqlookupd's V1 protocol, as a reactor handler.
pub struct V1Handler {
    db: Arc<Mutex<Db>>,
    identity: Identity,
    reply: Vec<u8>,
    max_body: usize,
}

fn lock(db: &Mutex<Db>) -> MutexGuard<'_, Db> {
    db.lock().unwrap_or_else(|p| p.into_inner())
}

fn unix_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

impl V1Handler {
    /// A handler registering nsqds in `db` and describing itself as `identity`.
    pub fn new(db: Arc<Mutex<Db>>, identity: Identity) -> V1Handler {
        let reply = identity.reply_json().into_bytes();
        V1Handler {
            db,
            identity,
            reply,
            max_body: MAX_IDENTIFY_BODY,
        }
    }

    /// What this handler answers IDENTIFY with.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Parses and executes every complete command in the connection's input.
    fn process(&mut self, net: &mut Net<V1Conn>, id: ConnId) {
        let Some(conn) = net.conn(id) else {
            return;
        };
        if !conn.state.magic_ok {
            if conn.input.len() < MAGIC_V1.len() {
                return;
            }
            let magic = String::from_utf8_lossy(&conn.input[..4]).into_owned();
            if conn.input[..4] != MAGIC_V1[..] {
                log::error!("client({}) bad protocol magic '{magic}'", conn.peer);
                send_error(net, id, &ProtoError::bad_protocol());
                net.close(id);
                return;
            }
            log::info!("CLIENT({}): desired protocol magic '{magic}'", conn.peer);
            conn.state.magic_ok = true;
            conn.input.drain(..4);
        }
        let input = std::mem::take(&mut conn.input);
        let mut used = 0;
        while used < input.len() {
            let Some(conn) = net.conn(id) else {
                return;
            };
            let result = match wire::parse(&input[used..], conn.state.identified, self.max_body) {
                Ok(None) => break,
                Ok(Some((command, n))) => {
                    used += n;
                    self.execute(&mut conn.state, command)
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(reply) => {
                    if let Some(out) = net.output(id) {
                        wire::write_response(out, reply);
                    }
                }
                Err(e) => {
                    fatal(net, id, &e);
                    return;
                }
            }
        }
        if let Some(conn) = net.conn(id) {
            let mut input = input;
            input.drain(..used);
            conn.input = input;
        }
    }

    fn execute(&self, conn: &mut V1Conn, command: Command<'_>) -> Result<&[u8], ProtoError> {
        let peer = &conn.peer_id;
        match command {
            Command::Ping => {
                if conn.identified {
                    log::debug!("CLIENT({peer}): pinged");
                    lock(&self.db).touch_peer(peer, Instant::now(), unix_nanos());
                }
                Ok(b"OK")
            }
            Command::Identify(body) => {
                let info = decode_identify(body, peer)?;
                log::info!(
                    "CLIENT({peer}): IDENTIFY Address:{} TCP:{} HTTP:{} Version:{}",
                    info.broadcast_address,
                    info.tcp_port,
                    info.http_port,
                    info.version
                );
                lock(&self.db).add_peer(info);
                conn.identified = true;
                log::info!("DB: client({peer}) REGISTER category:client key: subkey:");
                Ok(&self.reply)
            }
            Command::Register { topic, channel } => {
                lock(&self.db).register(peer, topic, channel);
                if let Some(channel) = channel {
                    log::info!(
                        "DB: client({peer}) REGISTER category:channel key:{topic} subkey:{channel}"
                    );
                }
                log::info!("DB: client({peer}) REGISTER category:topic key:{topic} subkey:");
                Ok(b"OK")
            }
            Command::Unregister { topic, channel } => {
                let unexpected = lock(&self.db).unregister(peer, topic, channel);
                match channel {
                    Some(channel) => log::info!(
                        "DB: client({peer}) UNREGISTER category:channel key:{topic} subkey:{channel}"
                    ),
                    None => {
                        if unexpected > 0 {
                            log::warn!(
                                "client({peer}) unexpected UNREGISTER category:channel key:{topic} ({unexpected} channels)"
                            );
                        }
                        log::info!(
                            "DB: client({peer}) UNREGISTER category:topic key:{topic} subkey:"
                        );
                    }
                }
                Ok(b"OK")
            }
        }
    }
}

/// Decodes an IDENTIFY body as Go's `json.Unmarshal` into `PeerInfo` would: unknown
/// keys ignored, `null` leaves a field empty, a key matches its field case-insensitively
/// when no exact match exists, a wrong type is a decode error. Ports must fit a `u16`
/// (Go would take any `int`).
fn decode_identify(body: &[u8], peer: &str) -> Result<PeerInfo, ProtoError> {
    let decode_err = || ProtoError::fatal("E_BAD_BODY", "IDENTIFY failed to decode JSON body");
    let value: Value = serde_json::from_slice(body).map_err(|_| decode_err())?;
    let empty = Map::new();
    let obj = match &value {
        Value::Object(obj) => obj,
        Value::Null => &empty,
        _ => return Err(decode_err()),
    };
    let field = |name: &str| {
        obj.get(name)
            .or_else(|| {
                obj.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
            })
            .filter(|v| !v.is_null())
    };
    let string = |name: &str| match field(name) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(decode_err()),
    };
    let port = |name: &str| match field(name) {
        None => Ok(0),
        Some(v) => v
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(decode_err),
    };
    string("remote_address")?; // decoded (so type-checked) by Go, then overwritten
    let info = PeerInfo {
        id: peer.to_string(),
        remote_address: peer.to_string(),
        hostname: string("hostname")?,
        broadcast_address: string("broadcast_address")?,
        tcp_port: port("tcp_port")?,
        http_port: port("http_port")?,
        version: string("version")?,
        topology_zone: string("topology_zone")?,
        topology_region: string("topology_region")?,
        last_update: Instant::now(),
        last_update_unix_ns: unix_nanos(),
    };
    if info.broadcast_address.is_empty()
        || info.tcp_port == 0
        || info.http_port == 0
        || info.version.is_empty()
    {
        return Err(ProtoError::fatal("E_BAD_BODY", "IDENTIFY missing fields"));
    }
    Ok(info)
}

fn send_error(net: &mut Net<V1Conn>, id: ConnId, err: &ProtoError) {
    if let Some(out) = net.output(id) {
        wire::write_error(out, err);
    }
}

/// Answers a (always fatal) error and closes, logging as nsqlookupd does.
fn fatal(net: &mut Net<V1Conn>, id: ConnId, err: &ProtoError) {
    if let Some(conn) = net.conn(id) {
        log::error!("[{}] - {err}", conn.peer);
    }
    send_error(net, id, err);
    net.close(id);
}

impl Handler for V1Handler {
    type Conn = V1Conn;

    fn accepted(&mut self, _timers: &mut Timers, _id: ConnId, peer: SocketAddr) -> V1Conn {
        log::info!("TCP: new client({peer})");
        V1Conn {
            peer,
            peer_id: peer.to_string(),
            magic_ok: false,
            identified: false,
        }
    }

    fn readable(&mut self, net: &mut Net<V1Conn>, id: ConnId) {
        self.process(net, id);
    }

    fn read_closed(&mut self, net: &mut Net<V1Conn>, id: ConnId) {
        let Some(conn) = net.conn(id) else {
            return;
        };
        if !conn.state.magic_ok {
            log::error!(
                "failed to read protocol version from client({}) - EOF",
                conn.peer
            );
        } else if let Some(e) =
            wire::parse_at_eof(&conn.input, conn.state.identified, self.max_body)
        {
            fatal(net, id, &e);
        }
        net.close(id);
    }

    fn closed(&mut self, _net: &mut Net<V1Conn>, _id: ConnId, conn: V1Conn) {
        if conn.magic_ok {
            log::info!("PROTOCOL(V1): [{}] exiting ioloop", conn.peer);
        }
        if conn.identified {
            lock(&self.db).remove_peer(&conn.peer_id);
            log::info!("DB: client({}) removed from every registration", conn.peer);
        }
    }

    fn timer(&mut self, _net: &mut Net<V1Conn>, _key: u64, _now: Instant) {}

    fn woken(&mut self, _net: &mut Net<V1Conn>) {}

    fn round_end(&mut self, _net: &mut Net<V1Conn>) {}

    fn stopping(&mut self, net: &mut Net<V1Conn>) {
        log::info!("TCP: closing {} clients", net.ids().len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reactor::{Reactor, Wakeup};
    use std::io::{ErrorKind, Read, Write};
    use std::net::TcpStream;
    use std::thread::JoinHandle;
    use std::time::Duration;

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
}
