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

use std::collections::hash_map::RandomState;
use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

#[cfg(test)]
mod tests;

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

/// The file being read, positioned at `read_pos`.
#[derive(Debug)]
struct Reader {
    num: u64,
    file: BufReader<File>,
    /// The file's size once it is complete (older than the write file).
    end: Option<u64>,
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
    /// Number of the last [`SyncJob`] handed out.
    seq: u64,
    /// Newest meta state written or invalidated; orders concurrent [`SyncJob`]s.
    gate: Arc<Mutex<Gate>>,
}

/// What the [`SyncJob`]s of one queue share.
#[derive(Debug, Default)]
struct Gate {
    /// Number of the newest job that wrote its meta (`u64::MAX`: the queue is gone).
    last: u64,
    /// The positions the meta file on disk holds, when known. A queue without a meta
    /// file gets one at its first sync, as in Go, even with nothing in it.
    on_disk: Option<Meta>,
    /// There is no meta file: the next one is written in place rather than through a
    /// temp file and a rename (a crash mid-write leaves a torn meta file, which reads
    /// back as no meta file does: every data file from the start).
    meta_missing: bool,
}

/// The durable half of a sync, run without the owner's lock: fsync the data files,
/// then replace the meta file atomically.
#[derive(Debug)]
pub struct SyncJob {
    files: Vec<File>,
    dir: PathBuf,
    meta_path: PathBuf,
    meta: Meta,
    seq: u64,
    gate: Arc<Mutex<Gate>>,
}

/// Positions read from a meta file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Meta {
    depth: u64,
    read_num: u64,
    read_pos: u64,
    write_num: u64,
    write_pos: u64,
}

/// Why a read attempt failed.
enum ReadError {
    /// Opening the file failed: nothing is known about its contents.
    Open(io::Error),
    /// The contents are bad from the read position on.
    Corrupt(io::Error),
}

