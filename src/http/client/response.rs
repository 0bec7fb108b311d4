//! Reading a response on a [`Conn`]: the head parsed by `httparse`, interim 1xx
//! answers skipped, and the body by `Content-Length`, `Transfer-Encoding: chunked` or
//! the peer closing — every size the peer sends checked against the caps.

use super::conn::{invalid_data, Conn};
use std::io;

/// The largest response body accepted, in bytes (64 MiB).
pub const MAX_BODY: usize = 64 << 20;

/// The largest response head (status line and headers) accepted, in bytes.
const MAX_HEAD: usize = 64 << 10;

/// The largest chunk-size or trailer line accepted in a chunked body, in bytes.
const MAX_LINE: usize = 4096;

/// A response: status code, body, and where a redirect points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code, e.g. 200.
    pub status: u16,
    /// The body, decoded from its transfer encoding.
    pub body: Vec<u8>,
    /// The `Location` header, if the answer had one (a redirect's target).
    pub location: Option<String>,
}

/// What a response head says.
struct Head {
    status: u16,
    framing: Framing,
    location: Option<String>,
    /// HTTP/1.1 without `Connection: close`: the connection may carry another request.
    reusable: bool,
    len: usize,
}

impl Conn {
    /// Reads one response; `self.reusable` says if the connection may carry another.
    pub(super) fn read_response(&mut self, head_only: bool) -> io::Result<Response> {
        loop {
            let Head {
                status,
                framing,
                location,
                reusable,
                len: head_len,
            } = self.read_head()?;
            self.reusable = reusable && !matches!(framing, Framing::Eof) && status != 101;
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
            return Ok(Response {
                status,
                body,
                location,
            });
        }
    }

    /// Parses the response head at the start of `buf`, reading until it is complete.
    fn read_head(&mut self) -> io::Result<Head> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut response = httparse::Response::new(&mut headers);
            match response.parse(&self.buf) {
                Ok(httparse::Status::Complete(len)) => {
                    let status = response
                        .code
                        .ok_or_else(|| invalid_data("response without a status code"))?;
                    let (mut location, mut close) = (None, false);
                    for h in response.headers.iter() {
                        let Ok(value) = std::str::from_utf8(h.value) else {
                            continue;
                        };
                        if h.name.eq_ignore_ascii_case("location") && location.is_none() {
                            location = Some(value.trim().to_string());
                        } else if h.name.eq_ignore_ascii_case("connection") {
                            close |= value
                                .split(',')
                                .any(|t| t.trim().eq_ignore_ascii_case("close"));
                        }
                    }
                    return Ok(Head {
                        status,
                        framing: framing(response.headers)?,
                        location,
                        reusable: response.version == Some(1) && !close,
                        len,
                    });
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
        if body.len() > len {
            // Bytes past the answer: nothing to trust on this connection any more.
            self.reusable = false;
        }
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
