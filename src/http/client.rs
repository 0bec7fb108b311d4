//! A minimal blocking HTTP/1.1 client for nsqd's and nsqlookupd's HTTP APIs.
//!
//! This module owns one request/response exchange over a fresh `TcpStream`:
//! `Connection: close`, one deadline for connecting, writing and reading, the
//! response head parsed by `httparse`, and the three ways a body can end —
//! `Content-Length`, `Transfer-Encoding: chunked`, or the peer closing. It never
//! keeps connections, follows redirects, speaks TLS or trusts the peer: every
//! size the peer sends is checked, and bodies are capped at [`MAX_BODY`].
//!
//! Here: the API ([`request`], [`get`], [`post`]). The request text is in `request`,
//! the socket and its deadline in `conn`, reading the response in `response`.

mod conn;
mod request;
mod response;

use conn::{connect, invalid_input, Conn};
use request::request_head;
use std::io::ErrorKind;
use std::time::{Duration, Instant};

pub use request::{join_host_port, query_escape, split_url};
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
    let timeouts = timeouts.into();
    let start = Instant::now();
    let deadline = start + timeouts.total;
    let head = request_head(method, host_port, path_and_query, headers, body.len())?;
    let stream = connect(host_port, deadline.min(start + timeouts.connect))?;
    let mut conn = Conn {
        stream,
        buf: Vec::new(),
        deadline,
    };
    let head_only = method.eq_ignore_ascii_case("HEAD");
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

/// GET `url` (any form `split_url` takes, default path "/") with `Accept: application/vnd.nsq; version=1.0`.
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
    let (host_port, path) = split_url(url, "/").map_err(invalid_input)?;
    request(
        "GET",
        &host_port,
        &path,
        &[("Accept", ACCEPT_V1)],
        &[],
        timeouts,
    )
}

/// POST `url` with `body`.
///
/// Sends the same `Accept` header as [`get`], as nsq's tools do for their actions.
pub fn post(url: &str, body: &[u8], timeouts: impl Into<Timeouts>) -> std::io::Result<Response> {
    let (host_port, path) = split_url(url, "/").map_err(invalid_input)?;
    request(
        "POST",
        &host_port,
        &path,
        &[("Accept", ACCEPT_V1)],
        body,
        timeouts,
    )
}

#[cfg(test)]
pub(crate) mod tests;