/// What one read attempt found.
enum Step {
    Record(Vec<u8>),
    /// The read position is at the end of a complete file.
    EndOfFile,
}

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

    /// Takes over the positions of a meta file, checking them against the files.
    fn restore(&mut self, meta: Meta) -> io::Result<()> {
        self.depth = meta.depth;
        self.read_num = meta.read_num;
        self.read_pos = meta.read_pos;
        self.write_num = meta.write_num;
        self.write_pos = meta.write_pos;
        if self.read_num > self.write_num
            || (self.read_num == self.write_num && self.read_pos > self.write_pos)
        {
            let why = format!(
                "read position {},{} ahead of write position {},{}",
                self.read_num, self.read_pos, self.write_num, self.write_pos
            );
            return self.recover(&why);
        }
        // Writes after the last sync (a crash) left the write file longer than write_pos:
        // write in a fresh file and let the reader salvage the old one to its end. Skip
        // every file such a crash may have left, so no record is ever overwritten.
        loop {
            let path = self.data_path(self.write_num);
            let size = match fs::metadata(&path) {
                Ok(m) => m.len(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
                Err(e) => return Err(e),
            };
            if size == self.write_pos {
                break;
            }
            log::warn!(
                "DISKQUEUE({}) {} metadata writePos {} != file size of {}, skipping to new file",
                self.name,
                path.display(),
                self.write_pos,
                size
            );
            self.write_num += 1;
            self.write_pos = 0;
            self.structural = true;
        }
        self.flushed_pos = self.write_pos;
        Ok(())
    }

    /// Without usable metadata (`why`): every data file in the directory is read again
    /// from the lowest-numbered one at offset 0 — redelivery rather than loss — and
    /// writing goes on in a new file past the highest. The depth is counted from the
    /// records found. With no data file the queue simply starts empty.
    fn recover(&mut self, why: &str) -> io::Result<()> {
        let files = match self.data_files() {
            Ok(files) => files,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let (Some(first), Some(last)) = (
            files.iter().map(|(n, _)| *n).min(),
            files.iter().map(|(n, _)| *n).max(),
        ) else {
            if why != "no metadata file" {
                log::error!(
                    "DISKQUEUE({}) {why}; no data files, starting empty",
                    self.name
                );
            }
            self.depth = 0;
            (self.read_num, self.read_pos) = (0, 0);
            (self.write_num, self.write_pos) = (0, 0);
            return Ok(());
        };
        let (min, max) = (self.config.min_msg_size, self.config.max_msg_size);
        let depth = files
            .iter()
            .map(|(_, path)| count_records(path, min, max))
            .sum();
        log::error!(
            "DISKQUEUE({}) {why}; recovering {} data file(s) {first}..={last} from the start ({depth} records), writing from file {}",
            self.name,
            files.len(),
            last + 1
        );
        self.depth = depth;
        (self.read_num, self.read_pos) = (first, 0);
        (self.write_num, self.write_pos) = (last + 1, 0);
        self.flushed_pos = 0;
        self.structural = true;
        Ok(())
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

    /// Moves writing to the next file number; the old file's fsync is owed.
    fn roll(&mut self) -> io::Result<()> {
        self.flush()?;
        if let Some(file) = self.writer.take() {
            self.owed.push(file);
        }
        let (old_num, old_pos) = (self.write_num, self.write_pos);
        if let Some(reader) = &mut self.reader {
            if reader.num == old_num {
                reader.end = Some(old_pos);
            }
        }
        self.write_num += 1;
        self.write_pos = 0;
        self.flushed_pos = 0;
        self.structural = true;
        log::info!(
            "DISKQUEUE({}) rolled to {}",
            self.name,
            self.data_path(self.write_num).display()
        );
        // Go's reader stumbles here (EOF on the finished file, renamed .bad); a file read
        // to its end is simply done.
        if self.read_num == old_num && self.read_pos >= old_pos {
            self.advance_file();
        }
        Ok(())
    }

    /// Writes the pending records to the write file. On failure they stay pending and the
    /// next flush rewrites them at the same offset.
    fn flush(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let file = match &mut self.writer {
            Some(file) => file,
            None => {
                let path = self.data_path(self.write_num);
                let file = create_options().write(true).create(true).open(&path)?;
                // The write file never holds bytes past our position (see `restore`).
                if file.metadata()?.len() > self.flushed_pos {
                    file.set_len(self.flushed_pos)?;
                }
                log::info!(
                    "DISKQUEUE({}): writeOne() opened {}",
                    self.name,
                    path.display()
                );
                self.writer.insert(file)
            }
        };
        file.seek(SeekFrom::Start(self.flushed_pos))?;
        file.write_all(&self.pending)?;
        self.flushed_pos += self.pending.len() as u64;
        self.pending.clear();
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

    /// Reads the record at `read_pos`, opening the read file if needed.
    fn read_one(&mut self) -> Result<Step, ReadError> {
        let complete = self.read_num < self.write_num;
        if self.reader.as_ref().is_none_or(|r| r.num != self.read_num) {
            self.reader = None;
            let path = self.data_path(self.read_num);
            let mut file = File::open(&path).map_err(ReadError::Open)?;
            let end = if complete {
                Some(file.metadata().map_err(ReadError::Open)?.len())
            } else {
                None
            };
            if self.read_pos > 0 {
                file.seek(SeekFrom::Start(self.read_pos))
                    .map_err(ReadError::Open)?;
            }
            log::info!(
                "DISKQUEUE({}): readOne() opened {}",
                self.name,
                path.display()
            );
            self.reader = Some(Reader {
                num: self.read_num,
                file: BufReader::new(file),
                end,
            });
        }
        let Some(reader) = self.reader.as_mut() else {
            return Err(ReadError::Open(io::Error::other("no read file")));
        };
        if complete && reader.end.is_none() {
            reader.end = Some(
                reader
                    .file
                    .get_ref()
                    .metadata()
                    .map_err(ReadError::Open)?
                    .len(),
            );
        }
        let limit = if complete {
            reader.end.unwrap_or(0)
        } else {
            self.write_pos
        };
        if complete && self.read_pos >= limit {
            return Ok(Step::EndOfFile);
        }
        let corrupt = |kind, msg: String| ReadError::Corrupt(io::Error::new(kind, msg));
        if self.read_pos + 4 > limit {
            return Err(corrupt(
                io::ErrorKind::UnexpectedEof,
                "truncated record length".into(),
            ));
        }
        let mut len = [0u8; 4];
        reader
            .file
            .read_exact(&mut len)
            .map_err(ReadError::Corrupt)?;
        let len = i32::from_be_bytes(len);
        let (min, max) = (self.config.min_msg_size, self.config.max_msg_size);
        let Some(len) = u32::try_from(len).ok().filter(|l| (min..=max).contains(l)) else {
            return Err(corrupt(
                io::ErrorKind::InvalidData,
                format!("invalid message read size ({len})"),
            ));
        };
        if self.read_pos + 4 + u64::from(len) > limit {
            return Err(corrupt(
                io::ErrorKind::UnexpectedEof,
                format!("record of {len} bytes runs past the end of the file"),
            ));
        }
        let mut data = vec![0u8; len as usize];
        reader
            .file
            .read_exact(&mut data)
            .map_err(ReadError::Corrupt)?;
        Ok(Step::Record(data))
    }

    /// Leaves a fully read file older than the write file, deleting it.
    fn advance_file(&mut self) {
        self.reader = None;
        let path = self.data_path(self.read_num);
        if let Err(e) = fs::remove_file(&path) {
            if e.kind() != io::ErrorKind::NotFound {
                log::error!(
                    "DISKQUEUE({}) failed to Remove({}) - {e}",
                    self.name,
                    path.display()
                );
            }
        }
        self.read_num += 1;
        self.read_pos = 0;
        self.structural = true;
    }

    /// The read file is gone: go on with the next file that exists, however far the
    /// meta points.
    fn skip_missing(&mut self) {
        let path = self.data_path(self.read_num);
        self.leave_read_file();
        let next = match self.data_files() {
            Ok(files) => files
                .into_iter()
                .map(|(n, _)| n)
                .filter(|n| *n > self.read_num)
                .min()
                .map_or(self.write_num, |n| n.min(self.write_num)),
            Err(_) => self.read_num + 1,
        };
        log::error!(
            "DISKQUEUE({}) {} is missing, skipping to file {}",
            self.name,
            path.display(),
            next
        );
        self.read_num = next;
        self.read_pos = 0;
        self.check_tail();
    }

    /// The read file is corrupt: save it as `.bad` and go on with the next one; the rest
    /// of it is lost.
    fn save_bad(&mut self, err: io::Error) {
        let path = self.data_path(self.read_num);
        let mut bad = path.clone().into_os_string();
        bad.push(".bad");
        log::error!(
            "DISKQUEUE({}) reading at {} of {} - {err}; jump to next file and saving bad file as {}",
            self.name,
            self.read_pos,
            path.display(),
            Path::new(&bad).display()
        );
        self.leave_read_file();
        if let Err(e) = fs::rename(&path, &bad) {
            log::error!(
                "DISKQUEUE({}) failed to rename bad diskqueue file {} - {e}",
                self.name,
                path.display()
            );
        }
        self.read_num += 1;
        self.read_pos = 0;
        self.check_tail();
    }

    /// Closes the read file after a failure; if it is the write file, writing moves to a
    /// new file too.
    fn leave_read_file(&mut self) {
        self.reader = None;
        if self.read_num == self.write_num {
            self.pending.clear();
            self.writer = None;
            self.write_num += 1;
            self.write_pos = 0;
            self.flushed_pos = 0;
        }
        self.structural = true;
    }

    /// At the tail a non-zero depth is wrong (records lost or meta stale): reset it.
    fn check_tail(&mut self) {
        if self.read_num == self.write_num && self.read_pos == self.write_pos && self.depth != 0 {
            log::error!(
                "DISKQUEUE({}) positive depth at tail ({}), data loss, resetting 0...",
                self.name,
                self.depth
            );
            self.depth = 0;
            self.structural = true;
        }
    }

    /// Removes the data files `read..=write` and restarts both ends at a new file.
    fn skip_to_next_rw_file(&mut self) {
        self.reader = None;
        self.writer = None;
        self.pending.clear();
        self.owed.clear();
        match self.data_files() {
            Ok(files) => {
                for (n, path) in files {
                    if (self.read_num..=self.write_num).contains(&n) {
                        remove_logged(&self.name, &path);
                    }
                }
            }
            Err(e) => log::error!("DISKQUEUE({}) failed to list data files - {e}", self.name),
        }
        self.write_num = self.write_num.max(self.read_num) + 1;
        self.write_pos = 0;
        self.flushed_pos = 0;
        self.read_num = self.write_num;
        self.read_pos = 0;
        self.depth = 0;
        self.structural = true;
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
        self.structural || self.ops > 0
    }

    /// Writes the pending records (a write syscall, no fsync), resets the counters, and
    /// returns the fsync + meta work to run without the owner's lock.
    pub fn sync_job(&mut self) -> io::Result<SyncJob> {
        self.flush()?;
        let mut files = std::mem::take(&mut self.owed);
        if let Some(file) = &self.writer {
            match file.try_clone() {
                Ok(dup) => files.push(dup),
                Err(e) => {
                    self.owed = files;
                    return Err(e);
                }
            }
        }
        self.seq += 1;
        self.ops = 0;
        self.structural = false;
        Ok(SyncJob {
            files,
            dir: self.dir.clone(),
            meta_path: self.meta_path(),
            meta: self.meta(),
            seq: self.seq,
            gate: Arc::clone(&self.gate),
        })
    }

    /// True when the files on disk hold exactly this queue: nothing buffered, no file
    /// owes an fsync, and the meta file on disk has the current positions (so a clean
    /// stop has nothing to write for it).
    pub fn on_disk(&self) -> bool {
        self.pending.is_empty()
            && self.owed.is_empty()
            && !self.structural
            && self.gate_mut().on_disk == Some(self.meta())
    }

    fn meta(&self) -> Meta {
        Meta {
            depth: self.depth,
            read_num: self.read_num,
            read_pos: self.read_pos,
            write_num: self.write_num,
            write_pos: self.write_pos,
        }
    }

    fn gate_mut(&self) -> MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Syncs in place: `sync_job()?.run()`.
    pub fn sync(&mut self) -> io::Result<()> {
        self.sync_job()?.run()
    }

    /// Drops every record: removes the data files `read..=write` and the meta file, and
    /// continues at the next file number with depth 0. A [`SyncJob`] handed out before
    /// will not write the meta back.
    pub fn empty(&mut self) -> io::Result<()> {
        self.invalidate_jobs(false);
        self.skip_to_next_rw_file();
        self.ops = 0;
        match fs::remove_file(self.meta_path()) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                log::error!(
                    "DISKQUEUE({}) failed to remove metadata file - {e}",
                    self.name
                );
                Err(e)
            }
            _ => {
                self.gate_mut().meta_missing = true;
                Ok(())
            }
        }
    }

    /// Removes every file of this queue (data, `.bad`, meta, leftover temp files).
    pub fn delete(mut self) -> io::Result<()> {
        self.invalidate_jobs(true);
        self.pending.clear();
        self.reader = None;
        self.writer = None;
        self.owed.clear();
        let prefix = format!("{}.diskqueue.", self.name);
        let mut result = Ok(());
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let file_name = entry.file_name();
            let Some(rest) = file_name.to_str().and_then(|f| f.strip_prefix(&prefix)) else {
                continue;
            };
            let ours = data_file_num(rest).is_some()
                || rest.strip_suffix(".bad").and_then(data_file_num).is_some()
                || rest == "meta.dat"
                || (rest.starts_with("meta.dat.") && rest.ends_with(".tmp"));
            if ours {
                if let Err(e) = fs::remove_file(entry.path()) {
                    log::error!(
                        "DISKQUEUE({}) failed to remove {} - {e}",
                        self.name,
                        entry.path().display()
                    );
                    result = Err(e);
                }
            }
        }
        result
    }

    /// Syncs and closes.
    pub fn close(mut self) -> io::Result<()> {
        self.sync()
    }

    /// Makes every [`SyncJob`] handed out so far skip its meta write (`forever`: and all
    /// later ones). Waits for a job that is writing right now.
    fn invalidate_jobs(&mut self, forever: bool) {
        let mut gate = self.gate.lock().unwrap_or_else(PoisonError::into_inner);
        self.seq += 1;
        gate.last = if forever {
            u64::MAX
        } else {
            gate.last.max(self.seq)
        };
        gate.on_disk = None;
    }

    fn meta_path(&self) -> PathBuf {
        self.dir.join(format!("{}.diskqueue.meta.dat", self.name))
    }

    fn data_path(&self, num: u64) -> PathBuf {
        self.dir
            .join(format!("{}.diskqueue.{:06}.dat", self.name, num))
    }

    /// This queue's data files in `dir` (not `.bad` ones), unordered.
    fn data_files(&self) -> io::Result<Vec<(u64, PathBuf)>> {
        let prefix = format!("{}.diskqueue.", self.name);
        let mut files = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let file_name = entry.file_name();
            let num = file_name
                .to_str()
                .and_then(|f| f.strip_prefix(&prefix))
                .and_then(data_file_num);
            if let Some(num) = num {
                files.push((num, entry.path()));
            }
        }
        Ok(files)
    }
}

