//! A small synchronous HTTP/1.1 server on `httparse`: an accept thread, a fixed pool of
//! worker threads, keep-alive, `Content-Length` and chunked request bodies,
//! `Expect: 100-continue`, limits on header and body size, and a deadline on reading
//! each request so a slow client cannot hold a worker.
//!
//! It knows HTTP, not NSQ: a [`Router`] maps `(method, path)` to plain functions
//! `&Request -> Response`, which are unit-testable without a socket. The router answers
//! unknown paths 404, wrong methods 405 with `Allow`, `OPTIONS` with `Allow`, and
//! redirects a trailing slash — httprouter's behaviour, which NSQ tools expect.
//!
//! Fairness: an idle keep-alive connection gives its worker up as soon as another
//! connection is waiting, so a pool of idle clients cannot starve new ones.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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

fn reason(status: u16) -> &'static str {
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
        });
        self
    }

    /// Applies `decorate` to the router's own answers (404, 405, OPTIONS, 500), so a
    /// program can add its headers to them.
    pub fn decorate_errors(&mut self, decorate: fn(Response) -> Response) -> &mut Router {
        self.error_decorator = Some(decorate);
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
        for route in &self.routes {
            if route.method != req.method {
                continue;
            }
            if let Some(param) = route.matches(&req.path) {
                let mut req = req.clone();
                req.path_param = param;
                return (route.handler)(&req);
            }
        }
        let allowed = self.allowed(&req.path);
        if !allowed.is_empty() {
            let allow = allowed.join(", ");
            if req.method == "OPTIONS" {
                return self.own(Response::new(200, "").header("Allow", &allow));
            }
            return self.own(Response::error(405, "METHOD_NOT_ALLOWED").header("Allow", &allow));
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
            return Response::new(status, "").header("Location", &location);
        }
        self.own(Response::error(404, "NOT_FOUND"))
    }
}

/// Server limits and timeouts.
#[derive(Debug, Clone)]
pub struct Config {
    /// Worker threads.
    pub workers: usize,
    /// Largest request head (request line and headers).
    pub max_header_bytes: usize,
    /// Largest body of any route (routes may set smaller limits).
    pub max_body_bytes: usize,
    /// Time allowed to receive one whole request once its first byte arrived.
    pub request_timeout: Duration,
    /// How long an idle keep-alive connection is kept when no one else waits.
    pub idle_timeout: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            workers: 8,
            max_header_bytes: 64 * 1024,
            max_body_bytes: 5 * 1024 * 1024,
            request_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
        }
    }
}

struct Queue {
    conns: Mutex<VecDeque<TcpStream>>,
    ready: Condvar,
    stop: AtomicBool,
}

/// A running HTTP server.
pub struct Server {
    addr: SocketAddr,
    queue: Arc<Queue>,
    threads: Vec<JoinHandle<()>>,
}

impl Server {
    /// Binds `addr` and serves `router` until [`Server::stop`].
    pub fn start(addr: SocketAddr, router: Arc<Router>, config: Config) -> io::Result<Server> {
        Server::from_listener(TcpListener::bind(addr)?, router, config)
    }

