//! The HTTP server: connections on a mio event loop ([`crate::reactor`]), complete
//! requests handed to a pool of worker threads, responses written back by the loop.
//! No thread ever waits on a peer: a slow or stuck client costs its buffered bytes and
//! a slot, never a worker.
//!
//! Each connection moves through idle → reading → handling → idle (keep-alive) or
//! closed. Reading a request must finish within `request_timeout` of its first byte
//! (else `408`); an idle connection is closed after `idle_timeout` (a new one after
//! `request_timeout`). Past `max_connections`, the connections waiting longest that are
//! not being handled are closed first. Stopping closes every connection at once.
//!
//! With [`Config::tls`] every connection gets a TLS layer (`tls_conn.rs`): received
//! bytes are decrypted before the parser sees them and answers encrypted on their way
//! out. A handshake is bounded by the same deadline as a new connection's first
//! request byte (the connection stays idle until plaintext arrives), and a TLS error
//! closes only its connection. Without it the plain path is unchanged.

use super::parse::{self, Head, Step};
use super::tls_conn::TlsConn;
use super::{Request, Response, Router};
use crate::reactor::{ConnId, Handler, Net, Reactor, Timers, Wakeup};
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Server limits and timeouts.
#[derive(Debug, Clone)]
pub struct Config {
    /// Worker threads running handlers.
    pub workers: usize,
    /// Largest request head (request line and headers).
    pub max_header_bytes: usize,
    /// Largest body of any route (routes may set smaller limits).
    pub max_body_bytes: usize,
    /// Time allowed to receive one whole request once its first byte arrived (and for
    /// a new connection's first byte).
    pub request_timeout: Duration,
    /// How long an idle keep-alive connection is kept.
    pub idle_timeout: Duration,
    /// Open connections at most; past it the longest-waiting ones are closed.
    pub max_connections: usize,
    /// Serve HTTPS with this configuration instead of plain HTTP.
    pub tls: Option<crate::tls::ServerTls>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            workers: 8,
            max_header_bytes: 64 * 1024,
            max_body_bytes: 5 * 1024 * 1024,
            request_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            max_connections: 1024,
            tls: None,
        }
    }
}

/// A running HTTP server.
pub struct Server {
    addr: SocketAddr,
    wakeup: Wakeup,
    threads: Vec<JoinHandle<()>>,
}

impl Server {
    /// Binds `addr` and serves `router` until [`Server::stop`].
    pub fn start(addr: SocketAddr, router: Arc<Router>, config: Config) -> io::Result<Server> {
        Server::from_listener(crate::listen::bind(addr)?, router, config)
    }

