//! The lookupd pre-creation hold: with lookupd, a topic created at runtime holds its
//! messages until the channels lookupd knows for it exist, then flows. Callers that
//! created it can wait for the release.

use super::Registry;
use std::sync::mpsc::{channel as oneshot, Receiver, Sender};
use std::time::Instant;

impl Registry {
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
}
