//! AUTH against the real nsqd binary and a fake auth server (§8): IDENTIFY says auth is
//! required, nothing is published or subscribed before AUTH, each way AUTH can fail is
//! fatal with Go's text, what was granted is enforced per topic and channel, an expired
//! grant is asked for again, /stats shows the identity, and the client library's
//! `auth_secret` works.
#![cfg(feature = "auth")]

mod common;

use common::{Client, Nsqd, WAIT};
use nsq::client::{Config, Error, Producer};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// The identity and URL the fake server gives `good`.
const IDENTITY: &str = "alice";
const IDENTITY_URL: &str = "http://auth.example/alice";

/// A fake auth server on 127.0.0.1:0, answering by secret: `good` → topics `^a`, all
/// channels, publish and subscribe, ttl 3600; `short` → the same with ttl 1 the first
/// time, ttl 3600 after; `once` → ttl 1 the first time, 403 after; `emptied` → ttl 1 the
/// first time, no authorizations after; `none` → no authorizations; anything else →
/// 403. It runs until the test process ends.
struct AuthServer {
    addr: String,
    /// Every request: (method, request target, body).
    requests: Arc<Mutex<Vec<(String, String, String)>>>,
    /// Queries per secret.
    counts: Arc<Mutex<HashMap<String, usize>>>,
}

impl AuthServer {
    fn start() -> AuthServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server = AuthServer {
            addr: listener.local_addr().unwrap().to_string(),
            requests: Arc::default(),
            counts: Arc::default(),
        };
        let (requests, counts) = (server.requests.clone(), server.counts.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Some((method, target, body)) = read_request(&mut stream) else {
                    continue;
                };
                let secret = secret_of(&method, &target, &body);
                let n = {
                    let mut counts = counts.lock().unwrap();
                    let n = counts.entry(secret.clone()).or_default();
                    *n += 1;
                    *n
                };
                requests.lock().unwrap().push((method, target, body));
                let _ = stream.write_all(reply_for(&secret, n).as_bytes());
            }
        });
        server
    }

    /// `--auth-http-address=<this server>`.
    fn flag(&self) -> String {
        format!("--auth-http-address={}", self.addr)
    }

    fn count(&self, secret: &str) -> usize {
        self.counts
            .lock()
            .unwrap()
            .get(secret)
            .copied()
            .unwrap_or(0)
    }
}

/// One request: method, target and Content-Length body.
fn read_request(s: &mut TcpStream) -> Option<(String, String, String)> {
    s.set_read_timeout(Some(WAIT)).ok()?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).ok()?;
    let mut line = head.lines().next()?.split(' ');
    let (method, target) = (line.next()?.to_string(), line.next()?.to_string());
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_string())
        })
        .map_or(Some(0), |v| v.parse().ok())?;
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).ok()?;
    Some((method, target, String::from_utf8(body).ok()?))
}

/// The secret from a GET query or a POST JSON body (plain-word secrets need no decoding).
fn secret_of(method: &str, target: &str, body: &str) -> String {
    if method == "POST" {
        let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        return json["secret"][0].as_str().unwrap_or_default().to_string();
    }
    let query = target.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("secret="))
        .unwrap_or_default()
        .to_string()
}

