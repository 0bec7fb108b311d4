//! Getting nsqd's state onto disk without holding the registry lock across an fsync:
//! `Persister::flush` collects the work under the registry lock and does it after
//! releasing it — disk-queue fsyncs and `nsqd.dat` writes. Only the syncer thread
//! ([`spawn_syncer`]) flushes; no writer ever waits in an fsync itself.
//!
//! With `--sync-every=1` an OK waits for its fsync, by group commit: a writer that
//! published calls [`Persister::settle`] once the write is in the registry, and gets
//! a [`Ticket`]. The syncer takes every ticket asked for so far, flushes once (one
//! fsync per queue file touched, whoever wrote it) and marks them all committed; it
//! then wakes the reactor, which releases the OKs those tickets held
//! (`nsqd/v2/owed.rs`), and the HTTP workers waiting in [`Persister::wait`]. Writes
//! that arrive while an fsync runs share the next one. A failed flush fails exactly
//! the tickets it covered.
//!
//! Otherwise an OK promises no fsync (as in Go's nsqd), so writers only nudge the
//! syncer thread, which does the fsyncs due every `--sync-every` writes and saves
//! changed metadata at once, and fsyncs everything every `--sync-timeout`.
//!
//! A clean stop ([`stop`]) writes every queue, then makes it durable with one
//! `syncfs` per data directory.
//!
//! Two test hooks, read at start from the environment (no user sets them): tests
//! delay each group commit by `NSQ_RS_TEST_FSYNC_DELAY_MS` milliseconds to show that
//! no OK overtakes its fsync, and fail the first `NSQ_RS_TEST_FAIL_COMMITS` commits
//! to show what a failing fsync answers.

use crate::diskqueue::SyncJob;
use crate::reactor::Wakeup;
use crate::registry::lock;
use crate::registry::metadata::{self, Metadata};
use crate::registry::Registry;
use crate::registry::TopicStop;
use std::collections::{HashSet, VecDeque};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A writer's place in the group-commit order: its OK may go once the commit of
/// this number is done.
pub type Ticket = u64;

/// Failed commits remembered for late askers; older ones are forgotten, and a
/// ticket that old is then reported failed (never wrongly committed).
const FAILURES_KEPT: usize = 1024;

/// A test hook's environment variable: milliseconds to wait before each commit.
pub const TEST_DELAY_ENV: &str = "NSQ_RS_TEST_FSYNC_DELAY_MS";
/// A test hook's environment variable: how many group commits to fail (after their
/// real fsyncs), as a failing disk would.
pub const TEST_FAIL_ENV: &str = "NSQ_RS_TEST_FAIL_COMMITS";

/// Group-commit bookkeeping, under one mutex.
#[derive(Default)]
struct Commits {
    /// The last ticket given out, and the last one committed (or failed).
    requested: Ticket,
    done: Ticket,
    /// A writer without a ticket asked for the disk work owed.
    nudged: bool,
    /// Failed commits: the tickets after `.0` up to `.1`, and why.
    failures: VecDeque<(Ticket, Ticket, String)>,
    /// Tickets up to this one are failed if not found committed: their failures
    /// were forgotten.
    forgotten: Ticket,
    /// The syncer has stopped: a ticket not committed by now never will be.
    closed: bool,
}

impl Commits {
    /// How commit `ticket` ended: `None` while it is pending.
    fn outcome(&self, ticket: Ticket) -> Option<Result<(), String>> {
        if ticket > self.done {
            return self.closed.then(|| Err("exiting".to_string()));
        }
        let failed = self.failures.iter().find(|f| f.0 < ticket && ticket <= f.1);
        match failed {
            Some(f) => Some(Err(f.2.clone())),
            None if ticket <= self.forgotten => Some(Err("fsync failed".to_string())),
            None => Some(Ok(())),
        }
    }
}

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
    /// Tickets and nudges; the syncer waits on `work`, HTTP writers on `committed`.
    commits: Mutex<Commits>,
    work: Condvar,
    committed: Condvar,
    /// Group commits done, and queue syncs (a queue's data files, meta file and
    /// directory) they ran: `/metrics` shows them.
    commit_count: AtomicU64,
    sync_count: AtomicU64,
    /// The test hooks: a delay before each commit, and commits left to fail.
    test_delay: Duration,
    test_failures: AtomicU64,
    /// The generation of the last metadata collected and of the last one written.
    generations: Mutex<(u64, u64)>,
    /// Held from collecting to the end of the disk work (taken before the registry).
    flushing: Mutex<()>,
}

