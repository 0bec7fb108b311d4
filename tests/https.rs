//! nsqd's HTTPS listener, black-box: `/ping`, `/pub` and `/stats` over TLS 1.2 and
//! 1.3 on `--https-address`; the plain listener's exact `403 TLS_REQUIRED` under
//! `--tls-required=true` (and plain HTTP under `tcp-https`); client certificates under
//! `require` and `require-verify`; and hostile peers (garbage instead of a ClientHello,
//! plain HTTP to the HTTPS port, a handshake that stalls or is cut off, 200 handshakes
//! at once) each cost only their own connection while HTTPS and plain HTTP keep
//! answering. Deadlines only turn a hang into a failure.
#![cfg(feature = "tls")]
mod common;

use common::tls::{client_config, wrap, Pki};
use common::{http, parse_http_response, HttpResponse, Nsqd, WAIT};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};

type TlsStream = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// nsqd with TLS from `pki` and the extra `args`, and its HTTPS address.
fn start(pki: &Pki, args: &[&str]) -> (Nsqd, SocketAddr) {
    let mut all = pki.server_args();
    all.extend(args.iter().map(|a| a.to_string()));
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let nsqd = Nsqd::start(&refs);
    let addr = https_addr(&nsqd);
    (nsqd, addr)
}

/// The address of the `HTTPS: listening on <addr>` log line (logged before HTTP's).
fn https_addr(nsqd: &Nsqd) -> SocketAddr {
    let log = nsqd.log_text();
    let rest = log
        .split("HTTPS: listening on ")
        .nth(1)
        .unwrap_or_else(|| panic!("no HTTPS line in the log: {log}"));
    let addr: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
    addr.parse().expect("HTTPS address")
}

fn tcp(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.set_write_timeout(Some(WAIT)).unwrap();
    s
}

/// A TLS connection to `addr` (the handshake runs on first use).
fn connect(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> TlsStream {
    wrap(config, tcp(addr))
}

fn request(method: &str, target: &str, body: &[u8], close: bool) -> Vec<u8> {
    let connection = if close { "Connection: close\r\n" } else { "" };
    let mut out = format!(
        "{method} {target} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n{connection}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Reads one whole response (by `Content-Length`) off `s`.
fn read_response(s: &mut impl Read) -> Result<HttpResponse, String> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| format!("no Content-Length in {head}"))?;
            if raw.len() >= end + 4 + len {
                return parse_http_response(&raw).ok_or_else(|| "unparsable".to_string());
            }
        }
        match s.read(&mut buf) {
            Ok(0) => return Err(format!("closed after {} bytes", raw.len())),
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
}

/// One request with `Connection: close` over a fresh TLS connection.
fn https(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    method: &str,
    target: &str,
    body: &[u8],
) -> Result<HttpResponse, String> {
    let mut s = connect(addr, config);
    s.write_all(&request(method, target, body, true))
        .and_then(|()| s.flush())
        .map_err(|e| format!("write: {e}"))?;
    read_response(&mut s)
}

fn ping_ok(addr: SocketAddr, config: Arc<rustls::ClientConfig>) {
    let resp = https(addr, config, "GET", "/ping", b"").expect("HTTPS /ping");
    assert_eq!((resp.status, resp.text()), (200, "OK".to_string()));
}

/// HTTPS and plain HTTP both answer `/ping`.
fn assert_alive(nsqd: &Nsqd, addr: SocketAddr, pki: &Pki) {
    ping_ok(addr, pki.client_config(false, false));
    assert_eq!(http(nsqd.http, "GET", "/ping", b"").text(), "OK");
}

/// A request on a kept-alive HTTPS connection, answered `OK`.
fn keep_alive_ping(s: &mut TlsStream) {
    s.write_all(&request("GET", "/ping", b"", false)).unwrap();
    let resp = read_response(s).expect("kept-alive /ping");
    assert_eq!((resp.status, resp.text()), (200, "OK".to_string()));
}

/// Reads until the server closes `s` (EOF or reset): false if it is still open when
/// the read deadline passes.
fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false
            }
            Err(_) => return true,
        }
    }
}

