//! Tests of the auth-server client: requests as Go sends them, reply validation,
//! the rotation over servers, expiry and authorization matching.

use super::query::random_below;
use super::reply::parse;
use super::*;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// A generous deadline: it only turns a hang into a failure.
const T: Duration = Duration::from_secs(30);

/// A 200 reply carrying `json`.
fn ok(json: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{json}",
        json.len()
    )
}

/// A fake auth server on 127.0.0.1:0 answering one connection per reply, in order;
/// joins to the requests it read.
fn serve(replies: Vec<String>) -> (String, JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = thread::spawn(move || {
        replies
            .into_iter()
            .map(|reply| {
                let (mut s, _) = listener.accept().unwrap();
                let request = read_request(&mut s);
                s.write_all(reply.as_bytes()).unwrap();
                request
            })
            .collect()
    });
    (addr, handle)
}

/// The request head and its Content-Length body.
fn read_request(s: &mut TcpStream) -> String {
    String::from_utf8(crate::http::client::tests::read_request(s)).unwrap()
}

fn servers(addresses: &[&str], method_post: bool) -> AuthServers {
    AuthServers {
        addresses: addresses.iter().map(|a| a.to_string()).collect(),
        method_post,
        connect_timeout: T,
        request_timeout: T,
        tls: None,
    }
}

/// An address nothing listens on.
fn down_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

const GOOD: &str = r#"{"ttl":3600,"identity":"alice","identity_url":"http://x/alice",
    "authorizations":[{"topic":"^a.*","channels":[".*"],"permissions":["subscribe","publish"]}]}"#;

