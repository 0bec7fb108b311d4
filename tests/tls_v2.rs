//! TLS on V2 connections against the real nsqd binary (§9): the upgrade after
//! IDENTIFY's plain JSON, `OK` inside TLS, snappy and deflate on top, `--tls-required`
//! refusing plain clients with §1.6's error, client-certificate policies, the minimum
//! version, /stats' TLS fields, auth queries carrying `tls=true` and the common name,
//! and hostile handshakes that cost only their own connection. Certificates are made
//! by the test (tests/common/tls.rs).
#![cfg(feature = "tls")]

mod common;

use common::tls::{identify_plain, wrap, Pki, TlsV2};
use common::{http, Nsqd, WAIT};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

fn start(pki: &Pki, extra: &[&str]) -> Nsqd {
    let mut args = pki.server_args();
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Nsqd::start(&args)
}

fn stats_clients(nsqd: &Nsqd, topic: &str) -> Vec<serde_json::Value> {
    let stats = common::stats_json(nsqd, topic);
    let mut out = Vec::new();
    for t in stats["topics"].as_array().into_iter().flatten() {
        for c in t["channels"].as_array().into_iter().flatten() {
            out.extend(c["clients"].as_array().into_iter().flatten().cloned());
        }
    }
    out
}

/// Publishes `n` messages on `producer` (PUB and MPUB) and receives them on
/// `consumer` (subscribed to `topic`/`ch`), finishing each.
fn round_trip(producer: &mut TlsV2, consumer: &mut TlsV2, topic: &str, n: usize) {
    consumer.command(&format!("SUB {topic} ch"), None);
    consumer.expect_response("OK");
    consumer.command("RDY 100", None);
    for i in 0..n / 2 {
        producer.command(&format!("PUB {topic}"), Some(format!("m{i}").as_bytes()));
        producer.expect_response("OK");
    }
    let bodies: Vec<Vec<u8>> = (n / 2..n).map(|i| format!("m{i}").into_bytes()).collect();
    let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    producer.command(&format!("MPUB {topic}"), Some(&common::mpub_body(&refs)));
    producer.expect_response("OK");
    let mut got = Vec::new();
    for _ in 0..n {
        let m = consumer.message();
        got.push(String::from_utf8(m.body.clone()).expect("utf8"));
        let mut fin = b"FIN ".to_vec();
        fin.extend_from_slice(&m.id);
        fin.push(b'\n');
        consumer.send(&fin);
    }
    got.sort();
    let mut want: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn tls_producer_and_consumer_round_trip_and_stats_show_tls() {
    let pki = Pki::new("rt");
    let nsqd = start(&pki, &[]);
    let (mut producer, reply) = TlsV2::connect(nsqd.tcp, pki.client_config(false, false), "");
    assert_eq!(reply["tls_v1"], true);
    let (mut consumer, _) = TlsV2::connect(nsqd.tcp, pki.client_config(false, false), "");
    round_trip(&mut producer, &mut consumer, "tls_rt", 200);
    common::eventually("the consumer's TLS fields in /stats", || {
        stats_clients(&nsqd, "tls_rt")
            .iter()
            .any(|c| c["tls"] == true)
    });
    let clients = stats_clients(&nsqd, "tls_rt");
    let c = &clients[0];
    assert_eq!(c["tls"], true, "{c}");
    assert_eq!(c["tls_version"], "TLS1.3", "{c}");
    let suite = c["tls_cipher_suite"].as_str().unwrap_or_default();
    assert!(suite.starts_with("TLS_") && suite.len() > 8, "{c}");
    assert_eq!(c["tls_negotiated_protocol"], "", "{c}");
    assert_eq!(c["tls_negotiated_protocol_is_mutual"], true, "{c}");
    // FIN has no reply: wait for the last ones to land.
    common::eventually("every FIN", || {
        stats_clients(&nsqd, "tls_rt")
            .iter()
            .all(|c| c["in_flight_count"] == 0)
    });
    common::assert_drained(&nsqd, "tls_rt");
}

#[test]
fn tls_then_snappy_and_tls_then_deflate() {
    let pki = Pki::new("comp");
    let nsqd = start(&pki, &["--snappy=true", "--deflate=true"]);
    let (mut producer, reply) = TlsV2::connect(
        nsqd.tcp,
        pki.client_config(false, false),
        r#","snappy":true"#,
    );
    assert_eq!(reply["snappy"], true, "{reply}");
    producer.compress(nsq::compress::Codec::snappy().expect("snappy build"));
    let extra = r#","deflate":true,"deflate_level":3"#;
    let (mut consumer, reply) = TlsV2::connect(nsqd.tcp, pki.client_config(false, false), extra);
    assert_eq!(
        (reply["deflate"].clone(), reply["deflate_level"].clone()),
        (true.into(), 3.into())
    );
    consumer.compress(nsq::compress::Codec::deflate(3).expect("deflate build"));
    round_trip(&mut producer, &mut consumer, "tls_comp", 100);
    common::eventually("both clients in /stats", || {
        let stats = http(nsqd.http, "GET", "/stats?format=json&topic=tls_comp", b"").json();
        let text = stats.to_string();
        text.contains(r#""deflate":true"#) && text.contains(r#""tls":true"#)
    });
}

#[test]
fn a_client_that_does_not_ask_for_tls_stays_plain() {
    let pki = Pki::new("plain");
    let nsqd = start(&pki, &[]);
    let (tcp, reply) = identify_plain(nsqd.tcp, r#"{"feature_negotiation":true}"#);
    assert_eq!(reply["tls_v1"], false, "{reply}");
    let mut c = common::Client { stream: tcp };
    c.publish("plain_t", b"hello");
}

#[test]
fn tls_required_refuses_plain_commands_with_gos_error() {
    let pki = Pki::new("req");
    for mode in ["true", "tcp-https"] {
        let nsqd = start(&pki, &[&format!("--tls-required={mode}")]);
        for (line, word) in [
            ("PUB t", "PUB"),
            ("SUB t c", "SUB"),
            ("FOO bar", "FOO"),
            ("NOP", "NOP"),
        ] {
            let mut c = nsqd.client();
            let f = c.identify(r#"{"feature_negotiation":true}"#);
            assert_eq!(f.frame_type, 0, "{}", f.text());
            c.command(
                line,
                if word == "PUB" {
                    Some(b"x".as_slice())
                } else {
                    None
                },
            );
            c.expect_fatal(&format!(
                "E_INVALID cannot {word} in current state (TLS required)"
            ));
        }
        // Without IDENTIFY, too.
        let mut c = nsqd.client();
        c.command("PUB t", Some(b"x"));
        c.expect_fatal("E_INVALID cannot PUB in current state (TLS required)");
        // A TLS client is served.
        let (mut p, _) = TlsV2::connect(nsqd.tcp, pki.client_config(false, false), "");
        p.command("PUB t", Some(b"x"));
        p.expect_response("OK");
    }
}

/// Tries the TLS upgrade with `config`; Ok when `OK` arrived inside TLS.
fn try_upgrade(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> Result<(), String> {
    let json = r#"{"feature_negotiation":true,"tls_v1":true}"#;
    let (tcp, reply) = identify_plain(addr, json);
    assert_eq!(reply["tls_v1"], true, "{reply}");
    let mut tls = wrap(config, tcp);
    let mut header = [0u8; 10];
    tls.read_exact(&mut header).map_err(|e| e.to_string())?;
    assert_eq!(&header, b"\0\0\0\x06\0\0\0\0OK");
    // TLS 1.3 client certificates are checked after the client's Finished: a refused
    // one shows on the next read.
    tls.write_all(b"NOP\n").map_err(|e| e.to_string())?;
    tls.write_all(&common::command_bytes("PUB certs", Some(b"x")))
        .map_err(|e| e.to_string())?;
    let mut ok = [0u8; 10];
    tls.read_exact(&mut ok).map_err(|e| e.to_string())?;
    assert_eq!(&ok, b"\0\0\0\x06\0\0\0\0OK");
    Ok(())
}

#[test]
fn require_verify_wants_a_certificate_from_the_root_ca() {
    let pki = Pki::new("verify");
    let other = Pki::new("other");
    let ca = format!("--tls-root-ca-file={}", pki.ca.display());
    let nsqd = start(&pki, &["--tls-client-auth-policy=require-verify", &ca]);
    assert!(
        try_upgrade(nsqd.tcp, pki.client_config(false, false)).is_err(),
        "no certificate"
    );
    // A certificate from another CA (trusting our server all the same).
    let foreign = pki.client_config_with_cert_of(&other);
    assert!(
        try_upgrade(nsqd.tcp, foreign).is_err(),
        "certificate of another CA"
    );
    try_upgrade(nsqd.tcp, pki.client_config(true, false)).expect("the right certificate");
    // The policy forces TLS on.
    let mut c = nsqd.client();
    c.command("PUB t", Some(b"x"));
    c.expect_fatal("E_INVALID cannot PUB in current state (TLS required)");
}

#[test]
fn require_takes_any_certificate_but_not_none() {
    let pki = Pki::new("any");
    let other = Pki::new("any-other");
    let nsqd = start(&pki, &["--tls-client-auth-policy=require"]);
    assert!(
        try_upgrade(nsqd.tcp, pki.client_config(false, false)).is_err(),
        "no certificate"
    );
    let foreign = pki.client_config_with_cert_of(&other);
    try_upgrade(nsqd.tcp, foreign).expect("any certificate");
}

#[test]
fn min_version_tls13_refuses_a_tls12_client() {
    let pki = Pki::new("min");
    let nsqd = start(&pki, &["--tls-min-version=tls1.3"]);
    assert!(
        try_upgrade(nsqd.tcp, pki.client_config(false, true)).is_err(),
        "TLS 1.2 only"
    );
    try_upgrade(nsqd.tcp, pki.client_config(false, false)).expect("TLS 1.3");
    // The default takes TLS 1.2.
    let nsqd = start(&pki, &[]);
    try_upgrade(nsqd.tcp, pki.client_config(false, true)).expect("TLS 1.2 by default");
    assert!(!nsqd.log_text().contains("WARNING"), "{}", nsqd.log_text());
    // Below TLS 1.2: one warning, TLS 1.2 is the floor.
    let nsqd = start(&pki, &["--tls-min-version=tls1.1"]);
    try_upgrade(nsqd.tcp, pki.client_config(false, true)).expect("TLS 1.2 under tls1.1");
    let log = nsqd.log_text();
    let warned: Vec<&str> = log.lines().filter(|l| l.contains("WARNING")).collect();
    assert_eq!(warned.len(), 1, "{log}");
    assert!(
        warned[0].contains("--tls-min-version=tls1.1: TLS 1.2 is the lowest"),
        "{log}"
    );
}

/// A fake auth server (over HTTPS with `tls`): records each request line, grants
/// everything.
fn auth_server(tls: Option<Arc<rustls::ServerConfig>>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(tcp) = stream else { continue };
            let _ = tcp.set_read_timeout(Some(WAIT));
            let mut s: Box<dyn ReadWrite> = match &tls {
                Some(config) => {
                    let conn = rustls::ServerConnection::new(config.clone()).expect("server conn");
                    Box::new(rustls::StreamOwned::new(conn, tcp))
                }
                None => Box::new(tcp),
            };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let line = String::from_utf8_lossy(&head)
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            log.lock().expect("log").push(line);
            let body = r#"{"ttl":3600,"identity":"tls-user","authorizations":[{"topic":".*","channels":[".*"],"permissions":["subscribe","publish"]}]}"#;
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(reply.as_bytes());
            let _ = s.flush();
        }
    });
    (addr, seen)
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

#[cfg(feature = "auth")]
#[test]
fn an_auth_server_over_https_is_asked_with_the_root_ca() {
    let pki = Pki::new("auth-https");
    let (addr, seen) = auth_server(Some(pki.server_config()));
    let port = addr.rsplit(':').next().expect("port");
    let auth = format!("--auth-http-address=https://localhost:{port}/auth");
    let ca = format!("--tls-root-ca-file={}", pki.ca.display());
    let nsqd = Nsqd::start(&[&auth, &ca]);
    let mut c = nsqd.client();
    let f = c.identify(r#"{"feature_negotiation":true}"#);
    assert_eq!(f.frame_type, 0, "{}", f.text());
    c.command("AUTH", Some(b"over-https"));
    let f = c.next_frame();
    assert_eq!(f.frame_type, 0, "{}", f.text());
    let lines = seen.lock().expect("seen").clone();
    assert_eq!(
        lines,
        ["GET /auth?common_name=&remote_ip=127.0.0.1&secret=over-https&tls=false HTTP/1.1"]
    );
    // With another CA, the server's certificate is not trusted: AUTH fails.
    let other = Pki::new("auth-https-other");
    let other_ca = format!("--tls-root-ca-file={}", other.ca.display());
    let nsqd = Nsqd::start(&[&auth, &other_ca]);
    let mut c = nsqd.client();
    c.identify(r#"{"feature_negotiation":true}"#);
    c.command("AUTH", Some(b"over-https"));
    let f = c.next_frame();
    assert_eq!(f.frame_type, 1, "{}", f.text());
    assert!(f.text().starts_with("E_AUTH_FAILED"), "{}", f.text());
}

#[cfg(feature = "auth")]
#[test]
fn auth_queries_carry_tls_and_the_common_name() {
    let pki = Pki::new("auth");
    let (addr, seen) = auth_server(None);
    let ca = format!("--tls-root-ca-file={}", pki.ca.display());
    let auth = format!("--auth-http-address={addr}");
    let nsqd = start(
        &pki,
        &["--tls-client-auth-policy=require-verify", &ca, &auth],
    );
    let (mut c, reply) = TlsV2::connect(nsqd.tcp, pki.client_config(true, false), "");
    assert_eq!(reply["auth_required"], true, "{reply}");
    c.command("AUTH", Some(b"s3cret"));
    let f = c.frame();
    assert_eq!(f.frame_type, 0, "{}", f.text());
    let lines = seen.lock().expect("seen").clone();
    assert_eq!(
        lines,
        ["GET /auth?common_name=test-client&remote_ip=127.0.0.1&secret=s3cret&tls=true HTTP/1.1"]
    );
}

/// True once `s` is closed by nsqd (EOF or reset) within [`WAIT`].
fn closed(s: &mut TcpStream) -> bool {
    common::closed_by_peer(s)
}

/// nsqd still serves a fresh TLS client and a plain one.
fn still_serving(nsqd: &Nsqd, pki: &Pki) {
    let (mut p, _) = TlsV2::connect(nsqd.tcp, pki.client_config(false, false), "");
    p.command("PUB alive", Some(b"x"));
    p.expect_response("OK");
    let mut c = nsqd.client();
    c.publish("alive", b"y");
}

#[test]
fn garbage_instead_of_a_client_hello_closes_only_that_connection() {
    let pki = Pki::new("garbage");
    let nsqd = start(&pki, &[]);
    let (mut tcp, _) = identify_plain(nsqd.tcp, r#"{"feature_negotiation":true,"tls_v1":true}"#);
    tcp.write_all(b"GET / HTTP/1.1\r\n\r\nthis is not TLS at all")
        .expect("write");
    assert!(
        closed(&mut tcp),
        "nsqd keeps a connection that sent garbage"
    );
    still_serving(&nsqd, &pki);
}

#[test]
fn a_stalled_handshake_is_closed_and_others_are_served() {
    let pki = Pki::new("stall");
    let nsqd = start(&pki, &[]);
    let (mut silent, _) = identify_plain(nsqd.tcp, r#"{"feature_negotiation":true,"tls_v1":true}"#);
    // Half a ClientHello record header, then nothing.
    let (mut half, _) = identify_plain(nsqd.tcp, r#"{"feature_negotiation":true,"tls_v1":true}"#);
    half.write_all(&[0x16, 0x03, 0x01]).expect("write");
    still_serving(&nsqd, &pki);
    assert!(closed(&mut silent), "a silent handshake is never closed");
    assert!(closed(&mut half), "a stalled handshake is never closed");
    common::wait_log(|| nsqd.log_text(), "TLS handshake timed out");
}

#[test]
fn a_client_closing_mid_handshake_and_200_concurrent_handshakes() {
    let pki = Pki::new("many");
    let nsqd = start(&pki, &[]);
    for _ in 0..5 {
        let (mut tcp, _) =
            identify_plain(nsqd.tcp, r#"{"feature_negotiation":true,"tls_v1":true}"#);
        tcp.write_all(&[0x16, 0x03, 0x01, 0x00, 0x40, 0x01])
            .expect("write");
        drop(tcp);
    }
    let addr = nsqd.tcp;
    let config = pki.client_config(false, false);
    let threads: Vec<_> = (0..200)
        .map(|i| {
            let config = config.clone();
            std::thread::spawn(move || {
                let (mut c, _) = TlsV2::connect(addr, config, "");
                c.command("PUB many", Some(format!("{i}").as_bytes()));
                c.expect_response("OK");
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a handshake failed");
    }
    common::eventually("200 messages in topic many", || {
        let stats = http(nsqd.http, "GET", "/stats?format=json&topic=many", b"").json();
        stats["topics"][0]["message_count"] == 200
    });
    still_serving(&nsqd, &pki);
}

#[test]
fn tls_flags_that_cannot_work_are_refused_at_start() {
    let pki = Pki::new("flags");
    let key = format!("--tls-key={}", pki.server_key.display());
    let missing = format!("--tls-cert={}", pki.dir.join("nope.pem").display());
    for (args, want) in [
        (vec![key.clone()], "failed to build TLS config"),
        (vec![missing, key.clone()], "failed to build TLS config"),
        (
            vec!["--tls-required=true".into()],
            "cannot require TLS client connections without TLS key and cert",
        ),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_nsqd"))
            .args(["--tcp-address=127.0.0.1:0", "--http-address=127.0.0.1:0"])
            .arg(format!("--data-path={}", pki.dir.display()))
            .args(&args)
            .output()
            .expect("run nsqd");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}
