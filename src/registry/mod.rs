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

pub mod backlog;
pub mod channel;
pub mod deferrals;
pub mod disk_status;
pub mod latency;
pub mod message;
pub mod metadata;
pub mod topic;

use crate::diskqueue::{DiskQueue, SyncJob};
use crate::proto::{ClientState, MessageId};
use backlog::Backlog;
use channel::{Channel, Consumer, InFlightError};
use disk_status::DiskStatus;
use message::Message;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::mpsc::{channel as oneshot, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};
use topic::Topic;
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

/// What a connected client said about itself, for `/stats` and for SUB.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// The peer address.
    pub remote: SocketAddr,
    /// IDENTIFY `client_id` (the remote IP until IDENTIFY).
    pub client_id: String,
    /// IDENTIFY `hostname` (the remote IP until IDENTIFY).
    pub hostname: String,
    /// IDENTIFY `user_agent`.
    pub user_agent: String,
    /// Protocol state.
    pub state: ClientState,
    /// The in-flight timeout it negotiated.
    pub msg_timeout: Duration,
    /// Its sample rate (0 = off).
    pub sample_rate: u8,
    /// The heartbeat interval it negotiated (`None` = disabled).
    pub heartbeat_interval: Option<Duration>,
    /// Its output buffer size in bytes.
    pub output_buffer_size: i64,
    /// Its output buffer timeout (zero = disabled).
    pub output_buffer_timeout: Duration,
    /// Connect time, Unix seconds.
    pub connect_ts: i64,
    /// `(topic, channel)` once subscribed.
    pub subscription: Option<(String, String)>,
    /// Messages published by this client, per topic.
    pub pub_counts: BTreeMap<String, u64>,
    /// After a successful AUTH: the identity and identity URL the auth server gave.
    pub auth_identity: Option<(String, String)>,
    /// The compression IDENTIFY negotiated: `"deflate"`, `"snappy"` or `""`.
    pub compression: &'static str,
}

/// Why a SUB was refused; `Display` is the text after `E_SUB_FAILED `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubError {
    /// `--max-channel-consumers` reached.
    TooManyConsumers {
        /// Topic.
        topic: String,
        /// Channel.
        channel: String,
        /// The limit.
        limit: usize,
    },
}

impl std::fmt::Display for SubError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubError::TooManyConsumers {
                topic,
                channel,
                limit,
            } => write!(
                f,
                "SUB failed consumers for {topic}:{channel} exceeds limit of {limit}"
            ),
        }
    }
}

