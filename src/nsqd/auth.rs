//! The auth-server client behind `--auth-http-address`: what a connection's AUTH secret
//! may do.
//!
//! This module owns the HTTP exchange with the auth servers (Go's `QueryAnyAuthd` and
//! `QueryAuthd`), the validation of their reply, and the check of one SUB or publish
//! against what was granted (Go's `IsAllowed`). The reply is parsed sans-IO by `parse`.
//! It never touches a client connection, never puts the secret into an error text, and
//! never trusts the reply: a bad field is a query failure, not a panic. [`AuthServers::query`]
//! blocks, so nsqd calls it from a worker thread, never from the reactor.
//!
//! Regular expressions come from the `regex` crate (RE2 syntax, as Go's `regexp`) behind
//! the `auth` feature; without it no authorization can exist and every query fails.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use crate::client::http;

/// True when this build can check authorizations (the `auth` feature, which brings the
/// `regex` crate); nsqd refuses `--auth-http-address` otherwise.
pub const SUPPORTED: bool = cfg!(feature = "auth");

/// The `Accept` header Go's nsqd sends to auth servers.
const ACCEPT_V1: &str = "application/vnd.nsq; version=1.0";

/// How much of a non-200 reply's body goes into the failure reason.
const MAX_REASON_BODY: usize = 256;

/// What the auth server granted one connection's secret.
#[derive(Debug, Clone)]
pub struct Authorizations {
    /// Who the secret belongs to, as the auth server names it (`auth_identity` in /stats).
    pub identity: String,
    /// A link about that identity (`auth_identity_url` in /stats).
    pub identity_url: String,
    /// When the answer must be asked for again (query time + `ttl` seconds).
    expires: Instant,
    /// One per entry of the reply's `authorizations`, regexes compiled.
    rules: Vec<Rule>,
}

impl Authorizations {
    /// Number of authorizations (AUTH's reply carries it as "permission_count").
    pub fn permission_count(&self) -> usize {
        self.rules.len()
    }

    /// True once `ttl` seconds have passed since the query (`now` >= expiry).
    pub fn is_expired(&self, now: Instant) -> bool {
        now >= self.expires
    }

    /// Go's check: any authorization with the permission (`subscribe` for SUB when
    /// `subscribe` is true, `publish` otherwise), whose topic regex matches somewhere in
    /// `topic`, and one of whose channel regexes matches `channel` (publishes pass
    /// channel "").
    ///
    /// QUIRK (as Go): an authorization with no channels never allows publishing; the
    /// auth server has to grant `".*"` for that.
    pub fn allows(&self, topic: &str, channel: &str, subscribe: bool) -> bool {
        self.rules.iter().any(|rule| {
            let permitted = if subscribe {
                rule.subscribe
            } else {
                rule.publish
            };
            permitted
                && rule.topic.is_match(topic)
                && rule.channels.iter().any(|c| c.is_match(channel))
        })
    }
}

/// One authorization of a reply, validated.
#[derive(Debug, Clone)]
struct Rule {
    topic: Pattern,
    channels: Vec<Pattern>,
    subscribe: bool,
    publish: bool,
}

/// Why a query did not give authorizations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// Unreachable server, non-200, invalid JSON, ttl <= 0, unknown permission, bad
    /// regex: `E_AUTH_FAILED AUTH failed` on the wire; the text is the reason for the log.
    Failed(String),
    /// 200 with no authorizations: `E_UNAUTHORIZED AUTH no authorizations found`.
    NoAuthorizations,
}

/// Where and how to ask (from nsqd's flags).
#[derive(Debug, Clone)]
pub struct AuthServers {
    /// `--auth-http-address`: `host:port` (asked at `http://host:port/auth`) or a full
    /// `http://` URL.
    pub addresses: Vec<String>,
    /// `--auth-http-request-method=post`: the parameters go in a JSON body, not the query.
    pub method_post: bool,
    /// `--http-client-connect-timeout`: the deadline to connect to one server.
    pub connect_timeout: Duration,
    /// `--http-client-request-timeout`: the deadline for one server's whole exchange.
    pub request_timeout: Duration,
}