impl Persister {
    /// A persister for `data_path`; `sync_every_write` (`--sync-every=1`) makes
    /// [`Persister::settle`] hand out tickets to wait on.
    pub fn new(data_path: PathBuf, sync_every_write: bool) -> Persister {
        Persister {
            data_path,
            sync_every_write,
            commits: Mutex::default(),
            work: Condvar::new(),
            committed: Condvar::new(),
            commit_count: AtomicU64::new(0),
            sync_count: AtomicU64::new(0),
            test_delay: Duration::from_millis(env_number(TEST_DELAY_ENV)),
            test_failures: AtomicU64::new(env_number(TEST_FAIL_ENV)),
            generations: Mutex::new((0, 0)),
            flushing: Mutex::new(()),
        }
    }

    /// The data path.
    pub fn data_path(&self) -> &Path {
        &self.data_path
    }

    /// True with `--sync-every=1`: OKs wait for their group commit.
    pub fn sync_every_write(&self) -> bool {
        self.sync_every_write
    }

    /// Group commits done so far, and the queue syncs they ran.
    pub fn counters(&self) -> (u64, u64) {
        (
            self.commit_count.load(Ordering::Relaxed),
            self.sync_count.load(Ordering::Relaxed),
        )
    }

    fn commits(&self) -> MutexGuard<'_, Commits> {
        self.commits.lock().unwrap_or_else(|p| p.into_inner())
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
        self.sync_count
            .fetch_add(pending.jobs.len() as u64, Ordering::Relaxed);
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
    /// any unsynced queue), and saves changed metadata; takes the registry lock
    /// briefly, to collect the work and the last ticket given out (whose write it
    /// covers: tickets are taken under that lock). A failed fsync is reported by
    /// `/ping` and returned.
    fn flush(&self, registry: &Mutex<Registry>, force_sync: bool) -> (Ticket, std::io::Result<()>) {
        let _serial = self.flushing.lock().unwrap_or_else(|p| p.into_inner());
        let mut reg = lock(registry);
        let covered = self.commits().requested;
        let pending = self.collect(&mut reg, force_sync);
        drop(reg);
        // The test hook delays every commit that covers a ticket, after the work
        // (and so the tickets it covers) is collected: a ticket taken just
        // before can never slip through undelayed.
        if !self.test_delay.is_zero() && covered > self.commits().done {
            std::thread::sleep(self.test_delay);
        }
        let result = self.finish(pending);
        if result.is_err() {
            lock(registry).record_sync(&result);
        }
        (covered, result)
    }

    /// After a change, still under the registry lock (so that the flush that
    /// collects the write knows its ticket): with `--sync-every=1` and
    /// `published`, the ticket whose commit the OK must wait for (see
    /// [`Persister::wait`], [`Persister::outcome`]); otherwise asks the syncer thread
    /// to do the disk work owed, and `None`: nothing to wait for.
    pub fn settle(&self, published: bool) -> Option<Ticket> {
        let mut commits = self.commits();
        let ticket = if self.sync_every_write && published {
            commits.requested += 1;
            Some(commits.requested)
        } else {
            commits.nudged = true;
            None
        };
        drop(commits);
        self.work.notify_one();
        ticket
    }

    /// The last ticket whose commit ended (done or failed).
    pub fn committed(&self) -> Ticket {
        self.commits().done
    }

    /// How the commit of `ticket` ended; `None` while it is pending.
    pub fn outcome(&self, ticket: Ticket) -> Option<Result<(), String>> {
        self.commits().outcome(ticket)
    }

    /// Blocks until the commit of `ticket` ends (for threads that may block: the
    /// HTTP workers); an error if it failed or nsqd stopped first.
    pub fn wait(&self, ticket: Ticket) -> std::io::Result<()> {
        let commits = self.commits();
        let commits = (self.committed)
            .wait_while(commits, |c| c.outcome(ticket).is_none())
            .unwrap_or_else(|p| p.into_inner());
        match commits.outcome(ticket) {
            Some(Err(e)) => Err(std::io::Error::other(e)),
            _ => Ok(()),
        }
    }

    /// Waits up to `timeout` for tickets or a nudge; true if there is work.
    fn wait_for_work(&self, timeout: Duration) -> bool {
        let commits = self.commits();
        let (mut c, _) = (self.work)
            .wait_timeout_while(commits, timeout, |c| c.requested == c.done && !c.nudged)
            .unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut c.nudged) || c.requested > c.done
    }

    /// One group commit: makes every write done so far durable (`force`: every
    /// unsynced queue, not only those due) and ends every ticket taken before the
    /// work was collected — exactly the writes it synced. True if tickets ended.
    fn commit(&self, registry: &Mutex<Registry>, force: bool) -> bool {
        let (target, mut result) = self.flush(registry, force);
        let mut c = self.commits();
        if target <= c.done {
            return false;
        }
        if result.is_ok() && self.test_failures.load(Ordering::Relaxed) > 0 {
            self.test_failures.fetch_sub(1, Ordering::Relaxed);
            result = Err(std::io::Error::other("injected fsync failure (test hook)"));
        }
        self.commit_count.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = result {
            log::error!(
                "group commit of tickets {}..={target} failed: {e}",
                c.done + 1
            );
            let done = c.done;
            c.failures.push_back((done, target, e.to_string()));
            if c.failures.len() > FAILURES_KEPT {
                if let Some((_, upto, _)) = c.failures.pop_front() {
                    c.forgotten = upto;
                }
            }
        }
        c.done = target;
        drop(c);
        self.committed.notify_all();
        true
    }

    /// The syncer is gone: waiters get their answer.
    fn close(&self) {
        self.commits().closed = true;
        self.committed.notify_all();
    }
}

