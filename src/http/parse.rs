//! Requests out of a connection's buffered bytes, with no I/O: the head (request line
//! and headers, bounded by `max_header_bytes`), then the body by `Content-Length` or
//! chunked encoding, bounded by the route's limit. Each step answers "need more",
//! "here it is", or the error response to send before closing.

use super::{Request, Response, Router};

/// Longest chunk-size or trailer line.
const MAX_LINE: usize = 4096;

/// A parsed request head.
#[derive(Debug)]
pub struct Head {
    /// The request, body still empty.
    pub req: Request,
    /// How the body is framed.
    pub body: Body,
    /// The body limit of its route.
    pub max: usize,
    /// The client waits for `100 Continue` before sending the body.
    pub expect_continue: bool,
}

/// How a body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// Exactly this many bytes.
    Length(usize),
    /// Chunked transfer encoding.
    Chunked,
}

/// One step of parsing.
#[derive(Debug)]
pub enum Step<T> {
    /// More bytes are needed.
    Partial,
    /// Done: the value, and the bytes it took.
    Done(T, usize),
    /// Answer this and close.
    Reject(Response),
}

fn reject<T>(router: &Router, status: u16, message: &str) -> Step<T> {
    Step::Reject(router.own(Response::error(status, message)))
}

/// Parses the head at the start of `buf`.
pub fn head(buf: &[u8], router: &Router, max_header: usize, max_body: usize) -> Step<Head> {
    // Go limits header bytes, not their number; 256 fits any real client.
    let mut headers = [httparse::EMPTY_HEADER; 256];
    let mut parsed = httparse::Request::new(&mut headers);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) if len <= max_header => len,
        Ok(httparse::Status::Partial) if buf.len() <= max_header => return Step::Partial,
        Ok(_) | Err(httparse::Error::TooManyHeaders) => {
            return reject(router, 431, "REQUEST_HEADER_FIELDS_TOO_LARGE")
        }
        Err(_) => return reject(router, 400, "BAD_REQUEST"),
    };
    let req = to_request(&parsed);
    let limit = router.body_limit(&req.method, &req.path);
    let max = limit.map_or(max_body, |(m, _)| *m);
    let chunked = req
        .header("Transfer-Encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        Body::Chunked
    } else {
        // Two differing lengths are a smuggling hazard behind a proxy: refused.
        let mut lengths = req
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("Content-Length"))
            .map(|(_, v)| v.trim().parse::<usize>());
        let first = lengths.next();
        if lengths.any(|other| other.as_ref().ok() != first.as_ref().and_then(|f| f.as_ref().ok()))
        {
            return reject(router, 400, "BAD_REQUEST");
        }
        match first {
            None => Body::Length(0),
            Some(Ok(n)) => Body::Length(n),
            Some(Err(_)) => return reject(router, 400, "BAD_REQUEST"),
        }
    };
    if matches!(body, Body::Length(n) if n > max) {
        return Step::Reject(too_big(router, &req));
    }
    let expect_continue = body != Body::Length(0)
        && req
            .header("Expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    let head = Head {
        req,
        body,
        max,
        expect_continue,
    };
    Step::Done(head, len)
}

/// The answer to a body over its route's limit.
fn too_big(router: &Router, req: &Request) -> Response {
    router
        .body_limit(&req.method, &req.path)
        .map(|(_, r)| r.clone())
        .unwrap_or_else(|| router.own(Response::error(413, "BODY_TOO_BIG")))
}

/// Parses the body of `head` at the start of `buf` (the bytes after the head).
pub fn body(buf: &[u8], head: &Head, router: &Router) -> Step<Vec<u8>> {
    match head.body {
        Body::Length(n) if buf.len() >= n => Step::Done(buf[..n].to_vec(), n),
        Body::Length(_) => Step::Partial,
        Body::Chunked => match chunks(buf, head.max) {
            Chunks::Partial => Step::Partial,
            Chunks::Malformed => reject(router, 400, "BAD_REQUEST"),
            Chunks::TooBig => Step::Reject(too_big(router, &head.req)),
            Chunks::Done(ranges, used) => {
                let mut out = Vec::with_capacity(ranges.iter().map(|(a, b)| b - a).sum());
                for (a, b) in ranges {
                    out.extend_from_slice(&buf[a..b]);
                }
                Step::Done(out, used)
            }
        },
    }
}

enum Chunks {
    Partial,
    Malformed,
    TooBig,
    /// Where each chunk's data lies in the buffer, and the bytes used in all.
    Done(Vec<(usize, usize)>, usize),
}

/// The line starting at `pos` (with its `\n`), if complete.
fn line(buf: &[u8], pos: usize) -> Result<Option<&[u8]>, ()> {
    let rest = &buf[pos.min(buf.len())..];
    match rest.iter().take(MAX_LINE + 1).position(|&b| b == b'\n') {
        Some(end) => Ok(Some(&rest[..=end])),
        None if rest.len() > MAX_LINE => Err(()),
        None => Ok(None),
    }
}

