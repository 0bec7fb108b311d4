//! A minimal blocking HTTP/1.1 client for nsqd's and nsqlookupd's HTTP APIs.
//!
//! This module owns one request/response exchange over a fresh `TcpStream`:
//! `Connection: close`, one deadline for connecting, writing and reading, the
//! response head parsed by `httparse`, and the three ways a body can end —
//! `Content-Length`, `Transfer-Encoding: chunked`, or the peer closing. It never
//! keeps connections, follows redirects, speaks TLS or trusts the peer: every
//! size the peer sends is checked, and bodies are capped at [`MAX_BODY`].

use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The largest response body accepted, in bytes (64 MiB).
pub const MAX_BODY: usize = 64 << 20;

/// The largest response head (status line and headers) accepted, in bytes.
const MAX_HEAD: usize = 64 << 10;

/// The largest chunk-size or trailer line accepted in a chunked body, in bytes.
const MAX_LINE: usize = 4096;

/// The `Accept` header nsq's own tools send; servers answer unwrapped JSON.
const ACCEPT_V1: &str = "application/vnd.nsq; version=1.0";

/// A response: status code and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code, e.g. 200.
    pub status: u16,
    /// The body, decoded from its transfer encoding.
    pub body: Vec<u8>,
}

/// Splits an address that may be `host:port`, `http://host:port` or a URL with a path and query
/// into (host:port, path-and-query); a missing path gives `default_path`.
///
/// A query without a path is appended to `default_path`; a fragment is dropped; a
/// host without a port gets `:80`. `https://` and other schemes are refused (no TLS).
pub fn split_url(addr: &str, default_path: &str) -> Result<(String, String), String> {
    if let Some(bad) = addr.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!("invalid character {bad:?} in address {addr:?}"));
    }
    let rest = match addr.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("https") => {
            return Err(format!("{addr}: https is not supported (no TLS)"));
        }
        Some((scheme, _)) => return Err(format!("{addr}: unsupported scheme {scheme:?}")),
        None => addr,
    };
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (host, target) = rest.split_at(split);
    if host.is_empty() {
        return Err(format!("missing host in address {addr:?}"));
    }
    let host_port = if has_port(host) {
        host.to_string()
    } else {
        format!("{host}:80")
    };
    let path = match target.strip_prefix('?') {
        None if target.is_empty() => default_path.to_string(),
        None => target.to_string(),
        Some(query) => {
            let joiner = if default_path.contains('?') { '&' } else { '?' };
            format!("{default_path}{joiner}{query}")
        }
    };
    Ok((host_port, path))
}

/// Whether `host` ends in a port: `h:p`, or `[v6]:p` for a bracketed IPv6 address.
fn has_port(host: &str) -> bool {
    match host.strip_prefix('[') {
        Some(v6) => v6.contains("]:"),
        None => host.contains(':'),
    }
}

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
/// let r = nsq::client::http::get("127.0.0.1:4161/lookup?topic=events", Duration::from_secs(5))?;
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

fn invalid_input(message: String) -> io::Error {
    io::Error::new(ErrorKind::InvalidInput, message)
}

fn invalid_data(message: impl Into<String>) -> io::Error {
    io::Error::new(ErrorKind::InvalidData, message.into())
}

/// The request line and headers, refusing anything that could split the request.
fn request_head(
    method: &str,
    host_port: &str,
    path: &str,
    headers: &[(&str, &str)],
    body_len: usize,
) -> io::Result<String> {
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && b != b':');
    let visible = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic());
    if !token(method) || !visible(path) || !visible(host_port) {
        return Err(invalid_input(format!(
            "invalid request {method:?} {host_port:?} {path:?}"
        )));
    }
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {host_port}\r\nConnection: close\r\n");
    if body_len > 0 || !matches!(method, "GET" | "HEAD") {
        head.push_str(&format!("Content-Length: {body_len}\r\n"));
    }
    for (name, value) in headers {
        if !token(name) || value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
            return Err(invalid_input(format!("invalid header {name:?}")));
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    Ok(head)
}

