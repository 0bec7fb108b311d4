//! Topics and channels coming and going: creation (the one place each is made, with
//! its queue opened and the lookupd peers told), pausing, emptying and deletion (whose
//! consumers are then kicked), and the list of registrations announced to lookupd.

use super::backlog::Backlog;
use super::channel::Channel;
use super::disk_status::DiskStatus;
use super::topic::Topic;
use super::{latency, tell, Change, Config, Registry};
use crate::diskqueue::DiskQueue;
use std::sync::Arc;
use std::time::Instant;

/// A topic or channel that an HTTP action named does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotFound {
    /// No such topic.
    Topic,
    /// No such channel.
    Channel,
}

impl Registry {
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
    pub(super) fn mark_topic_dirty(&mut self, topic: &str) {
        if let Some(t) = self.topics.get_mut(topic) {
            Self::mark_dirty(&mut self.dirty, t);
        }
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
