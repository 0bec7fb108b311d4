//! A channel: its queue of first deliveries, its in-flight and deferred messages, and
//! the consumers that compete for them.
//!
//! The queue is FIFO: first deliveries leave in the order the topic handed them over.
//! Requeued and timed-out messages rejoin at the tail, deferred ones when their time
//! comes. It must never lose a message silently, except where NSQ says so (an
//! ephemeral channel's overflow, sampling, an explicit empty or delete).

use super::backlog::Backlog;
use super::latency::LatencyWindow;
use super::message::{unix_nanos, Batch, Message};
use super::ClientId;
use crate::proto::MessageId;
use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::time::{Duration, Instant};

/// Hashes message IDs for the in-flight map. IDs are made by nsqd, never chosen by a
/// peer (a FIN only looks one up), so SipHash's flooding resistance buys nothing here;
/// a multiply-rotate over the ID's two halves is several times cheaper.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdHash;

impl std::hash::BuildHasher for IdHash {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher(0)
    }
}

/// The hasher of [`IdHash`].
#[derive(Debug, Clone, Copy)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        // The multiply leaves the entropy in the high bits; the table indexes by the low.
        self.0 ^ (self.0 >> 32)
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_be_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
}

/// A message delivered and not yet finished.
#[derive(Debug)]
struct InFlight {
    msg: Message,
    client: ClientId,
    delivered: Instant,
    deadline: Instant,
}

/// A message waiting for its time, ordered soonest first.
#[derive(Debug)]
struct Deferred {
    at: Instant,
    seq: u64,
    msg: Message,
}

impl PartialEq for Deferred {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Deferred {}
impl PartialOrd for Deferred {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Deferred {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// A subscribed client as its channel sees it: its window and its counters.
#[derive(Debug, Clone)]
pub struct Consumer {
    /// The client.
    pub client: ClientId,
    /// The last RDY it sent: deliver while `in_flight < rdy`.
    pub rdy: u64,
    /// Messages delivered to it and not yet finished, requeued or timed out.
    pub in_flight: u64,
    /// Its in-flight timeout.
    pub msg_timeout: Duration,
    /// 0 = off, else deliver with probability (rate+1)/100.
    pub sample_rate: u8,
    /// Messages delivered to it.
    pub message_count: u64,
    /// FINs it sent.
    pub finish_count: u64,
    /// REQs it sent.
    pub requeue_count: u64,
}

impl Consumer {
    fn ready(&self) -> bool {
        self.in_flight < self.rdy
    }
}

/// Why FIN, REQ or TOUCH failed; the text is nsqd's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InFlightError {
    /// No such message in flight.
    NotInFlight,
    /// In flight, to another client.
    NotOwner,
}

impl InFlightError {
    /// The reason as nsqd words it.
    pub fn text(self) -> &'static str {
        match self {
            InFlightError::NotInFlight => "ID not in flight",
            InFlightError::NotOwner => "client does not own message",
        }
    }
}

/// One channel of a topic.
#[derive(Debug)]
pub struct Channel {
    /// The channel's name.
    pub name: String,
    /// True for `#ephemeral` channels: no disk, deleted with the last consumer.
    pub ephemeral: bool,
    /// A paused channel delivers nothing.
    pub paused: bool,
    backlog: Backlog,
    /// Deferred messages read back after a restart: id → due time (Unix ms).
    restored_deferrals: HashMap<MessageId, i64>,
    in_flight: HashMap<MessageId, InFlight, IdHash>,
    deadlines: BTreeSet<(Instant, MessageId)>,
    deferred: BinaryHeap<Deferred>,
    deferred_seq: u64,
    /// Subscribed clients, in the order they joined.
    pub consumers: Vec<Consumer>,
    next_consumer: usize,
    /// Messages the topic handed to this channel.
    pub message_count: u64,
    /// REQs received.
    pub requeue_count: u64,
    /// In-flight timeouts.
    pub timeout_count: u64,
    /// Publish-to-FIN latencies, when percentiles are configured.
    pub e2e: Option<LatencyWindow>,
}

impl Channel {
    /// An empty channel held in memory only, without bound.
    pub fn new(name: &str) -> Channel {
        Channel::with_backlog(name, Backlog::new(usize::MAX, None))
    }

    /// An empty channel keeping its queue in `backlog`.
    pub fn with_backlog(name: &str, backlog: Backlog) -> Channel {
        Channel {
            name: name.to_string(),
            ephemeral: crate::proto::is_ephemeral(name),
            paused: false,
            backlog,
            restored_deferrals: HashMap::new(),
            in_flight: HashMap::default(),
            deadlines: BTreeSet::new(),
            deferred: BinaryHeap::new(),
            deferred_seq: 0,
            consumers: Vec::new(),
            next_consumer: 0,
            message_count: 0,
            requeue_count: 0,
            timeout_count: 0,
            e2e: None,
        }
    }

    /// Messages waiting for a first delivery (or redelivery), memory and disk.
    pub fn depth(&self) -> usize {
        self.backlog.len()
    }

