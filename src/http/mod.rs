//! A small HTTP/1.1 server on `httparse`, shared by nsqd, nsqlookupd and nsqadmin.
//!
//! Connections live on a mio event loop (`server.rs`): reading a request and writing a
//! response never ties a thread to a slow peer. Only complete requests go to a pool of
//! worker threads. Keep-alive, `Content-Length` and chunked bodies, `Expect:
//! 100-continue`, limits on head and body size (`parse.rs`), deadlines for the head, the
//! body and idle keep-alive, and a cap on connections come with it. With a
//! [`crate::tls::ServerTls`] in [`Config`] it serves HTTPS: `tls_conn.rs` is the TLS
//! layer between a connection's socket buffers and the parser.
//!
//! It knows HTTP, not NSQ: a [`Router`] maps `(method, path)` to plain functions
//! `&Request -> Response`, which are unit-testable without a socket. The router answers
//! unknown paths 404, wrong methods 405 with `Allow`, `OPTIONS` with `Allow`, and
//! redirects a trailing slash — httprouter's behaviour, which NSQ tools expect.
//!
//! [`client`] is the other side: the small blocking client that nsqd (lookupd peers,
//! auth), the client library (lookupd discovery) and the tools use.

pub mod client;
mod parse;
mod server;
mod tls_conn;

pub use server::{Config, Server};

/// One parsed request.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// The raw query string (after `?`), not decoded.
    pub query: String,
    /// Headers in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
    /// The value of a `:name` path segment, if the route has one.
    pub path_param: Option<String>,
    /// The peer's address (none for a request made in a test).
    pub remote: Option<std::net::SocketAddr>,
}

/// A query string that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadQuery;

impl Request {
    /// A request for tests and internal calls.
    pub fn new(method: &str, target: &str, body: &[u8]) -> Request {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Request {
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            body: body.to_vec(),
            ..Request::default()
        }
    }

    /// The header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Decodes the query string as Go's `url.ParseQuery` does (`+` is a space, `%XX`
    /// escapes, a bad escape or a `;` is an error).
    pub fn query_pairs(&self) -> Result<Vec<(String, String)>, BadQuery> {
        let mut out = Vec::new();
        for part in self.query.split('&') {
            if part.is_empty() {
                continue;
            }
            if part.contains(';') {
                return Err(BadQuery);
            }
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            out.push((percent_decode(k)?, percent_decode(v)?));
        }
        Ok(out)
    }

    /// The first value of query parameter `name`; `Err` if the query is malformed.
    pub fn query_param(&self, name: &str) -> Result<Option<String>, BadQuery> {
        Ok(self
            .query_pairs()?
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v))
    }
}

fn percent_decode(s: &str) -> Result<String, BadQuery> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or(BadQuery)?;
                let text = std::str::from_utf8(hex).map_err(|_| BadQuery)?;
                out.push(u8::from_str_radix(text, 16).map_err(|_| BadQuery)?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| BadQuery)
}

/// A response to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers besides `Content-Length` and `Connection`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// `Content-Type` of JSON bodies, as Go writes it.
pub const JSON: &str = "application/json; charset=utf-8";
/// `Content-Type` of text bodies, as Go writes it.
pub const TEXT: &str = "text/plain; charset=utf-8";

impl Response {
    /// A response with no headers.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// A `text/plain` response.
    pub fn text(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response::new(status, body).header("Content-Type", TEXT)
    }

