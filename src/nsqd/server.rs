//! Starting and stopping nsqd: builds the registry and the V2 handler from the options,
//! binds the TCP listener, runs the reactor on its own thread, and stops it cleanly.

use super::identify::IdentifyLimits;
use super::options::Options;
use super::v2::{SharedRegistry, V2Config, V2Handler};
use crate::proto::Limits;
use crate::reactor::{Reactor, Wakeup};
use crate::registry::{Config, Registry};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// A running nsqd.
pub struct Server {
    tcp_addr: SocketAddr,
    wakeup: Wakeup,
    reactor: Option<JoinHandle<io::Result<()>>>,
    /// The shared state, for the HTTP API and tests.
    pub registry: SharedRegistry,
}

/// Resolves `host:port` to the first address it names.
pub fn resolve(addr: &str) -> io::Result<SocketAddr> {
    addr.to_socket_addrs()?.next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("no address for {addr}"),
        )
    })
}

fn v2_config(opts: &Options) -> V2Config {
    V2Config {
        limits: Limits {
            max_msg_size: opts.max_msg_size,
            max_body_size: opts.max_body_size,
            max_rdy_count: opts.max_rdy_count,
            max_req_timeout_ms: opts.max_req_timeout.as_millis() as u64,
        },
        identify: IdentifyLimits {
            msg_timeout: opts.msg_timeout,
            max_msg_timeout: opts.max_msg_timeout,
            max_heartbeat_interval: opts.max_heartbeat_interval,
            output_buffer_timeout: opts.output_buffer_timeout,
            min_output_buffer_timeout: opts.min_output_buffer_timeout,
            max_output_buffer_timeout: opts.max_output_buffer_timeout,
            max_output_buffer_size: opts.max_output_buffer_size as i64,
            max_rdy_count: opts.max_rdy_count,
            max_deflate_level: i64::from(opts.max_deflate_level),
        },
        max_req_timeout: opts.max_req_timeout,
    }
}

impl Server {
    /// Binds the listener and starts serving.
    pub fn start(opts: &Options) -> io::Result<Server> {
        let registry = Arc::new(Mutex::new(Registry::new(Config {
            node_id: opts.node_id,
            mem_queue_size: opts.mem_queue_size as usize,
            max_msg_timeout: opts.max_msg_timeout,
            max_channel_consumers: opts.max_channel_consumers,
        })));
        let reactor = Reactor::bind(resolve(&opts.tcp_address)?)?;
        let tcp_addr = reactor.local_addr()?;
        let wakeup = reactor.wakeup();
        let mut handler = V2Handler::new(registry.clone(), v2_config(opts));
        let thread = std::thread::Builder::new()
            .name("nsqd-reactor".into())
            .spawn(move || reactor.run(&mut handler))?;
        log::info!("TCP: listening on {tcp_addr}");
        Ok(Server {
            tcp_addr,
            wakeup,
            reactor: Some(thread),
            registry,
        })
    }

    /// The TCP address clients connect to.
    pub fn tcp_addr(&self) -> SocketAddr {
        self.tcp_addr
    }

    /// Stops accepting, closes every client and waits for the reactor to finish.
    pub fn stop(mut self) -> io::Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> io::Result<()> {
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
            log::error!("stopping nsqd: {e}");
        }
    }
}
