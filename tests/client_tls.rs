//! The client side of TLS against fake servers in the test itself (nsqd's own TLS
//! upgrade is not needed): a fake V2 nsqd that grants `tls_v1` in its IDENTIFY reply
//! and then speaks through nsq's `ServerSession` — a Producer publishing over TLS, a
//! Consumer receiving over TLS with a client certificate whose common name the server
//! checks, TLS under snappy and deflate, a refused grant, an untrusted certificate
//! failing (not hanging), `insecure_skip_verify`, and `https://` GETs through the HTTP
//! client, including a consumer discovering nsqd through an `https://` lookupd.
#![cfg(feature = "tls")]

mod common;

use common::tls::Pki;
use nsq::client::{Config, Consumer, Error, Producer};
use nsq::compress::Codec;
use nsq::tls::{ClientAuth, ClientSpec, ClientTls, ServerSession, ServerSpec, ServerTls};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Only turns a hang into a failure.
const T: Duration = Duration::from_secs(20);

/// A server's TLS configuration from `pki`, asking for a verified client
/// certificate when `client_auth`.
fn server_tls(pki: &Pki, client_auth: bool) -> ServerTls {
    ServerTls::new(&ServerSpec {
        cert: pki.server_cert.display().to_string(),
        key: pki.server_key.display().to_string(),
        root_ca: pki.ca.display().to_string(),
        client_auth: if client_auth {
            ClientAuth::RequireVerify
        } else {
            ClientAuth::None
        },
        ..ServerSpec::default()
    })
    .expect("server tls")
}

/// A client config asking for TLS and trusting `pki`'s CA.
fn tls_config(pki: &Pki) -> Config {
    Config {
        tls_v1: true,
        tls_root_ca_file: pki.ca.display().to_string(),
        ..Config::default()
    }
}

/// Accepts one connection within [`T`].
fn accept(listener: &TcpListener) -> Result<TcpStream, String> {
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + T;
    loop {
        match listener.accept() {
            Ok((sock, _)) => {
                sock.set_nonblocking(false).map_err(|e| e.to_string())?;
                sock.set_read_timeout(Some(T)).map_err(|e| e.to_string())?;
                return Ok(sock);
            }
            Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("no connection: {e}")),
        }
    }
}

/// A server's end of a connection: the socket, TLS once started, compression once
/// negotiated, and the plaintext received but not consumed.
struct Wire {
    sock: TcpStream,
    tls: Option<ServerSession>,
    codecs: Option<(Codec, Codec)>,
    input: Vec<u8>,
}

impl Wire {
    fn new(sock: TcpStream) -> Wire {
        Wire {
            sock,
            tls: None,
            codecs: None,
            input: Vec::new(),
        }
    }