impl AuthServers {
    /// Connect and request deadlines of one query.
    fn timeouts(&self) -> http::Timeouts {
        http::Timeouts {
            connect: self.connect_timeout,
            total: self.request_timeout,
        }
    }

    /// Asks the servers, in a random rotation until one answers (Go: `QueryAnyAuthd`),
    /// for `secret`'s authorizations. Blocking — nsqd calls it from a worker thread.
    ///
    /// A server that fails (unreachable, non-200, an invalid reply) passes the question
    /// to the next; one that answers with no authorizations ends the rotation. When all
    /// fail, the reason names each address and what went wrong with it.
    pub fn query(
        &self,
        remote_ip: &str,
        tls: bool,
        secret: &str,
    ) -> Result<Authorizations, AuthError> {
        if !SUPPORTED {
            return Err(AuthError::Failed("built without the auth feature".into()));
        }
        let n = self.addresses.len();
        if n == 0 {
            return Err(AuthError::Failed("no auth server address".into()));
        }
        let start = random_below(n);
        let mut reasons = Vec::with_capacity(n);
        for i in 0..n {
            let addr = &self.addresses[(start + i) % n];
            match self.query_one(addr, remote_ip, tls, secret) {
                Err(AuthError::Failed(reason)) => reasons.push(format!("{addr}: {reason}")),
                answer => return answer,
            }
        }
        Err(AuthError::Failed(reasons.join("; ")))
    }

    /// Go's `QueryAuthd`: one request to one server, and its reply parsed.
    fn query_one(
        &self,
        addr: &str,
        remote_ip: &str,
        tls: bool,
        secret: &str,
    ) -> Result<Authorizations, AuthError> {
        let endpoint = if addr.contains("://") {
            addr.to_string()
        } else {
            format!("http://{addr}/auth")
        };
        let (host_port, path) = http::split_url(&endpoint, "/").map_err(AuthError::Failed)?;
        let tls = if tls { "true" } else { "false" };
        let sent = if self.method_post {
            // Go marshals its url.Values: every value a one-element array, keys sorted.
            let body = serde_json::json!({
                "common_name": [""],
                "remote_ip": [remote_ip],
                "secret": [secret],
                "tls": [tls],
            })
            .to_string();
            let headers = [("Accept", ACCEPT_V1), ("Content-Type", "application/json")];
            http::request(
                "POST",
                &host_port,
                &path,
                &headers,
                body.as_bytes(),
                self.timeouts(),
            )
        } else {
            // Go's url.Values.Encode order: keys sorted.
            let query = format!(
                "common_name=&remote_ip={}&secret={}&tls={tls}",
                http::query_escape(remote_ip),
                http::query_escape(secret)
            );
            // Go appends `?query` even to a URL with a query of its own; `&` keeps both.
            let joiner = if path.contains('?') { '&' } else { '?' };
            http::request(
                "GET",
                &host_port,
                &format!("{path}{joiner}{query}"),
                &[("Accept", ACCEPT_V1)],
                &[],
                self.timeouts(),
            )
        };
        let response = sent.map_err(|e| match e.kind() {
            // Its text would quote the request target, secret included.
            std::io::ErrorKind::InvalidInput => {
                AuthError::Failed("address not usable in a request".into())
            }
            _ => AuthError::Failed(e.to_string()),
        })?;
        if response.status != 200 {
            let shown = &response.body[..response.body.len().min(MAX_REASON_BODY)];
            return Err(AuthError::Failed(format!(
                "got response {} {:?}",
                response.status,
                String::from_utf8_lossy(shown)
            )));
        }
        parse(&response.body, Instant::now())
    }
}

/// An auth server's reply as sent. Every field may be missing or null, as Go's decoding
/// into zero values allows; unknown fields are ignored.
#[derive(Deserialize)]
struct Reply {
    ttl: Option<i64>,
    identity: Option<String>,
    identity_url: Option<String>,
    authorizations: Option<Vec<ReplyRule>>,
}

