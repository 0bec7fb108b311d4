//! A minimal blocking HTTP/1.1 client for nsqd's and nsqlookupd's HTTP APIs.
//!
//! This module owns one request/response exchange over a fresh `TcpStream`:
//! `Connection: close`, one deadline for connecting, writing and reading, the
//! response head parsed by `httparse`, and the three ways a body can end —
//! `Content-Length`, `Transfer-Encoding: chunked`, or the peer closing. `https://`
//! addresses speak TLS (a [`ClientTls`] given by the caller, or the system's CA
//! bundle). It never keeps connections, follows redirects or trusts the peer: every
//! size the peer sends is checked, and bodies are capped at [`MAX_BODY`].
//!
//! Here: the API ([`request`], [`request_to`], [`get`], [`post`] and their `_with`
//! forms taking a TLS configuration). The request text is in `request`, the socket,
//! the handshake and the deadline in `conn`, reading the response in `response`.

mod conn;
mod keep_alive;
mod request;
mod response;

use crate::tls::{ClientSpec, ClientTls};
use conn::{connect, invalid_input, Conn, Stream};
use request::request_head;
use std::io::ErrorKind;
use std::time::{Duration, Instant};

pub use keep_alive::KeepAlive;
pub use request::{join_host_port, parse_url, query_escape, query_escape_bytes, split_url, Target};
pub use response::{Response, MAX_BODY};

/// The `Accept` header nsq's own tools send; servers answer unwrapped JSON.
const ACCEPT_V1: &str = "application/vnd.nsq; version=1.0";

/// How long a request may take: to connect, and in all. A plain `Duration` is both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Deadline to establish the TCP connection (never past `total`).
    pub connect: Duration,
    /// Deadline for the whole request, connecting included.
    pub total: Duration,
}

impl From<Duration> for Timeouts {
    fn from(d: Duration) -> Timeouts {
        Timeouts {
            connect: d,
            total: d,
        }
    }
}

/// One request (`Connection: close`) within `timeouts`.
///
/// `headers` are sent after `Host` and `Connection`; a body (or a method other than
/// GET/HEAD) gets a `Content-Length`. Fails with `InvalidInput` for a method, path or
/// header that would break the request line, `TimedOut` past the deadline,
/// `InvalidData` for a malformed or oversized response, and `UnexpectedEof` when the
/// peer closes before the response is complete.
pub fn request(
    method: &str,
    host_port: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeouts: impl Into<Timeouts>,
) -> std::io::Result<Response> {
    request_tls(
        method,
        host_port,
        path_and_query,
        headers,
        body,
        timeouts,
        None,
    )
}

/// [`request`], over TLS when `tls` is given (the server named by `host_port`'s
/// host); the handshake runs within the total deadline.
pub fn request_tls(
    method: &str,
    host_port: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeouts: impl Into<Timeouts>,
    tls: Option<&ClientTls>,
) -> std::io::Result<Response> {
    let timeouts = timeouts.into();
    let head = request_head(
        method,
        host_port,
        path_and_query,
        headers,
        body.len(),
        false,
    )?;
    let mut conn = open(host_port, timeouts, tls)?;
    exchange(&mut conn, method, &head, body)
}

/// A connection to `host_port` (TLS with `tls`) within `timeouts`; its deadline is
/// the end of the request's total time.
fn open(host_port: &str, timeouts: Timeouts, tls: Option<&ClientTls>) -> std::io::Result<Conn> {
    let start = Instant::now();
    let deadline = start + timeouts.total;
    let sock = connect(host_port, deadline.min(start + timeouts.connect))?;
    let stream = match tls {
        Some(tls) => Stream::tls(sock, tls, host_port, deadline)?,
        None => Stream::plain(sock),
    };
    Ok(Conn {
        stream,
        buf: Vec::new(),
        deadline,
        reusable: false,
    })
}

/// Sends the request (`head` and `body`) on `conn` and reads the response.
fn exchange(conn: &mut Conn, method: &str, head: &str, body: &[u8]) -> std::io::Result<Response> {
    let head_only = method.eq_ignore_ascii_case("HEAD");
    conn.reusable = false;
    let sent = conn
        .write_all(head.as_bytes())
        .and_then(|()| conn.write_all(body));
    match sent {
        Ok(()) => conn.read_response(head_only),
        // A server may answer and close before reading the whole body (nsqd's 413
        // MSG_TOO_BIG): its answer, when there is one, says more than the write error.
        Err(e) if matches!(e.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset) => {
            conn.read_response(head_only).map_err(|_| e)
        }
        Err(e) => Err(e),
    }
}