    /// Serves `router` on an already bound listener.
    pub fn from_listener(
        listener: TcpListener,
        router: Arc<Router>,
        config: Config,
    ) -> io::Result<Server> {
        let addr = listener.local_addr()?;
        let kind = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let reactor = Reactor::from_listener(listener)?;
        let wakeup = reactor.wakeup();
        let (jobs, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let done: Arc<Mutex<Vec<Done>>> = Arc::default();
        let mut threads = Vec::new();
        for i in 0..config.workers.max(1) {
            let (rx, done, router, wakeup) =
                (rx.clone(), done.clone(), router.clone(), wakeup.clone());
            threads.push(
                std::thread::Builder::new()
                    .name(format!("{kind}-worker-{i}"))
                    .spawn(move || worker_loop(&rx, &done, &router, &wakeup))?,
            );
        }
        let mut handler = HttpHandler {
            router,
            config,
            jobs,
            done,
            open: 0,
            epoch: 0,
        };
        threads.push(
            std::thread::Builder::new()
                .name(format!("{kind}-loop"))
                .spawn(move || {
                    if let Err(e) = reactor.run(&mut handler) {
                        log::error!("{}: event loop failed: {e}", kind.to_ascii_uppercase());
                    }
                })?,
        );
        Ok(Server {
            addr,
            wakeup,
            threads,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes every connection and stops; workers finish the request in hand.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.wakeup.stop();
        // The loop goes first (it owns the job queue); then the workers see it closed.
        if let Some(reactor) = self.threads.pop() {
            let _ = reactor.join();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            self.shutdown();
        }
    }
}

/// A complete request for a worker.
struct Job {
    id: ConnId,
    serial: u32,
    req: Request,
    keep_alive: bool,
}

/// A worker's response for the loop to write.
struct Done {
    id: ConnId,
    serial: u32,
    bytes: Vec<u8>,
    keep_alive: bool,
}

fn worker_loop(
    jobs: &Mutex<Receiver<Job>>,
    done: &Mutex<Vec<Done>>,
    router: &Router,
    wakeup: &Wakeup,
) {
    loop {
        let job = jobs.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(job) = job else { return };
        let started = Instant::now();
        let (resp, logged) =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| router.dispatch(&job.req)))
                .unwrap_or_else(|_| (router.own(Response::error(500, "INTERNAL_ERROR")), true));
        if logged && log::log_enabled!(log::Level::Info) {
            log_request(&job.req, resp.status, started.elapsed());
        }
        let bytes = parse::response_bytes(&resp, job.keep_alive);
        done.lock().unwrap_or_else(|p| p.into_inner()).push(Done {
            id: job.id,
            serial: job.serial,
            bytes,
            keep_alive: job.keep_alive,
        });
        wakeup.wake();
    }
}

/// Go's request log line: `200 GET /stats?format=json (127.0.0.1:50412) 1.2ms`.
fn log_request(req: &Request, status: u16, elapsed: Duration) {
    let query = match req.query.is_empty() {
        true => String::new(),
        false => format!("?{}", req.query),
    };
    let remote = req.remote.map(|a| a.to_string()).unwrap_or_default();
    log::info!(
        "{status} {} {}{query} ({remote}) {elapsed:?}",
        req.method,
        req.path
    );
}

/// Where a connection is in its request cycle.
#[derive(Debug)]
enum Phase {
    /// Waiting for the first byte of a request.
    Idle,
    /// Receiving a request: its head once parsed.
    Reading(Option<Box<Head>>),
    /// A worker has the request.
    Handling,
    /// Closing once its output is written.
    Closing,
}

/// One HTTP connection's state.
#[derive(Debug)]
pub struct HttpConn {
    /// Bumped at each phase with a deadline, so a stale timer is recognised.
    serial: u32,
    phase: Phase,
    /// When the current phase began.
    since: Instant,
    /// The peer closed its side while its request was handled.
    peer_closed: bool,
    /// The TLS layer of an HTTPS connection.
    tls: Option<Box<TlsConn>>,
}

struct HttpHandler {
    router: Arc<Router>,
    config: Config,
    jobs: Sender<Job>,
    done: Arc<Mutex<Vec<Done>>>,
    open: usize,
    /// Where the next connection's serials start: a slot reused by a new connection
    /// must not match the timers its previous owner left behind.
    epoch: u32,
}

/// How far apart the serials of successive connections start.
const EPOCH_STEP: u32 = 1 << 20;

fn timer_key(id: ConnId, serial: u32) -> u64 {
    ((id as u64) << 32) | u64::from(serial)
}

impl HttpHandler {
    /// Enters `phase` with a deadline `after` from now (none for handling/closing).
    fn enter(
        timers: &mut Timers,
        id: ConnId,
        conn: &mut HttpConn,
        phase: Phase,
        after: Option<Duration>,
    ) {
        conn.serial = conn.serial.wrapping_add(1);
        conn.phase = phase;
        conn.since = Instant::now();
        if let Some(after) = after {
            timers.set(conn.since + after, timer_key(id, conn.serial));
        }
    }

    /// Answers `resp` and closes.
    fn reject(net: &mut Net<HttpConn>, id: ConnId, resp: &Response) {
        send(net, id, &parse::response_bytes(resp, false));
        finish(net, id);
    }