/// Connects to the first address of `host_port` that answers before `deadline`.
fn connect(host_port: &str, deadline: Instant) -> io::Result<TcpStream> {
    let mut last = io::Error::new(
        ErrorKind::NotFound,
        format!("{host_port}: no address found"),
    );
    for addr in host_port.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, remaining(deadline)?) {
            Ok(stream) => {
                // Only a latency nicety; a failure changes nothing that matters.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The time left before `deadline`, or `TimedOut` when none is.
fn remaining(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::Error::new(ErrorKind::TimedOut, "request timed out"));
    }
    Ok(left)
}

/// One connection: the socket, bytes read but not consumed yet, and the deadline.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    deadline: Instant,
}

impl Conn {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.stream
            .set_write_timeout(Some(remaining(self.deadline)?))?;
        self.stream.write_all(bytes).map_err(timed_out)
    }

    /// Reads more bytes into `buf`; 0 means the peer closed.
    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            self.stream
                .set_read_timeout(Some(remaining(self.deadline)?))?;
            match self.stream.read(&mut chunk) {
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(timed_out(e)),
            }
        }
    }

    /// Like [`Conn::fill`], but the peer closing is an error.
    fn fill_or_eof(&mut self, what: &str) -> io::Result<()> {
        if self.fill()? == 0 {
            return Err(io::Error::new(
                ErrorKind::UnexpectedEof,
                format!("connection closed in the middle of the {what}"),
            ));
        }
        Ok(())
    }

    fn read_response(&mut self, head_only: bool) -> io::Result<Response> {
        loop {
            let (status, framing, head_len) = self.read_head()?;
            self.buf.drain(..head_len);
            // An interim 1xx answer (e.g. an unasked-for 100 Continue) precedes the real one.
            if (100..200).contains(&status) && status != 101 {
                continue;
            }
            let body = if head_only || status == 204 || status == 304 || status == 101 {
                Vec::new()
            } else {
                match framing {
                    Framing::Length(len) => self.read_length(len)?,
                    Framing::Chunked => self.read_chunked()?,
                    Framing::Eof => self.read_to_eof()?,
                }
            };
            return Ok(Response { status, body });
        }
    }

    /// Parses the response head at the start of `buf`, reading until it is complete.
    fn read_head(&mut self) -> io::Result<(u16, Framing, usize)> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut response = httparse::Response::new(&mut headers);
            match response.parse(&self.buf) {
                Ok(httparse::Status::Complete(len)) => {
                    let status = response
                        .code
                        .ok_or_else(|| invalid_data("response without a status code"))?;
                    return Ok((status, framing(response.headers)?, len));
                }
                Ok(httparse::Status::Partial) if self.buf.len() > MAX_HEAD => {
                    return Err(invalid_data("response head too large"));
                }
                Ok(httparse::Status::Partial) => self.fill_or_eof("response head")?,
                Err(e) => return Err(invalid_data(format!("malformed response head: {e}"))),
            }
        }
    }

    fn read_length(&mut self, len: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < len {
            self.fill_or_eof("response body")?;
        }
        let mut body = std::mem::take(&mut self.buf);
        body.truncate(len);
        Ok(body)
    }

    fn read_to_eof(&mut self) -> io::Result<Vec<u8>> {
        while self.fill()? > 0 {
            if self.buf.len() > MAX_BODY {
                return Err(invalid_data("response body too large"));
            }
        }
        Ok(std::mem::take(&mut self.buf))
    }

    fn read_chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line()?;
            let size_text = line.split(|&b| b == b';').next().unwrap_or_default();
            let size = std::str::from_utf8(size_text)
                .ok()
                .map(str::trim)
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|s| usize::from_str_radix(s, 16).ok())
                .ok_or_else(|| invalid_data("malformed chunk size"))?;
            if size == 0 {
                // Trailers, ignored, up to the empty line.
                while !self.read_line()?.is_empty() {}
                return Ok(body);
            }
            if size > MAX_BODY - body.len() {
                return Err(invalid_data("response body too large"));
            }
            while self.buf.len() < size + 2 {
                self.fill_or_eof("chunked body")?;
            }
            if &self.buf[size..size + 2] != b"\r\n" {
                return Err(invalid_data("chunk not followed by CRLF"));
            }
            body.extend(self.buf.drain(..size + 2).take(size));
        }
    }

    /// One CRLF- (or LF-) terminated line from the chunked framing, without its ending.
    fn read_line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            if self.buf.len() > MAX_LINE {
                return Err(invalid_data("chunked framing line too long"));
            }
            self.fill_or_eof("chunked body")?;
        }
    }
}

