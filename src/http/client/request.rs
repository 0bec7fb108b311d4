//! The request side as text, with no I/O: splitting a user's address into scheme,
//! `host:port` and path, Go's query escaping and host joining, and the request head,
//! refusing anything that could split the request.

use super::conn::invalid_input;
use std::io;

/// Where a request goes: [`parse_url`]'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// True for an `https://` address.
    pub https: bool,
    /// `host:port` (the scheme's port when the address has none).
    pub host_port: String,
    /// The path and query to request.
    pub path: String,
}

/// Splits an address that may be `host:port`, `http://host:port` or a URL with a path and query
/// into (host:port, path-and-query); a missing path gives `default_path`.
///
/// A query without a path is appended to `default_path`; a fragment is dropped; a
/// host without a port gets `:80`. `https://` and other schemes are refused: an
/// address that may be `https://` goes through [`parse_url`].
pub fn split_url(addr: &str, default_path: &str) -> Result<(String, String), String> {
    let target = parse_url(addr, default_path)?;
    if target.https {
        return Err(format!(
            "{addr}: https is not supported here (plain HTTP only)"
        ));
    }
    Ok((target.host_port, target.path))
}

/// Like [`split_url`], and `https://` URLs too (default port 443).
pub fn parse_url(addr: &str, default_path: &str) -> Result<Target, String> {
    if let Some(bad) = addr.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!("invalid character {bad:?} in address {addr:?}"));
    }
    let (https, rest) = match addr.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => (false, rest),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => (true, rest),
        Some((scheme, _)) => return Err(format!("{addr}: unsupported scheme {scheme:?}")),
        None => (false, addr),
    };
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (host, target) = rest.split_at(split);
    if host.is_empty() {
        return Err(format!("missing host in address {addr:?}"));
    }
    let host_port = match (has_port(host), https) {
        (true, _) => host.to_string(),
        (false, false) => format!("{host}:80"),
        (false, true) => format!("{host}:443"),
    };
    let path = match target.strip_prefix('?') {
        None if target.is_empty() => default_path.to_string(),
        None => target.to_string(),
        Some(query) => {
            let joiner = if default_path.contains('?') { '&' } else { '?' };
            format!("{default_path}{joiner}{query}")
        }
    };
    Ok(Target {
        https,
        host_port,
        path,
    })
}

/// Whether `host` ends in a port: `h:p`, or `[v6]:p` for a bracketed IPv6 address.
fn has_port(host: &str) -> bool {
    match host.strip_prefix('[') {
        Some(v6) => v6.contains("]:"),
        None => host.contains(':'),
    }
}

/// The request line and headers, refusing anything that could split the request;
/// `Connection: close` unless `keep_alive` (HTTP/1.1 keeps the connection by default).
pub(super) fn request_head(
    method: &str,
    host_port: &str,
    path: &str,
    headers: &[(&str, &str)],
    body_len: usize,
    keep_alive: bool,
) -> io::Result<String> {
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && b != b':');
    let visible = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic());
    if !token(method) || !visible(path) || !visible(host_port) {
        return Err(invalid_input(format!(
            "invalid request {method:?} {host_port:?} {path:?}"
        )));
    }
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host_port}\r\n");
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
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

/// Go's `url.QueryEscape`: unreserved bytes as they are, space as `+`, the rest
/// `%XX` (so `t#ephemeral` becomes `t%23ephemeral`).
pub fn query_escape(s: &str) -> String {
    query_escape_bytes(s.as_bytes())
}

/// [`query_escape`] of bytes that need not be UTF-8 (a message body).
pub fn query_escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
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
