//! A backlog: the messages a topic or channel holds, oldest first — up to
//! `--mem-queue-size` in memory, the rest in a go-diskqueue on disk.
//!
//! Order is kept across the boundary: memory holds the head and disk the tail, and once
//! anything is on disk every new message queues behind it there. (Go's nsqd reads both
//! at random and loses order; we don't.) Ephemeral backlogs have no disk: what does not
//! fit in memory is dropped, as nsqd does.
//!
//! Memory holds *runs* of published batches (one entry per PUB or MPUB, a queued
//! message costing its body plus 12 bytes) and single messages (requeued, read back
//! from disk, or handed on by a topic).
//!
//! At a clean stop [`Backlog::persist`] puts everything on disk in order; when memory
//! and disk both hold messages it re-appends the disk part behind the memory part, so
//! the files stay in go-diskqueue's format and a Go nsqd reads them in the same order.

use super::disk_status::DiskStatus;
use super::message::{Batch, Body, Message};
use crate::diskqueue::{DiskQueue, SyncJob};
use crate::proto::{self, MESSAGE_HEADER_LEN};
use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

/// Encodes a message as a disk record: `[ts][attempts][id][body]`.
pub fn encode(msg: &Message) -> Vec<u8> {
    let mut out = Vec::with_capacity(MESSAGE_HEADER_LEN + msg.body.len());
    out.extend_from_slice(&msg.timestamp.to_be_bytes());
    out.extend_from_slice(&msg.attempts.to_be_bytes());
    out.extend_from_slice(&msg.id);
    out.extend_from_slice(&msg.body);
    out
}

/// The disk record header of message `index` of `batch` (not yet attempted); the body
/// follows it.
fn header_in_batch(batch: &Batch, index: u32) -> [u8; MESSAGE_HEADER_LEN] {
    let mut header = [0u8; MESSAGE_HEADER_LEN];
    header[..8].copy_from_slice(&batch.timestamp().to_be_bytes());
    header[10..].copy_from_slice(&batch.id(index));
    header
}

/// Decodes a disk record; `None` (logged by the caller) when it is too short.
pub fn decode(record: &[u8]) -> Option<Message> {
    let m = proto::decode_message(record)?;
    Some(Message {
        id: m.id,
        timestamp: m.timestamp,
        attempts: m.attempts,
        defer_ms: 0,
        body: Body::from(m.body),
    })
}

/// An entry of a backlog's memory part.
#[derive(Debug)]
pub enum Queued {
    /// Messages `next..end` of a batch, none attempted yet.
    Run {
        /// The batch holding them.
        batch: Batch,
        /// The first not yet taken.
        next: u32,
        /// One past the last.
        end: u32,
    },
    /// A single message.
    One(Box<Message>),
}

impl Queued {
    fn len(&self) -> usize {
        match self {
            Queued::Run { next, end, .. } => (end - next) as usize,
            Queued::One(_) => 1,
        }
    }
}

/// Messages waiting, in order: memory head, disk tail.
#[derive(Debug)]
pub struct Backlog {
    mem: VecDeque<Queued>,
    /// Messages in `mem`.
    mem_len: usize,
    mem_limit: usize,
    disk: Option<DiskQueue>,
    /// Why the disk queue could not be opened: messages past memory are refused.
    broken: Option<String>,
    /// Shared with the registry: disk writes and the last failure.
    status: Option<Arc<DiskStatus>>,
    /// The queue's name, for the log.
    name: String,
}

impl Backlog {
    /// A backlog with `mem_limit` messages in memory and `disk` for the rest
    /// (`None`: ephemeral, overflow dropped).
    pub fn new(mem_limit: usize, disk: Option<DiskQueue>) -> Backlog {
        Backlog {
            mem: VecDeque::new(),
            mem_len: 0,
            mem_limit,
            disk,
            broken: None,
            status: None,
            name: String::new(),
        }
    }

    /// A backlog whose disk queue could not be opened (`why`): it keeps `mem_limit`
    /// messages in memory and refuses new ones past that.
    pub fn broken(mem_limit: usize, why: String) -> Backlog {
        let mut b = Backlog::new(mem_limit, None);
        b.broken = Some(why);
        b
    }

    /// Reports this backlog's (`name`) disk writes and failures to `status`.
    pub fn reporting(mut self, name: &str, status: Arc<DiskStatus>) -> Backlog {
        self.status = Some(status);
        self.name = name.to_string();
        self
    }