    /// Reads more; false when the peer closed.
    fn fill(&mut self) -> Result<bool, String> {
        let mut raw = [0u8; 16 * 1024];
        let n = self.sock.read(&mut raw).map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Ok(false);
        }
        let mut plain = Vec::new();
        match &mut self.tls {
            Some(session) => {
                let mut wire = Vec::new();
                let read = session.read(&raw[..n], &mut plain, &mut wire);
                let _ = self.sock.write_all(&wire);
                read.map_err(|e| format!("tls: {e}"))?;
            }
            None => plain.extend_from_slice(&raw[..n]),
        }
        match &mut self.codecs {
            Some((decoder, _)) => decoder.decode(&plain, &mut self.input)?,
            None => self.input.extend_from_slice(&plain),
        }
        Ok(true)
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        let mut data = bytes.to_vec();
        if let Some((_, encoder)) = &mut self.codecs {
            data.clear();
            encoder.encode(bytes, &mut data);
        }
        if let Some(session) = &mut self.tls {
            let mut wire = Vec::new();
            session.write(&data, &mut wire);
            data = wire;
        }
        self.sock
            .write_all(&data)
            .map_err(|e| format!("write: {e}"))
    }

    fn start_tls(&mut self, tls: &ServerTls) -> Result<(), String> {
        self.tls = Some(ServerSession::new(tls)?);
        while self.tls.as_ref().is_some_and(|s| s.is_handshaking()) {
            if !self.fill()? {
                return Err("closed during the handshake".into());
            }
        }
        Ok(())
    }

    /// The next `\n`-terminated line, `None` when the peer closed first.
    fn line(&mut self) -> Result<Option<String>, String> {
        loop {
            if let Some(i) = self.input.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.input.drain(..=i).collect();
                return Ok(Some(String::from_utf8_lossy(&line).trim_end().to_string()));
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    fn take(&mut self, n: usize) -> Result<Vec<u8>, String> {
        while self.input.len() < n {
            if !self.fill()? {
                return Err("closed in the middle of a body".into());
            }
        }
        Ok(self.input.drain(..n).collect())
    }

    fn sized_body(&mut self) -> Result<Vec<u8>, String> {
        let size = self.take(4)?;
        let size = u32::from_be_bytes([size[0], size[1], size[2], size[3]]) as usize;
        self.take(size)
    }
}

fn frame(kind: i32, data: &[u8]) -> Vec<u8> {
    let mut out = ((data.len() + 4) as i32).to_be_bytes().to_vec();
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(data);
    out
}

/// What the fake nsqd grants.
#[derive(Clone, Copy, Default)]
struct Grant {
    tls: bool,
    snappy: bool,
    deflate: bool,
}

/// TLS and no compression.
const TLS_ONLY: Grant = Grant {
    tls: true,
    snappy: false,
    deflate: false,
};

/// What the fake nsqd saw.
#[derive(Debug, Default)]
struct Seen {
    identify: Value,
    common_name: String,
    published: Vec<(String, Vec<u8>)>,
    finished: Vec<String>,
}

/// A fake nsqd for one connection: IDENTIFY answered with `grant`, the TLS handshake
/// (`tls`), compression on top, then PUB answered OK, SUB OK, a RDY answered with
/// one message carrying `deliver`, FIN recorded, CLS answered, until the client closes.
fn fake_nsqd(
    tls: ServerTls,
    grant: Grant,
    deliver: &'static [u8],
) -> (String, JoinHandle<Result<Seen, String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let handle = thread::spawn(move || {
        let mut wire = Wire::new(accept(&listener)?);
        let mut seen = Seen::default();
        if wire.take(4)? != b"  V2" {
            return Err("no magic".into());
        }
        if wire.line()?.as_deref() != Some("IDENTIFY") {
            return Err("no IDENTIFY".into());
        }
        seen.identify = serde_json::from_slice(&wire.sized_body()?).map_err(|e| e.to_string())?;
        let reply = serde_json::json!({
            "max_rdy_count": 2500, "version": "fake", "max_msg_timeout": 900000,
            "msg_timeout": 60000, "tls_v1": grant.tls, "deflate": grant.deflate,
            "deflate_level": 6, "snappy": grant.snappy, "auth_required": false,
        });
        wire.send(&frame(0, reply.to_string().as_bytes()))?;
        if grant.tls {
            wire.start_tls(&tls)?;
            seen.common_name = wire
                .tls
                .as_ref()
                .and_then(|s| s.info())
                .map(|i| i.common_name)
                .unwrap_or_default();
            wire.send(&frame(0, b"OK"))?;
        }
        let codecs = match (grant.snappy, grant.deflate) {
            (true, _) => Codec::snappy().zip(Codec::snappy()),
            (_, true) => Codec::deflate(6).zip(Codec::deflate(6)),
            _ => None,
        };
        if codecs.is_some() {
            wire.codecs = codecs;
            wire.send(&frame(0, b"OK"))?;
        }
        while let Some(line) = wire.line()? {
            let words: Vec<&str> = line.split(' ').collect();
            match words[0] {
                "PUB" => {
                    let body = wire.sized_body()?;
                    seen.published.push((words[1].to_string(), body));
                    wire.send(&frame(0, b"OK"))?;
                }
                "SUB" => wire.send(&frame(0, b"OK"))?,
                "RDY" if words[1] != "0" && seen.finished.is_empty() => {
                    let mut msg = 1_700_000_000_000_000_000i64.to_be_bytes().to_vec();
                    msg.extend_from_slice(&1u16.to_be_bytes());
                    msg.extend_from_slice(b"0123456789abcdef");
                    msg.extend_from_slice(deliver);
                    wire.send(&frame(2, &msg))?;
                }
                "FIN" => seen.finished.push(words[1].to_string()),
                // A FIN may still follow (a handler finishing as the consumer stops).
                "CLS" => wire.send(&frame(0, b"CLOSE_WAIT"))?,
                _ => {}
            }
        }
        Ok(seen)
    });
    (addr, handle)
}

fn join<T>(handle: JoinHandle<Result<T, String>>) -> T {
    handle.join().expect("server thread").expect("server")
}

fn publish_through(config: Config, grant: Grant) -> Seen {
    let pki = Pki::new("client-pub");
    let config = Config {
        tls_root_ca_file: pki.ca.display().to_string(),
        ..config
    };
    let (addr, server) = fake_nsqd(server_tls(&pki, false), grant, b"");
    let producer = Producer::new(&addr, config).expect("producer");
    producer.publish("events", b"over tls").expect("publish");
    producer
        .publish("events", &vec![b'x'; 100_000])
        .expect("a big one");
    producer.stop();
    let seen = join(server);
    assert_eq!(seen.published.len(), 2);
    assert_eq!(
        seen.published[0],
        ("events".to_string(), b"over tls".to_vec())
    );
    assert_eq!(seen.published[1].1.len(), 100_000);
    seen
}

#[test]
fn producer_publishes_over_tls() {
    let seen = publish_through(
        Config {
            tls_v1: true,
            ..Config::default()
        },
        TLS_ONLY,
    );
    assert_eq!(seen.identify["tls_v1"], true);
    assert_eq!(seen.common_name, "", "no client certificate was asked for");
}

#[cfg(feature = "snappy")]
#[test]
fn snappy_runs_inside_tls() {
    let grant = Grant {
        tls: true,
        snappy: true,
        ..Grant::default()
    };
    let config = Config {
        tls_v1: true,
        snappy: true,
        ..Config::default()
    };
    let seen = publish_through(config, grant);
    assert_eq!(seen.identify["snappy"], true);
}

#[cfg(feature = "deflate")]
#[test]
fn deflate_runs_inside_tls() {
    let grant = Grant {
        tls: true,
        deflate: true,
        ..Grant::default()
    };
    let config = Config {
        tls_v1: true,
        deflate: true,
        ..Config::default()
    };
    let seen = publish_through(config, grant);
    assert_eq!(seen.identify["deflate"], true);
}

#[test]
fn tls_refused_by_the_server_goes_on_in_plain_text_as_go_nsq() {
    let seen = publish_through(
        Config {
            tls_v1: true,
            ..Config::default()
        },
        Grant::default(),
    );
    assert_eq!(seen.identify["tls_v1"], true);
}

/// A message body spanning many TLS records.
fn big_body() -> &'static [u8] {
    static BODY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BODY.get_or_init(|| (0..300_000u32).map(|i| (i % 251) as u8).collect())
}

