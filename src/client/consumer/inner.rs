//! The state every consumer thread shares, and the bookkeeping of links: opening
//! one (never twice, never after stop), forgetting one when its reader ends, and
//! beginning a stop. Decisions about RDY belong to the flow controller and about
//! whom to dial to discovery; this module only keeps the map consistent.

use super::discovery::Discovery;
use super::flow::Flow;
use super::handlers::{GiveUpHook, WorkQueue};
use super::life::Life;
use super::link::{self, Link};
use super::rng::Rng;
use crate::client::{Config, Error};
use std::collections::{HashMap, HashSet};
use std::io;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// Message counters.
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) received: AtomicU64,
    pub(super) finished: AtomicU64,
    pub(super) requeued: AtomicU64,
}

/// Open links by address, addresses being dialed, and whether stop has begun
/// (decided under this one lock, so no link is added after stop).
#[derive(Debug, Default)]
struct Links {
    live: HashMap<String, Arc<Link>>,
    pending: HashSet<String>,
    stopping: bool,
}

/// Everything the consumer's threads share.
pub(super) struct Inner {
    pub(super) topic: String,
    pub(super) channel: String,
    pub(super) config: Config,
    pub(super) queue: WorkQueue,
    /// Handler threads started.
    pub(super) handlers: AtomicUsize,
    pub(super) give_up_hook: Mutex<Option<GiveUpHook>>,
    links: Mutex<Links>,
    pub(super) flow: Flow,
    pub(super) discovery: Discovery,
    pub(super) counters: Counters,
    pub(super) life: Life,
    rng: Mutex<Rng>,
}

/// Keeps [`Life`]'s count of live threads right, however the thread ends.
struct LiveGuard(Arc<Inner>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.life.leave();
    }
}

impl Inner {
    /// Shared state for a consumer of `topic`/`channel`, with nothing connected.
    pub(super) fn new(topic: &str, channel: &str, config: Config) -> Inner {
        Inner {
            topic: topic.to_string(),
            channel: channel.to_string(),
            queue: WorkQueue::default(),
            handlers: AtomicUsize::new(0),
            give_up_hook: Mutex::new(None),
            links: Mutex::new(Links::default()),
            flow: Flow::new(config.max_in_flight),
            discovery: Discovery::new(Instant::now() + config.lookupd_poll_interval),
            counters: Counters::default(),
            life: Life::default(),
            rng: Mutex::new(Rng::seeded()),
            config,
        }
    }

    fn lock_links(&self) -> MutexGuard<'_, Links> {
        self.links.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The open links, in address order.
    pub(super) fn links(&self) -> Vec<Arc<Link>> {
        let mut links: Vec<Arc<Link>> = self.lock_links().live.values().cloned().collect();
        links.sort_by(|a, b| a.addr.cmp(&b.addr));
        links
    }

    pub(super) fn is_stopping(&self) -> bool {
        self.lock_links().stopping
    }

    pub(super) fn is_connected(&self, addr: &str) -> bool {
        self.lock_links().live.contains_key(addr)
    }

    /// The open link to `addr`.
    pub(super) fn link(&self, addr: &str) -> Option<Arc<Link>> {
        self.lock_links().live.get(addr).cloned()
    }

    /// How many links are open.
    pub(super) fn connections(&self) -> usize {
        self.lock_links().live.len()
    }

    /// A random number in `0..n`.
    pub(super) fn random_below(&self, n: u64) -> u64 {
        self.rng.lock().unwrap_or_else(|p| p.into_inner()).below(n)
    }

    /// A random number in `[0, 1)`.
    pub(super) fn random_unit(&self) -> f64 {
        self.rng.lock().unwrap_or_else(|p| p.into_inner()).unit()
    }

    /// Runs `body` on a new named thread counted in [`Life`].
    pub(super) fn spawn(
        self: &Arc<Self>,
        name: &str,
        body: impl FnOnce(&Arc<Inner>) + Send + 'static,
    ) -> io::Result<()> {
        self.life.enter();
        let guard = LiveGuard(self.clone());
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || body(&guard.0))
            .map(drop)
    }

    /// Opens a link to `addr` unless one is open or being opened, starts its reader
    /// and re-spreads RDY.
    pub(super) fn connect(self: &Arc<Self>, addr: &str) -> Result<(), Error> {
        if self.handlers.load(Ordering::Acquire) == 0 {
            return Err(Error::Config(
                "no handlers: add a handler before connecting".into(),
            ));
        }
        {
            let mut links = self.lock_links();
            if links.stopping {
                return Err(Error::Stopped);
            }
            if links.live.contains_key(addr) || !links.pending.insert(addr.to_string()) {
                return Ok(());
            }
        }
        log::info!("({addr}) connecting to nsqd");
        let opened = link::open(self, addr);
        let mut links = self.lock_links();
        links.pending.remove(addr);
        let (link, reader) = opened?;
        if links.stopping {
            drop(links);
            link.shutdown();
            return Err(Error::Stopped);
        }
        links.live.insert(addr.to_string(), link.clone());
        drop(links);
        let reading = link.clone();
        let spawned = self.spawn("nsq-consumer-reader", move |inner| {
            link::read_loop(inner, &reading, reader);
        });
        if let Err(e) = spawned {
            link.shutdown();
            self.lock_links().live.remove(addr);
            return Err(e.into());
        }
        self.flow.rebalance(self);
        Ok(())
    }

    /// A link's reader ended: forget it, then either finish stopping or re-spread
    /// RDY and ask discovery to look again.
    pub(super) fn remove_link(&self, link: &Arc<Link>) {
        let (stopping, empty) = {
            let mut links = self.lock_links();
            if links
                .live
                .get(&link.addr)
                .is_some_and(|l| Arc::ptr_eq(l, link))
            {
                links.live.remove(&link.addr);
            }
            (links.stopping, links.live.is_empty())
        };
        if stopping {
            if empty {
                self.queue.close();
            }
            self.flow.wake();
            return;
        }
        self.flow.rebalance(self);
        self.discovery.request_repoll();
    }

    /// Begins stopping: CLS everywhere; the last link to close ends the handlers.
    pub(super) fn stop(&self) {
        let links: Vec<Arc<Link>> = {
            let mut links = self.lock_links();
            if links.stopping {
                return;
            }
            links.stopping = true;
            links.live.values().cloned().collect()
        };
        log::info!("stopping...");
        self.life.mark_stopped();
        self.discovery.wake();
        self.flow.wake();
        if links.is_empty() {
            self.queue.close();
        }
        for link in links {
            link.start_close();
        }
    }
}