    /// Messages held, memory and disk.
    pub fn len(&self) -> usize {
        self.mem_len + self.backend_depth() as usize
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Messages on disk.
    pub fn backend_depth(&self) -> u64 {
        self.disk.as_ref().map_or(0, DiskQueue::depth)
    }

    /// How many more messages memory takes now: none once anything is on disk (new
    /// messages queue behind it there).
    fn mem_room(&self) -> usize {
        if self.backend_depth() > 0 {
            return 0;
        }
        self.mem_limit.saturating_sub(self.mem_len)
    }

    /// Writes a record made of `parts` to disk (there must be one), reporting how
    /// it went.
    fn put_disk(&mut self, parts: &[&[u8]]) -> io::Result<()> {
        let Some(disk) = &mut self.disk else {
            return Err(io::Error::other("no disk queue"));
        };
        let result = disk.put_parts(parts);
        if let Some(status) = &self.status {
            status.wrote(&self.name, &result);
        }
        result
    }

    fn push_mem(&mut self, entry: Queued) {
        self.mem_len += entry.len();
        self.mem.push_back(entry);
    }

    /// Appends a message that was already accepted (requeued, timed out, handed on
    /// by a topic): should its disk write fail it stays in memory, since it was
    /// acknowledged once and must not be lost.
    pub fn push(&mut self, msg: Message) {
        if self.mem_room() == 0 {
            if self.disk.is_some() {
                if self.put_disk(&[&encode(&msg)]).is_ok() {
                    return;
                }
            } else if self.broken.is_none() {
                return; // ephemeral and full: dropped, as nsqd does
            }
        }
        self.push_mem(Queued::One(Box::new(msg)));
    }

    /// Appends a newly published message; fails (keeping nothing) when it belongs on
    /// disk and cannot be written there.
    pub fn offer(&mut self, msg: Message) -> io::Result<()> {
        if self.mem_room() > 0 {
            self.push_mem(Queued::One(Box::new(msg)));
            return Ok(());
        }
        match (&self.disk, &self.broken) {
            (Some(_), _) => self.put_disk(&[&encode(&msg)]),
            (None, Some(why)) => Err(io::Error::other(why.clone())),
            (None, None) => Ok(()), // ephemeral and full: dropped, as nsqd does
        }
    }

    /// Appends newly published messages `range` of `batch`: what fits in memory as
    /// one run, the rest on disk (or dropped, when ephemeral). When a disk write
    /// fails, that message and those after it are not kept, and the error returned.
    pub fn push_run(&mut self, batch: &Batch, range: std::ops::Range<u32>) -> io::Result<()> {
        let split = self.push_run_mem(batch, range.clone());
        if let (None, Some(why)) = (&self.disk, &self.broken) {
            return match split < range.end {
                true => Err(io::Error::other(why.clone())),
                false => Ok(()),
            };
        }
        if self.disk.is_none() {
            return Ok(());
        }
        for index in split..range.end {
            let header = header_in_batch(batch, index);
            self.put_disk(&[&header, batch.body(index)])?;
        }
        Ok(())
    }

    /// Puts what fits of `range` in memory as one run; returns where the rest starts.
    fn push_run_mem(&mut self, batch: &Batch, range: std::ops::Range<u32>) -> u32 {
        let in_mem = self.mem_room().min(range.len()) as u32;
        let split = range.start + in_mem;
        if in_mem > 0 {
            self.push_mem(Queued::Run {
                batch: batch.clone(),
                next: range.start,
                end: split,
            });
        }
        split
    }

    /// Appends an entry taken from another backlog with [`Backlog::pop_queued`]: its
    /// messages were accepted already, so they are kept (see [`Backlog::push`]).
    pub fn push_queued(&mut self, entry: &Queued) {
        match entry {
            Queued::Run { batch, next, end } => {
                let split = self.push_run_mem(batch, *next..*end);
                for index in split..*end {
                    self.push(batch.message(index));
                }
            }
            Queued::One(msg) => self.push(Message::clone(msg)),
        }
    }

    /// Takes the oldest message.
    pub fn pop(&mut self) -> Option<Message> {
        match self.mem.front_mut() {
            Some(Queued::Run { batch, next, end }) => {
                let msg = batch.message(*next);
                *next += 1;
                let used_up = next == end;
                self.mem_len -= 1;
                if used_up {
                    self.mem.pop_front();
                }
                Some(msg)
            }
            Some(Queued::One(_)) => match self.pop_queued() {
                Some(Queued::One(msg)) => Some(*msg),
                _ => None,
            },
            None => self.pop_disk(),
        }
    }

    /// Takes the oldest entry whole: a run or a single message.
    pub fn pop_queued(&mut self) -> Option<Queued> {
        if let Some(entry) = self.mem.pop_front() {
            self.mem_len -= entry.len();
            return Some(entry);
        }
        self.pop_disk().map(|msg| Queued::One(Box::new(msg)))
    }

    fn pop_disk(&mut self) -> Option<Message> {
        let disk = self.disk.as_mut()?;
        while let Some(record) = disk.get() {
            match decode(&record) {
                Some(msg) => return Some(msg),
                None => log::error!("diskqueue: skipping a record of {} bytes", record.len()),
            }
        }
        None
    }

    /// Drops every message, in memory and on disk.
    pub fn empty(&mut self) {
        self.mem.clear();
        self.mem_len = 0;
        if let Some(disk) = &mut self.disk {
            if let Err(e) = disk.empty() {
                log::error!("diskqueue empty failed: {e}");
            }
        }
    }

    /// The disk work owed (sync every N writes, rollovers), if any; an error when the
    /// buffered records could not even be written (reported, and the sync owed still).
    pub fn sync_job(&mut self, force: bool) -> Option<io::Result<SyncJob>> {
        let disk = self.disk.as_mut()?;
        if !(disk.needs_sync() || force && disk.dirty()) {
            return None;
        }
        // With --sync-every=1 a due sync is a group commit's: data files only.
        let job = match force || disk.config().sync_every != 1 {
            true => disk.sync_job(),
            false => disk.commit_job(),
        };
        if let (Err(e), Some(status)) = (&job, &self.status) {
            status.record(&self.name, &Err(io::Error::new(e.kind(), e.to_string())));
        }
        Some(job)
    }

    /// Clean stop: everything held goes to disk, oldest first, then `extra` (in-flight
    /// and deferred messages) behind it; the queue is synced and closed.
    /// The fsyncs are left to the job pushed on `jobs`, so a stop with many queues
    /// can run them side by side.
    pub fn persist(mut self, extra: Vec<Message>, jobs: &mut Vec<SyncJob>) -> io::Result<()> {
        let Some(mut disk) = self.disk.take() else {
            return Ok(());
        };
        let old_on_disk = disk.depth();
        for entry in &self.mem {
            match entry {
                Queued::Run { batch, next, end } => {
                    for index in *next..*end {
                        disk.put_parts(&[&header_in_batch(batch, index), batch.body(index)])?;
                    }
                }
                Queued::One(msg) => disk.put(&encode(msg))?,
            }
        }
        if !self.mem.is_empty() && old_on_disk > 0 {
            // Memory was older than disk: move the old disk part behind it.
            for _ in 0..old_on_disk {
                match disk.get() {
                    Some(record) => disk.put(&record)?,
                    None => break,
                }
            }
        }
        for msg in &extra {
            disk.put(&encode(msg))?;
        }
        if !disk.on_disk() {
            jobs.push(disk.sync_job()?);
        }
        Ok(())
    }

    /// Removes the disk files (topic or channel deleted).
    pub fn delete(mut self) {
        if let Some(disk) = self.disk.take() {
            if let Err(e) = disk.delete() {
                log::error!("diskqueue delete failed: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diskqueue::Config;
    use crate::registry::message::GuidFactory;

    fn batch(bodies: &[&[u8]]) -> Batch {
        let mut guid = GuidFactory::new(1);
        Batch::build(bodies.iter().copied(), 5, &mut guid, &mut Vec::new())
    }

    fn open(dir: &std::path::Path) -> DiskQueue {
        let config = Config {
            max_bytes_per_file: 1 << 20,
            min_msg_size: 26,
            max_msg_size: 1 << 20,
            sync_every: 100,
        };
        DiskQueue::open(dir, "q", config).unwrap()
    }

    fn disk(tag: &str) -> (std::path::PathBuf, DiskQueue) {
        let dir = std::env::temp_dir().join(format!("nsq-backlog-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let dq = open(&dir);
        (dir, dq)
    }

    fn drain(b: &mut Backlog) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| b.pop())
            .map(|m| m.body.to_vec())
            .collect()
    }

    #[test]
    fn a_run_splits_between_memory_and_disk_in_order() {
        let (dir, dq) = disk("split");
        let mut b = Backlog::new(3, Some(dq));
        b.push_run(&batch(&[b"a", b"b", b"c", b"d", b"e"]), 0..5)
            .unwrap();
        b.push_run(&batch(&[b"f"]), 0..1).unwrap();
        assert_eq!((b.len(), b.backend_depth()), (6, 3));
        assert_eq!(drain(&mut b), [b"a", b"b", b"c", b"d", b"e", b"f"]);
        assert!(b.is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn ephemeral_overflow_of_a_run_is_dropped() {
        let mut b = Backlog::new(2, None);
        b.push_run(&batch(&[b"a", b"b", b"c"]), 0..3).unwrap();
        assert_eq!(drain(&mut b), [b"a", b"b"]);
    }

    #[test]
    fn entries_move_whole_and_keep_their_place() {
        let mut topic = Backlog::new(100, None);
        let run = batch(&[b"a", b"b", b"c"]);
        topic.push_run(&run, 0..3).unwrap();
        topic.push(run.message(1));
        let mut channel = Backlog::new(100, None);
        assert!(channel.pop().is_none());
        channel.push_run(&run, 2..3).unwrap();
        while let Some(entry) = topic.pop_queued() {
            channel.push_queued(&entry);
        }
        assert_eq!(topic.len(), 0);
        assert_eq!(channel.len(), 5);
        assert_eq!(drain(&mut channel), [b"c", b"a", b"b", b"c", b"b"]);
    }

    #[test]
    fn persist_writes_memory_then_the_older_disk_part_behind_it() {
        let (dir, dq) = disk("persist");
        let mut b = Backlog::new(2, Some(dq));
        let run = batch(&[b"a", b"b", b"c"]);
        b.push_run(&run, 0..3).unwrap();
        b.pop();
        let extra = vec![run.message(0)];
        let mut jobs = Vec::new();
        b.persist(extra, &mut jobs).unwrap();
        for job in jobs {
            job.run().unwrap();
        }
        let mut b = Backlog::new(0, Some(open(&dir)));
        assert_eq!(drain(&mut b), [b"b", b"c", b"a"]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
