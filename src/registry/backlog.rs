//! A backlog: the messages a topic or channel holds, oldest first — up to
//! `--mem-queue-size` in memory, the rest in a go-diskqueue on disk.
//!
//! Order is kept across the boundary: memory holds the head and disk the tail, and once
//! anything is on disk every new message queues behind it there. (Go's nsqd reads both
//! at random and loses order; we don't.) Ephemeral backlogs have no disk: what does not
//! fit in memory is dropped, as nsqd does.
//!
//! At a clean stop [`Backlog::persist`] puts everything on disk in order; when memory
//! and disk both hold messages it re-appends the disk part behind the memory part, so
//! the files stay in go-diskqueue's format and a Go nsqd reads them in the same order.

use super::message::Message;
use crate::diskqueue::{DiskQueue, SyncJob};
use crate::proto::{self, MESSAGE_HEADER_LEN};
use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
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

/// Decodes a disk record; `None` (logged by the caller) when it is too short.
pub fn decode(record: &[u8]) -> Option<Message> {
    let m = proto::decode_message(record)?;
    Some(Message {
        id: m.id,
        timestamp: m.timestamp,
        attempts: m.attempts,
        defer_ms: 0,
        body: Arc::from(m.body),
    })
}

/// Messages waiting, in order: memory head, disk tail.
#[derive(Debug)]
pub struct Backlog {
    mem: VecDeque<Message>,
    mem_limit: usize,
    disk: Option<DiskQueue>,
    /// Set when a disk write failed; `/ping` reports it.
    pub last_error: Option<String>,
    /// Shared with the registry: disk writes since it last looked for fsyncs owed.
    disk_writes: Option<Arc<AtomicU64>>,
}

impl Backlog {
    /// A backlog with `mem_limit` messages in memory and `disk` for the rest
    /// (`None`: ephemeral, overflow dropped).
    pub fn new(mem_limit: usize, disk: Option<DiskQueue>) -> Backlog {
        Backlog {
            mem: VecDeque::new(),
            mem_limit,
            disk,
            last_error: None,
            disk_writes: None,
        }
    }

    /// Counts this backlog's disk writes in `counter`.
    pub fn counting(mut self, counter: Arc<AtomicU64>) -> Backlog {
        self.disk_writes = Some(counter);
        self
    }

    /// Messages held, memory and disk.
    pub fn len(&self) -> usize {
        self.mem.len() + self.backend_depth() as usize
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Messages on disk.
    pub fn backend_depth(&self) -> u64 {
        self.disk.as_ref().map_or(0, DiskQueue::depth)
    }

    /// Appends a message at the tail.
    pub fn push(&mut self, msg: Message) {
        let on_disk = self.backend_depth() > 0;
        match &mut self.disk {
            Some(disk) if on_disk || self.mem.len() >= self.mem_limit => {
                if let Some(counter) = &self.disk_writes {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                if let Err(e) = disk.put(&encode(&msg)) {
                    // Keep the message rather than lose it; /ping reports the failure.
                    log::error!("diskqueue write failed: {e}");
                    self.last_error = Some(e.to_string());
                    self.mem.push_back(msg);
                }
            }
            None if self.mem.len() >= self.mem_limit => {}
            _ => self.mem.push_back(msg),
        }
    }

    /// Takes the oldest message.
    pub fn pop(&mut self) -> Option<Message> {
        if let Some(msg) = self.mem.pop_front() {
            return Some(msg);
        }
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
        if let Some(disk) = &mut self.disk {
            if let Err(e) = disk.empty() {
                log::error!("diskqueue empty failed: {e}");
            }
        }
    }

    /// The disk work owed (sync every N writes, rollovers), if any.
    pub fn sync_job(&mut self, force: bool) -> Option<SyncJob> {
        let disk = self.disk.as_mut()?;
        if !(disk.needs_sync() || force && disk.dirty()) {
            return None;
        }
        match disk.sync_job() {
            Ok(job) => Some(job),
            Err(e) => {
                log::error!("diskqueue sync failed: {e}");
                self.last_error = Some(e.to_string());
                None
            }
        }
    }

    /// Clean stop: everything held goes to disk, oldest first, then `extra` (in-flight
    /// and deferred messages) behind it; the queue is synced and closed.
    pub fn persist(mut self, extra: Vec<Message>) -> io::Result<()> {
        let Some(mut disk) = self.disk.take() else {
            return Ok(());
        };
        let old_on_disk = disk.depth();
        if !self.mem.is_empty() && old_on_disk > 0 {
            // Memory is older than disk: write it, then move the old disk part behind.
            for msg in &self.mem {
                disk.put(&encode(msg))?;
            }
            for _ in 0..old_on_disk {
                match disk.get() {
                    Some(record) => disk.put(&record)?,
                    None => break,
                }
            }
        } else {
            for msg in &self.mem {
                disk.put(&encode(msg))?;
            }
        }
        for msg in &extra {
            disk.put(&encode(msg))?;
        }
        disk.close()
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