impl Drop for DiskQueue {
    /// Writes what is buffered (no fsync, no meta), as Go's unbuffered writes would have.
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            log::error!(
                "DISKQUEUE({}) failed to write buffered records - {e}",
                self.name
            );
        }
    }
}

impl SyncJob {
    /// Fsyncs the data files, then writes the meta to `<meta>.<random>.tmp`, fsyncs it,
    /// renames it over the meta file and fsyncs the directory (a queue without a meta
    /// file gets it written in place: torn by a crash, it reads back as a missing one
    /// does, every data file from the start). Jobs of one queue run one
    /// at a time; an older job never replaces the meta of a newer one, and a job from
    /// before `empty`/`delete` writes no meta.
    pub fn run(self) -> io::Result<()> {
        let gate = Arc::clone(&self.gate);
        let Some(dir) = self.apply(true)? else {
            return Ok(());
        };
        let synced = File::open(dir).and_then(|d| d.sync_all());
        if synced.is_err() {
            gate.lock().unwrap_or_else(PoisonError::into_inner).on_disk = None;
        }
        synced
    }

    /// Writes the meta file without any fsync, for a caller that makes the whole
    /// filesystem durable at once afterwards (a clean stop: one `syncfs` instead of
    /// thousands of fsyncs); the directory it wrote in, if it wrote.
    pub fn write_unsynced(self) -> io::Result<Option<PathBuf>> {
        self.apply(false)
    }