/// How the response body ends.
enum Framing {
    /// After exactly this many bytes.
    Length(usize),
    /// After the zero-size chunk.
    Chunked,
    /// When the peer closes.
    Eof,
}

/// The body framing the headers announce (chunked wins over a length, as in RFC 9112).
fn framing(headers: &[httparse::Header<'_>]) -> io::Result<Framing> {
    let mut length: Option<usize> = None;
    let mut chunked = false;
    for h in headers {
        let value = std::str::from_utf8(h.value)
            .map_err(|_| invalid_data(format!("non-text {} header", h.name)))?;
        if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        } else if h.name.eq_ignore_ascii_case("content-length") {
            let n = value
                .trim()
                .parse::<usize>()
                .map_err(|_| invalid_data(format!("bad Content-Length {value:?}")))?;
            if length.is_some_and(|prev| prev != n) {
                return Err(invalid_data("conflicting Content-Length headers"));
            }
            length = Some(n);
        }
    }
    Ok(match (chunked, length) {
        (true, _) => Framing::Chunked,
        (false, Some(n)) if n > MAX_BODY => return Err(invalid_data("response body too large")),
        (false, Some(n)) => Framing::Length(n),
        (false, None) => Framing::Eof,
    })
}

/// A socket timeout (`WouldBlock` on Unix) reported as `TimedOut`.
fn timed_out(e: io::Error) -> io::Error {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => {
            io::Error::new(ErrorKind::TimedOut, "request timed out")
        }
        _ => e,
    }
}