#[test]
fn consumer_receives_over_tls_with_a_client_certificate() {
    let pki = Pki::new("client-sub");
    let (addr, server) = fake_nsqd(server_tls(&pki, true), TLS_ONLY, big_body());
    let config = Config {
        tls_cert: pki.client_cert.display().to_string(),
        tls_key: pki.client_key.display().to_string(),
        ..tls_config(&pki)
    };
    let consumer = Consumer::new("events", "audit", config).expect("consumer");
    let (tx, rx) = std::sync::mpsc::channel();
    consumer.add_handler(move |msg| {
        let _ = tx.send(msg.body.clone());
        Ok(())
    });
    consumer.connect_to_nsqd(&addr).expect("connect");
    // Many TLS records, read while the writer half answers on another thread.
    assert_eq!(rx.recv_timeout(T).expect("a message"), big_body());
    consumer.stop();
    assert!(consumer.wait_timeout(T), "consumer stops");
    let seen = join(server);
    assert_eq!(seen.common_name, "test-client");
    assert_eq!(seen.finished, ["0123456789abcdef"]);
}

#[test]
fn an_untrusted_server_certificate_fails_the_connection() {
    let (server_pki, other) = (Pki::new("client-bad-ca"), Pki::new("client-other-ca"));
    let (addr, server) = fake_nsqd(server_tls(&server_pki, false), TLS_ONLY, b"");
    let producer = std::sync::Arc::new(Producer::new(&addr, tls_config(&other)).expect("producer"));
    // An error, not a hang: the deadline only turns a hang into a failure.
    let (tx, rx) = std::sync::mpsc::channel();
    let publisher = producer.clone();
    std::thread::spawn(move || tx.send(publisher.publish("events", b"x")));
    let err = rx
        .recv_timeout(T)
        .expect("an answer")
        .expect_err("untrusted");
    assert!(matches!(err, Error::Tls(_)), "{err:?}");
    assert!(err.to_string().contains("certificate"), "{err}");
    producer.stop();
    let served = server.join().expect("server thread");
    assert!(served.is_err(), "the server saw the handshake fail");
}