    /// Moves the connection on as far as its buffered bytes allow.
    fn process(&mut self, net: &mut Net<HttpConn>, id: ConnId) {
        loop {
            let Some((conn, timers)) = net.conn_and_timers(id) else {
                return;
            };
            match &mut conn.state.phase {
                Phase::Idle => {
                    let input = match &mut conn.state.tls {
                        Some(tls) => {
                            tls.shrink();
                            &tls.plain
                        }
                        None => &conn.input,
                    };
                    if input.is_empty() {
                        return;
                    }
                    let timeout = Some(self.config.request_timeout);
                    Self::enter(timers, id, &mut conn.state, Phase::Reading(None), timeout);
                }
                Phase::Reading(None) => {
                    let (max_head, max_body) =
                        (self.config.max_header_bytes, self.config.max_body_bytes);
                    let input = match &mut conn.state.tls {
                        Some(tls) => &mut tls.plain,
                        None => &mut conn.input,
                    };
                    match parse::head(input, &self.router, max_head, max_body) {
                        Step::Partial => return,
                        Step::Reject(resp) => return Self::reject(net, id, &resp),
                        Step::Done(head, len) => {
                            input.drain(..len);
                            let expect = head.expect_continue;
                            conn.state.phase = Phase::Reading(Some(Box::new(head)));
                            if expect {
                                send(net, id, b"HTTP/1.1 100 Continue\r\n\r\n");
                            }
                        }
                    }
                }
                Phase::Reading(Some(head)) => {
                    let input = match &mut conn.state.tls {
                        Some(tls) => &mut tls.plain,
                        None => &mut conn.input,
                    };
                    let (body, len) = match parse::body(input, head, &self.router) {
                        Step::Partial => return,
                        Step::Reject(resp) => return Self::reject(net, id, &resp),
                        Step::Done(body, len) => (body, len),
                    };
                    input.drain(..len);
                    let Phase::Reading(Some(head)) =
                        std::mem::replace(&mut conn.state.phase, Phase::Handling)
                    else {
                        return;
                    };
                    let mut req = head.req;
                    req.body = body;
                    req.remote = Some(conn.peer);
                    let keep_alive = !req
                        .header("Connection")
                        .is_some_and(|v| v.eq_ignore_ascii_case("close"));
                    Self::enter(timers, id, &mut conn.state, Phase::Handling, None);
                    let job = Job {
                        id,
                        serial: conn.state.serial,
                        req,
                        keep_alive,
                    };
                    if self.jobs.send(job).is_err() {
                        net.close(id);
                    }
                    return;
                }
                Phase::Handling | Phase::Closing => return,
            }
        }
    }

    /// Writes a worker's response; keep-alive connections go on with what they sent
    /// meanwhile.
    fn answered(&mut self, net: &mut Net<HttpConn>, done: Done) {
        let Some(conn) = net.conn(done.id) else {
            return;
        };
        if conn.state.serial != done.serial || !matches!(conn.state.phase, Phase::Handling) {
            return; // the connection slot was closed and reused meanwhile
        }
        let keep_alive = done.keep_alive && !conn.state.peer_closed;
        let mut bytes = done.bytes;
        if done.keep_alive && !keep_alive {
            bytes = rewrite_close(bytes);
        }
        send(net, done.id, &bytes);
        if !keep_alive {
            finish(net, done.id);
            return;
        }
        let Some((conn, timers)) = net.conn_and_timers(done.id) else {
            return;
        };
        let idle = Some(self.config.idle_timeout);
        Self::enter(timers, done.id, &mut conn.state, Phase::Idle, idle);
        self.process(net, done.id);
    }

    /// Past the cap: closes the connections not being handled, longest waiting first.
    fn enforce_cap(&mut self, net: &mut Net<HttpConn>) {
        if self.open <= self.config.max_connections {
            return;
        }
        let mut waiting: Vec<(Instant, ConnId)> = Vec::new();
        for id in net.ids() {
            if let Some(conn) = net.conn(id) {
                if matches!(conn.state.phase, Phase::Idle | Phase::Reading(_)) {
                    waiting.push((conn.state.since, id));
                }
            }
        }
        waiting.sort_unstable();
        let excess = self.open - self.config.max_connections;
        for &(_, id) in waiting.iter().take(excess) {
            if let Some(conn) = net.conn(id) {
                conn.state.phase = Phase::Closing;
            }
            net.close(id);
        }
    }
}

/// Queues `bytes` for `id` (encrypted on an HTTPS connection); nothing once closing.
fn send(net: &mut Net<HttpConn>, id: ConnId, bytes: &[u8]) {
    if net.output(id).is_none() {
        return;
    }
    let Some(conn) = net.conn(id) else {
        return;
    };
    match &mut conn.state.tls {
        Some(tls) => tls.send(bytes, &mut conn.output),
        None => conn.output.extend_from_slice(bytes),
    }
}

/// Closes `id` once its output is sent, after close_notify on an HTTPS connection.
fn finish(net: &mut Net<HttpConn>, id: ConnId) {
    let Some(conn) = net.conn(id) else {
        return;
    };
    conn.state.phase = Phase::Closing;
    if conn.state.tls.is_some() && net.output(id).is_some() {
        if let Some(conn) = net.conn(id) {
            if let Some(tls) = &mut conn.state.tls {
                tls.close(&mut conn.output);
            }
        }
    }
    net.close(id);
}

/// A response prepared for keep-alive, turned into a closing one (the peer left).
fn rewrite_close(bytes: Vec<u8>) -> Vec<u8> {
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return bytes;
    };
    let mut out = bytes[..end + 2].to_vec();
    out.extend_from_slice(b"Connection: close\r\n");
    out.extend_from_slice(&bytes[end + 2..]);
    out
}

