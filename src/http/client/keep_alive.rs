//! Connections kept between requests, as Go's `http.Transport` keeps them: after a
//! whole HTTP/1.1 response without `Connection: close`, the connection waits in an
//! idle pool (at most 2 per host, 100 in all, for 90 s) for the next request to the
//! same scheme and host. One the server closed meanwhile is dropped, not used; if a
//! reused connection fails before any byte of the answer, a GET or HEAD goes again
//! on a new one (Go's rule: other methods are not replayed).

use super::conn::Conn;
use super::request::request_head;
use super::{exchange, open, tls_for, Response, Target, Timeouts};
use crate::tls::ClientTls;
use std::io::{self, ErrorKind};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Idle connections kept per scheme and host (Go's `DefaultMaxIdleConnsPerHost`).
const MAX_IDLE_PER_HOST: usize = 2;
/// Idle connections kept in all (`MaxIdleConns` of nsq's HTTP transport).
const MAX_IDLE: usize = 100;
/// How long a connection may wait idle (`IdleConnTimeout`).
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// An idle connection, its `scheme://host:port`, and since when it waits.
struct Idle {
    key: String,
    conn: Conn,
    since: Instant,
}

/// A pool of idle connections for [`KeepAlive::request`]; share one per program.
#[derive(Default)]
pub struct KeepAlive {
    idle: Mutex<Vec<Idle>>,
}

impl KeepAlive {
    /// An empty pool.
    pub fn new() -> KeepAlive {
        KeepAlive::default()
    }

    /// One request to `target` as [`super::request_to`] makes it, on an idle
    /// connection to the same host when one is open, or a new one; the connection
    /// goes back to the pool after a whole response that allows it.
    pub fn request(
        &self,
        method: &str,
        target: &Target,
        headers: &[(&str, &str)],
        body: &[u8],
        timeouts: impl Into<Timeouts>,
        tls: Option<&ClientTls>,
    ) -> io::Result<Response> {
        let timeouts = timeouts.into();
        let head = request_head(
            method,
            &target.host_port,
            &target.path,
            headers,
            body.len(),
            true,
        )?;
        let scheme = if target.https { "https" } else { "http" };
        let key = format!("{scheme}://{}", target.host_port);
        if let Some(mut conn) = self.take(&key) {
            conn.deadline = Instant::now() + timeouts.total;
            match exchange(&mut conn, method, &head, body) {
                Ok(resp) => {
                    self.put(key, conn);
                    return Ok(resp);
                }
                Err(e) if replayable(method) && conn.buf.is_empty() && closed(&e) => {}
                Err(e) => return Err(e),
            }
        }
        let tls = tls_for(target, tls)?;
        let mut conn = open(&target.host_port, timeouts, tls.as_ref())?;
        let resp = exchange(&mut conn, method, &head, body)?;
        self.put(key, conn);
        Ok(resp)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The most recently idle open connection for `key`; expired or closed ones go.
    fn take(&self, key: &str) -> Option<Conn> {
        let mut idle = self.lock();
        idle.retain(|i| i.since.elapsed() < IDLE_TIMEOUT);
        while let Some(at) = idle.iter().rposition(|i| i.key == key) {
            let candidate = idle.remove(at);
            if candidate.conn.idle_and_open() {
                return Some(candidate.conn);
            }
        }
        None
    }

    /// Keeps `conn` if its last response allows it and the pool has room.
    fn put(&self, key: String, conn: Conn) {
        if !conn.reusable || !conn.buf.is_empty() {
            return;
        }
        let mut idle = self.lock();
        if idle.iter().filter(|i| i.key == key).count() >= MAX_IDLE_PER_HOST {
            return;
        }
        if idle.len() >= MAX_IDLE {
            idle.remove(0);
        }
        idle.push(Idle {
            key,
            conn,
            since: Instant::now(),
        });
    }
}

/// Methods Go's transport sends again after a reused connection failed.
fn replayable(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

/// The errors of a connection the server had closed.
fn closed(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
    )
}

#[cfg(test)]
mod tests {
    use super::super::parse_url;
    use super::super::tests::read_request;
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;

    const T: Duration = Duration::from_secs(30);

    /// A server answering every request of a connection with `reply(n)` (n counts
    /// requests from 0), closing after it when `close(n)`; it counts connections and
    /// stops accepting once the returned flag is set.
    fn server(
        reply: fn(usize) -> &'static str,
        close: fn(usize) -> bool,
    ) -> (String, Arc<AtomicUsize>, Arc<AtomicBool>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (conns, done) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let (c, d) = (conns.clone(), done.clone());
        let requests = Arc::new(AtomicUsize::new(0));
        std::thread::spawn(move || {
            let deadline = Instant::now() + T;
            while !d.load(Ordering::SeqCst) && Instant::now() < deadline {
                let Ok((mut s, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                s.set_nonblocking(false).unwrap();
                c.fetch_add(1, Ordering::SeqCst);
                let requests = requests.clone();
                std::thread::spawn(move || loop {
                    if read_request(&mut s).is_empty() {
                        return;
                    }
                    let n = requests.fetch_add(1, Ordering::SeqCst);
                    s.write_all(reply(n).as_bytes()).unwrap();
                    if close(n) {
                        return;
                    }
                });
            }
        });
        (addr, conns, done)
    }

    const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

    #[test]
    fn one_connection_carries_request_after_request() {
        let (addr, conns, done) = server(|_| OK, |_| false);
        let pool = KeepAlive::new();
        let target = parse_url(&format!("http://{addr}/x"), "/").unwrap();
        for i in 0..5 {
            let method = if i % 2 == 0 { "GET" } else { "POST" };
            let r = pool
                .request(method, &target, &[], b"body", T, None)
                .unwrap();
            assert_eq!((r.status, r.body.as_slice()), (200, &b"ok"[..]));
        }
        assert_eq!(conns.load(Ordering::SeqCst), 1);
        assert_eq!(pool.lock().len(), 1);
        done.store(true, Ordering::SeqCst);
    }

    #[test]
    fn a_closing_answer_or_a_closed_idle_connection_is_not_reused() {
        // Request 0 says `Connection: close`; the server closes after request 1
        // without saying so (an idle timeout); request 2 must not use that one.
        let (addr, conns, done) = server(
            |n| match n {
                0 => "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
                _ => OK,
            },
            |n| n <= 1,
        );
        let pool = KeepAlive::new();
        let target = parse_url(&format!("http://{addr}/x"), "/").unwrap();
        for i in 0..3 {
            let r = pool.request("POST", &target, &[], b"m", T, None).unwrap();
            assert_eq!(r.status, 200);
            if i == 1 {
                // The server's close reaches the pooled connection.
                let deadline = Instant::now() + T;
                while pool.lock().iter().all(|i| i.conn.idle_and_open()) {
                    assert!(
                        Instant::now() < deadline,
                        "the server's close never arrived"
                    );
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
        assert_eq!(conns.load(Ordering::SeqCst), 3);
        done.store(true, Ordering::SeqCst);
    }
}