/// One entry of a reply's `authorizations`.
#[derive(Deserialize)]
struct ReplyRule {
    topic: Option<String>,
    channels: Option<Vec<String>>,
    permissions: Option<Vec<String>>,
}

/// Validates a 200 reply's `body`, received at `now`, in Go's order: each
/// authorization's permissions and regexes, then the ttl, then that there is at least one.
fn parse(body: &[u8], now: Instant) -> Result<Authorizations, AuthError> {
    let reply: Reply = serde_json::from_slice(body)
        .map_err(|e| AuthError::Failed(format!("invalid JSON reply: {e}")))?;
    let rules = reply
        .authorizations
        .unwrap_or_default()
        .into_iter()
        .map(Rule::compile)
        .collect::<Result<Vec<Rule>, AuthError>>()?;
    let ttl = reply.ttl.unwrap_or(0);
    if ttl <= 0 {
        return Err(AuthError::Failed(format!("invalid TTL {ttl} (must be >0)")));
    }
    let expires = now
        .checked_add(Duration::from_secs(ttl.unsigned_abs()))
        .ok_or_else(|| AuthError::Failed(format!("TTL {ttl} too large")))?;
    if rules.is_empty() {
        return Err(AuthError::NoAuthorizations);
    }
    Ok(Authorizations {
        identity: reply.identity.unwrap_or_default(),
        identity_url: reply.identity_url.unwrap_or_default(),
        expires,
        rules,
    })
}

impl Rule {
    fn compile(rule: ReplyRule) -> Result<Rule, AuthError> {
        let permissions = rule.permissions.unwrap_or_default();
        if let Some(p) = permissions
            .iter()
            .find(|p| !matches!(p.as_str(), "subscribe" | "publish"))
        {
            return Err(AuthError::Failed(format!("unknown permission {p:?}")));
        }
        let compile = |what: &str, source: &str| {
            Pattern::new(source)
                .map_err(|e| AuthError::Failed(format!("unable to compile {what} {source:?}: {e}")))
        };
        let topic = compile("topic", rule.topic.as_deref().unwrap_or_default())?;
        let channels = rule
            .channels
            .unwrap_or_default()
            .iter()
            .map(|c| compile("channel", c))
            .collect::<Result<Vec<Pattern>, AuthError>>()?;
        Ok(Rule {
            topic,
            channels,
            subscribe: permissions.iter().any(|p| p == "subscribe"),
            publish: permissions.iter().any(|p| p == "publish"),
        })
    }
}

/// A compiled topic or channel regex.
#[cfg(feature = "auth")]
#[derive(Debug, Clone)]
struct Pattern(regex::Regex);

#[cfg(feature = "auth")]
impl Pattern {
    fn new(source: &str) -> Result<Pattern, String> {
        regex::Regex::new(source)
            .map(Pattern)
            .map_err(|e| e.to_string())
    }

    /// Matches anywhere in `text` unless the pattern anchors itself, as Go's `MatchString`.
    fn is_match(&self, text: &str) -> bool {
        self.0.is_match(text)
    }
}

/// A compiled regex (none can exist without the `auth` feature).
#[cfg(not(feature = "auth"))]
#[derive(Debug, Clone)]
enum Pattern {}

#[cfg(not(feature = "auth"))]
impl Pattern {
    fn new(_source: &str) -> Result<Pattern, String> {
        Err("built without the auth feature".into())
    }

    fn is_match(&self, _text: &str) -> bool {
        match *self {}
    }
}

/// A number in `0..n` (n > 0) for where the rotation starts: one xorshift step over the
/// clock, random enough to spread connections over the servers.
fn random_below(n: usize) -> usize {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() ^ u64::from(d.subsec_nanos()));
    // Xorshift maps zero to zero; any odd seed is a fine start.
    let mut x = seed | 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    // The remainder is below n, so it fits in usize.
    (x % n as u64) as usize
}

