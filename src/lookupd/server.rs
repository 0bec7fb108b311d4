//! Starting and stopping nsqlookupd: one registration [`Db`] shared by the V1 TCP
//! handler (on a reactor thread) and the HTTP API (on the HTTP server's workers).
//! A failed start is a [`StartError`] naming its own cause
//! (`listen (ADDR) failed - REASON` for the one listener that failed).

use super::db::Db;
use super::http_api::{self, HttpContext};
use super::options::Options;
use super::v1::{Identity, V1Handler};
use crate::listen::{self, ListenError};
use crate::reactor::{Reactor, Wakeup};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// A running nsqlookupd.
pub struct Server {
    tcp_addr: SocketAddr,
    http_addr: SocketAddr,
    http: Option<crate::http::Server>,
    wakeup: Wakeup,
    reactor: Option<JoinHandle<io::Result<()>>>,
    /// The registration database, for tests and embedders.
    pub db: Arc<Mutex<Db>>,
}

/// Why nsqlookupd did not start: one line in Go's words.
#[derive(Debug)]
pub enum StartError {
    /// A listener: `listen (ADDR) failed - REASON`.
    Listen(ListenError),
    /// Anything else: what failed, and why.
    Other(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Listen(e) => e.fmt(f),
            StartError::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for StartError {}

impl From<ListenError> for StartError {
    fn from(e: ListenError) -> StartError {
        StartError::Listen(e)
    }
}

/// `what - reason` for an I/O error after both listeners are open.
fn other(what: &str) -> impl FnOnce(io::Error) -> StartError + '_ {
    move |e| StartError::Other(format!("{what} - {}", listen::reason(&e)))
}

impl Server {
    /// Binds both listeners and starts serving.
    pub fn start(opts: &Options) -> Result<Server, StartError> {
        // Go binds TCP first, then HTTP; the IDENTIFY reply carries the real HTTP port.
        let tcp_listener = listen::bind_flag(&opts.tcp_address)?;
        let listener = listen::bind_flag(&opts.http_address)?;
        let http_addr = listener
            .local_addr()
            .map_err(other("failed to set up the HTTP listener"))?;
        let http_port = http_addr.port();
        let reactor = Reactor::from_listener(tcp_listener)
            .map_err(other("failed to set up the TCP listener"))?;
        let tcp_addr = reactor
            .local_addr()
            .map_err(other("failed to set up the TCP listener"))?;
        let wakeup = reactor.wakeup();
        let db = Arc::new(Mutex::new(Db::new()));
        let identity = Identity {
            broadcast_address: opts.broadcast_address.clone(),
            hostname: crate::common::net::hostname(),
            tcp_port: tcp_addr.port(),
            http_port,
            version: crate::NSQ_VERSION.to_string(),
        };
        let mut handler = V1Handler::new(db.clone(), identity);
        let thread = std::thread::Builder::new()
            .name("nsqlookupd-reactor".into())
            .spawn(move || reactor.run(&mut handler))
            .map_err(other("failed to start the reactor thread"))?;
        log::info!("TCP: listening on {tcp_addr}");
        let mut server = Server {
            tcp_addr,
            http_addr,
            http: None,
            wakeup,
            reactor: Some(thread),
            db: db.clone(),
        };
        let ctx = Arc::new(HttpContext {
            db,
            inactive_producer_timeout: opts.inactive_producer_timeout,
            tombstone_lifetime: opts.tombstone_lifetime,
        });
        let router = Arc::new(http_api::router(ctx));
        let http =
            crate::http::Server::from_listener(listener, router, crate::http::Config::default())
                .map_err(other("failed to start the HTTP server"))?;
        log::info!("HTTP: listening on {http_addr}");
        server.http = Some(http);
        Ok(server)
    }

    /// The TCP address nsqd registers on.
    pub fn tcp_addr(&self) -> SocketAddr {
        self.tcp_addr
    }

    /// The HTTP address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// Stops the HTTP server, closes every registration connection and waits for
    /// the reactor to finish.
    pub fn stop(mut self) -> io::Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> io::Result<()> {
        if let Some(http) = self.http.take() {
            http.stop();
        }
        self.wakeup.stop();
        match self.reactor.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("reactor thread panicked")),
            None => Ok(()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            log::error!("stopping nsqlookupd: {e}");
        }
    }
}
