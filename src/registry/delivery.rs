//! Messages in and out: publishing to a topic, pumping the dirty topics' channels to
//! their consumers (sampling included), and the in-flight timeouts and deferred
//! releases that `expire` handles at the earliest deadline.

use super::message::Message;
use super::{ClientId, Registry};
use std::time::{Duration, Instant};

impl Registry {
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