#[test]
fn insecure_skip_verify_accepts_any_certificate() {
    let pki = Pki::new("client-insecure");
    let (addr, server) = fake_nsqd(server_tls(&pki, false), TLS_ONLY, b"");
    let config = Config {
        tls_v1: true,
        tls_insecure_skip_verify: true,
        ..Config::default()
    };
    let producer = Producer::new(&addr, config).expect("producer");
    producer.publish("t", b"anyway").expect("publish");
    producer.stop();
    assert_eq!(join(server).published.len(), 1);
}

#[test]
fn a_missing_ca_file_is_refused_before_dialing() {
    let config = Config {
        tls_v1: true,
        tls_root_ca_file: "/nonexistent/ca.pem".into(),
        ..Config::default()
    };
    let Err(err) = Producer::new("127.0.0.1:1", config) else {
        panic!("a missing CA file must be refused");
    };
    assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
}

/// A tiny HTTPS server answering up to `max` requests with `reply` (the whole
/// response), closing each with close_notify; joins to the request heads.
fn https_server(
    tls: ServerTls,
    reply: String,
    max: usize,
) -> (String, JoinHandle<Result<Vec<String>, String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let handle = thread::spawn(move || {
        let mut heads = Vec::new();
        for _ in 0..max {
            let mut wire = Wire::new(accept(&listener)?);
            if wire.start_tls(&tls).is_err() {
                heads.push("handshake failed".to_string());
                continue;
            }
            let mut head = String::new();
            while let Some(line) = wire.line()? {
                if line.is_empty() {
                    break;
                }
                head.push_str(&line);
                head.push('\n');
            }
            // Read the body too: closing on unread bytes would reset the connection.
            let length = head
                .to_ascii_lowercase()
                .lines()
                .find_map(|l| l.strip_prefix("content-length: ").map(str::to_string));
            if let Some(n) = length.and_then(|n| n.trim().parse().ok()) {
                wire.take(n)?;
            }
            heads.push(head);
            wire.send(reply.as_bytes())?;
            if let Some(session) = &mut wire.tls {
                let mut bye = Vec::new();
                session.close(&mut bye);
                let _ = wire.sock.write_all(&bye);
            }
        }
        Ok(heads)
    });
    (addr, handle)
}

#[test]
fn https_get_through_the_http_client() {
    let pki = Pki::new("client-https");
    let reply = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".to_string();
    let (addr, server) = https_server(server_tls(&pki, false), reply, 2);
    let spec = ClientSpec {
        root_ca: pki.ca.display().to_string(),
        ..ClientSpec::default()
    };
    let tls = ClientTls::new(&spec).expect("client tls");
    let url = format!("https://{addr}/ping?x=1");
    let r = nsq::http::client::get_with(&url, T, Some(&tls)).expect("get");
    assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]));
    // A CA that did not sign the server's certificate: an error, not a hang.
    let other = Pki::new("client-https-other");
    let spec = ClientSpec {
        root_ca: other.ca.display().to_string(),
        ..ClientSpec::default()
    };
    let untrusted = ClientTls::new(&spec).expect("client tls");
    let err = nsq::http::client::get_with(&url, T, Some(&untrusted)).expect_err("untrusted");
    assert!(err.to_string().contains("certificate"), "{err}");
    let heads = join(server);
    assert!(
        heads[0].starts_with("GET /ping?x=1 HTTP/1.1\n"),
        "{heads:?}"
    );
    assert_eq!(heads[1], "handshake failed");
}

