//! The HTTP exchange with the auth servers (Go's `QueryAnyAuthd` and `QueryAuthd`):
//! the request as Go builds it (GET query or POST JSON body), the rotation over the
//! servers, and the failure reasons. Never puts the secret into an error text.
//! [`AuthServers::query`] blocks, so nsqd calls it from a worker thread, never from
//! the reactor.

use super::grant::Authorizations;
use super::pattern::SUPPORTED;
use super::reply::{parse, AuthError};
use crate::http::client;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The `Accept` header Go's nsqd sends to auth servers.
const ACCEPT_V1: &str = "application/vnd.nsq; version=1.0";

/// How much of a non-200 reply's body goes into the failure reason.
const MAX_REASON_BODY: usize = 256;

/// Where and how to ask (from nsqd's flags).
#[derive(Debug, Clone)]
pub struct AuthServers {
    /// `--auth-http-address`: `host:port` (asked at `http://host:port/auth`) or a full
    /// `http://` or `https://` URL.
    pub addresses: Vec<String>,
    /// `--auth-http-request-method=post`: the parameters go in a JSON body, not the query.
    pub method_post: bool,
    /// `--http-client-connect-timeout`: the deadline to connect to one server.
    pub connect_timeout: Duration,
    /// `--http-client-request-timeout`: the deadline for one server's whole exchange.
    pub request_timeout: Duration,
    /// TLS for `https://` servers (CA from `--tls-root-ca-file`, else the system's).
    pub tls: Option<crate::tls::ClientTls>,
}

impl AuthServers {
    /// Connect and request deadlines of one query.
    fn timeouts(&self) -> client::Timeouts {
        client::Timeouts {
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
    ///
    /// `tls` is the client certificate's common name (`""` without one) when the
    /// connection is on TLS, `None` when it is not.
    pub fn query(
        &self,
        remote_ip: &str,
        tls: Option<&str>,
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
        tls: Option<&str>,
        secret: &str,
    ) -> Result<Authorizations, AuthError> {
        let endpoint = if addr.contains("://") {
            addr.to_string()
        } else {
            format!("http://{addr}/auth")
        };
        let target = client::parse_url(&endpoint, "/").map_err(AuthError::Failed)?;
        let tls_config = self.tls.as_ref();
        let common_name = tls.unwrap_or("");
        let tls = if tls.is_some() { "true" } else { "false" };
        let sent = if self.method_post {
            // Go marshals its url.Values: every value a one-element array, keys sorted.
            let body = serde_json::json!({
                "common_name": [common_name],
                "remote_ip": [remote_ip],
                "secret": [secret],
                "tls": [tls],
            })
            .to_string();
            let headers = [("Accept", ACCEPT_V1), ("Content-Type", "application/json")];
            client::request_to(
                "POST",
                &target,
                &headers,
                body.as_bytes(),
                self.timeouts(),
                tls_config,
            )
        } else {
            // Go's url.Values.Encode order: keys sorted.
            let query = format!(
                "common_name={}&remote_ip={}&secret={}&tls={tls}",
                client::query_escape(common_name),
                client::query_escape(remote_ip),
                client::query_escape(secret)
            );
            // Go appends `?query` even to a URL with a query of its own; `&` keeps both.
            let joiner = if target.path.contains('?') { '&' } else { '?' };
            let target = client::Target {
                path: format!("{}{joiner}{query}", target.path),
                ..target
            };
            let headers = [("Accept", ACCEPT_V1)];
            client::request_to("GET", &target, &headers, &[], self.timeouts(), tls_config)
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

/// A number in `0..n` (n > 0) for where the rotation starts: one xorshift step over the
/// clock, random enough to spread connections over the servers.
pub(super) fn random_below(n: usize) -> usize {
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