/// A topic or channel that an HTTP action named does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotFound {
    /// No such topic.
    Topic,
    /// No such channel.
    Channel,
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

    /// Sets who hears of topics and channels coming and going.
    pub fn set_listener(&mut self, listener: Listener) {
        self.listener = Some(listener);
    }

    /// From now on each new topic is announced on `precreate` and holds its messages
    /// until [`Registry::release_topic`], so channels known to lookupd exist first
    /// (`None`: no lookupd, new topics flow at once).
    pub fn set_precreate(&mut self, precreate: Option<Sender<String>>) {
        self.precreate = precreate;
    }

    /// Ends a new topic's pre-creation hold: creates `channels` (ephemeral and invalid
    /// names skipped, as nsqd does), then lets the topic hand over what it holds.
    /// Nothing happens to a topic that is not held (deleted meanwhile, or loaded).
    pub fn release_topic(&mut self, topic: &str, channels: &[String], now: Instant) {
        if !self.is_held(topic) {
            return;
        }
        self.release_waiters.remove(topic);
        for channel in channels {
            if crate::proto::is_valid_name(channel.as_bytes())
                && !crate::proto::is_ephemeral(channel)
            {
                log::info!("TOPIC({topic}): pre-creating channel {channel} known to lookupd");
                self.channel(topic, channel, now);
            }
        }
        if let Some(t) = self.topics.get_mut(topic) {
            t.awaiting_channels = false;
            t.drain(now);
            Self::mark_dirty(&mut self.dirty, t);
        }
    }

    /// True while `topic` is a new topic waiting for lookupd's channels.
    pub fn is_held(&self, topic: &str) -> bool {
        self.topics.get(topic).is_some_and(|t| t.awaiting_channels)
    }

    /// Creates `topic` if missing (the name must be valid); true when this call created
    /// it and it is now held for pre-creation, so the caller should wait for its
    /// release before going on, as Go's nsqd does.
    pub fn create_topic(&mut self, topic: &str) -> bool {
        let created = !self.topics.contains_key(topic);
        self.topic(topic);
        created && self.is_held(topic)
    }

    /// A receiver that disconnects once `topic`'s pre-creation hold ends (released,
    /// or the topic deleted); `None` when it is not held.
    pub fn release_signal(&mut self, topic: &str) -> Option<Receiver<()>> {
        if !self.is_held(topic) {
            return None;
        }
        let (tx, rx) = oneshot();
        self.release_waiters
            .entry(topic.to_string())
            .or_default()
            .push(tx);
        Some(rx)
    }

    /// Every registration as nsqd announces it to a lookupd on connect: each channel
    /// as `(topic, Some(channel))`, and a topic with no channel as `(topic, None)`.
    pub fn registrations(&self) -> Vec<(String, Option<String>)> {
        let mut out = Vec::new();
        for (name, topic) in &self.topics {
            if topic.channels.is_empty() {
                out.push((name.clone(), None));
            }
            for channel in topic.channels.keys() {
                out.push((name.clone(), Some(channel.clone())));
            }
        }
        out
    }

    /// The registry's options.
    pub fn config(&self) -> &Config {
        &self.config
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

    /// The topic `name`, created if missing (announced, and marked for the metadata
    /// file; with `precreate` set, it holds its messages until released). The name
    /// must be valid.
    pub fn topic(&mut self, name: &str) -> &mut Topic {
        let Registry {
            topics,
            config,
            listener,
            precreate,
            metadata_dirty,
            disk_status,
            ..
        } = self;
        topics.entry(name.to_string()).or_insert_with(|| {
            log::info!("TOPIC({name}): created");
            tell(listener, Change::Registered(name.into(), None));
            *metadata_dirty |= !crate::proto::is_ephemeral(name);
            let mut topic =
                Topic::with_backlog(name, config.node_id, backlog(config, name, disk_status));
            topic.awaiting_channels = precreate
                .as_ref()
                .is_some_and(|tx| tx.send(name.to_string()).is_ok());
            topic
        })
    }

    /// Creates channel `channel` of `topic` (both created if missing); a topic that
    /// starts flowing hands its held messages to the channel.
    pub fn channel(&mut self, topic: &str, channel: &str, now: Instant) -> &mut Channel {
        if !self.topic(topic).channels.contains_key(channel) {
            log::info!("TOPIC({topic}): new channel({channel})");
            tell(
                &self.listener,
                Change::Registered(topic.into(), Some(channel.into())),
            );
            let queue = format!("{topic}:{channel}");
            let mut ch =
                Channel::with_backlog(channel, backlog(&self.config, &queue, &self.disk_status));
            if !self.config.e2e_percentiles.is_empty() {
                ch.e2e = Some(latency::LatencyWindow::new(self.config.e2e_window, now));
            }
            let durable = !ch.ephemeral;
            let t = self.topic(topic);
            let durable = durable && !t.ephemeral;
            t.channels.insert(channel.to_string(), ch);
            t.drain(now);
            self.metadata_dirty |= durable;
        }
        self.mark_topic_dirty(topic);
        self.topic(topic)
            .channels
            .entry(channel.to_string())
            .or_insert_with(|| Channel::new(channel))
    }

    /// Puts `topic` (if it exists) on the list of topics to pump.
    fn mark_topic_dirty(&mut self, topic: &str) {
        if let Some(t) = self.topics.get_mut(topic) {
            Self::mark_dirty(&mut self.dirty, t);
        }
    }

    /// Publishes `bodies` to `topic` (created if missing), deferred by `defer_ms`;
    /// fails when a disk refused messages (the publisher is told, nothing is kept
    /// in unbounded memory).
    pub fn publish<'a>(
        &mut self,
        topic: &str,
        bodies: impl IntoIterator<Item = &'a [u8], IntoIter: Clone>,
        defer_ms: u64,
        now: Instant,
    ) -> std::io::Result<()> {
        let t = self.topic(topic);
        let result = t.publish(bodies.into_iter(), defer_ms, now);
        if t.flowing() {
            self.mark_topic_dirty(topic);
        }
        if defer_ms > 0 {
            self.lower_deadline(Some(now + Duration::from_millis(defer_ms)));
        }
        result
    }

    /// The error of the most recent disk write or fsync, while it is the latest word
    /// (`/ping` answers `NOK - <error>`).
    pub fn disk_error(&self) -> Option<String> {
        self.disk_status.error()
    }

    /// Records how an fsync of the queues went (done off the lock by the persister).
    pub fn record_sync(&self, result: &std::io::Result<()>) {
        self.disk_status.record("sync", result);
    }

    /// Records a new connection.
    pub fn add_client(&mut self, id: ClientId, info: ClientInfo) {
        self.clients.insert(id, info);
    }

    /// Subscribes `client` to `topic`/`channel`, creating both if missing.
    pub fn subscribe(
        &mut self,
        client: ClientId,
        topic: &str,
        channel: &str,
        now: Instant,
    ) -> Result<(), SubError> {
        let (msg_timeout, sample_rate) = match self.clients.get(&client) {
            Some(c) => (c.msg_timeout, c.sample_rate),
            None => (self.config.max_msg_timeout, 0),
        };
        let limit = self.config.max_channel_consumers;
        let ch = self.channel(topic, channel, now);
        if limit > 0 && ch.consumers.len() >= limit {
            return Err(SubError::TooManyConsumers {
                topic: topic.to_string(),
                channel: channel.to_string(),
                limit,
            });
        }
        ch.add_consumer(Consumer {
            client,
            rdy: 0,
            in_flight: 0,
            msg_timeout,
            sample_rate,
            message_count: 0,
            finish_count: 0,
            requeue_count: 0,
        });
        if let Some(c) = self.clients.get_mut(&client) {
            c.state = ClientState::Subscribed;
            c.subscription = Some((topic.to_string(), channel.to_string()));
        }
        Ok(())
    }

    /// RDY: sets the client's window.
    pub fn rdy(&mut self, client: ClientId, count: u64) {
        self.with_channel(client, |ch| {
            if let Some(c) = ch.consumer_mut(client) {
                c.rdy = count;
            }
            Ok::<(), InFlightError>(())
        })
        .ok();
    }

    /// CLS: the client gets no more messages.
    pub fn close_wait(&mut self, client: ClientId) {
        self.rdy(client, 0);
        if let Some(c) = self.clients.get_mut(&client) {
            c.state = ClientState::Closing;
        }
    }

    /// FIN.
    pub fn finish(&mut self, client: ClientId, id: &MessageId) -> Result<(), InFlightError> {
        self.with_channel(client, |ch| ch.finish(client, id))
    }

    /// REQ with an already clamped delay.
    pub fn requeue(
        &mut self,
        client: ClientId,
        id: &MessageId,
        delay: Duration,
        now: Instant,
    ) -> Result<(), InFlightError> {
        self.with_channel(client, |ch| ch.requeue(client, id, delay, now))?;
        if !delay.is_zero() {
            self.lower_deadline(Some(now + delay));
        }
        Ok(())
    }

    /// TOUCH.
    pub fn touch(
        &mut self,
        client: ClientId,
        id: &MessageId,
        now: Instant,
    ) -> Result<(), InFlightError> {
        let max = self.config.max_msg_timeout;
        self.with_channel(client, |ch| ch.touch(client, id, now, max))
    }

    /// Runs `f` on the client's channel and marks its topic for pumping.
    fn with_channel<T>(
        &mut self,
        client: ClientId,
        f: impl FnOnce(&mut Channel) -> Result<T, InFlightError>,
    ) -> Result<T, InFlightError> {
        let Some((t, c)) = self
            .clients
            .get(&client)
            .and_then(|info| info.subscription.as_ref())
        else {
            return Err(InFlightError::NotInFlight);
        };
        let Some(topic) = self.topics.get_mut(t) else {
            return Err(InFlightError::NotInFlight);
        };
        let Some(channel) = topic.channels.get_mut(c) else {
            return Err(InFlightError::NotInFlight);
        };
        let result = f(channel);
        Self::mark_dirty(&mut self.dirty, topic);
        result
    }

    /// A connection closed: it leaves its channel (an ephemeral channel with no one
    /// left is deleted, then an ephemeral topic with no channel left). Its in-flight
    /// messages stay until they time out, as in nsqd.
    pub fn remove_client(&mut self, client: ClientId) {
        let Some(info) = self.clients.remove(&client) else {
            return;
        };
        if self.clients.capacity() > 4 * self.clients.len() + 64 {
            self.clients.shrink_to_fit(); // a burst of clients is gone: give it back
        }
        let Some((t, c)) = info.subscription else {
            return;
        };
        let Some(topic) = self.topics.get_mut(&t) else {
            return;
        };
        if let Some(channel) = topic.channels.get_mut(&c) {
            channel.remove_consumer(client);
            if channel.ephemeral && channel.consumers.is_empty() {
                log::info!("CHANNEL({t}:{c}): ephemeral, last client left: deleting");
                if let Some(ch) = topic.channels.remove(&c) {
                    ch.delete();
                }
                tell(
                    &self.listener,
                    Change::Unregistered(t.clone(), Some(c.clone())),
                );
            }
        }
        if topic.ephemeral && topic.channels.is_empty() {
            log::info!("TOPIC({t}): ephemeral, last channel gone: deleting");
            if let Some(topic) = self.topics.remove(&t) {
                topic.delete();
            }
            self.release_waiters.remove(&t);
            tell(&self.listener, Change::Unregistered(t.clone(), None));
        }
    }

    /// Counts `n` messages published by `client` to `topic`, for `/stats` producers.
    pub fn count_publish(&mut self, client: ClientId, topic: &str, n: u64) {
        if let Some(info) = self.clients.get_mut(&client) {
            match info.pub_counts.get_mut(topic) {
                Some(count) => *count += n,
                None => {
                    info.pub_counts.insert(topic.to_string(), n);
                }
            }
        }
    }

    /// Pauses or unpauses a topic; an unpaused topic hands over what it held.
    pub fn set_topic_paused(
        &mut self,
        topic: &str,
        paused: bool,
        now: Instant,
    ) -> Result<(), NotFound> {
        let t = self.topics.get_mut(topic).ok_or(NotFound::Topic)?;
        t.paused = paused;
        self.metadata_dirty = true;
        if !paused {
            t.drain(now);
            Self::mark_dirty(&mut self.dirty, t);
        }
        Ok(())
    }

    /// Pauses or unpauses a channel.
    pub fn set_channel_paused(
        &mut self,
        topic: &str,
        channel: &str,
        paused: bool,
    ) -> Result<(), NotFound> {
        let t = self.topics.get_mut(topic).ok_or(NotFound::Topic)?;
        let c = t.channels.get_mut(channel).ok_or(NotFound::Channel)?;
        c.paused = paused;
        self.metadata_dirty = true;
        Self::mark_dirty(&mut self.dirty, t);
        Ok(())
    }

    /// Drops the messages a topic holds itself (not its channels').
    pub fn empty_topic(&mut self, topic: &str) -> Result<(), NotFound> {
        self.topics.get_mut(topic).ok_or(NotFound::Topic)?.empty();
        Ok(())
    }

    /// Drops a channel's queued, in-flight and deferred messages.
    pub fn empty_channel(&mut self, topic: &str, channel: &str) -> Result<(), NotFound> {
        let t = self.topics.get_mut(topic).ok_or(NotFound::Topic)?;
        t.channels
            .get_mut(channel)
            .ok_or(NotFound::Channel)?
            .empty();
        Ok(())
    }

    /// Deletes a channel and its messages; its consumers are disconnected. An
    /// ephemeral topic left with no channel goes too.
    pub fn delete_channel(&mut self, topic: &str, channel: &str) -> Result<(), NotFound> {
        let t = self.topics.get_mut(topic).ok_or(NotFound::Topic)?;
        let ch = t.channels.remove(channel).ok_or(NotFound::Channel)?;
        log::info!("CHANNEL({topic}:{channel}): deleting");
        tell(
            &self.listener,
            Change::Unregistered(topic.into(), Some(channel.into())),
        );
        self.kicked.extend(ch.consumers.iter().map(|c| c.client));
        self.metadata_dirty |= !ch.ephemeral;
        ch.delete();
        if t.ephemeral && t.channels.is_empty() {
            log::info!("TOPIC({topic}): ephemeral, last channel deleted: deleting");
            if let Some(t) = self.topics.remove(topic) {
                t.delete();
            }
            self.release_waiters.remove(topic);
            tell(&self.listener, Change::Unregistered(topic.into(), None));
        }
        Ok(())
    }

    /// Deletes a topic, its channels and every message; consumers are disconnected.
    pub fn delete_topic(&mut self, topic: &str) -> Result<(), NotFound> {
        let t = self.topics.remove(topic).ok_or(NotFound::Topic)?;
        self.release_waiters.remove(topic);
        log::info!("TOPIC({topic}): deleting");
        tell(&self.listener, Change::Unregistered(topic.into(), None));
        for (name, ch) in &t.channels {
            tell(
                &self.listener,
                Change::Unregistered(topic.into(), Some(name.clone())),
            );
            self.kicked.extend(ch.consumers.iter().map(|c| c.client));
        }
        self.metadata_dirty |= !t.ephemeral;
        t.delete();
        Ok(())
    }

    /// The metadata file's content when topics, channels or pause flags changed since
    /// the last call (ephemeral ones are not saved).
    pub fn take_metadata(&mut self) -> Option<metadata::Metadata> {
        if !std::mem::take(&mut self.metadata_dirty) {
            return None;
        }
        Some(self.metadata())
    }

    /// The metadata file's content now.
    pub fn metadata(&self) -> metadata::Metadata {
        let topics: Vec<metadata::TopicMeta> = self
            .topics
            .values()
            .filter(|t| !t.ephemeral)
            .map(|t| {
                let channels: Vec<metadata::ChannelMeta> = t
                    .channels
                    .values()
                    .filter(|c| !c.ephemeral)
                    .map(|c| metadata::ChannelMeta {
                        name: c.name.clone(),
                        paused: c.paused,
                    })
                    .collect();
                metadata::TopicMeta {
                    name: t.name.clone(),
                    paused: t.paused,
                    channels: (!channels.is_empty()).then_some(channels),
                }
            })
            .collect();
        metadata::Metadata {
            topics: (!topics.is_empty()).then_some(topics),
            version: crate::NSQ_VERSION.to_string(),
        }
    }

    /// Recreates the topics and channels of a metadata file (their disk queues are
    /// opened as they are), with their pause flags. Invalid names are skipped.
    pub fn load(&mut self, meta: &metadata::Metadata, now: Instant) {
        for t in meta.topics.iter().flatten() {
            if !crate::proto::is_valid_name(t.name.as_bytes()) {
                log::warn!("skipping topic with invalid name {:?}", t.name);
                continue;
            }
            // Hold the topic's messages until every channel exists, then hand them over.
            self.topic(&t.name).paused = true;
            for c in t.channels.iter().flatten() {
                if !crate::proto::is_valid_name(c.name.as_bytes()) {
                    log::warn!("skipping channel with invalid name {:?}", c.name);
                    continue;
                }
                let ch = self.channel(&t.name, &c.name, now);
                ch.paused = c.paused;
                if let Some(dir) = &self.config.data_path {
                    let due = deferrals::load(dir, &format!("{}:{}", t.name, c.name));
                    if let Some(ch) = self
                        .topics
                        .get_mut(&t.name)
                        .and_then(|t| t.channels.get_mut(&c.name))
                    {
                        ch.restore_deferrals(due);
                    }
                }
            }
            if let Some(topic) = self.topics.get_mut(&t.name) {
                topic.paused = t.paused;
                topic.drain(now);
            }
        }
        self.metadata_dirty = false;
    }

    /// The disk work owed: queues that reached `--sync-every` (or, with `force`, any
    /// with unsynced writes). Run the jobs after releasing the lock.
    /// A queue whose buffered records could not be written gives its error instead.
    pub fn sync_jobs(&mut self, force: bool) -> Vec<std::io::Result<SyncJob>> {
        let written = self.disk_status.take_writes();
        let mut jobs = Vec::new();
        // Without a disk write since the last look no queue reached --sync-every;
        // the periodic forced sync covers what reads leave owed.
        if written == 0 && !force {
            return jobs;
        }
        for topic in self.topics.values_mut() {
            jobs.extend(topic.backlog().sync_job(force));
            for channel in topic.channels.values_mut() {
                jobs.extend(channel.backlog().sync_job(force));
            }
        }
        jobs
    }

    /// Clean stop: every topic, taken out of the registry as a [`TopicStop`] that
    /// writes it to disk on any thread (so many topics can be written side by side).
    pub fn stop_work(&mut self, now: Instant) -> Vec<TopicStop> {
        let data_path = self.config.data_path.clone();
        std::mem::take(&mut self.topics)
            .into_iter()
            .map(|(name, topic)| TopicStop {
                name,
                topic,
                data_path: data_path.clone(),
                now,
            })
            .collect()
    }

    /// Clients to disconnect because their channel is gone.
    pub fn take_kicked(&mut self) -> Vec<ClientId> {
        std::mem::take(&mut self.kicked)
    }

    /// Delivers what can be delivered, calling `deliver(client, message)` per message.
    pub fn pump(&mut self, now: Instant, mut deliver: impl FnMut(ClientId, &Message)) {
        let mut rng = self.rng;
        let mut sample = |rate: u8| {
            // xorshift64: sampling needs speed, not quality.
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % 100) as u8 <= rate
        };
        let mut earliest = None::<Instant>;
        for name in std::mem::take(&mut self.dirty) {
            let Some(topic) = self.topics.get_mut(&name) else {
                continue;
            };
            topic.dirty = false;
            for channel in topic.channels.values_mut() {
                if channel.has_work() {
                    channel.pump(now, &mut sample, &mut deliver);
                }
                if let Some(at) = channel.next_deadline() {
                    earliest = Some(earliest.map_or(at, |e: Instant| e.min(at)));
                }
            }
        }
        self.rng = rng;
        self.lower_deadline(earliest);
    }

    /// The earliest in-flight deadline or deferred release, if any.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.next_deadline
    }

    /// Requeues timed-out messages and releases due deferred ones.
    pub fn expire(&mut self, now: Instant) {
        if self.next_deadline.is_none_or(|d| d > now) {
            return;
        }
        let mut next = None::<Instant>;
        for topic in self.topics.values_mut() {
            let mut moved = false;
            for channel in topic.channels.values_mut() {
                moved |= channel.expire(now);
                if let Some(at) = channel.next_deadline() {
                    next = Some(next.map_or(at, |n: Instant| n.min(at)));
                }
            }
            if moved {
                Self::mark_dirty(&mut self.dirty, topic);
            }
        }
        self.next_deadline = next;
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

/// The queue of a topic (`queue` = its name) or channel (`topic:channel`): memory only
/// for ephemeral names or without a data path, else memory then a disk queue.
fn backlog(config: &Config, queue: &str, status: &Arc<DiskStatus>) -> Backlog {
    if crate::proto::is_ephemeral(queue) {
        return Backlog::new(config.mem_queue_size, None);
    }
    let Some(dir) = &config.data_path else {
        return Backlog::new(usize::MAX, None);
    };
    match DiskQueue::open(dir, queue, config.disk.clone()) {
        Ok(disk) => {
            Backlog::new(config.mem_queue_size, Some(disk)).reporting(queue, status.clone())
        }
        Err(e) => {
            let why = format!("cannot open disk queue - {e}");
            status.record(queue, &Err(std::io::Error::other(why.clone())));
            Backlog::broken(config.mem_queue_size, why).reporting(queue, status.clone())
        }
    }
}

#[cfg(test)]
mod tests;