/// One request to `target` (from [`parse_url`]): `https://` over TLS with `tls`, or,
/// when it is `None`, with the system's CA bundle (an `InvalidInput` error when there
/// is none, or in a build without TLS); `http://` ignores `tls`.
///
/// ```no_run
/// use nsq::http::client::{parse_url, request_to};
/// use nsq::tls::{ClientSpec, ClientTls};
/// use std::time::Duration;
///
/// let tls = ClientTls::new(&ClientSpec { root_ca: "ca.pem".into(), ..ClientSpec::default() })?;
/// let target = parse_url("https://127.0.0.1:4152/stats?format=json", "/")?;
/// let r = request_to("GET", &target, &[], &[], Duration::from_secs(5), Some(&tls))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn request_to(
    method: &str,
    target: &Target,
    headers: &[(&str, &str)],
    body: &[u8],
    timeouts: impl Into<Timeouts>,
    tls: Option<&ClientTls>,
) -> std::io::Result<Response> {
    let tls = tls_for(target, tls)?;
    let Target {
        host_port, path, ..
    } = target;
    request_tls(
        method,
        host_port,
        path,
        headers,
        body,
        timeouts,
        tls.as_ref(),
    )
}

/// The TLS configuration for `target`: none for `http://`; `tls`, or else the
/// system's CA bundle, for `https://`.
fn tls_for(target: &Target, tls: Option<&ClientTls>) -> std::io::Result<Option<ClientTls>> {
    match (target.https, tls) {
        (false, _) => Ok(None),
        (true, Some(tls)) => Ok(Some(tls.clone())),
        (true, None) => ClientTls::new(&ClientSpec::default())
            .map(Some)
            .map_err(invalid_input),
    }
}

/// GET `url` (any form [`parse_url`] takes, default path "/") with `Accept: application/vnd.nsq; version=1.0`.
/// An `https://` URL is checked against the system's CA bundle; [`get_with`] takes
/// a configuration.
///
/// ```no_run
/// use std::time::Duration;
///
/// let r = nsq::http::client::get("127.0.0.1:4161/lookup?topic=events", Duration::from_secs(5))?;
/// if r.status == 200 {
///     println!("{}", String::from_utf8_lossy(&r.body));
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn get(url: &str, timeouts: impl Into<Timeouts>) -> std::io::Result<Response> {
    get_with(url, timeouts, None)
}

/// [`get`], with `tls` for an `https://` URL (see [`request_to`]).
pub fn get_with(
    url: &str,
    timeouts: impl Into<Timeouts>,
    tls: Option<&ClientTls>,
) -> std::io::Result<Response> {
    let target = parse_url(url, "/").map_err(invalid_input)?;
    let headers = [("Accept", ACCEPT_V1)];
    request_to("GET", &target, &headers, &[], timeouts, tls)
}

/// POST `url` with `body`.
///
/// Sends the same `Accept` header as [`get`], as nsq's tools do for their actions.
pub fn post(url: &str, body: &[u8], timeouts: impl Into<Timeouts>) -> std::io::Result<Response> {
    post_with(url, body, timeouts, None)
}

/// [`post`], with `tls` for an `https://` URL (see [`request_to`]).
pub fn post_with(
    url: &str,
    body: &[u8],
    timeouts: impl Into<Timeouts>,
    tls: Option<&ClientTls>,
) -> std::io::Result<Response> {
    let target = parse_url(url, "/").map_err(invalid_input)?;
    let headers = [("Accept", ACCEPT_V1)];
    request_to("POST", &target, &headers, body, timeouts, tls)
}

/// Why a request to `host_port` failed, in Go's `net/http` words (`dial tcp ADDR:
/// connect: connection refused`, the response-header timeout), as Go's tools and
/// nsqadmin show them.
pub fn go_reason(e: &std::io::Error, host_port: &str) -> String {
    match e.kind() {
        ErrorKind::ConnectionRefused => format!("dial tcp {host_port}: connect: connection refused"),
        // The client's own deadline (connect, then the whole request) says "request
        // timed out"; a connect attempt that ran out says something else.
        ErrorKind::TimedOut if e.to_string() == "request timed out" => {
            "net/http: timeout awaiting response headers (Client.Timeout exceeded while awaiting headers)".to_string()
        }
        ErrorKind::TimedOut => format!("dial tcp {host_port}: i/o timeout"),
        _ => crate::common::net::reason(e),
    }
}

#[cfg(test)]
pub(crate) mod tests;