/// The reply to the `n`th query (from 1) for `secret`.
fn reply_for(secret: &str, n: usize) -> String {
    let grant = |ttl: u32| {
        format!(
            r#"{{"ttl":{ttl},"identity":"{IDENTITY}","identity_url":"{IDENTITY_URL}",
            "authorizations":[{{"topic":"^a","channels":[".*"],"permissions":["subscribe","publish"]}}]}}"#
        )
    };
    let (status, body) = match secret {
        "good" => ("200 OK", grant(3600)),
        "short" if n == 1 => ("200 OK", grant(1)),
        "short" => ("200 OK", grant(3600)),
        "once" | "emptied" if n == 1 => ("200 OK", grant(1)),
        "none" | "emptied" => (
            "200 OK",
            r#"{"ttl":3600,"identity":"nobody","authorizations":[]}"#.to_string(),
        ),
        _ => ("403 Forbidden", r#"{"message":"FORBIDDEN"}"#.to_string()),
    };
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// A client that has negotiated features (and checked `auth_required`).
fn identified(nsqd: &Nsqd) -> Client {
    let mut c = nsqd.client();
    let f = c.identify(r#"{"feature_negotiation":true}"#);
    assert_eq!(f.frame_type, 0, "{}", f.text());
    let reply: serde_json::Value = serde_json::from_slice(&f.data).unwrap();
    assert_eq!(reply["auth_required"], true, "{}", f.text());
    c
}

/// The AUTH reply for `good`.
fn good_reply() -> String {
    format!(r#"{{"identity":"{IDENTITY}","identity_url":"{IDENTITY_URL}","permission_count":1}}"#)
}

/// An identified client that has sent AUTH with `secret` and got its grant.
fn authed(nsqd: &Nsqd, secret: &str) -> Client {
    let mut c = identified(nsqd);
    c.command("AUTH", Some(secret.as_bytes()));
    c.expect_response(&good_reply());
    c
}

/// [`authed`] with a 1 s grant, returning once that grant has expired. nsqd starts the
/// grant's clock when the auth server answers, before its AUTH reply reaches us, so a
/// second after that reply it is over: the sleep waits out a TTL, it synchronises
/// nothing. (Nothing is published while the grant is fresh: on a busy machine a
/// second can pass before the command arrives.)
fn authed_then_expired(nsqd: &Nsqd, secret: &str) -> Client {
    let c = authed(nsqd, secret);
    thread::sleep(Duration::from_secs(1));
    c
}

#[test]
fn nothing_is_published_or_subscribed_before_auth() {
    let auth = AuthServer::start();
    let nsqd = Nsqd::start(&[&auth.flag()]);
    let mut c = identified(&nsqd);
    c.command("PUB apple", Some(b"m"));
    c.expect_fatal("E_AUTH_FIRST AUTH required before PUB");

    let mut c = nsqd.client();
    c.command("SUB apple c", None);
    c.expect_fatal("E_AUTH_FIRST AUTH required before SUB");
    let mut c = nsqd.client();
    c.command("MPUB apple", Some(&common::mpub_body(&[b"m"])));
    c.expect_fatal("E_AUTH_FIRST AUTH required before MPUB");
    let mut c = nsqd.client();
    c.command("DPUB apple 100", Some(b"m"));
    c.expect_fatal("E_AUTH_FIRST AUTH required before DPUB");
    assert_eq!(auth.requests.lock().unwrap().len(), 0);
}

#[test]
fn auth_failures_are_fatal() {
    let auth = AuthServer::start();
    let nsqd = Nsqd::start(&[&auth.flag()]);
    let mut c = identified(&nsqd);
    c.command("AUTH", Some(b"wrong"));
    c.expect_fatal("E_AUTH_FAILED AUTH failed");
    let mut c = identified(&nsqd);
    c.command("AUTH", Some(b"none"));
    c.expect_fatal("E_UNAUTHORIZED AUTH no authorizations found");
    assert_eq!((auth.count("wrong"), auth.count("none")), (1, 1));
}

#[test]
fn auth_grants_once_with_gos_request() {
    let auth = AuthServer::start();
    let nsqd = Nsqd::start(&[&auth.flag()]);
    let mut c = authed(&nsqd, "good");
    let requests = auth.requests.lock().unwrap().clone();
    assert_eq!(
        requests,
        [(
            "GET".to_string(),
            "/auth?common_name=&remote_ip=127.0.0.1&secret=good&tls=false".to_string(),
            String::new()
        )]
    );
    c.command("AUTH", Some(b"good"));
    c.expect_fatal("E_INVALID AUTH already set");
}

#[test]
fn post_method_sends_a_json_body() {
    let auth = AuthServer::start();
    let nsqd = Nsqd::start(&[&auth.flag(), "--auth-http-request-method=post"]);
    let mut c = authed(&nsqd, "good");
    c.publish("apple", b"m");
    let requests = auth.requests.lock().unwrap().clone();
    assert_eq!(
        requests,
        [(
            "POST".to_string(),
            "/auth".to_string(),
            r#"{"common_name":[""],"remote_ip":["127.0.0.1"],"secret":["good"],"tls":["false"]}"#
                .to_string()
        )]
    );
}

#[test]
fn publishing_follows_the_grant() {
    let auth = AuthServer::start();
    let nsqd = Nsqd::start(&[&auth.flag()]);
    let mut c = authed(&nsqd, "good");
    c.publish("apple", b"m");
    c.mpub("avocado", &[b"1", b"2"]);
    c.dpub("apricot", 100, b"d");
    c.command("PUB banana", Some(b"m"));
    c.expect_fatal(r#"E_UNAUTHORIZED AUTH failed for PUB on "banana" """#);
    let mut c = authed(&nsqd, "good");
    c.command("MPUB banana", Some(&common::mpub_body(&[b"m"])));
    c.expect_fatal(r#"E_UNAUTHORIZED AUTH failed for MPUB on "banana" """#);
    let mut c = authed(&nsqd, "good");
    c.command("DPUB banana 100", Some(b"m"));
    c.expect_fatal(r#"E_UNAUTHORIZED AUTH failed for DPUB on "banana" """#);
}

#[test]
fn subscribing_follows_the_grant() {
    let auth = AuthServer::start();
    let nsqd = Nsqd::start(&[&auth.flag()]);
    let mut c = authed(&nsqd, "good");
    c.sub("apple", "c");
    let mut c = authed(&nsqd, "good");
    c.command("SUB banana c", None);
    c.expect_fatal(r#"E_UNAUTHORIZED AUTH failed for SUB on "banana" "c""#);
}

#[test]
fn an_expired_grant_is_asked_for_again() {
    let auth = AuthServer::start();
    let nsqd = Nsqd::start(&[&auth.flag()]);
    let mut c = authed_then_expired(&nsqd, "short");
    assert_eq!(auth.count("short"), 1);
    c.publish("apple", b"1");
    assert_eq!(
        auth.count("short"),
        2,
        "the expired grant is asked for again"
    );
    // The renewed grant lasts an hour.
    c.publish("apple", b"2");
    assert_eq!(
        auth.count("short"),
        2,
        "a fresh grant is not asked for again"
    );
}

#[test]
fn a_failed_query_for_an_expired_grant_is_fatal() {
    let auth = AuthServer::start();
    let nsqd = Nsqd::start(&[&auth.flag()]);
    let mut c = authed_then_expired(&nsqd, "once");
    c.command("PUB apple", Some(b"2"));
    c.expect_fatal("E_AUTH_FAILED AUTH failed");
    assert_eq!(auth.count("once"), 2);
}

#[test]
fn an_expired_grant_renewed_empty_refuses_the_command_as_go_does() {
    let auth = AuthServer::start();
    let nsqd = Nsqd::start(&[&auth.flag()]);
    let mut c = authed_then_expired(&nsqd, "emptied");
    c.command("PUB apple", Some(b"2"));
    c.expect_fatal(r#"E_UNAUTHORIZED AUTH failed for PUB on "apple" """#);
    assert_eq!(auth.count("emptied"), 2);
}

#[test]
fn commands_pipelined_after_auth_wait_for_it() {
    let auth = AuthServer::start();
    let nsqd = Nsqd::start(&[&auth.flag()]);
    let mut c = identified(&nsqd);
    let mut out = b"AUTH\n".to_vec();
    out.extend_from_slice(&4i32.to_be_bytes());
    out.extend_from_slice(b"good");
    out.extend_from_slice(b"PUB apple\n");
    out.extend_from_slice(&1i32.to_be_bytes());
    out.extend_from_slice(b"m");
    out.extend_from_slice(b"SUB apple c\n");
    c.send(&out);
    c.expect_response(&good_reply());
    c.expect_response("OK");
    c.expect_response("OK");
}

#[test]
fn stats_show_the_identity() {
    let auth = AuthServer::start();
    let nsqd = Nsqd::start(&[&auth.flag()]);
    let mut c = authed(&nsqd, "good");
    c.sub("apple", "c");
    let r = common::http(nsqd.http, "GET", "/stats?format=json", b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    let expected = format!(
        r#""authed":true,"auth_identity":"{IDENTITY}","auth_identity_url":"{IDENTITY_URL}""#
    );
    assert!(text.contains(&expected), "{text}");
    let client = &r.json()["topics"][0]["channels"][0]["clients"][0];
    assert_eq!(client["auth_identity"], IDENTITY, "{text}");
}

#[test]
fn the_client_library_sends_its_secret() {
    let auth = AuthServer::start();
    let nsqd = Nsqd::start(&[&auth.flag()]);
    let addr = nsqd.tcp.to_string();
    let config = |secret: &str| Config {
        auth_secret: secret.into(),
        ..Default::default()
    };
    let producer = Producer::new(&addr, config("good")).unwrap();
    producer.publish("apple", b"m").unwrap();
    producer.stop();
    for secret in ["", "wrong"] {
        let producer = Producer::new(&addr, config(secret)).unwrap();
        match producer.publish("apple", b"m") {
            Err(Error::Auth(_)) => {}
            other => panic!("secret {secret:?}: expected an auth error, got {other:?}"),
        }
        producer.stop();
    }
}

#[test]
fn a_down_auth_server_fails_auth() {
    let down = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let nsqd = Nsqd::start(&[&format!("--auth-http-address={down}")]);
    let mut c = identified(&nsqd);
    c.command("AUTH", Some(b"good"));
    c.expect_fatal("E_AUTH_FAILED AUTH failed");
}