/// What a reply with these `authorizations` entries grants.
fn granted(entries: &str) -> Authorizations {
    let body = format!(r#"{{"ttl":60,"authorizations":[{entries}]}}"#);
    parse(body.as_bytes(), Instant::now()).unwrap()
}

fn failed(result: Result<Authorizations, AuthError>) -> String {
    match result {
        Err(AuthError::Failed(reason)) => reason,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn get_request_is_gos() {
    let (addr, server) = serve(vec![ok(GOOD)]);
    let auth = servers(&[&addr], false)
        .query("127.0.0.1", None, "good")
        .unwrap();
    assert_eq!(auth.identity, "alice");
    assert_eq!(auth.identity_url, "http://x/alice");
    assert_eq!(auth.permission_count(), 1);
    let requests = server.join().unwrap();
    let req = &requests[0];
    assert!(
        req.starts_with(
            "GET /auth?common_name=&remote_ip=127.0.0.1&secret=good&tls=false HTTP/1.1\r\n"
        ),
        "{req}"
    );
    assert!(
        req.contains("\r\nAccept: application/vnd.nsq; version=1.0\r\n"),
        "{req}"
    );
    assert!(!req.contains("Content-Length"), "{req}");
}

#[test]
fn get_escapes_values_and_keeps_a_full_urls_path() {
    let (addr, server) = serve(vec![ok(GOOD), ok(GOOD)]);
    let both = [
        format!("http://{addr}/custom"),
        format!("http://{addr}/q?x=1"),
    ];
    for address in &both {
        servers(&[address], false)
            .query("::1", Some("consumer 7"), "a b&c=d/\u{e9}")
            .unwrap();
    }
    let requests = server.join().unwrap();
    let query = "common_name=consumer+7&remote_ip=%3A%3A1&secret=a+b%26c%3Dd%2F%C3%A9&tls=true";
    let lines: Vec<&str> = requests.iter().filter_map(|r| r.lines().next()).collect();
    assert_eq!(
        lines,
        [
            format!("GET /custom?{query} HTTP/1.1"),
            format!("GET /q?x=1&{query} HTTP/1.1")
        ]
    );
}

#[test]
fn post_sends_a_json_body() {
    let (addr, server) = serve(vec![ok(GOOD)]);
    servers(&[&addr], true)
        .query("127.0.0.1", None, "go\"od")
        .unwrap();
    let requests = server.join().unwrap();
    let req = &requests[0];
    assert!(req.starts_with("POST /auth HTTP/1.1\r\n"), "{req}");
    assert!(
        req.contains("\r\nContent-Type: application/json\r\n"),
        "{req}"
    );
    assert!(
        req.contains("\r\nAccept: application/vnd.nsq; version=1.0\r\n"),
        "{req}"
    );
    assert!(
        req.ends_with(concat!(
            "\r\n\r\n",
            r#"{"common_name":[""],"remote_ip":["127.0.0.1"],"secret":["go\"od"],"tls":["false"]}"#
        )),
        "{req}"
    );
}

#[test]
fn bad_answers_fail() {
    let cases = [
        (
            "HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\nno way".to_string(),
            "403",
        ),
        (
            "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n".to_string(),
            "500",
        ),
        ("garbage\r\n\r\n".to_string(), "malformed"),
        (ok("not json"), "invalid JSON"),
        (ok(r#"{"ttl":"60","authorizations":[]}"#), "invalid JSON"),
        (ok(r#"{"ttl":60,"identity":7}"#), "invalid JSON"),
        (
            ok(
                r#"{"ttl":0,"authorizations":[{"topic":"a","channels":[".*"],"permissions":["publish"]}]}"#,
            ),
            "invalid TTL 0",
        ),
        (
            ok(
                r#"{"ttl":-5,"authorizations":[{"topic":"a","channels":[".*"],"permissions":["publish"]}]}"#,
            ),
            "invalid TTL -5",
        ),
        (
            ok(r#"{"authorizations":[{"topic":"a","channels":[".*"],"permissions":["publish"]}]}"#),
            "invalid TTL 0",
        ),
        // ttl is checked before emptiness, as in Go.
        (ok(r#"{"ttl":0,"authorizations":[]}"#), "invalid TTL 0"),
        (
            ok(
                r#"{"ttl":60,"authorizations":[{"topic":"a","channels":[".*"],"permissions":["publish","admin"]}]}"#,
            ),
            "unknown permission \"admin\"",
        ),
        (
            ok(
                r#"{"ttl":60,"authorizations":[{"topic":"(","channels":[".*"],"permissions":["publish"]}]}"#,
            ),
            "unable to compile topic \"(\"",
        ),
        (
            ok(
                r#"{"ttl":60,"authorizations":[{"topic":"a","channels":[".*","[z-a]"],"permissions":["publish"]}]}"#,
            ),
            "unable to compile channel \"[z-a]\"",
        ),
        (
            ok(
                r#"{"ttl":9223372036854775807,"authorizations":[{"topic":"a","channels":[".*"],"permissions":["publish"]}]}"#,
            ),
            "too large",
        ),
    ];
    let (addr, server) = serve(cases.iter().map(|(reply, _)| reply.clone()).collect());
    let auth = servers(&[&addr], false);
    for (reply, reason) in &cases {
        let got = failed(auth.query("127.0.0.1", None, "s"));
        assert!(got.starts_with(&format!("{addr}: ")), "{got}");
        assert!(got.contains(reason), "{reply:?}: {got}");
    }
    server.join().unwrap();
}

#[test]
fn unreachable_servers_fail() {
    let down = down_address();
    let got = failed(servers(&[&down], false).query("127.0.0.1", None, "s"));
    assert!(got.starts_with(&format!("{down}: ")), "{got}");
    let got = failed(servers(&["https://127.0.0.1:1/auth"], false).query("127.0.0.1", None, "s"));
    assert!(got.starts_with("https://127.0.0.1:1/auth: "), "{got}");
    let got = failed(servers(&[], false).query("127.0.0.1", None, "s"));
    assert_eq!(got, "no auth server address");
    let odd = "http://127.0.0.1:1/\u{e9}";
    let got = failed(servers(&[odd], false).query("127.0.0.1", None, "hush"));
    assert!(got.contains("not usable") && !got.contains("hush"), "{got}");
}

#[test]
fn no_authorizations_is_its_own_answer() {
    let (addr, server) = serve(vec![ok(r#"{"ttl":60,"identity":"x","authorizations":[]}"#)]);
    let answer = servers(&[&addr], false).query("127.0.0.1", None, "none");
    assert_eq!(answer.unwrap_err(), AuthError::NoAuthorizations);
    server.join().unwrap();
    for body in [r#"{"ttl":60}"#, r#"{"ttl":60,"authorizations":null}"#] {
        let answer = parse(body.as_bytes(), Instant::now());
        assert_eq!(answer.unwrap_err(), AuthError::NoAuthorizations, "{body}");
    }
}

#[test]
fn missing_and_null_fields_are_gos_zero_values() {
    let body = r#"{"ttl":60,"identity":null,"extra":[1],
        "authorizations":[{"permissions":["publish"],"channels":[".*"]},{"topic":"t"}]}"#;
    let auth = parse(body.as_bytes(), Instant::now()).unwrap();
    assert_eq!(
        (auth.identity.as_str(), auth.identity_url.as_str()),
        ("", "")
    );
    assert_eq!(auth.permission_count(), 2);
    // No topic is the empty regex, which matches every topic.
    assert!(auth.allows("anything", "", false));
    assert!(!auth.allows("t", "c", true));
}

#[test]
fn expiry_follows_the_ttl() {
    let t0 = Instant::now();
    let short = parse(br#"{"ttl":1,"authorizations":[{"topic":"a"}]}"#, t0).unwrap();
    assert!(!short.is_expired(t0));
    assert!(!short.is_expired(t0 + Duration::from_millis(999)));
    assert!(short.is_expired(t0 + Duration::from_secs(1)));
    let long = parse(GOOD.as_bytes(), t0).unwrap();
    assert!(!long.is_expired(t0 + Duration::from_secs(3599)));
    assert!(long.is_expired(t0 + Duration::from_secs(3600)));
    // Through a server, the clock starts at the answer.
    let (addr, server) = serve(vec![ok(r#"{"ttl":1,"authorizations":[{"topic":"a"}]}"#)]);
    let before = Instant::now();
    let auth = servers(&[&addr], false)
        .query("127.0.0.1", None, "short")
        .unwrap();
    assert!(!auth.is_expired(before + Duration::from_millis(999)));
    assert!(auth.is_expired(Instant::now() + Duration::from_secs(1)));
    server.join().unwrap();
}

#[test]
fn a_down_server_passes_to_the_next() {
    let down = down_address();
    let (addr, server) = serve(vec![ok(GOOD)]);
    let auth = servers(&[&down, &addr], false)
        .query("127.0.0.1", None, "good")
        .unwrap();
    assert_eq!(auth.identity, "alice");
    assert_eq!(server.join().unwrap().len(), 1);
    let other = down_address();
    let got = failed(servers(&[&down, &other], false).query("127.0.0.1", None, "good"));
    assert!(
        got.contains(&format!("{down}: ")) && got.contains(&format!("{other}: ")),
        "{got}"
    );
}

/// Every start in `0..n` comes up, and nothing outside it. The draws follow the
/// clock, so they are repeated until each start has been seen; the deadline only
/// turns a stuck clock into a failure.
#[test]
fn rotation_starts_anywhere_in_range() {
    let deadline = Instant::now() + Duration::from_secs(30);
    for n in 1..6 {
        let mut seen = vec![false; n];
        while seen.contains(&false) {
            assert!(
                Instant::now() < deadline,
                "starts seen for {n} servers: {seen:?}"
            );
            let start = random_below(n);
            assert!(start < n, "start {start} for {n} servers");
            seen[start] = true;
        }
    }
}

#[test]
fn allows_needs_permission_topic_and_channel() {
    let auth = granted(r#"{"topic":"^a","channels":[".*"],"permissions":["subscribe","publish"]}"#);
    assert!(auth.allows("apple", "c", true));
    assert!(auth.allows("apple", "", false));
    assert!(!auth.allows("banana", "c", true));
    assert!(!auth.allows("banana", "", false));

    let sub_only = granted(r#"{"topic":".*","channels":[".*"],"permissions":["subscribe"]}"#);
    assert!(sub_only.allows("t", "c", true));
    assert!(!sub_only.allows("t", "", false));
    let pub_only = granted(r#"{"topic":".*","channels":[".*"],"permissions":["publish"]}"#);
    assert!(!pub_only.allows("t", "c", true));
    assert!(pub_only.allows("t", "", false));
    let none = granted(r#"{"topic":".*","channels":[".*"],"permissions":[]}"#);
    assert!(!none.allows("t", "c", true) && !none.allows("t", "", false));
}

#[test]
fn regexes_match_anywhere_unless_anchored() {
    let auth = granted(r#"{"topic":"pp","channels":["ch"],"permissions":["subscribe"]}"#);
    assert!(auth.allows("apple", "arch", true));
    assert!(!auth.allows("apricot", "arch", true));
    assert!(!auth.allows("apple", "c", true));
    let anchored = granted(r#"{"topic":"^pp$","channels":["^ch$"],"permissions":["subscribe"]}"#);
    assert!(!anchored.allows("apple", "ch", true));
    assert!(anchored.allows("pp", "ch", true));
    assert!(!anchored.allows("pp", "arch", true));
}

#[test]
fn quirk_publishing_needs_a_channel_regex_matching_empty() {
    let empty = granted(r#"{"topic":".*","channels":[],"permissions":["publish","subscribe"]}"#);
    assert!(!empty.allows("nochan", "", false));
    assert!(!empty.allows("nochan", "c", true));
    let named = granted(r#"{"topic":".*","channels":["c"],"permissions":["publish"]}"#);
    assert!(!named.allows("t", "", false));
    let any = granted(r#"{"topic":".*","channels":[".*"],"permissions":["publish"]}"#);
    assert!(any.allows("t", "", false));
}

#[test]
fn any_authorization_may_allow() {
    let auth = granted(
        r#"{"topic":"^a","channels":["^x$"],"permissions":["subscribe"]},
           {"topic":"^b","channels":[".*"],"permissions":["publish"]}"#,
    );
    assert_eq!(auth.permission_count(), 2);
    assert!(auth.allows("apple", "x", true));
    assert!(auth.allows("banana", "", false));
    assert!(!auth.allows("apple", "", false));
    assert!(!auth.allows("banana", "x", true));
}