#[cfg(all(test, not(feature = "auth")))]
mod tests_without_regex {
    use super::*;

    #[test]
    fn every_query_fails() {
        let servers = AuthServers {
            addresses: vec!["127.0.0.1:1".into()],
            method_post: false,
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(1),
        };
        assert_eq!(
            servers.query("127.0.0.1", false, "good").unwrap_err(),
            AuthError::Failed("built without the auth feature".into())
        );
    }
}

#[cfg(all(test, feature = "auth"))]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::thread::{self, JoinHandle};

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
        String::from_utf8(crate::client::http::tests::read_request(s)).unwrap()
    }

    fn servers(addresses: &[&str], method_post: bool) -> AuthServers {
        AuthServers {
            addresses: addresses.iter().map(|a| a.to_string()).collect(),
            method_post,
            connect_timeout: T,
            request_timeout: T,
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
            .query("127.0.0.1", false, "good")
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
                .query("::1", true, "a b&c=d/\u{e9}")
                .unwrap();
        }
        let requests = server.join().unwrap();
        let query = "common_name=&remote_ip=%3A%3A1&secret=a+b%26c%3Dd%2F%C3%A9&tls=true";
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
            .query("127.0.0.1", false, "go\"od")
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
            req.ends_with(
                concat!("\r\n\r\n", r#"{"common_name":[""],"remote_ip":["127.0.0.1"],"secret":["go\"od"],"tls":["false"]}"#)
            ),
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
                ok(
                    r#"{"authorizations":[{"topic":"a","channels":[".*"],"permissions":["publish"]}]}"#,
                ),
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
            let got = failed(auth.query("127.0.0.1", false, "s"));
            assert!(got.starts_with(&format!("{addr}: ")), "{got}");
            assert!(got.contains(reason), "{reply:?}: {got}");
        }
        server.join().unwrap();
    }

    #[test]
    fn unreachable_and_https_servers_fail() {
        let down = down_address();
        let got = failed(servers(&[&down], false).query("127.0.0.1", false, "s"));
        assert!(got.starts_with(&format!("{down}: ")), "{got}");
        let got =
            failed(servers(&["https://127.0.0.1:1/auth"], false).query("127.0.0.1", false, "s"));
        assert!(got.contains("https is not supported"), "{got}");
        let got = failed(servers(&[], false).query("127.0.0.1", false, "s"));
        assert_eq!(got, "no auth server address");
        let odd = "http://127.0.0.1:1/\u{e9}";
        let got = failed(servers(&[odd], false).query("127.0.0.1", false, "hush"));
        assert!(got.contains("not usable") && !got.contains("hush"), "{got}");
    }

    #[test]
    fn no_authorizations_is_its_own_answer() {
        let (addr, server) = serve(vec![ok(r#"{"ttl":60,"identity":"x","authorizations":[]}"#)]);
        let answer = servers(&[&addr], false).query("127.0.0.1", false, "none");
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
            .query("127.0.0.1", false, "short")
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
            .query("127.0.0.1", false, "good")
            .unwrap();
        assert_eq!(auth.identity, "alice");
        assert_eq!(server.join().unwrap().len(), 1);
        let other = down_address();
        let got = failed(servers(&[&down, &other], false).query("127.0.0.1", false, "good"));
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
        let auth =
            granted(r#"{"topic":"^a","channels":[".*"],"permissions":["subscribe","publish"]}"#);
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
        let anchored =
            granted(r#"{"topic":"^pp$","channels":["^ch$"],"permissions":["subscribe"]}"#);
        assert!(!anchored.allows("apple", "ch", true));
        assert!(anchored.allows("pp", "ch", true));
        assert!(!anchored.allows("pp", "arch", true));
    }

    #[test]
    fn quirk_publishing_needs_a_channel_regex_matching_empty() {
        let empty =
            granted(r#"{"topic":".*","channels":[],"permissions":["publish","subscribe"]}"#);
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
}
