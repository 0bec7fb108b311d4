//! A message as the registry holds it, and the per-topic ID factory that names it.
//!
//! The body is one shared allocation: fanning a message out to N channels clones an
//! `Arc`, never the bytes.

use crate::proto::MessageId;
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
    pub body: Arc<[u8]>,
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

    /// The next ID for a message published at `now_nanos`.
    pub fn next(&mut self, now_nanos: i64) -> MessageId {
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
        let id =
            (((self.last_tick - EPOCH_TICKS) as u64) << 22) | (self.node_id << 12) | self.sequence;
        hex_id(id)
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
        let id = f.next(now);
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
            let id = f.next(now);
            assert!(id > last, "{:?} <= {:?}", id, last);
            last = id;
        }
    }

    #[test]
    fn a_clock_stepping_back_does_not_repeat_ids() {
        let mut f = GuidFactory::new(1);
        let a = f.next(2_000_000_000_000_000_000);
        let b = f.next(1_000_000_000_000_000_000);
        assert!(b > a);
    }
}