#[test]
fn a_body_ended_by_close_notify_is_read_whole() {
    let pki = Pki::new("client-https-close");
    let reply = "HTTP/1.1 200 OK\r\n\r\nuntil the end".to_string();
    let (addr, server) = https_server(server_tls(&pki, false), reply, 1);
    let spec = ClientSpec {
        root_ca: pki.ca.display().to_string(),
        ..ClientSpec::default()
    };
    let tls = ClientTls::new(&spec).expect("client tls");
    let r = nsq::http::client::post_with(&format!("https://{addr}/pub"), b"b", T, Some(&tls))
        .expect("post");
    assert_eq!(r.body, b"until the end");
    join(server);
}

#[test]
fn consumer_discovers_nsqd_through_an_https_lookupd() {
    let pki = Pki::new("client-https-lookupd");
    let (nsqd, server) = fake_nsqd(server_tls(&pki, false), TLS_ONLY, b"found");
    let port = nsqd.rsplit_once(':').expect("port").1;
    let body = format!(
        r#"{{"channels":[],"producers":[{{"broadcast_address":"127.0.0.1","tcp_port":{port}}}]}}"#
    );
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (lookupd, lookupd_server) = https_server(server_tls(&pki, false), reply, 1);
    let consumer = Consumer::new("events", "c", tls_config(&pki)).expect("consumer");
    let (tx, rx) = std::sync::mpsc::channel();
    consumer.add_handler(move |msg| {
        let _ = tx.send(msg.body.clone());
        Ok(())
    });
    consumer
        .connect_to_nsqlookupd(&format!("https://{lookupd}"))
        .expect("lookupd");
    assert_eq!(rx.recv_timeout(T).expect("a message"), b"found");
    consumer.stop();
    assert!(consumer.wait_timeout(T), "consumer stops");
    let heads = join(lookupd_server);
    assert!(
        heads[0].starts_with("GET /lookup?topic=events HTTP/1.1\n"),
        "{heads:?}"
    );
    assert_eq!(join(server).finished.len(), 1);
}

/// Runs a tool to its end (killed past [`T`]) with `stdin`; its stdout and stderr.
fn run_tool(bin: &str, args: &[String], stdin: &[u8]) -> (bool, String, String) {
    use std::process::{Command, Stdio};
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin).expect("write stdin");
    drop(input);
    let deadline = Instant::now() + T;
    while child.try_wait().expect("try_wait").is_none() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let out = child.wait_with_output().expect("output");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn to_nsq_publishes_over_tls_with_its_flags() {
    let pki = Pki::new("client-to-nsq");
    let (addr, server) = fake_nsqd(server_tls(&pki, false), TLS_ONLY, b"");
    let args = vec![
        "--topic=events".to_string(),
        format!("--nsqd-tcp-address={addr}"),
        format!("--tls-root-ca-file={}", pki.ca.display()),
        "--tls-min-version=tls1.2".to_string(),
    ];
    let (ok, _, stderr) = run_tool(env!("CARGO_BIN_EXE_to_nsq"), &args, b"one\ntwo\n");
    assert!(ok, "{stderr}");
    let seen = join(server);
    assert_eq!(seen.identify["tls_v1"], true);
    let bodies: Vec<&[u8]> = seen.published.iter().map(|(_, b)| b.as_slice()).collect();
    assert_eq!(bodies, [&b"one"[..], &b"two"[..]]);
}

#[test]
fn nsq_tail_shows_a_message_read_over_tls_with_a_client_certificate() {
    let pki = Pki::new("client-tail");
    let (addr, server) = fake_nsqd(server_tls(&pki, true), TLS_ONLY, b"tailed");
    let args = vec![
        "--topic=events".to_string(),
        "--n=1".to_string(),
        format!("--nsqd-tcp-address={addr}"),
        "--tls".to_string(),
        format!("--consumer-opt=tls_root_ca_file,{}", pki.ca.display()),
        format!("--tls-cert={}", pki.client_cert.display()),
        format!("--tls-key={}", pki.client_key.display()),
    ];
    let (ok, stdout, stderr) = run_tool(env!("CARGO_BIN_EXE_nsq_tail"), &args, b"");
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "tailed\n");
    assert_eq!(join(server).common_name, "test-client");
}
