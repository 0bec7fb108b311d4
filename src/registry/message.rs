//! A message as the registry holds it, the batch that stores messages published
//! together, and the per-topic ID factory that names them.
//!
//! Bodies are shared, never copied: a PUB or MPUB becomes one [`Batch`] allocation
//! holding every message's ID and body, and fanning it out to N channels clones an
//! `Arc`. Queues hold runs of a batch (see `backlog`), so a queued message costs its
//! body plus 12 bytes.

use crate::proto::MessageId;
use std::ops::Deref;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// One message in a queue, in flight or deferred.
#[derive(Debug, Clone)]
pub struct Message {
    /// The 16-character hex ID.
    pub id: MessageId,
    /// Publish time, Unix nanoseconds; kept across requeues.
    pub timestamp: i64,
    /// Deliveries so far (incremented right before each delivery).
    pub attempts: u16,
    /// DPUB deferral in milliseconds; the countdown starts when a channel receives it.
    pub defer_ms: u64,
    /// The body, shared by every channel that holds this message.
    pub body: Body,
}

/// A message body: its own allocation (read back from disk), or one message of a
/// published [`Batch`]. Either way cloning it clones an `Arc`.
#[derive(Debug, Clone)]
pub enum Body {
    /// A body with an allocation of its own.
    Own(Arc<[u8]>),
    /// Message `index` of a batch.
    InBatch(Batch, u32),
}

impl Deref for Body {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Body::Own(bytes) => bytes,
            Body::InBatch(batch, index) => batch.body(*index),
        }
    }
}

impl From<&[u8]> for Body {
    fn from(bytes: &[u8]) -> Body {
        Body::Own(Arc::from(bytes))
    }
}

impl Body {
    /// True when both bodies are the same bytes in memory (one shared allocation).
    #[cfg(test)]
    pub fn same_allocation(&self, other: &Body) -> bool {
        std::ptr::eq(self.as_ptr(), other.as_ptr()) && self.len() == other.len()
    }
}

/// Bytes before the index: the timestamp (i64) and the count (u32).
const BATCH_HEADER: usize = 12;
/// Bytes per message in the index: its ID (u64) and the end of its body (u32).
const BATCH_ENTRY: usize = 12;

/// Messages published together (one PUB, MPUB or DPUB), in one allocation:
/// `[timestamp i64][count u32]`, then per message `[id u64][body end u32]`, then the
/// bodies back to back. Every message of a batch has the same timestamp.
#[derive(Debug, Clone)]
pub struct Batch(Arc<[u8]>);

impl Batch {
    /// Builds a batch of `bodies` published at `timestamp`, naming them with `guid`.
    /// `scratch` is reused between calls to assemble the bytes.
    pub fn build<'a>(
        bodies: impl Iterator<Item = &'a [u8]> + Clone,
        timestamp: i64,
        guid: &mut GuidFactory,
        scratch: &mut Vec<u8>,
    ) -> Batch {
        let count = bodies.clone().count();
        let index_end = BATCH_HEADER + count * BATCH_ENTRY;
        scratch.clear();
        scratch.resize(index_end, 0);
        scratch[..8].copy_from_slice(&timestamp.to_le_bytes());
        scratch[8..12].copy_from_slice(&(count as u32).to_le_bytes());
        for (i, body) in bodies.enumerate() {
            scratch.extend_from_slice(body);
            let end = (scratch.len() - index_end) as u32;
            let at = BATCH_HEADER + i * BATCH_ENTRY;
            scratch[at..at + 8].copy_from_slice(&guid.next(timestamp).to_le_bytes());
            scratch[at + 8..at + 12].copy_from_slice(&end.to_le_bytes());
        }
        Batch(Arc::from(&scratch[..]))
    }

    fn word(&self, at: usize, len: usize) -> u64 {
        let mut bytes = [0u8; 8];
        bytes[..len].copy_from_slice(&self.0[at..at + len]);
        u64::from_le_bytes(bytes)
    }

    /// How many messages the batch holds.
    pub fn count(&self) -> u32 {
        self.word(8, 4) as u32
    }

    /// The publish time, Unix nanoseconds.
    pub fn timestamp(&self) -> i64 {
        self.word(0, 8) as i64
    }

    fn index_end(&self) -> usize {
        BATCH_HEADER + self.count() as usize * BATCH_ENTRY
    }

    fn body_end(&self, index: u32) -> usize {
        self.word(BATCH_HEADER + index as usize * BATCH_ENTRY + 8, 4) as usize
    }

    /// The ID of message `index` (< `count()`).
    pub fn id(&self, index: u32) -> MessageId {
        hex_id(self.word(BATCH_HEADER + index as usize * BATCH_ENTRY, 8))
    }

    /// The body of message `index` (< `count()`).
    pub fn body(&self, index: u32) -> &[u8] {
        let start = match index {
            0 => 0,
            _ => self.body_end(index - 1),
        };
        let base = self.index_end();
        &self.0[base + start..base + self.body_end(index)]
    }

    /// The body bytes of every message together.
    pub fn body_bytes(&self) -> u64 {
        (self.0.len() - self.index_end()) as u64
    }

    /// Message `index` (< `count()`) as a queue hands it out: not yet attempted.
    pub fn message(&self, index: u32) -> Message {
        Message {
            id: self.id(index),
            timestamp: self.timestamp(),
            attempts: 0,
            defer_ms: 0,
            body: Body::InBatch(self.clone(), index),
        }
    }
}

