//! nsqd's state: topics, their channels and queues, in-flight and deferred messages,
//! the consumers and their RDY windows, and what every connected client told us.
//!
//! One `Registry` lives behind one `Mutex`, shared by the reactor thread (TCP clients)
//! and the HTTP workers. Its methods do bookkeeping only — no I/O, no sleeping — so the
//! lock is held for microseconds. Deliveries leave through [`Registry::pump`], which
//! hands each message to a callback that appends the frame to a connection's buffer.
//!
//! Publishes and acknowledgements mark their topic dirty; `pump` looks only at dirty
//! topics, so its cost follows the work done, not the number of topics.
//!
//! This file declares the [`Registry`], its [`Config`], the lookupd [`Change`]s and the
//! shared lock; the `impl Registry` blocks live by concern in:
//! - `lifecycle.rs`: creating, pausing, emptying and deleting topics and channels;
//! - `clients.rs`: [`ClientInfo`], connecting, SUB, disconnecting, publish counts;
//! - `commands.rs`: a subscriber's RDY, CLS, FIN, REQ and TOUCH;
//! - `delivery.rs`: publishing, pumping messages to consumers, timeouts and deferrals;
//! - `persist.rs`: `nsqd.dat` metadata, loading it, queue syncs, clean stop, disk health;
//! - `precreate.rs`: the hold of a new topic until lookupd's channels exist.
//!
//! The pieces a topic is made of have their own modules: [`topic`], [`channel`],
//! [`backlog`] (memory then disk queue), [`message`], [`deferrals`], [`latency`],
//! [`disk_status`] and [`metadata`] (the `nsqd.dat` format).

pub mod backlog;
pub mod channel;
pub mod deferrals;
pub mod disk_status;
pub mod latency;
pub mod message;
pub mod metadata;
pub mod topic;

mod clients;
mod commands;
mod delivery;
mod lifecycle;
mod persist;
mod precreate;

use disk_status::DiskStatus;
use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};
use topic::Topic;

pub use clients::{ClientInfo, SubError};
pub use lifecycle::NotFound;
pub use topic::TopicStop;

/// A client's process-wide id, never reused while the process lives.
pub type ClientId = u64;

/// The options the registry needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// `--node-id`, carried in message IDs.
    pub node_id: u16,
    /// `--mem-queue-size`: messages per topic and channel kept in memory.
    pub mem_queue_size: usize,
    /// `--data-path`; `None` keeps everything in memory (unit tests).
    pub data_path: Option<std::path::PathBuf>,
    /// Disk queue settings (`--max-bytes-per-file`, `--sync-every`, message size).
    pub disk: crate::diskqueue::Config,
    /// `--max-msg-timeout`: the TOUCH horizon.
    pub max_msg_timeout: Duration,
    /// `--max-channel-consumers` (0 = unlimited).
    pub max_channel_consumers: usize,
    /// `--e2e-processing-latency-percentile`: empty disables latency tracking.
    pub e2e_percentiles: Vec<f64>,
    /// `--e2e-processing-latency-window-time`.
    pub e2e_window: Duration,
}

/// A topic or channel that came or went, for the lookupd peers (REGISTER/UNREGISTER).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `REGISTER topic [channel]`.
    Registered(String, Option<String>),
    /// `UNREGISTER topic [channel]`.
    Unregistered(String, Option<String>),
}

/// Told of every [`Change`], with the registry lock held: it must only queue.
pub type Listener = std::sync::Arc<dyn Fn(&Change) + Send + Sync>;

fn tell(listener: &Option<Listener>, change: Change) {
    if let Some(listener) = listener {
        listener(&change);
    }
}

/// All of nsqd's topics, channels and clients.
pub struct Registry {
    config: Config,
    /// Topics by name.
    pub topics: BTreeMap<String, Topic>,
    /// Connected clients.
    pub clients: HashMap<ClientId, ClientInfo>,
    dirty: Vec<String>,
    next_deadline: Option<Instant>,
    rng: u64,
    /// Clients whose channel or topic was deleted: the reactor disconnects them.
    kicked: Vec<ClientId>,
    listener: Option<Listener>,
    /// Told the name of each topic created at runtime, which then waits for
    /// [`Registry::release_topic`] (lookupd channel pre-creation); `None` without lookupd.
    precreate: Option<Sender<String>>,
    /// Callers waiting for a held topic's release: dropping the senders (on release
    /// or delete) wakes them.
    release_waiters: HashMap<String, Vec<Sender<()>>>,
    /// Topics, channels or pause flags changed since `nsqd.dat` was last written.
    metadata_dirty: bool,
    /// Disk writes by any backlog since `sync_jobs` last looked, and the last failure.
    disk_status: Arc<DiskStatus>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("topics", &self.topics.len())
            .field("clients", &self.clients.len())
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new(config: Config) -> Registry {
        Registry {
            config,
            topics: BTreeMap::new(),
            clients: HashMap::new(),
            dirty: Vec::new(),
            next_deadline: None,
            kicked: Vec::new(),
            listener: None,
            precreate: None,
            release_waiters: HashMap::new(),
            metadata_dirty: false,
            disk_status: Default::default(),
            rng: 0x9e37_79b9_7f4a_7c15 ^ message::unix_nanos() as u64,
        }
    }

    /// The registry's options.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Sets who hears of topics and channels coming and going.
    pub fn set_listener(&mut self, listener: Listener) {
        self.listener = Some(listener);
    }

    fn mark_dirty(dirty: &mut Vec<String>, topic: &mut Topic) {
        if !topic.dirty {
            topic.dirty = true;
            dirty.push(topic.name.clone());
        }
    }

    fn lower_deadline(&mut self, at: Option<Instant>) {
        if let Some(at) = at {
            if self.next_deadline.is_none_or(|d| at < d) {
                self.next_deadline = Some(at);
            }
        }
    }
}

/// The registry as shared between threads.
pub type SharedRegistry = Arc<std::sync::Mutex<Registry>>;

/// Locks the registry; a panic elsewhere must not take the broker down with it.
pub fn lock(registry: &std::sync::Mutex<Registry>) -> std::sync::MutexGuard<'_, Registry> {
    registry
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests;
