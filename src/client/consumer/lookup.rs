//! One nsqlookupd query: go-nsq's URL rules for `/lookup?topic=`, the GET, and the
//! producers in the reply turned into `host:port` addresses to dial. It never
//! connects to nsqd and keeps no state; the discovery loop decides what to do.

use crate::http::client::{self, Target};
use crate::tls::ClientTls;
use serde::Deserialize;
use std::time::Duration;

/// The `Accept` header nsq's clients send; lookupd answers unwrapped JSON.
const ACCEPT_V1: &str = "application/vnd.nsq; version=1.0";

/// The `/lookup` reply; only the producers matter here.
#[derive(Debug, Deserialize)]
struct LookupReply {
    #[serde(default)]
    producers: Vec<Peer>,
}

/// One producer of the topic.
#[derive(Debug, Deserialize)]
struct Peer {
    broadcast_address: String,
    tcp_port: u16,
}

/// Checks a lookupd address (`host:port`, an `http://` or `https://` URL) as given
/// by the user.
pub(super) fn check_address(addr: &str) -> Result<(), String> {
    target(addr, "t").map(|_| ())
}

/// What to GET for `topic` from the lookupd at `addr`: the path defaults to
/// `/lookup` (also for a bare `/`), any query in `addr` is kept and `topic=` is
/// appended.
pub(super) fn target(addr: &str, topic: &str) -> Result<Target, String> {
    let Target {
        https,
        host_port,
        path: path_query,
    } = client::parse_url(addr, "/lookup")?;
    let (path, query) = path_query
        .split_once('?')
        .unwrap_or((path_query.as_str(), ""));
    let path = if path == "/" { "/lookup" } else { path };
    let mut query = query.to_string();
    if !query.is_empty() {
        query.push('&');
    }
    query.push_str("topic=");
    query.push_str(&client::query_escape(topic));
    Ok(Target {
        https,
        host_port,
        path: format!("{path}?{query}"),
    })
}

/// The `broadcast_address:tcp_port` of every producer in a `/lookup` reply (IPv6
/// hosts bracketed, producers without an address skipped).
pub(super) fn parse_producers(body: &[u8]) -> Result<Vec<String>, String> {
    let reply: LookupReply =
        serde_json::from_slice(body).map_err(|e| format!("bad /lookup reply: {e}"))?;
    Ok(reply
        .producers
        .into_iter()
        .filter(|p| !p.broadcast_address.is_empty())
        .map(|p| client::join_host_port(&p.broadcast_address, p.tcp_port))
        .collect())
}

/// Asks the lookupd at `addr` for the producers of `topic` (with
/// `Authorization: Bearer <auth_secret>` when a secret is set, as go-nsq does). An
/// `https://` lookupd is checked with `tls` (the consumer's TLS options), or the
/// system's CA bundle when there is none.
pub(super) fn query(
    addr: &str,
    topic: &str,
    timeout: Duration,
    auth_secret: &str,
    tls: Option<&ClientTls>,
) -> Result<Vec<String>, String> {
    let target = target(addr, topic)?;
    let (host, path) = (&target.host_port, &target.path);
    let bearer = format!("Bearer {auth_secret}");
    let mut headers = vec![("Accept", ACCEPT_V1)];
    if !auth_secret.is_empty() {
        headers.push(("Authorization", bearer.as_str()));
    }
    let reply = client::request_to("GET", &target, &headers, &[], timeout, tls)
        .map_err(|e| format!("GET {host}{path}: {e}"))?;
    if reply.status != 200 {
        let body = String::from_utf8_lossy(&reply.body);
        return Err(format!("GET {host}{path}: status {}: {body}", reply.status));
    }
    parse_producers(&reply.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(h: &str, p: &str) -> Target {
        Target {
            https: false,
            host_port: h.to_string(),
            path: p.to_string(),
        }
    }

    #[test]
    fn lookup_urls_follow_go_nsq() {
        let t = |a: &str| target(a, "t1").unwrap();
        assert_eq!(
            t("127.0.0.1:4161"),
            pair("127.0.0.1:4161", "/lookup?topic=t1")
        );
        assert_eq!(t("http://h:4161"), pair("h:4161", "/lookup?topic=t1"));
        assert_eq!(t("http://h:4161/"), pair("h:4161", "/lookup?topic=t1"));
        assert_eq!(
            t("http://h:1/other/path"),
            pair("h:1", "/other/path?topic=t1")
        );
        assert_eq!(t("h:1?x=y"), pair("h:1", "/lookup?x=y&topic=t1"));
        assert_eq!(
            target("h:1", "e#ephemeral").unwrap(),
            pair("h:1", "/lookup?topic=e%23ephemeral")
        );
        let secure = target("https://h:1", "t1").unwrap();
        assert!(secure.https);
        assert_eq!(secure.path, "/lookup?topic=t1");
        assert!(check_address("ftp://h:1").is_err());
        assert!(check_address("").is_err());
        assert!(check_address("h:1").is_ok());
    }

    #[test]
    fn producers_are_parsed_from_the_reply() {
        let body = br#"{"channels":["c"],"producers":[
            {"remote_address":"127.0.0.1:5","hostname":"h","broadcast_address":"127.0.0.1",
             "tcp_port":4150,"http_port":4151,"version":"1.3.0"},
            {"broadcast_address":"::1","tcp_port":4250},
            {"broadcast_address":"","tcp_port":1}]}"#;
        assert_eq!(
            parse_producers(body).unwrap(),
            ["127.0.0.1:4150", "[::1]:4250"]
        );
        assert_eq!(
            parse_producers(br#"{"channels":[]}"#).unwrap(),
            Vec::<String>::new()
        );
        assert!(parse_producers(b"not json").is_err());
        assert!(
            parse_producers(br#"{"producers":[{"broadcast_address":"h","tcp_port":70000}]}"#)
                .is_err()
        );
    }
}