/// Unix time in nanoseconds (0 if the clock is before 1970).
pub fn unix_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// nsqd's twitter-snowflake epoch, in the same ≈1 ms ticks as the timestamps.
const EPOCH_TICKS: i64 = 1_288_834_974_288;
const SEQUENCE_MASK: u64 = 0xfff;

/// Makes message IDs in nsqd's layout: `((ticks - epoch) << 22) | (node << 12) | seq`,
/// where a tick is `unix_nanos >> 20`, printed as 16 lowercase hex characters.
///
/// nsqd sleeps when 4096 IDs are used in one tick or the clock steps back; this one
/// never blocks (it holds the registry lock): it borrows the next tick instead, so IDs
/// stay unique and increasing and only run slightly ahead of the clock under load.
#[derive(Debug, Clone)]
pub struct GuidFactory {
    node_id: u64,
    last_tick: i64,
    sequence: u64,
}

impl GuidFactory {
    /// A factory for node `node_id` (0..1024).
    pub fn new(node_id: u16) -> GuidFactory {
        GuidFactory {
            node_id: u64::from(node_id) & 0x3ff,
            last_tick: 0,
            sequence: 0,
        }
    }

    /// The next ID for a message published at `now_nanos` (print it with [`hex_id`]).
    pub fn next(&mut self, now_nanos: i64) -> u64 {
        let tick = now_nanos >> 20;
        if tick > self.last_tick {
            self.last_tick = tick;
            self.sequence = 0;
        } else {
            self.sequence = (self.sequence + 1) & SEQUENCE_MASK;
            if self.sequence == 0 {
                self.last_tick += 1;
            }
        }
        (((self.last_tick - EPOCH_TICKS) as u64) << 22) | (self.node_id << 12) | self.sequence
    }
}

/// The 16 lowercase hex characters of `id`.
pub fn hex_id(id: u64) -> MessageId {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 16];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = HEX[((id >> (60 - 4 * i)) & 0xf) as usize];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_hex_of_the_snowflake_layout() {
        let mut f = GuidFactory::new(5);
        let now = 1_700_000_000_000_000_000i64;
        let id = hex_id(f.next(now));
        let text = std::str::from_utf8(&id).unwrap();
        let n = u64::from_str_radix(text, 16).unwrap();
        assert_eq!((n >> 12) & 0x3ff, 5);
        assert_eq!(n & 0xfff, 0);
        assert_eq!((n >> 22) as i64, (now >> 20) - EPOCH_TICKS);
        assert!(text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    }

    #[test]
    fn ids_stay_unique_and_increasing_past_4096_per_tick() {
        let mut f = GuidFactory::new(1);
        let now = 1_700_000_000_000_000_000i64;
        let mut last = [0u8; 16];
        for _ in 0..10_000 {
            let id = hex_id(f.next(now));
            assert!(id > last, "{:?} <= {:?}", id, last);
            last = id;
        }
    }

    #[test]
    fn a_clock_stepping_back_does_not_repeat_ids() {
        let mut f = GuidFactory::new(1);
        let a = hex_id(f.next(2_000_000_000_000_000_000));
        let b = hex_id(f.next(1_000_000_000_000_000_000));
        assert!(b > a);
    }

    #[test]
    fn a_batch_holds_each_message_with_its_id_and_body() {
        let mut guid = GuidFactory::new(3);
        let mut scratch = Vec::new();
        let bodies = [&b"first"[..], b"", b"third body"];
        let now = 1_700_000_000_000_000_000i64;
        let batch = Batch::build(bodies.iter().copied(), now, &mut guid, &mut scratch);
        assert_eq!(batch.count(), 3);
        assert_eq!(batch.timestamp(), now);
        assert_eq!(batch.body_bytes(), 15);
        let mut expected = GuidFactory::new(3);
        for (i, body) in bodies.iter().enumerate() {
            let m = batch.message(i as u32);
            assert_eq!(m.id, hex_id(expected.next(now)));
            assert_eq!((&m.body[..], m.timestamp, m.attempts), (*body, now, 0));
        }
        let again = Batch::build([&b"x"[..]].into_iter(), 7, &mut guid, &mut scratch);
        assert_eq!(
            (&again.message(0).body[..], again.timestamp()),
            (&b"x"[..], 7)
        );
        assert_eq!(batch.body(2), b"third body", "scratch reuse left it alone");
    }
}