/// Finds the chunks of a chunked body without copying them.
fn chunks(buf: &[u8], max: usize) -> Chunks {
    let mut ranges = Vec::new();
    let (mut pos, mut total) = (0usize, 0usize);
    loop {
        let size_line = match line(buf, pos) {
            Err(()) => return Chunks::Malformed,
            Ok(None) => return Chunks::Partial,
            Ok(Some(l)) => l,
        };
        let size = match httparse::parse_chunk_size(size_line) {
            Ok(httparse::Status::Complete((_, size))) => size,
            _ => return Chunks::Malformed,
        };
        pos += size_line.len();
        let Ok(size) = usize::try_from(size) else {
            return Chunks::TooBig;
        };
        if size == 0 {
            // Trailers, up to the empty line.
            loop {
                match line(buf, pos) {
                    Err(()) => return Chunks::Malformed,
                    Ok(None) => return Chunks::Partial,
                    Ok(Some(l)) => {
                        pos += l.len();
                        if l == b"\r\n" || l == b"\n" {
                            return Chunks::Done(ranges, pos);
                        }
                    }
                }
            }
        }
        total = total.saturating_add(size);
        if total > max {
            return Chunks::TooBig;
        }
        if buf.len() < pos.saturating_add(size) {
            return Chunks::Partial;
        }
        ranges.push((pos, pos + size));
        pos += size;
        match line(buf, pos) {
            Err(()) => return Chunks::Malformed,
            Ok(None) => return Chunks::Partial,
            Ok(Some(l)) if l == b"\r\n" || l == b"\n" => pos += l.len(),
            Ok(Some(_)) => return Chunks::Malformed,
        }
    }
}

fn to_request(parsed: &httparse::Request<'_, '_>) -> Request {
    let target = parsed.path.unwrap_or("/");
    let mut req = Request::new(parsed.method.unwrap_or(""), target, b"");
    req.headers = parsed
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    req
}

/// The bytes of `resp`, with `Connection: close` unless `keep_alive`.
pub fn response_bytes(resp: &Response, keep_alive: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + resp.body.len());
    out.extend_from_slice(
        format!(
            "HTTP/1.1 {} {}\r\n",
            resp.status,
            super::reason_phrase(resp.status)
        )
        .as_bytes(),
    );
    for (k, v) in &resp.headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n", resp.body.len()).as_bytes());
    if !keep_alive {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&resp.body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        let mut r = Router::new();
        r.add("POST", "/pub", |req| Response::text(200, req.body.clone()))
            .limit_body(10, Response::error(413, "MSG_TOO_BIG"));
        r
    }

    fn parse_all(raw: &[u8]) -> Result<Request, u16> {
        let r = router();
        let (h, len) = match head(raw, &r, 1024, 100) {
            Step::Done(h, len) => (h, len),
            Step::Reject(resp) => return Err(resp.status),
            Step::Partial => return Err(0),
        };
        match body(&raw[len..], &h, &r) {
            Step::Done(b, _) => Ok(Request { body: b, ..h.req }),
            Step::Reject(resp) => Err(resp.status),
            Step::Partial => Err(0),
        }
    }

    #[test]
    fn a_whole_request_in_pieces() {
        let raw = b"POST /pub?topic=t HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
        for cut in 0..raw.len() {
            assert_eq!(parse_all(&raw[..cut]).unwrap_err(), 0, "cut at {cut}");
        }
        let req = parse_all(raw).unwrap();
        assert_eq!(
            (req.query.as_str(), req.body.as_slice()),
            ("topic=t", &b"hello"[..])
        );
    }

    #[test]
    fn chunked_bodies_and_their_errors() {
        let raw = b"POST /pub HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_all(raw).unwrap().body, b"abcde");
        assert_eq!(parse_all(&raw[..raw.len() - 2]).unwrap_err(), 0);
        let big = b"POST /pub HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n";
        assert_eq!(parse_all(big).unwrap_err(), 413);
        let bad = b"POST /pub HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert_eq!(parse_all(bad).unwrap_err(), 400);
    }

    #[test]
    fn lengths_that_disagree_are_refused() {
        let two = b"POST /pub HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab";
        assert_eq!(parse_all(two).unwrap_err(), 400);
        let same = b"POST /pub HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab";
        assert_eq!(parse_all(same).unwrap().body, b"ab");
        let bad = b"POST /pub HTTP/1.1\r\nContent-Length: x\r\n\r\n";
        assert_eq!(parse_all(bad).unwrap_err(), 400);
    }

    #[test]
    fn limits_on_head_and_body() {
        let over = b"POST /pub HTTP/1.1\r\nContent-Length: 11\r\n\r\n";
        assert_eq!(parse_all(over).unwrap_err(), 413);
        let mut long = b"GET / HTTP/1.1\r\nX: ".to_vec();
        long.resize(2000, b'a');
        assert_eq!(parse_all(&long).unwrap_err(), 431);
        assert_eq!(parse_all(b"\x01\x02 / HTTP/1.1\r\n\r\n").unwrap_err(), 400);
    }
}