    /// The job, with or without its fsyncs short of the directory's; the directory
    /// written in, if the meta file was.
    fn apply(self, fsync: bool) -> io::Result<Option<PathBuf>> {
        let mut gate = self.gate.lock().unwrap_or_else(PoisonError::into_inner);
        if gate.last == u64::MAX {
            return Ok(None);
        }
        if fsync {
            for file in &self.files {
                file.sync_data()?;
            }
        }
        if gate.last >= self.seq {
            return Ok(None);
        }
        let m = self.meta;
        let text = format!(
            "{}\n{},{}\n{},{}\n",
            m.depth, m.read_num, m.read_pos, m.write_num, m.write_pos
        );
        let write = |path: &Path| -> io::Result<()> {
            let mut file = create_options().write(true).create_new(true).open(path)?;
            let mut written = file.write_all(text.as_bytes());
            if fsync {
                written = written.and_then(|()| file.sync_all());
            }
            if written.is_err() {
                let _ = fs::remove_file(path);
            }
            written
        };
        let in_place = match gate.meta_missing {
            true => write(&self.meta_path),
            false => Err(io::ErrorKind::AlreadyExists.into()),
        };
        let written = match in_place {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let mut tmp = self.meta_path.clone().into_os_string();
                tmp.push(format!(".{}.tmp", random_u63()));
                let tmp = PathBuf::from(tmp);
                write(&tmp).and_then(|()| {
                    fs::rename(&tmp, &self.meta_path).inspect_err(|_| {
                        let _ = fs::remove_file(&tmp);
                    })
                })
            }
            other => other,
        };
        if let Err(e) = written {
            gate.on_disk = None;
            return Err(e);
        }
        gate.last = self.seq;
        gate.on_disk = Some(self.meta);
        gate.meta_missing = false;
        Ok(Some(self.dir))
    }
}