    /// Serves `router` on an already bound listener.
    pub fn from_listener(
        listener: TcpListener,
        router: Arc<Router>,
        config: Config,
    ) -> io::Result<Server> {
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let queue = Arc::new(Queue {
            conns: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let mut threads = Vec::new();
        let q = queue.clone();
        threads.push(
            std::thread::Builder::new()
                .name("http-accept".into())
                .spawn(move || accept_loop(listener, q))?,
        );
        let config = Arc::new(config);
        for i in 0..config.workers.max(1) {
            let (q, r, c) = (queue.clone(), router.clone(), config.clone());
            threads.push(
                std::thread::Builder::new()
                    .name(format!("http-worker-{i}"))
                    .spawn(move || worker_loop(&q, &r, &c))?,
            );
        }
        Ok(Server {
            addr,
            queue,
            threads,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets workers finish their current request, joins every thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.queue.stop.store(true, Ordering::SeqCst);
        self.queue.ready.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn accept_loop(listener: TcpListener, queue: Arc<Queue>) {
    while !queue.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                if stream.set_nonblocking(false).is_err() {
                    continue;
                }
                let _ = stream.set_nodelay(true);
                lock(&queue.conns).push_back(stream);
                queue.ready.notify_one();
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => {
                log::error!("http accept: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

fn worker_loop(queue: &Queue, router: &Router, config: &Config) {
    loop {
        let stream = {
            let mut conns = lock(&queue.conns);
            loop {
                if queue.stop.load(Ordering::SeqCst) {
                    return;
                }
                if let Some(s) = conns.pop_front() {
                    break s;
                }
                conns = queue
                    .ready
                    .wait_timeout(conns, Duration::from_millis(200))
                    .map(|(g, _)| g)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
        };
        if let Err(e) = serve_connection(stream, queue, router, config) {
            log::debug!("http connection: {e}");
        }
    }
}

/// What reading a request produced.
enum ReadOutcome {
    Request(Request),
    /// Answer this and close.
    Reject(Response),
    /// The peer went away or idled out.
    Closed,
}

fn serve_connection(
    stream: TcpStream,
    queue: &Queue,
    router: &Router,
    config: &Config,
) -> io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::with_capacity(16 * 1024, stream);
    loop {
        if !wait_for_request(&mut reader, queue, config)? {
            return Ok(());
        }
        let outcome = read_request(&mut reader, &mut writer, router, config)?;
        let (response, keep_alive) = match outcome {
            ReadOutcome::Closed => return Ok(()),
            ReadOutcome::Reject(resp) => (resp, false),
            ReadOutcome::Request(req) => {
                let keep = !req
                    .header("Connection")
                    .is_some_and(|v| v.eq_ignore_ascii_case("close"));
                let resp =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| router.handle(&req)))
                        .unwrap_or_else(|_| router.own(Response::error(500, "INTERNAL_ERROR")));
                (resp, keep)
            }
        };
        let keep_alive = keep_alive && !queue.stop.load(Ordering::SeqCst);
        write_response(&mut writer, &response, keep_alive)?;
        if !keep_alive {
            return Ok(());
        }
    }
}

/// Waits for the first byte of the next request. Gives the worker up (false) when the
/// connection idles past the timeout, or at once when others wait and nothing is
/// buffered.
fn wait_for_request(
    reader: &mut BufReader<TcpStream>,
    queue: &Queue,
    config: &Config,
) -> io::Result<bool> {
    if !reader.buffer().is_empty() {
        return Ok(true);
    }
    let idle_until = Instant::now() + config.idle_timeout;
    loop {
        if queue.stop.load(Ordering::SeqCst) {
            return Ok(false);
        }
        let slice = Duration::from_millis(100);
        reader.get_ref().set_read_timeout(Some(slice))?;
        match reader.fill_buf() {
            Ok([]) => return Ok(false),
            Ok(_) => return Ok(true),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if Instant::now() >= idle_until || !lock(&queue.conns).is_empty() {
                    return Ok(false);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads until `deadline`, failing with `TimedOut` after it.
fn read_some(reader: &mut BufReader<TcpStream>, deadline: Instant) -> io::Result<usize> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::ErrorKind::TimedOut.into());
    }
    reader.get_ref().set_read_timeout(Some(left))?;
    let available = match reader.fill_buf() {
        Ok(b) => b.len(),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            return Err(io::ErrorKind::TimedOut.into())
        }
        Err(e) => return Err(e),
    };
    Ok(available)
}

fn read_request(
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
    router: &Router,
    config: &Config,
) -> io::Result<ReadOutcome> {
    let deadline = Instant::now() + config.request_timeout;
    let mut head = Vec::new();
    let (mut req, consumed) = loop {
        let n = match read_some(reader, deadline) {
            Ok(0) => return Ok(ReadOutcome::Closed),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                return Ok(ReadOutcome::Reject(
                    router.own(Response::error(408, "REQUEST_TIMEOUT")),
                ))
            }
            Err(e) => return Err(e),
        };
        let before = head.len();
        head.extend_from_slice(&reader.buffer()[..n]);
        // Go limits header bytes, not their number; 256 fits any real client.
        let mut headers = [httparse::EMPTY_HEADER; 256];
        let mut parsed = httparse::Request::new(&mut headers);
        match parsed.parse(&head) {
            Ok(httparse::Status::Complete(len)) if len > config.max_header_bytes => {
                return Ok(ReadOutcome::Reject(
                    router.own(Response::error(431, "REQUEST_HEADER_FIELDS_TOO_LARGE")),
                ));
            }
            Ok(httparse::Status::Complete(len)) => {
                reader.consume(len - before);
                break (to_request(&parsed), len);
            }
            Ok(httparse::Status::Partial) => {
                reader.consume(n);
                if head.len() > config.max_header_bytes {
                    return Ok(ReadOutcome::Reject(
                        router.own(Response::error(431, "REQUEST_HEADER_FIELDS_TOO_LARGE")),
                    ));
                }
            }
            Err(httparse::Error::TooManyHeaders) => {
                return Ok(ReadOutcome::Reject(
                    router.own(Response::error(431, "REQUEST_HEADER_FIELDS_TOO_LARGE")),
                ))
            }
            Err(_) => {
                return Ok(ReadOutcome::Reject(
                    router.own(Response::error(400, "BAD_REQUEST")),
                ))
            }
        }
    };
    debug_assert!(consumed <= head.len());
    let limit = router.body_limit(&req.method, &req.path);
    let max = limit.map_or(config.max_body_bytes, |(m, _)| *m);
    let too_big = || {
        limit
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| router.own(Response::error(413, "BODY_TOO_BIG")))
    };
    let chunked = req
        .header("Transfer-Encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = match req.header("Content-Length") {
        Some(v) if !chunked => match v.trim().parse::<usize>() {
            Ok(n) => n,
            Err(_) => {
                return Ok(ReadOutcome::Reject(
                    router.own(Response::error(400, "BAD_REQUEST")),
                ))
            }
        },
        _ => 0,
    };
    if length > max {
        return Ok(ReadOutcome::Reject(too_big()));
    }
    if (chunked || length > 0)
        && req
            .header("Expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let body = if chunked {
        read_chunked(reader, deadline, max)
    } else {
        read_exact_body(reader, deadline, length)
    };
    match body {
        Ok(b) => req.body = b,
        Err(BodyError::TooBig) => return Ok(ReadOutcome::Reject(too_big())),
        Err(BodyError::Malformed) => {
            return Ok(ReadOutcome::Reject(
                router.own(Response::error(400, "BAD_REQUEST")),
            ))
        }
        Err(BodyError::Timeout) => {
            return Ok(ReadOutcome::Reject(
                router.own(Response::error(408, "REQUEST_TIMEOUT")),
            ))
        }
        Err(BodyError::Io(e)) => return Err(e),
    }
    Ok(ReadOutcome::Request(req))
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

enum BodyError {
    TooBig,
    Malformed,
    Timeout,
    Io(io::Error),
}

impl From<io::Error> for BodyError {
    fn from(e: io::Error) -> BodyError {
        if e.kind() == io::ErrorKind::TimedOut {
            BodyError::Timeout
        } else {
            BodyError::Io(e)
        }
    }
}

fn read_exact_body(
    reader: &mut BufReader<TcpStream>,
    deadline: Instant,
    length: usize,
) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::with_capacity(length.min(1 << 20));
    while body.len() < length {
        let n = read_some(reader, deadline)?;
        if n == 0 {
            return Err(BodyError::Malformed);
        }
        let take = n.min(length - body.len());
        body.extend_from_slice(&reader.buffer()[..take]);
        reader.consume(take);
    }
    Ok(body)
}

/// Reads a line ending in CRLF (for chunk sizes and trailers), bounded in length.
fn read_line(reader: &mut BufReader<TcpStream>, deadline: Instant) -> Result<Vec<u8>, BodyError> {
    let mut line = Vec::new();
    loop {
        let n = read_some(reader, deadline)?;
        if n == 0 {
            return Err(BodyError::Malformed);
        }
        let buf = reader.buffer();
        if let Some(pos) = buf.iter().position(|&b| b == b'\n') {
            line.extend_from_slice(&buf[..=pos]);
            reader.consume(pos + 1);
            return Ok(line);
        }
        line.extend_from_slice(buf);
        reader.consume(n);
        if line.len() > 4096 {
            return Err(BodyError::Malformed);
        }
    }
}

fn read_chunked(
    reader: &mut BufReader<TcpStream>,
    deadline: Instant,
    max: usize,
) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader, deadline)?;
        let size = match httparse::parse_chunk_size(&line) {
            Ok(httparse::Status::Complete((_, size))) => size,
            _ => return Err(BodyError::Malformed),
        };
        let size = usize::try_from(size).map_err(|_| BodyError::TooBig)?;
        if size == 0 {
            // Trailers, up to the empty line.
            loop {
                let line = read_line(reader, deadline)?;
                if line == b"\r\n" || line == b"\n" {
                    return Ok(body);
                }
            }
        }
        if body.len().saturating_add(size) > max {
            return Err(BodyError::TooBig);
        }
        let chunk = read_exact_body(reader, deadline, size)?;
        body.extend_from_slice(&chunk);
        let end = read_line(reader, deadline)?;
        if end != b"\r\n" && end != b"\n" {
            return Err(BodyError::Malformed);
        }
    }
}

fn write_response(writer: &mut TcpStream, resp: &Response, keep_alive: bool) -> io::Result<()> {
    let mut out = Vec::with_capacity(256 + resp.body.len());
    out.extend_from_slice(
        format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status)).as_bytes(),
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
    writer.write_all(&out)?;
    writer.flush()
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