    /// Messages of the queue on disk.
    pub fn backend_depth(&self) -> u64 {
        self.backlog.backend_depth()
    }

    /// The channel's queue.
    pub fn backlog(&mut self) -> &mut Backlog {
        &mut self.backlog
    }

    /// Remembers deferrals of messages that are on disk after a restart: when one is
    /// read back before its due time (Unix ms) it waits until then.
    pub fn restore_deferrals(&mut self, due: HashMap<MessageId, i64>) {
        self.restored_deferrals = due;
    }

    /// Messages delivered and not yet finished.
    pub fn in_flight_count(&self) -> usize {
        self.in_flight.len()
    }

    /// Messages waiting for their deferral to pass.
    pub fn deferred_count(&self) -> usize {
        self.deferred.len()
    }

    /// Takes a message from its topic: deferred, or queued behind the others.
    pub fn put(&mut self, msg: Message, now: Instant) {
        self.message_count += 1;
        if msg.defer_ms > 0 {
            let at = now + Duration::from_millis(msg.defer_ms);
            self.defer(msg, at);
        } else {
            self.backlog.push(msg);
        }
    }

    /// Takes newly published messages `range` of a batch from its topic, queued
    /// behind the others; fails when the disk refuses them (see [`Backlog::push_run`]).
    pub fn put_run(&mut self, batch: &Batch, range: std::ops::Range<u32>) -> std::io::Result<()> {
        self.message_count += range.len() as u64;
        self.backlog.push_run(batch, range)
    }

    /// Takes messages `range` of a batch its topic held (accepted already): kept in
    /// memory should the disk refuse them.
    pub fn keep_run(&mut self, batch: &Batch, range: std::ops::Range<u32>) {
        self.message_count += range.len() as u64;
        let (next, end) = (range.start, range.end);
        self.backlog.push_queued(&super::backlog::Queued::Run {
            batch: batch.clone(),
            next,
            end,
        });
    }

    fn defer(&mut self, msg: Message, at: Instant) {
        self.deferred_seq += 1;
        self.deferred.push(Deferred {
            at,
            seq: self.deferred_seq,
            msg,
        });
    }

    /// True when a message is queued and some consumer could take it.
    pub fn has_work(&self) -> bool {
        !self.paused && !self.backlog.is_empty() && self.consumers.iter().any(Consumer::ready)
    }

    /// Delivers queued messages to ready consumers, one each in turn, calling
    /// `deliver(client, message)` for each. `sample` decides whether a consumer with a
    /// sample rate gets a message (false drops it, as nsqd does).
    pub fn pump(
        &mut self,
        now: Instant,
        sample: &mut impl FnMut(u8) -> bool,
        deliver: &mut impl FnMut(ClientId, &Message),
    ) {
        if self.paused || self.consumers.is_empty() {
            return;
        }
        let n = self.consumers.len();
        let mut idle = 0;
        while idle < n && !self.backlog.is_empty() {
            let turn = self.next_consumer % n;
            self.next_consumer = self.next_consumer.wrapping_add(1);
            let consumer = &mut self.consumers[turn];
            if !consumer.ready() {
                idle += 1;
                continue;
            }
            idle = 0;
            let Some(mut msg) = self.backlog.pop() else {
                break;
            };
            if let Some(due) = self.restored_deferrals.remove(&msg.id) {
                let wait = due - unix_nanos() / 1_000_000;
                if wait > 0 {
                    self.defer(msg, now + Duration::from_millis(wait as u64));
                    continue;
                }
            }
            if consumer.sample_rate > 0 && !sample(consumer.sample_rate) {
                continue;
            }
            msg.attempts = msg.attempts.wrapping_add(1);
            consumer.in_flight += 1;
            consumer.message_count += 1;
            let client = consumer.client;
            let deadline = now + consumer.msg_timeout;
            deliver(client, &msg);
            self.deadlines.insert((deadline, msg.id));
            let old = self.in_flight.insert(
                msg.id,
                InFlight {
                    msg,
                    client,
                    delivered: now,
                    deadline,
                },
            );
            if let Some(old) = old {
                // Two live messages with one ID (only from a foreign data dir): keep
                // the newer in flight and give the older back to the queue.
                self.deadlines.remove(&(old.deadline, old.msg.id));
                self.backlog.push(old.msg);
            }
        }
    }

    fn take_in_flight(
        &mut self,
        client: ClientId,
        id: &MessageId,
    ) -> Result<InFlight, InFlightError> {
        match self.in_flight.get(id) {
            None => return Err(InFlightError::NotInFlight),
            Some(f) if f.client != client => return Err(InFlightError::NotOwner),
            Some(_) => {}
        }
        let f = self
            .in_flight
            .remove(id)
            .ok_or(InFlightError::NotInFlight)?;
        self.deadlines.remove(&(f.deadline, f.msg.id));
        Ok(f)
    }

    fn consumer(&mut self, client: ClientId) -> Option<&mut Consumer> {
        self.consumers.iter_mut().find(|c| c.client == client)
    }

