//! Getting nsqd's state onto disk without holding the registry lock across an fsync:
//! [`Persister::flush`] collects the work under the registry lock and does it after
//! releasing it — disk-queue fsyncs and `nsqd.dat` writes.
//!
//! Flushes are serialized by the persister's own lock, held from collecting to the
//! end of the fsyncs: a writer whose record was collected into another flush's job
//! waits for that job, so nobody answers `OK` before its write is durable. The V2
//! handler flushes once per batch of commands read from a socket, before the replies
//! are sent, so with `--sync-every=1` every command of the batch shares one fsync
//! (group commit). A syncer thread does the `--sync-timeout` fsyncs.

use super::v2::lock;
use crate::diskqueue::SyncJob;
use crate::registry::metadata::{self, Metadata};
use crate::registry::Registry;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Disk work collected under the registry lock.
#[derive(Default)]
struct Pending {
    jobs: Vec<SyncJob>,
    metadata: Option<(u64, Metadata)>,
}

/// Writes what the registry owes the disk.
pub struct Persister {
    data_path: PathBuf,
    /// The generation of the last metadata collected and of the last one written.
    generations: Mutex<(u64, u64)>,
    /// Held from collecting to the end of the disk work (taken before the registry).
    flushing: Mutex<()>,
}

impl Persister {
    /// A persister for `data_path`.
    pub fn new(data_path: PathBuf) -> Persister {
        Persister {
            data_path,
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

    /// Does the collected work, without the registry lock.
    fn finish(&self, pending: Pending) {
        for job in pending.jobs {
            if let Err(e) = job.run() {
                log::error!("diskqueue sync failed: {e}");
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
    }

    /// Makes every write done so far durable as the flags ask (`force_sync`: fsync
    /// any unsynced queue), and saves changed metadata. Call it without holding the
    /// registry lock; it takes it briefly.
    pub fn flush(&self, registry: &Mutex<Registry>, force_sync: bool) {
        let _serial = self.flushing.lock().unwrap_or_else(|p| p.into_inner());
        let pending = self.collect(&mut lock(registry), force_sync);
        self.finish(pending);
    }
}

/// Starts the thread that fsyncs queues with unsynced writes every `interval`.
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
                std::thread::sleep(Duration::from_millis(50).min(interval));
                if Instant::now() >= next {
                    persister.flush(&registry, true);
                    next = Instant::now() + interval;
                }
            }
        })
}

/// Locks the data directory (as nsqd flocks it), so two nsqd cannot share it. The
/// lock lives as long as the returned file.
pub fn lock_data_dir(dir: &Path) -> std::io::Result<File> {
    let file = File::open(dir)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(std::io::Error::other(format!(
            "--data-path={} in use (locked by another nsqd)",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}