impl Handler for HttpHandler {
    type Conn = HttpConn;

    fn accepted(&mut self, timers: &mut Timers, id: ConnId, peer: SocketAddr) -> HttpConn {
        self.open += 1;
        self.epoch = self.epoch.wrapping_add(EPOCH_STEP);
        let mut conn = HttpConn {
            serial: self.epoch,
            phase: Phase::Idle,
            since: Instant::now(),
            peer_closed: false,
            tls: None,
        };
        let mut phase = Phase::Idle;
        let mut deadline = self.config.request_timeout;
        if let Some(config) = &self.config.tls {
            match TlsConn::new(config) {
                Ok(tls) => conn.tls = Some(Box::new(tls)),
                Err(e) => {
                    // Never served in the clear: closed at the next round.
                    log::error!("HTTPS: TLS session for {peer}: {e}");
                    (phase, deadline) = (Phase::Closing, Duration::ZERO);
                }
            }
        }
        Self::enter(timers, id, &mut conn, phase, Some(deadline));
        conn
    }

    fn readable(&mut self, net: &mut Net<HttpConn>, id: ConnId) {
        let Some(conn) = net.conn(id) else {
            return;
        };
        if matches!(conn.state.phase, Phase::Closing) {
            return net.close(id);
        }
        let Some(tls) = &mut conn.state.tls else {
            return self.process(net, id);
        };
        // The raw bytes go through the TLS layer; the parser reads its plaintext.
        let raw = std::mem::take(&mut conn.input);
        let before = conn.output.len();
        let fed = tls.feed(&raw, &mut conn.output);
        let answered = conn.output.len() > before;
        conn.input = raw;
        conn.input.clear();
        if answered {
            let _ = net.output(id); // flushed at the end of the round
        }
        match fed {
            Ok(peer_closed) => {
                self.process(net, id);
                if peer_closed {
                    self.read_closed(net, id);
                }
            }
            Err(e) => {
                log::debug!("HTTPS: connection {id}: {e}");
                if let Some(conn) = net.conn(id) {
                    conn.state.phase = Phase::Closing;
                }
                net.close(id);
            }
        }
    }

    fn read_closed(&mut self, net: &mut Net<HttpConn>, id: ConnId) {
        let Some(conn) = net.conn(id) else {
            return;
        };
        if matches!(conn.state.phase, Phase::Handling) {
            conn.state.peer_closed = true; // answered, then closed
        } else {
            net.close(id);
        }
    }

    fn closed(&mut self, _net: &mut Net<HttpConn>, _id: ConnId, _conn: HttpConn) {
        self.open -= 1;
    }

    fn timer(&mut self, net: &mut Net<HttpConn>, key: u64, _now: Instant) {
        let id = (key >> 32) as ConnId;
        let Some(conn) = net.conn(id) else {
            return;
        };
        if timer_key(id, conn.state.serial) != key {
            return;
        }
        match conn.state.phase {
            // An idle connection, or one whose TLS handshake never finished.
            Phase::Idle => finish(net, id),
            Phase::Reading(_) => {
                let resp = self.router.own(Response::error(408, "REQUEST_TIMEOUT"));
                Self::reject(net, id, &resp);
            }
            Phase::Closing => net.close(id),
            Phase::Handling => {}
        }
    }

    fn woken(&mut self, net: &mut Net<HttpConn>) {
        let done = std::mem::take(&mut *self.done.lock().unwrap_or_else(|p| p.into_inner()));
        for d in done {
            self.answered(net, d);
        }
    }

    fn round_end(&mut self, net: &mut Net<HttpConn>) {
        self.enforce_cap(net);
    }

    fn stopping(&mut self, _net: &mut Net<HttpConn>) {}
}