    /// FIN: the message is done.
    pub fn finish(&mut self, client: ClientId, id: &MessageId) -> Result<(), InFlightError> {
        let f = self.take_in_flight(client, id)?;
        if let Some(window) = &mut self.e2e {
            let latency = unix_nanos().saturating_sub(f.msg.timestamp).max(0) as u64;
            window.record(latency, Instant::now());
        }
        if let Some(c) = self.consumer(client) {
            c.in_flight = c.in_flight.saturating_sub(1);
            c.finish_count += 1;
        }
        Ok(())
    }

    /// REQ: back to the queue's tail now, or after `delay`.
    pub fn requeue(
        &mut self,
        client: ClientId,
        id: &MessageId,
        delay: Duration,
        now: Instant,
    ) -> Result<(), InFlightError> {
        let f = self.take_in_flight(client, id)?;
        self.requeue_count += 1;
        if let Some(c) = self.consumer(client) {
            c.in_flight = c.in_flight.saturating_sub(1);
            c.requeue_count += 1;
        }
        if delay.is_zero() {
            self.backlog.push(f.msg);
        } else {
            self.defer(f.msg, now + delay);
        }
        Ok(())
    }

    /// TOUCH: the deadline moves to now + the client's timeout, never past
    /// delivery + `max_msg_timeout`.
    pub fn touch(
        &mut self,
        client: ClientId,
        id: &MessageId,
        now: Instant,
        max_msg_timeout: Duration,
    ) -> Result<(), InFlightError> {
        let timeout = self
            .consumer(client)
            .map(|c| c.msg_timeout)
            .unwrap_or(max_msg_timeout);
        let mut f = self.take_in_flight(client, id)?;
        f.deadline = (now + timeout).min(f.delivered + max_msg_timeout);
        self.deadlines.insert((f.deadline, f.msg.id));
        self.in_flight.insert(f.msg.id, f);
        Ok(())
    }

    /// Moves timed-out in-flight messages and due deferred ones back to the queue.
    /// Returns true if anything moved.
    pub fn expire(&mut self, now: Instant) -> bool {
        let mut moved = false;
        while let Some(&(deadline, id)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_first();
            let Some(f) = self.in_flight.remove(&id) else {
                continue;
            };
            self.timeout_count += 1;
            if let Some(c) = self.consumer(f.client) {
                c.in_flight = c.in_flight.saturating_sub(1);
            }
            self.backlog.push(f.msg);
            moved = true;
        }
        while self.deferred.peek().is_some_and(|d| d.at <= now) {
            if let Some(d) = self.deferred.pop() {
                self.backlog.push(d.msg);
                moved = true;
            }
        }
        moved
    }

    /// The earliest in-flight deadline or deferred release.
    pub fn next_deadline(&self) -> Option<Instant> {
        let inflight = self.deadlines.first().map(|&(at, _)| at);
        let deferred = self.deferred.peek().map(|d| d.at);
        match (inflight, deferred) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Drops every queued, in-flight and deferred message; consumers' in-flight counts
    /// go to zero, so late FINs fail.
    pub fn empty(&mut self) {
        self.backlog.empty();
        self.restored_deferrals.clear();
        self.in_flight.clear();
        self.deadlines.clear();
        self.deferred.clear();
        for c in &mut self.consumers {
            c.in_flight = 0;
        }
    }

    /// Adds a consumer.
    pub fn add_consumer(&mut self, consumer: Consumer) {
        self.consumers.push(consumer);
    }

    /// Removes a consumer; its in-flight messages stay until they time out.
    pub fn remove_consumer(&mut self, client: ClientId) {
        self.consumers.retain(|c| c.client != client);
    }

    /// The consumer entry of `client`, to change its RDY or settings.
    pub fn consumer_mut(&mut self, client: ClientId) -> Option<&mut Consumer> {
        self.consumer(client)
    }
}

impl Channel {
    /// Clean stop: the queue goes to disk in order, then the in-flight messages, then
    /// the deferred ones (whose due times are returned, with those not yet read back).
    /// Its fsync is left to a job pushed on `jobs` (see [`Backlog::persist`]).
    pub fn persist(
        mut self,
        now: Instant,
        jobs: &mut Vec<crate::diskqueue::SyncJob>,
    ) -> std::io::Result<HashMap<MessageId, i64>> {
        let mut deferrals = std::mem::take(&mut self.restored_deferrals);
        let mut in_flight: Vec<InFlight> = self.in_flight.drain().map(|(_, f)| f).collect();
        in_flight.sort_by_key(|f| f.delivered);
        let mut messages: Vec<Message> = in_flight.into_iter().map(|f| f.msg).collect();
        let now_ms = unix_nanos() / 1_000_000;
        for d in self.deferred.into_sorted_vec().into_iter().rev() {
            let wait = d.at.saturating_duration_since(now).as_millis() as i64;
            deferrals.insert(d.msg.id, now_ms + wait);
            messages.push(d.msg);
        }
        self.backlog.persist(messages, jobs)?;
        Ok(deferrals)
    }

    /// Deletes the channel's disk files.
    pub fn delete(self) {
        self.backlog.delete();
    }
}

#[cfg(test)]
mod tests;
