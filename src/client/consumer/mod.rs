//! A consumer mirroring go-nsq's `Consumer`: subscribe to one topic/channel on any
//! number of nsqds (given directly or discovered through nsqlookupd), hand each
//! message to a pool of handler threads, answer for the handlers, and keep the flow
//! of messages in check with RDY and backoff.
//!
//! Threads: one reader per nsqd connection (frames in, messages onto a shared work
//! queue), `n` handler threads per [`Consumer::add_concurrent_handlers`], one flow
//! thread (backoff probes, RDY rotation, the stop deadline) and one discovery
//! thread (lookupd polls, re-dials). Every one of them ends after [`Consumer::stop`].
//! Nothing here panics on what a peer sends.
//!
//! ```no_run
//! use nsq::client::{Config, Consumer};
//!
//! let config = Config {
//!     max_in_flight: 200,
//!     ..Config::default()
//! };
//! let consumer = Consumer::new("events", "archive", config)?;
//! consumer.add_concurrent_handlers(
//!     |msg| {
//!         println!("{}", String::from_utf8_lossy(&msg.body));
//!         Ok(()) // FIN; an Err would REQ with backoff
//!     },
//!     4,
//! );
//! consumer.connect_to_nsqlookupd("127.0.0.1:4161")?;
//! // ... later, e.g. on SIGTERM:
//! consumer.stop();
//! consumer.wait();
//! # Ok::<(), nsq::client::Error>(())
//! ```

mod backoff;
mod discovery;
mod flow;
mod handlers;
mod inner;
mod life;
mod link;
mod lookup;
mod rdy;
mod rng;

use super::{Config, Error, Message};
use crate::proto;
use handlers::Handler;
use inner::Inner;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a handler returns on failure; the message is requeued and backoff starts.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// Counters since the consumer was created (go-nsq's `ConsumerStats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConsumerStats {
    /// Messages delivered by nsqd.
    pub messages_received: u64,
    /// Messages answered with FIN.
    pub messages_finished: u64,
    /// Messages answered with REQ.
    pub messages_requeued: u64,
    /// nsqd connections open now.
    pub connections: usize,
}

/// A consumer of one topic/channel. `Send + Sync`; dropping it stops it.
pub struct Consumer {
    inner: Arc<Inner>,
}

impl Consumer {
    /// A consumer of `topic`/`channel`, after checking `config` and both names.
    /// It starts its flow and discovery threads; nothing is dialed yet.
    pub fn new(topic: &str, channel: &str, config: Config) -> Result<Consumer, Error> {
        let config = config.prepared()?;
        if !proto::is_valid_name(topic.as_bytes()) {
            return Err(Error::InvalidName(format!("invalid topic name {topic:?}")));
        }
        if !proto::is_valid_name(channel.as_bytes()) {
            return Err(Error::InvalidName(format!(
                "invalid channel name {channel:?}"
            )));
        }
        let consumer = Consumer {
            inner: Arc::new(Inner::new(topic, channel, config)),
        };
        consumer
            .inner
            .spawn("nsq-consumer-flow", |inner| flow::run(inner))?;
        consumer
            .inner
            .spawn("nsq-consumer-discovery", discovery::run)?;
        Ok(consumer)
    }

    /// Adds one handler thread. Handlers belong before connecting: connecting without
    /// any is an error (adding more later works; go-nsq panics there). `Ok` finishes
    /// the message; `Err` — or a panic — requeues it with backoff; unless the handler
    /// answered itself or called [`Message::disable_auto_response`].
    pub fn add_handler(
        &self,
        handler: impl Fn(&Message) -> Result<(), HandlerError> + Send + Sync + 'static,
    ) {
        self.add_concurrent_handlers(handler, 1);
    }

    /// Adds `n` handler threads sharing `handler`.
    pub fn add_concurrent_handlers(
        &self,
        handler: impl Fn(&Message) -> Result<(), HandlerError> + Send + Sync + 'static,
        n: usize,
    ) {
        let handler: Handler = Arc::new(handler);
        for _ in 0..n {
            let handler = handler.clone();
            match self.inner.spawn("nsq-consumer-handler", move |inner| {
                handlers::run(inner, &handler)
            }) {
                Ok(()) => {
                    self.inner.handlers.fetch_add(1, Ordering::AcqRel);
                }
                Err(e) => log::error!("cannot start a handler thread - {e}"),
            }
        }
    }

