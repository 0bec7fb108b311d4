//! The queue as its owner sees it: opening a queue from what is on disk, appending
//! records, taking them oldest first, and the counters that tell when to sync.
//!
//! The mechanics live next door (writing in `writer.rs`, reading in `reader.rs`, the
//! meta file in `meta.rs`); this file only decides which of them a call needs.

use std::fs;
use std::io;
use std::path::Path;
use std::sync::Arc;

use super::meta::parse_meta;
use super::reader::{ReadError, Step};
use super::{Config, DiskQueue, WRITE_BUFFER};

impl DiskQueue {
    /// Opens (or starts) queue `name` in `dir`. A missing meta file means an empty queue;
    /// an unreadable one is logged and the queue starts empty. Either way it starts past
    /// any data file already there, so nothing is overwritten.
    pub fn open(dir: &Path, name: &str, config: Config) -> io::Result<DiskQueue> {
        let mut dq = DiskQueue {
            dir: dir.to_path_buf(),
            name: name.to_string(),
            config,
            depth: 0,
            read_num: 0,
            read_pos: 0,
            write_num: 0,
            write_pos: 0,
            flushed_pos: 0,
            pending: Vec::new(),
            writer: None,
            reader: None,
            owed: Vec::new(),
            ops: 0,
            structural: false,
            written: false,
            opened: false,
            meta_owed: false,
            seq: 0,
            gate: Arc::default(),
        };
        let meta_path = dq.meta_path();
        match fs::read(&meta_path) {
            Ok(bytes) => match parse_meta(&bytes) {
                Some(meta) => {
                    dq.restore(meta)?;
                    dq.gate_mut().on_disk = Some(meta);
                }
                None => {
                    let why = format!("garbled metadata {:?}", String::from_utf8_lossy(&bytes));
                    dq.recover(&why)?;
                }
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                dq.recover("no metadata file")?;
                dq.gate_mut().meta_missing = true;
            }
            Err(e) => dq.recover(&format!("failed to read metadata - {e}"))?,
        }
        Ok(dq)
    }

    /// Appends a record. Fails (and keeps nothing) when its size is outside
    /// `min_msg_size..=max_msg_size` or buffered data cannot be written.
    pub fn put(&mut self, payload: &[u8]) -> io::Result<()> {
        self.put_parts(&[payload])
    }

    /// Appends one record made of `parts` back to back (so callers need not join them).
    pub fn put_parts(&mut self, parts: &[&[u8]]) -> io::Result<()> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len < self.config.min_msg_size as usize || len > self.config.max_msg_size as usize {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "invalid message write size ({len}) minMsgSize={} maxMsgSize={}",
                    self.config.min_msg_size, self.config.max_msg_size
                ),
            ));
        }
        let total = 4 + len as u64;
        if self.write_pos > 0 && self.write_pos + total > self.config.max_bytes_per_file {
            self.roll()?;
        }
        if !self.pending.is_empty() && self.pending.len() + total as usize > WRITE_BUFFER {
            self.flush()?;
        }
        // len <= max_msg_size, a u32; Go reads it as an int32.
        self.pending.extend_from_slice(&(len as u32).to_be_bytes());
        for part in parts {
            self.pending.extend_from_slice(part);
        }
        self.write_pos += total;
        self.depth += 1;
        self.ops += 1;
        Ok(())
    }

    /// The next record, oldest first, or `None` when the reader has caught up with the
    /// writer. A corrupt file is renamed `.bad` and reading goes on in the next one.
    pub fn get(&mut self) -> Option<Vec<u8>> {
        loop {
            if self.read_num > self.write_num
                || (self.read_num == self.write_num && self.read_pos > self.write_pos)
            {
                log::error!(
                    "DISKQUEUE({}) read position ahead of write position, corruption, skipping",
                    self.name
                );
                self.skip_to_next_rw_file();
                return None;
            }
            if self.read_num == self.write_num && self.read_pos == self.write_pos {
                self.check_tail();
                return None;
            }
            if self.read_num == self.write_num {
                if let Err(e) = self.flush() {
                    log::error!(
                        "DISKQUEUE({}) failed to flush before reading - {e}",
                        self.name
                    );
                    return None;
                }
            }
            match self.read_one() {
                Ok(Step::Record(data)) => {
                    self.read_pos += 4 + data.len() as u64;
                    self.depth = self.depth.saturating_sub(1);
                    self.ops += 1;
                    let end = self.reader.as_ref().and_then(|r| r.end);
                    if self.read_num < self.write_num && end.is_some_and(|end| self.read_pos >= end)
                    {
                        self.advance_file();
                    }
                    self.check_tail();
                    return Some(data);
                }
                Ok(Step::EndOfFile) => self.advance_file(),
                Err(ReadError::Open(e)) if e.kind() == io::ErrorKind::NotFound => {
                    self.skip_missing()
                }
                Err(ReadError::Open(e)) => {
                    // Maybe out of file descriptors: keep the file and try again later.
                    self.reader = None;
                    log::error!(
                        "DISKQUEUE({}) failed to open {} - {e}",
                        self.name,
                        self.data_path(self.read_num).display()
                    );
                    return None;
                }
                Err(ReadError::Corrupt(e)) => self.save_bad(e),
            }
        }
    }

    /// The queue's limits.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Records waiting (as far as the bookkeeping knows; see the module doc).
    pub fn depth(&self) -> u64 {
        self.depth
    }

    /// True when a sync is due: `sync_every` reads + writes, or a rollover, file removal
    /// or bad file since the last one.
    pub fn needs_sync(&self) -> bool {
        self.structural || self.ops >= self.config.sync_every
    }

    /// True when anything happened since the last sync (for `--sync-timeout`).
    pub fn dirty(&self) -> bool {
        self.structural || self.ops > 0 || self.meta_owed
    }

    /// Syncs and closes.
    pub fn close(mut self) -> io::Result<()> {
        self.sync()
    }
}
