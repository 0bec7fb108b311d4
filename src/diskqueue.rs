//! A disk FIFO of byte records in go-diskqueue's exact on-disk format
//! (NSQ-PROTOCOL.md §6.2), so a data directory moves between Go nsqd and nsq-rs
//! in either direction.
//!
//! Owns, in `dir`, the files of one queue `name`: data files
//! `<name>.diskqueue.<%06d>.dat` of `[i32 BE length][payload]` records, and the meta
//! file `<name>.diskqueue.meta.dat` (`<depth>\n<readNum>,<readPos>\n<writeNum>,<writePos>\n`).
//! Files whose number lies outside `read..=write`, `*.bad` files and other queues'
//! files are never touched, except by [`DiskQueue::delete`].
//!
//! Never: spawns threads, blocks on fsync while its owner holds the lock (fsync and the
//! meta write happen in a [`SyncJob`] the owner runs unlocked), or panics on what it
//! finds on disk — corruption costs the rest of one file, which is renamed `.bad`.
//!
//! Reading is driven by positions, not by `depth`: `get` returns records while the
//! read position is behind the write position. `depth` is bookkeeping, as in Go: after a
//! crash it is the last synced value, and it is forced to 0 when the reader catches up.
//!
//! Writes are buffered in memory (up to [`WRITE_BUFFER`] bytes) and reach the file on
//! the next sync, read of the write file, rollover, or drop; Go writes each record at
//! once. A process killed without dropping the queue loses the unflushed records.
//!
//! Files (each an `impl DiskQueue` block of one concern, over the fields declared here):
//! - `queue.rs`: opening, `put`, `get` and the positions and counters callers read;
//! - `writer.rs`: the write side: buffered records, flushes, rollover to a new file;
//! - `reader.rs`: the read side: record parsing, file ends, missing and `.bad` files;
//! - `meta.rs`: the meta file: its format, [`SyncJob`] and the gate ordering jobs;
//! - `recover.rs`: checking a meta file against the data files, and recovery without one;
//! - `remove.rs`: dropping files: `empty`, `delete`, and the restart after corruption;
//! - `names.rs`: file names, listing this queue's data files, file creation mode.

use std::fs::File;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use meta::Gate;
use reader::Reader;

mod meta;
mod names;
mod queue;
mod reader;
mod recover;
mod remove;
#[cfg(test)]
mod tests;
mod writer;

pub use meta::SyncJob;

/// Bytes of pending writes kept in memory before they go to the file.
pub const WRITE_BUFFER: usize = 64 * 1024;

/// Limits of one queue, from nsqd's flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `--max-bytes-per-file`: a file is rolled before a record would take it past this.
    pub max_bytes_per_file: u64,
    /// Smallest valid record (26: a message header).
    pub min_msg_size: u32,
    /// Largest valid record (`--max-msg-size` + 26).
    pub max_msg_size: u32,
    /// `--sync-every`: reads + writes between syncs.
    pub sync_every: u64,
}

/// One go-diskqueue. Plain data: its owner serialises access and runs the syncs.
#[derive(Debug)]
pub struct DiskQueue {
    dir: PathBuf,
    name: String,
    config: Config,
    depth: u64,
    read_num: u64,
    read_pos: u64,
    write_num: u64,
    /// Logical end of the write file: `flushed_pos + pending.len()`.
    write_pos: u64,
    /// Where `pending` goes in the write file.
    flushed_pos: u64,
    pending: Vec<u8>,
    writer: Option<File>,
    reader: Option<Reader>,
    /// Rolled-over files whose fsync the next [`SyncJob`] owes.
    owed: Vec<File>,
    /// Reads + writes since the last sync.
    ops: u64,
    /// A rollover, file removal, bad file or reset happened since the last sync.
    structural: bool,
    /// Records went to the write file since the last sync; a write file was opened
    /// (created, maybe) since the last meta write; the meta file lags behind the
    /// positions (a [`DiskQueue::commit_job`] left it): see `commit_job`.
    written: bool,
    opened: bool,
    meta_owed: bool,
    /// Number of the last [`SyncJob`] handed out.
    seq: u64,
    /// Newest meta state written or invalidated; orders concurrent [`SyncJob`]s.
    gate: Arc<Mutex<Gate>>,
}