/// Go's `url.QueryEscape`: unreserved bytes as they are, space as `+`, the rest
/// `%XX` (so `t#ephemeral` becomes `t%23ephemeral`).
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `host:port`, with `[host]` for an IPv6 address (Go's `net.JoinHostPort`).
pub fn join_host_port(host: &str, port: impl std::fmt::Display) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread::{self, JoinHandle};

    /// A generous deadline: it only turns a hang into a failure.
    const T: Duration = Duration::from_secs(30);

    /// Reads one request from a test server's socket: the head and a Content-Length
    /// body (shared with other modules' fake servers).
    pub(crate) fn read_request(s: &mut std::net::TcpStream) -> Vec<u8> {
        s.set_read_timeout(Some(T)).unwrap();
        let mut req = Vec::new();
        let mut byte = [0u8; 1];
        while !req.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap() == 1 {
            req.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&req).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .map_or(0, |v| v.trim().parse().unwrap());
        let mut body = vec![0u8; len];
        s.read_exact(&mut body).unwrap();
        req.extend_from_slice(&body);
        req
    }

    /// A one-connection server on 127.0.0.1:0: reads the request head (and a
    /// Content-Length body), writes `reply`, closes; joins to the request bytes.
    fn serve(reply: &'static [u8]) -> (String, JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let handle = thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let req = read_request(&mut s);
            s.write_all(reply).unwrap();
            req
        });
        (addr, handle)
    }

    fn get_from(reply: &'static [u8]) -> io::Result<Response> {
        let (addr, server) = serve(reply);
        let result = get(&format!("http://{addr}/ping"), T);
        server.join().unwrap();
        result
    }

    #[test]
    fn content_length_body_and_request_shape() {
        let (addr, server) = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA");
        let r = get(&format!("{addr}/stats?format=json"), T).unwrap();
        assert_eq!(
            r,
            Response {
                status: 200,
                body: b"hello".to_vec()
            }
        );
        let req = String::from_utf8(server.join().unwrap()).unwrap();
        assert!(
            req.starts_with("GET /stats?format=json HTTP/1.1\r\n"),
            "{req}"
        );
        assert!(req.contains(&format!("\r\nHost: {addr}\r\n")), "{req}");
        assert!(req.contains("\r\nConnection: close\r\n"), "{req}");
        assert!(req.contains("\r\nAccept: application/vnd.nsq; version=1.0\r\n"));
        assert!(!req.contains("Content-Length"), "{req}");
    }

    #[test]
    fn chunked_body_with_extensions_and_trailers() {
        let r = get_from(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
              5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: y\r\n\r\n",
        )
        .unwrap();
        assert_eq!((r.status, r.body), (200, b"hello world".to_vec()));
    }

    #[test]
    fn body_until_eof() {
        let r = get_from(b"HTTP/1.1 404 Not Found\r\nX-A: b\r\n\r\nnot here").unwrap();
        assert_eq!((r.status, r.body), (404, b"not here".to_vec()));
    }

    #[test]
    fn interim_100_continue_is_skipped() {
        let r = get_from(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n").unwrap();
        assert_eq!((r.status, r.body), (204, Vec::new()));
    }

    #[test]
    fn post_sends_body_with_length() {
        let (addr, server) = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK");
        let r = post(&format!("http://{addr}/pub?topic=t"), b"msg", T).unwrap();
        assert_eq!((r.status, r.body), (200, b"OK".to_vec()));
        let req = String::from_utf8(server.join().unwrap()).unwrap();
        assert!(req.starts_with("POST /pub?topic=t HTTP/1.1\r\n"), "{req}");
        assert!(req.contains("\r\nContent-Length: 3\r\n"), "{req}");
        assert!(req.ends_with("\r\n\r\nmsg"), "{req}");
    }

    #[test]
    fn early_answer_to_an_unread_body_is_returned() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\n\r\nbig")
                .unwrap();
            // Read a little, then close with most of the body unread.
            let _ = s.read(&mut [0u8; 1024]);
        });
        let body = vec![b'x'; 8 << 20];
        let r = post(&format!("{addr}/pub?topic=t"), &body, T).unwrap();
        assert_eq!((r.status, r.body), (413, b"big".to_vec()));
        server.join().unwrap();
    }

    #[test]
    fn malformed_responses_are_errors() {
        let cases: [(&'static [u8], ErrorKind); 7] = [
            (b"garbage\r\n\r\n", ErrorKind::InvalidData),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
                ErrorKind::InvalidData,
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                ErrorKind::InvalidData,
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
                ErrorKind::UnexpectedEof,
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                ErrorKind::InvalidData,
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n",
                ErrorKind::InvalidData,
            ),
            (b"HTTP/1.1 200 OK\r\nContent-", ErrorKind::UnexpectedEof),
        ];
        for (reply, kind) in cases {
            let err = get_from(reply).unwrap_err();
            assert_eq!(
                err.kind(),
                kind,
                "{:?}: {err}",
                String::from_utf8_lossy(reply)
            );
        }
    }

    #[test]
    fn oversized_bodies_are_refused() {
        let err = get_from(b"HTTP/1.1 200 OK\r\nContent-Length: 67108865\r\n\r\n").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        let err =
            get_from(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n")
                .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        let err = get_from(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1FFFFFFFFFFFFFFFFFF\r\n",
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
    }

    /// A server that accepts and never answers: the request fails with `TimedOut`, and
    /// a generous connect timeout does not stretch the total deadline. The server keeps
    /// the connection open until the client has given up, so only the client's own
    /// deadline can end the request; with the connect timeout of an hour as the limit
    /// instead, the [`T`] wait below turns the hang into a failure.
    #[test]
    fn silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (gave_up, client_done) = std::sync::mpsc::channel::<()>();
        let server = thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            let _ = client_done.recv_timeout(T + T);
            drop(s);
        });
        let timeouts = Timeouts {
            connect: Duration::from_secs(3600),
            total: Duration::from_millis(200),
        };
        let (result_tx, result_rx) = std::sync::mpsc::channel();
        thread::spawn(move || {
            let _ = result_tx.send(get(&addr, timeouts));
        });
        let result = result_rx
            .recv_timeout(T)
            .expect("the total deadline ends the request, not the connect timeout");
        gave_up.send(()).unwrap();
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
        server.join().unwrap();
        assert_eq!(
            Timeouts::from(T),
            Timeouts {
                connect: T,
                total: T
            }
        );
    }

    #[test]
    fn refused_connection_is_an_error() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        assert!(get(&addr.to_string(), T).is_err());
    }

    #[test]
    fn bad_requests_are_refused_before_connecting() {
        let bad = [
            request("GE T", "127.0.0.1:1", "/", &[], &[], T),
            request("GET", "127.0.0.1:1", "/a b", &[], &[], T),
            request("GET", "127.0.0.1:1", "/", &[("X", "a\r\nB: c")], &[], T),
            request("GET", "127.0.0.1:1", "/", &[("X:Y", "v")], &[], T),
            get("https://127.0.0.1:1/", T),
        ];
        for result in bad {
            assert_eq!(result.unwrap_err().kind(), ErrorKind::InvalidInput);
        }
    }

    #[test]
    fn split_url_forms() {
        let ok = |a: &str, d: &str| split_url(a, d).unwrap();
        let pair = |h: &str, p: &str| (h.to_string(), p.to_string());
        assert_eq!(ok("127.0.0.1:4151", "/"), pair("127.0.0.1:4151", "/"));
        assert_eq!(ok("http://h:4161", "/lookup"), pair("h:4161", "/lookup"));
        assert_eq!(ok("HTTP://h:1/", "/x"), pair("h:1", "/"));
        assert_eq!(
            ok("http://h:1/stats?format=json&topic=t#frag", "/"),
            pair("h:1", "/stats?format=json&topic=t")
        );
        assert_eq!(ok("h:1?topic=t", "/lookup"), pair("h:1", "/lookup?topic=t"));
        assert_eq!(ok("h:1?b=2", "/s?a=1"), pair("h:1", "/s?a=1&b=2"));
        assert_eq!(
            ok("http://example.com/p", "/"),
            pair("example.com:80", "/p")
        );
        assert_eq!(ok("[::1]:4151", "/"), pair("[::1]:4151", "/"));
        assert_eq!(ok("[::1]", "/"), pair("[::1]:80", "/"));
        let err = split_url("https://h:4152/stats", "/").unwrap_err();
        assert!(err.contains("https is not supported"), "{err}");
        for bad in [
            "",
            "http://",
            "/path",
            "ftp://h:1",
            "h:1/a b",
            "h:1\r\nX: y",
        ] {
            assert!(split_url(bad, "/").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn escapes_and_joins_like_go() {
        assert_eq!(query_escape("t#ephemeral"), "t%23ephemeral");
        assert_eq!(query_escape("a b&c=d"), "a+b%26c%3Dd");
        assert_eq!(query_escape("ok.-_~9"), "ok.-_~9");
        assert_eq!(join_host_port("::1", 4150), "[::1]:4150");
        assert_eq!(join_host_port("127.0.0.1", 4151), "127.0.0.1:4151");
    }
}
