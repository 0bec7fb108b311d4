//! The meta file (`<depth>\n<readNum>,<readPos>\n<writeNum>,<writePos>\n`): parsing it
//! as Go does, and writing it crash-safely in a [`SyncJob`] that the owner runs without
//! its lock, after the data files' fsyncs. The [`Gate`] shared by a queue's jobs keeps
//! an older job from replacing a newer meta, and a job from before `empty`/`delete`
//! from writing at all.

use std::collections::hash_map::RandomState;
use std::fs::{self, File};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::names::create_options;
use super::DiskQueue;

/// What the [`SyncJob`]s of one queue share.
#[derive(Debug, Default)]
pub(super) struct Gate {
    /// Number of the newest job that wrote its meta (`u64::MAX`: the queue is gone).
    last: u64,
    /// The positions the meta file on disk holds, when known. A queue without a meta
    /// file gets one at its first sync, as in Go, even with nothing in it.
    pub(super) on_disk: Option<Meta>,
    /// There is no meta file: the next one is written in place rather than through a
    /// temp file and a rename (a crash mid-write leaves a torn meta file, which reads
    /// back as no meta file does: every data file from the start).
    pub(super) meta_missing: bool,
}

/// The durable half of a sync, run without the owner's lock: fsync the data files,
/// then replace the meta file atomically.
#[derive(Debug)]
pub struct SyncJob {
    pub(super) files: Vec<File>,
    /// Only the data files' fsyncs (a [`DiskQueue::commit_job`]).
    pub(super) data_only: bool,
    dir: PathBuf,
    meta_path: PathBuf,
    meta: Meta,
    seq: u64,
    gate: Arc<Mutex<Gate>>,
}

/// Positions read from a meta file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Meta {
    pub(super) depth: u64,
    pub(super) read_num: u64,
    pub(super) read_pos: u64,
    pub(super) write_num: u64,
    pub(super) write_pos: u64,
}

impl DiskQueue {
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
        self.written = false;
        self.opened = false;
        self.meta_owed = false;
        Ok(SyncJob {
            files,
            data_only: false,
            dir: self.dir.clone(),
            meta_path: self.meta_path(),
            meta: self.meta(),
            seq: self.seq,
            gate: Arc::clone(&self.gate),
        })
    }

    /// The sync a group commit needs (`--sync-every=1`, before OKs): the records
    /// written since the last sync are fsynced, and nothing else. The meta file is
    /// left behind (after a crash, `restore` reads a write file past the meta's
    /// position to its end, and counts what it finds there), unless the files changed —
    /// a rollover, a write file opened, a removal, no meta file yet — which only the
    /// meta file and its directory's fsync make reachable: then it is a full
    /// [`DiskQueue::sync_job`]. A forced sync (`--sync-timeout`, stop) writes the meta
    /// this one owes. Reads alone owe no fsync: such a job does nothing.
    pub fn commit_job(&mut self) -> io::Result<SyncJob> {
        self.flush()?;
        if self.structural || self.opened || self.gate_mut().on_disk.is_none() {
            return self.sync_job();
        }
        let mut files = Vec::new();
        if let (true, Some(file)) = (self.written, &self.writer) {
            files.push(file.try_clone()?);
        }
        self.written = false;
        self.ops = 0;
        self.meta_owed = true;
        Ok(SyncJob {
            files,
            data_only: true,
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

    pub(super) fn meta(&self) -> Meta {
        Meta {
            depth: self.depth,
            read_num: self.read_num,
            read_pos: self.read_pos,
            write_num: self.write_num,
            write_pos: self.write_pos,
        }
    }

    pub(super) fn gate_mut(&self) -> MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Syncs in place: `sync_job()?.run()`.
    pub fn sync(&mut self) -> io::Result<()> {
        self.sync_job()?.run()
    }

    /// Makes every [`SyncJob`] handed out so far skip its meta write (`forever`: and all
    /// later ones). Waits for a job that is writing right now.
    pub(super) fn invalidate_jobs(&mut self, forever: bool) {
        let mut gate = self.gate.lock().unwrap_or_else(PoisonError::into_inner);
        self.seq += 1;
        gate.last = if forever {
            u64::MAX
        } else {
            gate.last.max(self.seq)
        };
        gate.on_disk = None;
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
        if self.data_only {
            return Ok(None);
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

/// Parses `<depth>\n<readNum>,<readPos>\n<writeNum>,<writePos>\n` as Go's
/// `fmt.Fscanf(f, "%d\n%d,%d\n%d,%d\n")` does. A negative depth (Go can write one)
/// reads as 0; negative positions make the meta unusable.
pub(super) fn parse_meta(bytes: &[u8]) -> Option<Meta> {
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

/// A non-negative random number for temp file names, like Go's `rand.Int()`.
fn random_u63() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    hasher.finish() >> 1
}