/// The bytes of a real ClientHello for `localhost`.
fn client_hello(pki: &Pki) -> Vec<u8> {
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut conn = rustls::ClientConnection::new(pki.client_config(false, false), name).unwrap();
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).unwrap();
    }
    out
}

#[test]
fn ping_over_tls_1_2_and_1_3() {
    let pki = Pki::new("https-ping");
    let (nsqd, addr) = start(&pki, &["--https-address=127.0.0.1:0"]);
    ping_ok(addr, pki.client_config(false, false));
    ping_ok(addr, pki.client_config(false, true));
    // Many requests on one connection.
    let mut s = connect(addr, pki.client_config(false, false));
    for _ in 0..50 {
        keep_alive_ping(&mut s);
    }
    // Plain HTTP is untouched by default (--tls-required=false).
    assert_eq!(http(nsqd.http, "GET", "/ping", b"").text(), "OK");
}

#[test]
fn no_certificate_no_https_listener() {
    let nsqd = Nsqd::start(&[]);
    assert!(!nsqd.log_text().contains("HTTPS"), "{}", nsqd.log_text());
}

#[test]
fn publish_over_https_shows_in_stats() {
    let pki = Pki::new("https-pub");
    let (nsqd, addr) = start(&pki, &[]);
    let config = pki.client_config(false, false);
    let resp = https(addr, config.clone(), "POST", "/pub?topic=secure", b"hello").unwrap();
    assert_eq!((resp.status, resp.text()), (200, "OK".to_string()));
    let resp = https(addr, config, "GET", "/stats?format=json&topic=secure", b"").unwrap();
    assert_eq!(resp.status, 200);
    let stats = resp.json();
    assert_eq!(stats["topics"][0]["topic_name"], "secure");
    assert_eq!(stats["topics"][0]["message_count"], 1);
    // The same registry behind plain HTTP.
    let plain = http(nsqd.http, "GET", "/stats?format=json&topic=secure", b"").json();
    assert_eq!(plain["topics"][0]["message_count"], 1);
}