    /// Sets go-nsq's `LogFailedMessage`: called with a message that arrived with more
    /// than `max_attempts` attempts, right before it is finished without a handler.
    pub fn set_give_up_hook(&self, hook: impl Fn(&Message) + Send + Sync + 'static) {
        *self
            .inner
            .give_up_hook
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(hook));
    }

    /// Connects to the nsqd at `addr` (`host:port`) and subscribes. Already connected
    /// is fine. While configured, a lost connection is re-dialed every
    /// `lookupd_poll_interval`.
    pub fn connect_to_nsqd(&self, addr: &str) -> Result<(), Error> {
        self.inner.connect(addr)?;
        self.inner.discovery.add_direct(addr);
        Ok(())
    }

    /// [`Consumer::connect_to_nsqd`] for each address; stops at the first error.
    pub fn connect_to_nsqds(&self, addrs: &[&str]) -> Result<(), Error> {
        addrs.iter().try_for_each(|a| self.connect_to_nsqd(a))
    }

    /// Adds an nsqlookupd (`host:port` or an `http://` URL; the path defaults to
    /// `/lookup`). The first one is queried at once, then one lookupd per
    /// `lookupd_poll_interval` (round-robin, after a random initial jitter), and again
    /// whenever a connection closes. Query failures are logged, not returned.
    pub fn connect_to_nsqlookupd(&self, addr: &str) -> Result<(), Error> {
        let inner = &self.inner;
        if inner.handlers.load(Ordering::Acquire) == 0 {
            return Err(Error::Config(
                "no handlers: add a handler before connecting".into(),
            ));
        }
        if inner.is_stopping() {
            return Err(Error::Stopped);
        }
        lookup::check_address(addr).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let config = &inner.config;
        let jitter = config.lookupd_poll_interval.as_secs_f64()
            * config.lookupd_poll_jitter
            * inner.random_unit();
        let first_poll =
            Instant::now() + Duration::from_secs_f64(jitter) + config.lookupd_poll_interval;
        if inner.discovery.add_lookupd(addr, first_poll) == Some(true) {
            discovery::poll_lookupds(inner);
        }
        Ok(())
    }

    /// [`Consumer::connect_to_nsqlookupd`] for each address; stops at the first error.
    pub fn connect_to_nsqlookupds(&self, addrs: &[&str]) -> Result<(), Error> {
        addrs.iter().try_for_each(|a| self.connect_to_nsqlookupd(a))
    }

    /// Stops using a directly configured nsqd: no more re-dials, and its connection
    /// (if open) is closed gracefully with CLS. [`Error::NotConnected`] when `addr`
    /// was not given to [`Consumer::connect_to_nsqd`].
    pub fn disconnect_from_nsqd(&self, addr: &str) -> Result<(), Error> {
        if !self.inner.discovery.remove_direct(addr) {
            return Err(Error::NotConnected);
        }
        if let Some(link) = self.inner.link(addr) {
            link.start_close();
        }
        Ok(())
    }

    /// go-nsq's `ChangeMaxInFlight`: RDY is re-spread at once (unless backing off).
    pub fn change_max_in_flight(&self, n: u64) {
        self.inner.flow.set_max_in_flight(&self.inner, n);
    }

    /// Message counters and the number of open connections.
    pub fn stats(&self) -> ConsumerStats {
        let c = &self.inner.counters;
        ConsumerStats {
            messages_received: c.received.load(Ordering::Relaxed),
            messages_finished: c.finished.load(Ordering::Relaxed),
            messages_requeued: c.requeued.load(Ordering::Relaxed),
            connections: self.inner.connections(),
        }
    }

    /// True when some connection has messages in flight at 85 % or more of its RDY.
    pub fn is_starved(&self) -> bool {
        self.inner.links().iter().any(|l| l.is_starved())
    }

    /// Begins a graceful stop and returns: CLS to every connection; handlers finish
    /// what was delivered (their FIN/REQ still go out); each connection closes once
    /// nothing it delivered is unanswered. After 30 s whatever is left is closed.
    /// Use [`Consumer::wait`] to block until done.
    pub fn stop(&self) {
        self.inner.stop();
    }

    /// Blocks until stopped: [`Consumer::stop`] was called and every consumer thread
    /// has ended, or 30 s have passed since stop (go-nsq's `<-StopChan`). Called from
    /// a handler it can only return at that deadline.
    pub fn wait(&self) {
        self.inner.life.wait(None);
    }

    /// [`Consumer::wait`] for at most `d`; true when stopped.
    pub fn wait_timeout(&self, d: Duration) -> bool {
        self.inner.life.wait(Some(Instant::now() + d))
    }
}

/// Dropping a consumer stops it (without waiting).
impl Drop for Consumer {
    fn drop(&mut self) {
        self.inner.stop();
    }
}
