//! Getting nsqd's state onto disk without holding the registry lock across an fsync:
//! [`Persister::flush`] collects the work under the registry lock and does it after
//! releasing it — disk-queue fsyncs and `nsqd.dat` writes.
//!
//! With `--sync-every=1` the writers flush themselves ([`Persister::settle`]): the V2
//! handler once per batch of commands read from a socket, before the replies are sent,
//! so every command of the batch shares one fsync (group commit). Flushes are
//! serialized by the persister's own lock, held from collecting to the end of the
//! fsyncs: a writer whose record was collected into another flush's job waits for that
//! job, so nobody answers `OK` before its write is durable.
//!
//! Otherwise an OK promises no fsync (as in Go's nsqd), so writers only nudge the
//! syncer thread, which does the fsyncs due every `--sync-every` writes and saves
//! changed metadata at once, and fsyncs everything every `--sync-timeout`.
//!
//! A clean stop ([`stop`]) writes every queue, then makes it durable with one
//! `syncfs` per data directory.

use crate::diskqueue::SyncJob;
use crate::registry::lock;
use crate::registry::metadata::{self, Metadata};
use crate::registry::Registry;
use crate::registry::TopicStop;
use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Disk work collected under the registry lock.
#[derive(Default)]
struct Pending {
    jobs: Vec<std::io::Result<SyncJob>>,
    metadata: Option<(u64, Metadata)>,
}

/// Writes what the registry owes the disk.
pub struct Persister {
    data_path: PathBuf,
    /// `--sync-every=1`: every OK waits for its fsync.
    sync_every_write: bool,
    /// Set by [`Persister::settle`] for the syncer thread, which waits on `nudged`.
    nudge: Mutex<bool>,
    nudged: Condvar,
    /// The generation of the last metadata collected and of the last one written.
    generations: Mutex<(u64, u64)>,
    /// Held from collecting to the end of the disk work (taken before the registry).
    flushing: Mutex<()>,
}

impl Persister {
    /// A persister for `data_path`; `sync_every_write` (`--sync-every=1`) makes
    /// [`Persister::settle`] wait for the fsyncs.
    pub fn new(data_path: PathBuf, sync_every_write: bool) -> Persister {
        Persister {
            data_path,
            sync_every_write,
            nudge: Mutex::new(false),
            nudged: Condvar::new(),
            generations: Mutex::new((0, 0)),
            flushing: Mutex::new(()),
        }
    }

    /// The data path.
    pub fn data_path(&self) -> &Path {
        &self.data_path
    }

    fn generations(&self) -> std::sync::MutexGuard<'_, (u64, u64)> {
        self.generations.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes, under the registry lock, the fsyncs due and changed metadata.
    fn collect(&self, registry: &mut Registry, force_sync: bool) -> Pending {
        let metadata = registry.take_metadata().map(|m| {
            let mut g = self.generations();
            g.0 += 1;
            (g.0, m)
        });
        Pending {
            jobs: registry.sync_jobs(force_sync),
            metadata,
        }
    }

    /// Does the collected work, without the registry lock; the first fsync failure.
    fn finish(&self, pending: Pending) -> std::io::Result<()> {
        let mut result = Ok(());
        for job in pending.jobs {
            if let Err(e) = job.and_then(SyncJob::run) {
                result = result.and(Err(e));
            }
        }
        if let Some((generation, meta)) = pending.metadata {
            // Writers may race; an older snapshot must not replace a newer one.
            let mut g = self.generations();
            if generation > g.1 {
                match metadata::save(&self.data_path, &meta) {
                    Ok(()) => g.1 = generation,
                    Err(e) => log::error!("writing {}: {e}", metadata::FILE),
                }
            }
        }
        result
    }

    /// Makes every write done so far durable as the flags ask (`force_sync`: fsync
    /// any unsynced queue), and saves changed metadata. Call it without holding the
    /// registry lock; it takes it briefly.
    /// A failed fsync is reported by `/ping` and returned.
    pub fn flush(&self, registry: &Mutex<Registry>, force_sync: bool) -> std::io::Result<()> {
        let _serial = self.flushing.lock().unwrap_or_else(|p| p.into_inner());
        let pending = self.collect(&mut lock(registry), force_sync);
        let result = self.finish(pending);
        if result.is_err() {
            lock(registry).record_sync(&result);
        }
        result
    }

    /// After a change: with `--sync-every=1`, flushes now (an OK may follow once it
    /// returns `Ok`; an error means the writes are not known to be durable);
    /// otherwise asks the syncer thread to do the disk work owed.
    pub fn settle(&self, registry: &Mutex<Registry>) -> std::io::Result<()> {
        if self.sync_every_write {
            return self.flush(registry, false);
        }
        *self.nudge.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.nudged.notify_one();
        Ok(())
    }