    /// A JSON response from an already encoded body.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response::new(status, body).header("Content-Type", JSON)
    }

    /// `{"message":"<message>"}` with `status`.
    pub fn error(status: u16, message: &str) -> Response {
        let body = serde_json::json!({ "message": message }).to_string();
        Response::json(status, body)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The header `name`, if set.
    pub fn get_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The reason phrase of `status` (`Unknown` for one this server never sends).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        301 => "Moved Permanently",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Request Entity Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// A route's handler.
pub type HandlerFn = Box<dyn Fn(&Request) -> Response + Send + Sync>;

struct Route {
    method: &'static str,
    segments: Vec<&'static str>,
    handler: HandlerFn,
    /// Largest body this route accepts, and what to answer beyond it.
    body_limit: Option<(usize, Response)>,
    /// Its requests are not logged (Go's hot paths: nsqd's `/pub`, `/mpub`).
    quiet: bool,
}

impl Route {
    fn matches(&self, path: &str) -> Option<Option<String>> {
        let parts: Vec<&str> = path.split('/').skip(1).collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut param = None;
        for (seg, part) in self.segments.iter().zip(&parts) {
            if let Some(_name) = seg.strip_prefix(':') {
                if part.is_empty() {
                    return None;
                }
                param = Some((*part).to_string());
            } else if seg != part {
                return None;
            }
        }
        Some(param)
    }
}

/// Maps `(method, path)` to handlers. Paths are `/a/b` or `/a/:name`.
#[derive(Default)]
pub struct Router {
    routes: Vec<Route>,
    error_decorator: Option<fn(Response) -> Response>,
    not_found: Option<HandlerFn>,
}

impl Router {
    /// An empty router.
    pub fn new() -> Router {
        Router::default()
    }

    /// Adds a route.
    pub fn add(
        &mut self,
        method: &'static str,
        path: &'static str,
        handler: impl Fn(&Request) -> Response + Send + Sync + 'static,
    ) -> &mut Router {
        self.routes.push(Route {
            method,
            segments: path.split('/').skip(1).collect(),
            handler: Box::new(handler),
            body_limit: None,
            quiet: false,
        });
        self
    }

    /// Leaves the requests of the route added last out of the request log.
    pub fn quiet(&mut self) -> &mut Router {
        if let Some(route) = self.routes.last_mut() {
            route.quiet = true;
        }
        self
    }

    /// Applies `decorate` to the router's own answers (404, 405, OPTIONS, 500), so a
    /// program can add its headers to them.
    pub fn decorate_errors(&mut self, decorate: fn(Response) -> Response) -> &mut Router {
        self.error_decorator = Some(decorate);
        self
    }

    /// Answers every request no route matches with `handler` instead of `404`
    /// (httprouter's `NotFound`); a router without routes answers everything with it.
    pub fn not_found(
        &mut self,
        handler: impl Fn(&Request) -> Response + Send + Sync + 'static,
    ) -> &mut Router {
        self.not_found = Some(Box::new(handler));
        self
    }

    /// Decorates one of the router's own answers.
    pub fn own(&self, resp: Response) -> Response {
        match self.error_decorator {
            Some(decorate) => decorate(resp),
            None => resp,
        }
    }

    /// Limits the body of the route added last; `too_big` answers anything larger
    /// before it is read.
    pub fn limit_body(&mut self, max: usize, too_big: Response) -> &mut Router {
        if let Some(route) = self.routes.last_mut() {
            route.body_limit = Some((max, too_big));
        }
        self
    }

    fn body_limit(&self, method: &str, path: &str) -> Option<&(usize, Response)> {
        self.routes
            .iter()
            .find(|r| r.method == method && r.matches(path).is_some())
            .and_then(|r| r.body_limit.as_ref())
    }

    fn allowed(&self, path: &str) -> Vec<&'static str> {
        let mut methods: Vec<&'static str> = self
            .routes
            .iter()
            .filter(|r| r.matches(path).is_some())
            .map(|r| r.method)
            .collect();
        if !methods.is_empty() {
            methods.push("OPTIONS");
        }
        methods.sort_unstable();
        methods.dedup();
        methods
    }

    /// Answers `req`: the matching handler, or 404 / 405 / OPTIONS / a redirect.
    pub fn handle(&self, req: &Request) -> Response {
        self.dispatch(req).0
    }

    /// [`Router::handle`], and whether the answer gets a request log line as Go's
    /// `http_api.Log` writes one: every routed request but the quiet routes', and
    /// the 404s and 405s; not the router's own redirects and `OPTIONS` answers.
    pub fn dispatch(&self, req: &Request) -> (Response, bool) {
        for route in &self.routes {
            if route.method != req.method {
                continue;
            }
            if let Some(param) = route.matches(&req.path) {
                let mut req = req.clone();
                req.path_param = param;
                return ((route.handler)(&req), !route.quiet);
            }
        }
        let allowed = self.allowed(&req.path);
        if !allowed.is_empty() {
            let allow = allowed.join(", ");
            if req.method == "OPTIONS" {
                return (
                    self.own(Response::new(200, "").header("Allow", &allow)),
                    false,
                );
            }
            let resp = Response::error(405, "METHOD_NOT_ALLOWED").header("Allow", &allow);
            return (self.own(resp), true);
        }
        let other = match req.path.strip_suffix('/') {
            Some(stripped) if !stripped.is_empty() => stripped.to_string(),
            _ => format!("{}/", req.path),
        };
        if self
            .routes
            .iter()
            .any(|r| r.method == req.method && r.matches(&other).is_some())
        {
            let status = if req.method == "GET" { 301 } else { 307 };
            let mut location = other;
            if !req.query.is_empty() {
                location = format!("{location}?{}", req.query);
            }
            return (
                Response::new(status, "").header("Location", &location),
                false,
            );
        }
        match &self.not_found {
            Some(handler) => {
                // The hook routes for itself: its redirects and OPTIONS go unlogged too.
                let resp = handler(req);
                let logged = req.method != "OPTIONS" && !matches!(resp.status, 301 | 307);
                (resp, logged)
            }
            None => (self.own(Response::error(404, "NOT_FOUND")), true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        let mut r = Router::new();
        r.add("GET", "/ping", |_| Response::text(200, "OK"));
        r.add("POST", "/pub", |req| Response::text(200, req.body.clone()));
        r.add("GET", "/config/:opt", |req| {
            Response::text(200, req.path_param.clone().unwrap_or_default())
        });
        r
    }

    #[test]
    fn routes_by_method_and_path() {
        let r = router();
        assert_eq!(r.handle(&Request::new("GET", "/ping", b"")).body, b"OK");
        assert_eq!(
            r.handle(&Request::new("POST", "/pub?topic=t", b"x")).body,
            b"x"
        );
        assert_eq!(
            r.handle(&Request::new("GET", "/config/log_level", b""))
                .body,
            b"log_level"
        );
    }

    #[test]
    fn unknown_path_is_404_and_wrong_method_405_with_allow() {
        let r = router();
        let resp = r.handle(&Request::new("GET", "/nope", b""));
        assert_eq!(
            (resp.status, resp.body.as_slice()),
            (404, &b"{\"message\":\"NOT_FOUND\"}"[..])
        );
        let resp = r.handle(&Request::new("GET", "/pub", b""));
        assert_eq!(resp.status, 405);
        assert_eq!(resp.body, b"{\"message\":\"METHOD_NOT_ALLOWED\"}");
        assert_eq!(resp.get_header("Allow"), Some("OPTIONS, POST"));
        let resp = r.handle(&Request::new("OPTIONS", "/pub", b""));
        assert_eq!(
            (resp.status, resp.get_header("Allow")),
            (200, Some("OPTIONS, POST"))
        );
    }

    #[test]
    fn a_router_without_routes_answers_everything_with_not_found() {
        let mut r = Router::new();
        r.not_found(|req| Response::text(403, req.path.clone()));
        for (method, target) in [("GET", "/ping"), ("OPTIONS", "/pub"), ("POST", "/x/?a=1")] {
            let resp = r.handle(&Request::new(method, target, b""));
            assert_eq!(resp.status, 403, "{method} {target}");
        }
    }

    #[test]
    fn request_log_leaves_out_quiet_routes_redirects_and_options() {
        let mut r = router();
        r.add("POST", "/mpub", |_| Response::text(200, "OK"))
            .quiet();
        let logs = |method: &str, target: &str| r.dispatch(&Request::new(method, target, b"")).1;
        assert!(logs("GET", "/ping"));
        assert!(logs("POST", "/pub?topic=a"));
        assert!(logs("GET", "/nope"), "404");
        assert!(logs("GET", "/pub"), "405");
        assert!(!logs("POST", "/mpub?topic=a"), "quiet route");
        assert!(!logs("GET", "/ping/"), "redirect");
        assert!(!logs("OPTIONS", "/pub"));
    }

    #[test]
    fn trailing_slash_redirects() {
        let r = router();
        let resp = r.handle(&Request::new("GET", "/ping/", b""));
        assert_eq!(
            (resp.status, resp.get_header("Location")),
            (301, Some("/ping"))
        );
        let resp = r.handle(&Request::new("POST", "/pub/?topic=a", b""));
        assert_eq!(
            (resp.status, resp.get_header("Location")),
            (307, Some("/pub?topic=a"))
        );
    }

    #[test]
    fn query_decoding_follows_go() {
        let req = Request::new("GET", "/x?topic=a%2Bb&x=1+2&flag", b"");
        assert_eq!(req.query_param("topic").unwrap().as_deref(), Some("a+b"));
        assert_eq!(req.query_param("x").unwrap().as_deref(), Some("1 2"));
        assert_eq!(req.query_param("flag").unwrap().as_deref(), Some(""));
        assert_eq!(req.query_param("none").unwrap(), None);
        assert!(Request::new("GET", "/x?t=%zz", b"").query_pairs().is_err());
        assert!(Request::new("GET", "/x?a=1;b=2", b"")
            .query_pairs()
            .is_err());
    }
}