/// A test hook's number from the environment (0 when unset or not a number).
fn env_number(name: &str) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
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

/// Starts the thread that does the group commits and the disk work writers nudge it
/// for, and fsyncs queues with unsynced writes every `interval`; it wakes the reactor
/// through `wakeup` after each commit. Once `stop` is set it commits what is asked
/// and returns.
pub fn spawn_syncer(
    persister: Arc<Persister>,
    registry: Arc<Mutex<Registry>>,
    interval: Duration,
    stop: Arc<AtomicBool>,
    wakeup: Wakeup,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("nsqd-syncer".into())
        .spawn(move || {
            let mut next = Instant::now() + interval;
            loop {
                let stopping = stop.load(Ordering::SeqCst);
                let wait = match stopping {
                    true => Duration::ZERO,
                    false => Duration::from_millis(50).min(interval),
                };
                let due = Instant::now() >= next;
                if (persister.wait_for_work(wait) || due) && persister.commit(&registry, due) {
                    wakeup.wake();
                }
                if due {
                    next = Instant::now() + interval;
                }
                if stopping {
                    break;
                }
            }
            persister.close();
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

    fn wakeup() -> Wakeup {
        crate::reactor::Reactor::<()>::bind("127.0.0.1:0".parse().unwrap())
            .unwrap()
            .wakeup()
    }

    /// Runs a syncer until `done` is true (5 s at most), then stops it.
    fn with_syncer(
        persister: &Arc<Persister>,
        registry: Arc<Mutex<Registry>>,
        done: impl Fn() -> bool,
    ) {
        let stop = Arc::new(AtomicBool::new(false));
        let hour = Duration::from_secs(3600);
        let syncer =
            spawn_syncer(persister.clone(), registry, hour, stop.clone(), wakeup()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !done() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, Ordering::SeqCst);
        syncer.join().unwrap();
    }

    #[test]
    fn tickets_end_with_the_group_commit_that_covers_them() {
        let dir = temp("sync1");
        let registry = registry_in(&dir);
        let persister = Arc::new(Persister::new(dir.clone(), true));
        let first = persister.settle(true).expect("a ticket");
        let second = persister.settle(true).expect("a ticket");
        assert!(second > first);
        assert_eq!(persister.outcome(first), None, "no syncer: still pending");
        assert_eq!(
            persister.settle(false),
            None,
            "nothing published: nothing to wait for"
        );
        let p = persister.clone();
        with_syncer(&persister, registry, move || p.committed() >= second);
        assert_eq!(persister.outcome(first), Some(Ok(())));
        persister.wait(second).unwrap();
        assert!(dir.join(metadata::FILE).exists());
        assert!(persister.counters().0 >= 1, "commits are counted");
        // The syncer is gone: a later ticket fails rather than waiting forever.
        let late = persister.settle(true).expect("a ticket");
        assert!(persister.wait(late).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn failures_end_exactly_their_tickets_and_are_never_forgotten_as_success() {
        let mut c = Commits {
            requested: 9,
            done: 6,
            failures: [(2, 4, "disk".to_string())].into(),
            ..Commits::default()
        };
        assert_eq!(c.outcome(2), Some(Ok(())));
        assert_eq!(c.outcome(3), Some(Err("disk".into())));
        assert_eq!(c.outcome(4), Some(Err("disk".into())));
        assert_eq!(c.outcome(5), Some(Ok(())));
        assert_eq!(c.outcome(7), None);
        c.failures.clear();
        c.forgotten = 4;
        assert!(c.outcome(1).is_some_and(|r| r.is_err()));
        c.closed = true;
        assert!(c.outcome(8).is_some_and(|r| r.is_err()));
    }

    #[test]
    fn settle_otherwise_hands_the_work_to_the_syncer_at_once() {
        let dir = temp("nudge");
        let registry = registry_in(&dir);
        let persister = Arc::new(Persister::new(dir.clone(), false));
        assert_eq!(persister.settle(true), None, "an OK waits for no fsync");
        assert!(
            !dir.join(metadata::FILE).exists(),
            "the writer did not wait"
        );
        let file = dir.join(metadata::FILE);
        let seen = file.clone();
        with_syncer(&persister, registry, move || seen.exists());
        assert!(file.exists(), "written long before the interval");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