#[test]
fn tls_required_true_refuses_every_plain_request_with_go_s_403() {
    let pki = Pki::new("https-required");
    let (nsqd, addr) = start(&pki, &["--tls-required=true"]);
    let expected = format!(
        r#"{{"message": "TLS_REQUIRED", "https_port": {}}}"#,
        addr.port()
    );
    for (method, target) in [
        ("GET", "/ping"),
        ("POST", "/pub?topic=t"),
        ("GET", "/stats"),
        ("GET", "/nowhere"),
        ("OPTIONS", "/pub"),
    ] {
        let mut s = tcp(nsqd.http);
        s.write_all(&request(method, target, b"x", true)).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8_lossy(&raw);
        assert!(text.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{text}");
        let resp = parse_http_response(&raw).expect("a response");
        assert_eq!(resp.status, 403, "{method} {target}");
        assert_eq!(
            resp.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(resp.header("x-nsq-content-type"), Some("nsq; version=1.0"));
        assert_eq!(resp.text(), expected, "{method} {target}");
    }
    // Nothing was published through the refused /pub; HTTPS serves normally.
    let config = pki.client_config(false, false);
    let resp = https(addr, config.clone(), "GET", "/stats?format=json", b"").unwrap();
    assert_eq!(resp.json()["topics"].as_array().map(Vec::len), Some(0));
    let resp = https(addr, config, "POST", "/pub?topic=t", b"m").unwrap();
    assert_eq!((resp.status, resp.text()), (200, "OK".to_string()));
}

#[test]
fn tls_required_tcp_https_keeps_plain_http() {
    let pki = Pki::new("https-tcp-https");
    let (nsqd, addr) = start(&pki, &["--tls-required=tcp-https"]);
    assert_eq!(http(nsqd.http, "GET", "/ping", b"").text(), "OK");
    let resp = http(nsqd.http, "POST", "/pub?topic=t", b"m");
    assert_eq!((resp.status, resp.text()), (200, "OK".to_string()));
    ping_ok(addr, pki.client_config(false, false));
}

#[test]
fn require_verify_accepts_only_certificates_of_the_root_ca() {
    let pki = Pki::new("https-verify");
    let other = Pki::new("https-verify-other");
    let ca = format!("--tls-root-ca-file={}", pki.ca.display());
    let (nsqd, addr) = start(&pki, &["--tls-client-auth-policy=require-verify", &ca]);
    for tls12 in [false, true] {
        let refused = https(addr, pki.client_config(false, tls12), "GET", "/ping", b"");
        assert!(
            refused.is_err(),
            "no certificate (tls12 {tls12}): {refused:?}"
        );
        let foreign = client_config(
            &pki.ca,
            Some((&other.client_cert, &other.client_key)),
            tls12,
        );
        let refused = https(addr, foreign, "GET", "/ping", b"");
        assert!(refused.is_err(), "other CA (tls12 {tls12}): {refused:?}");
        ping_ok(addr, pki.client_config(true, tls12));
    }
    // The policy forces --tls-required=true: plain HTTP says where HTTPS is.
    assert_eq!(http(nsqd.http, "GET", "/ping", b"").status, 403);
}

#[test]
fn require_accepts_any_certificate_but_needs_one() {
    let pki = Pki::new("https-require");
    let other = Pki::new("https-require-other");
    let (_nsqd, addr) = start(&pki, &["--tls-client-auth-policy=require"]);
    let refused = https(addr, pki.client_config(false, false), "GET", "/ping", b"");
    assert!(refused.is_err(), "no certificate: {refused:?}");
    let foreign = client_config(
        &pki.ca,
        Some((&other.client_cert, &other.client_key)),
        false,
    );
    ping_ok(addr, foreign);
}

#[test]
fn tls_min_version_1_3_refuses_a_tls_1_2_client() {
    let pki = Pki::new("https-min");
    let (_nsqd, addr) = start(&pki, &["--tls-min-version=tls1.3"]);
    let refused = https(addr, pki.client_config(false, true), "GET", "/ping", b"");
    assert!(refused.is_err(), "TLS 1.2 client: {refused:?}");
    ping_ok(addr, pki.client_config(false, false));
}

#[test]
fn a_key_without_a_certificate_stops_the_start() {
    let pki = Pki::new("https-half");
    let key = format!("--tls-key={}", pki.server_key.display());
    let bin = env!("CARGO_BIN_EXE_nsqd");
    let data = common::temp_dir("https-half");
    let out = std::process::Command::new(bin)
        .args([
            "--tcp-address=127.0.0.1:0",
            "--http-address=127.0.0.1:0",
            "--https-address=127.0.0.1:0",
            &format!("--data-path={}", data.display()),
            &key,
        ])
        .output()
        .expect("run nsqd");
    let _ = std::fs::remove_dir_all(&data);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("failed to build TLS config"), "{stderr}");
}

#[test]
fn garbage_and_plain_http_close_only_their_own_connection() {
    let pki = Pki::new("https-garbage");
    let (nsqd, addr) = start(&pki, &[]);
    let mut kept = connect(addr, pki.client_config(false, false));
    keep_alive_ping(&mut kept);
    // Bytes that are no TLS record at all.
    let mut s = tcp(addr);
    s.write_all(&[0xde; 512]).unwrap();
    assert!(closed_by_server(&mut s), "garbage connection left open");
    // A record header that promises a huge handshake message, then junk.
    let mut s = tcp(addr);
    s.write_all(b"\x16\x03\x01\xff\xff\x01\xff\xff\xff")
        .unwrap();
    s.write_all(&[0x41; 2048]).unwrap();
    assert!(closed_by_server(&mut s), "bad hello left open");
    // Plain HTTP to the HTTPS port gets Go's plain 400.
    let mut s = tcp(addr);
    s.write_all(&request("GET", "/ping", b"", true)).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    assert_eq!(
        String::from_utf8_lossy(&raw),
        "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
    );
    keep_alive_ping(&mut kept);
    assert_alive(&nsqd, addr, &pki);
}

#[test]
fn stalled_handshakes_are_cut_off_by_the_deadline_and_starve_nobody() {
    let pki = Pki::new("https-stall");
    let (nsqd, addr) = start(&pki, &[]);
    let mut kept = connect(addr, pki.client_config(false, false));
    keep_alive_ping(&mut kept);
    let hello = client_hello(&pki);
    // Half a ClientHello, then nothing.
    let mut half = tcp(addr);
    half.write_all(&hello[..hello.len() / 2]).unwrap();
    // A whole ClientHello, the server's flight read, then nothing.
    let mut whole = tcp(addr);
    whole.write_all(&hello).unwrap();
    let mut buf = [0u8; 4096];
    let n = whole.read(&mut buf).expect("server hello");
    assert!(n > 0 && buf[0] == 0x16, "a handshake record comes back");
    // Opened and silent.
    let mut silent = tcp(addr);
    // Meanwhile everyone else is served.
    for _ in 0..5 {
        assert_alive(&nsqd, addr, &pki);
        keep_alive_ping(&mut kept);
    }
    // The new-connection deadline closes each of them (a read timeout here is a hang).
    assert!(closed_by_server(&mut half), "half hello never closed");
    assert!(
        closed_by_server(&mut whole),
        "stalled handshake never closed"
    );
    assert!(
        closed_by_server(&mut silent),
        "silent connection never closed"
    );
    assert_alive(&nsqd, addr, &pki);
}

#[test]
fn handshakes_cut_off_midway_cost_nothing() {
    let pki = Pki::new("https-cut");
    let (nsqd, addr) = start(&pki, &[]);
    let mut kept = connect(addr, pki.client_config(false, false));
    keep_alive_ping(&mut kept);
    let hello = client_hello(&pki);
    for round in 0..20 {
        let mut s = tcp(addr);
        match round % 3 {
            // Half a hello, then close.
            0 => s.write_all(&hello[..hello.len() / 2]).unwrap(),
            // A whole hello, the answer read, then close.
            1 => {
                s.write_all(&hello).unwrap();
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
            }
            // A whole hello and close without reading (the answer meets a closed socket).
            _ => s.write_all(&hello).unwrap(),
        }
        drop(s);
    }
    keep_alive_ping(&mut kept);
    assert_alive(&nsqd, addr, &pki);
    let resp = https(
        addr,
        pki.client_config(false, false),
        "POST",
        "/pub?topic=t",
        b"m",
    );
    assert_eq!(resp.map(|r| r.status), Ok(200));
}

#[test]
fn two_hundred_concurrent_handshakes_are_all_served() {
    let pki = Pki::new("https-many");
    let (nsqd, addr) = start(&pki, &[]);
    let n = 200;
    let start_line = Arc::new(Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (config, start_line) = (pki.client_config(false, i % 2 == 1), start_line.clone());
            std::thread::spawn(move || {
                start_line.wait();
                https(addr, config, "GET", "/ping", b"")
            })
        })
        .collect();
    // Plain HTTP answers while they handshake.
    assert_eq!(http(nsqd.http, "GET", "/ping", b"").text(), "OK");
    for (i, t) in threads.into_iter().enumerate() {
        let resp = t.join().expect("client thread");
        let resp = resp.unwrap_or_else(|e| panic!("client {i}: {e}"));
        assert_eq!(
            (resp.status, resp.text()),
            (200, "OK".to_string()),
            "client {i}"
        );
    }
    assert_alive(&nsqd, addr, &pki);
}