    /// Waits up to `timeout` for a nudge; true if there was one.
    fn wait_for_nudge(&self, timeout: Duration) -> bool {
        let guard = self.nudge.lock().unwrap_or_else(|p| p.into_inner());
        let (mut nudged, _) = self
            .nudged
            .wait_timeout_while(guard, timeout, |nudged| !*nudged)
            .unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut *nudged)
    }
}

/// Clean stop: writes every topic ([`TopicStop::write`]) and the meta files, one
/// after another and without fsyncs, then makes each data directory durable at once
/// with one `syncfs` (thousands of queues would otherwise mean tens of thousands of
/// fsyncs, each a device flush). Every topic is tried; the first failure is returned.
/// `syncfs` reports write-back errors since Linux 5.8.
#[cfg(target_os = "linux")]
pub fn stop(work: Vec<TopicStop>) -> std::io::Result<()> {
    let mut dirs = HashSet::new();
    let result = write_all(work, |job| {
        if let Some(dir) = job.write_unsynced()? {
            dirs.insert(dir);
        }
        Ok(())
    });
    for dir in dirs {
        if let Err(e) = File::open(&dir).and_then(|d| rustix::fs::syncfs(&d).map_err(Into::into)) {
            log::error!(
                "persisting at stop: syncfs of {} failed: {e}",
                dir.display()
            );
            return Err(e);
        }
    }
    result
}

/// Clean stop without `syncfs`: every queue's fsyncs, one queue after another.
#[cfg(not(target_os = "linux"))]
pub fn stop(work: Vec<TopicStop>) -> std::io::Result<()> {
    write_all(work, SyncJob::run)
}

/// Writes every topic of a stop and hands each sync job it leaves to `finish`; the
/// first failure, after trying them all.
fn write_all(
    work: Vec<TopicStop>,
    mut finish: impl FnMut(SyncJob) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut first = Ok(());
    for topic in work {
        let done = topic
            .write()
            .and_then(|jobs| jobs.into_iter().try_for_each(&mut finish));
        if let Err(e) = done {
            log::error!("persisting at stop failed: {e}");
            if first.is_ok() {
                first = Err(e);
            }
        }
    }
    first
}

/// Starts the thread that does the disk work writers nudge it for, and fsyncs queues
/// with unsynced writes every `interval`.
pub fn spawn_syncer(
    persister: Arc<Persister>,
    registry: Arc<Mutex<Registry>>,
    interval: Duration,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("nsqd-syncer".into())
        .spawn(move || {
            let mut next = Instant::now() + interval;
            while !stop.load(Ordering::SeqCst) {
                if persister.wait_for_nudge(Duration::from_millis(50).min(interval)) {
                    let _ = persister.flush(&registry, false); // reported by /ping
                }
                if Instant::now() >= next {
                    let _ = persister.flush(&registry, true);
                    next = Instant::now() + interval;
                }
            }
        })
}

/// Locks the data directory (as nsqd flocks it), so two nsqd cannot share it. The
/// lock lives as long as the returned file; a lock held elsewhere is a
/// [`std::io::ErrorKind::WouldBlock`] error.
pub fn lock_data_dir(dir: &Path) -> std::io::Result<File> {
    let file = File::open(dir)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(std::io::Error::new(
            std::io::ErrorKind::WouldBlock,
            format!("{} is locked by another nsqd", dir.display()),
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Config;

    fn registry_in(dir: &Path) -> Arc<Mutex<Registry>> {
        let mut reg = Registry::new(Config {
            node_id: 1,
            mem_queue_size: 100,
            data_path: Some(dir.to_path_buf()),
            disk: crate::diskqueue::Config {
                max_bytes_per_file: 1 << 20,
                min_msg_size: 26,
                max_msg_size: 1 << 20,
                sync_every: 2500,
            },
            max_msg_timeout: Duration::from_secs(60),
            max_channel_consumers: 0,
            e2e_percentiles: Vec::new(),
            e2e_window: Duration::from_secs(600),
        });
        reg.topic("t");
        Arc::new(Mutex::new(reg))
    }

    fn temp(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("nsq-persister-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn settle_writes_before_returning_when_every_write_is_synced() {
        let dir = temp("sync1");
        let registry = registry_in(&dir);
        let persister = Persister::new(dir.clone(), true);
        persister.settle(&registry).unwrap();
        assert!(dir.join(metadata::FILE).exists());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn settle_otherwise_hands_the_work_to_the_syncer_at_once() {
        let dir = temp("nudge");
        let registry = registry_in(&dir);
        let persister = Arc::new(Persister::new(dir.clone(), false));
        persister.settle(&registry).unwrap();
        assert!(
            !dir.join(metadata::FILE).exists(),
            "the writer did not wait"
        );
        let stop = Arc::new(AtomicBool::new(false));
        let hour = Duration::from_secs(3600);
        let syncer = spawn_syncer(persister.clone(), registry, hour, stop.clone()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !dir.join(metadata::FILE).exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, Ordering::SeqCst);
        syncer.join().unwrap();
        assert!(
            dir.join(metadata::FILE).exists(),
            "written long before the interval"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