/// How many whole, well-sized records `path` holds from its start (0 when unreadable);
/// counting stops at the first bad length or truncated record.
fn count_records(path: &Path, min: u32, max: u32) -> u64 {
    let Ok(file) = File::open(path) else {
        return 0;
    };
    let Ok(size) = file.metadata().map(|m| m.len()) else {
        return 0;
    };
    let mut file = BufReader::new(file);
    let (mut pos, mut count) = (0u64, 0u64);
    let mut len = [0u8; 4];
    while pos + 4 <= size && file.read_exact(&mut len).is_ok() {
        let len = i32::from_be_bytes(len);
        let Some(len) = u32::try_from(len).ok().filter(|l| (min..=max).contains(l)) else {
            break;
        };
        pos += 4 + u64::from(len);
        if pos > size || file.seek_relative(i64::from(len)).is_err() {
            break;
        }
        count += 1;
    }
    count
}

/// Options creating files with mode 0600, as Go does.
fn create_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// The number in `NNNNNN.dat` (what follows `<name>.diskqueue.`).
fn data_file_num(rest: &str) -> Option<u64> {
    let digits = rest.strip_suffix(".dat")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Parses `<depth>\n<readNum>,<readPos>\n<writeNum>,<writePos>\n` as Go's
/// `fmt.Fscanf(f, "%d\n%d,%d\n%d,%d\n")` does. A negative depth (Go can write one)
/// reads as 0; negative positions make the meta unusable.
fn parse_meta(bytes: &[u8]) -> Option<Meta> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut lines = text.split('\n');
    let depth: i64 = lines.next()?.trim().parse().ok()?;
    let pair = |line: Option<&str>| -> Option<(u64, u64)> {
        let (a, b) = line?.split_once(',')?;
        let a: i64 = a.trim().parse().ok()?;
        let b: i64 = b.trim().parse().ok()?;
        Some((u64::try_from(a).ok()?, u64::try_from(b).ok()?))
    };
    let (read_num, read_pos) = pair(lines.next())?;
    let (write_num, write_pos) = pair(lines.next())?;
    Some(Meta {
        depth: u64::try_from(depth).unwrap_or(0),
        read_num,
        read_pos,
        write_num,
        write_pos,
    })
}

fn remove_logged(name: &str, path: &Path) {
    if let Err(e) = fs::remove_file(path) {
        if e.kind() != io::ErrorKind::NotFound {
            log::error!(
                "DISKQUEUE({name}) failed to remove data file {} - {e}",
                path.display()
            );
        }
    }
}

/// A non-negative random number for temp file names, like Go's `rand.Int()`.
fn random_u63() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    hasher.finish() >> 1
}
