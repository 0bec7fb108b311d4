//! A topic: its channels, the messages it holds while no channel can take them, its
//! ID factory and its counters.
//!
//! Every message published to a flowing topic (one with a channel, not paused) is put
//! into every channel at once, each holding the same shared body. A topic with no
//! channel, or paused, keeps its messages in order and hands them over, oldest first,
//! the moment it flows again.

use super::backlog::{Backlog, Queued};
use super::channel::Channel;
use super::deferrals;
use super::message::{unix_nanos, Batch, GuidFactory, Message};
use crate::diskqueue::SyncJob;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// One topic.
#[derive(Debug)]
pub struct Topic {
    /// The topic's name.
    pub name: String,
    /// True for `#ephemeral` topics: deleted with their last channel.
    pub ephemeral: bool,
    /// A paused topic holds new messages instead of handing them to channels.
    pub paused: bool,
    /// Channels by name.
    pub channels: BTreeMap<String, Channel>,
    backlog: Backlog,
    guid: GuidFactory,
    /// Reused to assemble each published batch.
    scratch: Vec<u8>,
    /// Messages published.
    pub message_count: u64,
    /// Bytes of message bodies published.
    pub message_bytes: u64,
    /// Set while the topic is in the registry's list of topics to pump.
    pub(super) dirty: bool,
    /// A new topic waiting for the channels lookupd knows to be created: it holds
    /// its messages meanwhile (see `Registry::release_topic`).
    pub(super) awaiting_channels: bool,
}

impl Topic {
    /// An empty topic whose IDs carry `node_id`, held in memory only, without bound.
    pub fn new(name: &str, node_id: u16) -> Topic {
        Topic::with_backlog(name, node_id, Backlog::new(usize::MAX, None))
    }

    /// An empty topic keeping the messages it holds in `backlog`.
    pub fn with_backlog(name: &str, node_id: u16, backlog: Backlog) -> Topic {
        Topic {
            name: name.to_string(),
            ephemeral: crate::proto::is_ephemeral(name),
            paused: false,
            channels: BTreeMap::new(),
            backlog,
            guid: GuidFactory::new(node_id),
            scratch: Vec::new(),
            message_count: 0,
            message_bytes: 0,
            dirty: false,
            awaiting_channels: false,
        }
    }

    /// Messages held by the topic itself (not its channels).
    pub fn depth(&self) -> usize {
        self.backlog.len()
    }

    /// Messages the topic holds on disk.
    pub fn backend_depth(&self) -> u64 {
        self.backlog.backend_depth()
    }

    /// The topic's own queue.
    pub fn backlog(&mut self) -> &mut Backlog {
        &mut self.backlog
    }

    /// True when published messages go straight to the channels.
    pub fn flowing(&self) -> bool {
        !self.paused && !self.awaiting_channels && !self.channels.is_empty()
    }

    /// Publishes `bodies` in order, each deferred by `defer_ms` (0 for none), as one
    /// batch: every channel gets a run of it, not a copy. Fails when a queue's disk
    /// refused messages (every other queue still got them).
    pub fn publish<'a>(
        &mut self,
        bodies: impl Iterator<Item = &'a [u8]> + Clone,
        defer_ms: u64,
        now: Instant,
    ) -> std::io::Result<()> {
        let batch = Batch::build(bodies, unix_nanos(), &mut self.guid, &mut self.scratch);
        let count = batch.count();
        self.message_count += u64::from(count);
        self.message_bytes += batch.body_bytes();
        if defer_ms > 0 {
            let mut result = Ok(());
            for index in 0..count {
                let mut msg = batch.message(index);
                msg.defer_ms = defer_ms;
                if !self.flowing() {
                    result = result.and(self.backlog.offer(msg));
                    continue;
                }
                for channel in self.channels.values_mut() {
                    channel.put(msg.clone(), now); // deferred: held in memory
                }
            }
            return result;
        }
        let (next, end) = (0, count);
        if !self.flowing() {
            return self.backlog.push_run(&batch, next..end);
        }
        let mut result = Ok(());
        for channel in self.channels.values_mut() {
            result = result.and(channel.put_run(&batch, next..end));
        }
        result
    }

    /// Gives an entry the topic held to every channel when flowing, or keeps it.
    fn hand_over(&mut self, entry: Queued, now: Instant) {
        if !self.flowing() {
            self.backlog.push_queued(&entry);
            return;
        }
        for channel in self.channels.values_mut() {
            match &entry {
                Queued::Run { batch, next, end } => channel.keep_run(batch, *next..*end),
                Queued::One(msg) => channel.put(Message::clone(msg), now),
            }
        }
    }

    /// Hands everything the topic holds to its channels, if it is flowing.
    pub fn drain(&mut self, now: Instant) {
        if !self.flowing() {
            return;
        }
        while let Some(entry) = self.backlog.pop_queued() {
            self.hand_over(entry, now);
        }
    }

    /// Drops the messages the topic holds (not its channels').
    pub fn empty(&mut self) {
        self.backlog.empty();
    }
}

/// One topic's share of a clean stop, taken out of the registry so that it can be
/// written on any thread (see [`super::Registry::stop_work`]).
pub struct TopicStop {
    pub(super) name: String,
    pub(super) topic: Topic,
    pub(super) data_path: Option<PathBuf>,
    pub(super) now: Instant,
}

impl TopicStop {
    /// Writes every channel, then the topic's own queue, in order (queue, in flight,
    /// deferred), and saves each durable channel's deferrals beside it. Returns the
    /// fsyncs still owed; a failed write is logged, and fails the stop.
    pub fn write(self) -> std::io::Result<Vec<SyncJob>> {
        let TopicStop {
            name,
            topic,
            data_path,
            now,
        } = self;
        let mut jobs = Vec::new();
        let mut result = Ok(());
        for (channel, queue) in topic.channels {
            let due = match queue.persist(now, &mut jobs) {
                Ok(due) => due,
                Err(e) => {
                    log::error!("CHANNEL({name}:{channel}): persist failed: {e}");
                    result = Err(e);
                    continue;
                }
            };
            if topic.ephemeral || crate::proto::is_ephemeral(&channel) {
                continue;
            }
            if let Some(dir) = &data_path {
                if let Err(e) = deferrals::save(dir, &format!("{name}:{channel}"), &due) {
                    log::error!("CHANNEL({name}:{channel}): saving deferrals: {e}");
                    result = Err(e);
                }
            }
        }
        if let Err(e) = topic.backlog.persist(Vec::new(), &mut jobs) {
            log::error!("TOPIC({name}): persist failed: {e}");
            result = Err(e);
        }
        result.map(|()| jobs)
    }
}

impl Topic {
    /// Deletes the topic's and its channels' disk files.
    pub fn delete(self) {
        for channel in self.channels.into_values() {
            channel.delete();
        }
        self.backlog.delete();
    }
}
