//! The health of nsqd's disk, shared by every queue: how many writes happened since the
//! registry last looked for fsyncs owed, and the error of the most recent failed write
//! or fsync — what `/ping` and `/stats` report as `NOK - <error>` until a write succeeds
//! again, as Go's nsqd does. Failures are logged at most once a second per error text,
//! with a count of the repeats, so a full disk cannot flood the log.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often one repeated error is logged.
const LOG_EVERY: Duration = Duration::from_secs(1);

/// Shared disk state (one per registry, an `Arc` in every backlog).
#[derive(Debug, Default)]
pub struct DiskStatus {
    /// Writes since the syncer last looked, and since the start.
    writes: AtomicU64,
    writes_total: AtomicU64,
    state: Mutex<ErrorState>,
}

#[derive(Debug, Default)]
struct ErrorState {
    /// The most recent failure, cleared by the next success.
    error: Option<String>,
    /// The text last logged, when, and how many repeats were not logged since.
    logged: Option<(String, Instant)>,
    suppressed: u64,
}

impl DiskStatus {
    /// Counts one disk write and records how it went (`what`: the queue, for the log).
    pub fn wrote(&self, what: &str, result: &io::Result<()>) {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.writes_total.fetch_add(1, Ordering::Relaxed);
        self.record(what, result);
    }

    /// Records how a disk write or fsync of queue `what` went.
    pub fn record(&self, what: &str, result: &io::Result<()>) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let e = match result {
            Ok(()) => {
                if state.error.take().is_some() {
                    log::info!("DISKQUEUE({what}): writes succeed again; health OK");
                }
                return;
            }
            Err(e) => e.to_string(),
        };
        let now = Instant::now();
        let repeat = state
            .logged
            .as_ref()
            .is_some_and(|(text, at)| *text == e && now.duration_since(*at) < LOG_EVERY);
        if repeat {
            state.suppressed += 1;
        } else {
            let more = std::mem::take(&mut state.suppressed);
            if more > 0 {
                log::error!(
                    "DISKQUEUE({what}): write failed - {e} ({more} more since the last report)"
                );
            } else {
                log::error!("DISKQUEUE({what}): write failed - {e}");
            }
            state.logged = Some((e.clone(), now));
        }
        state.error = Some(e);
    }

    /// The error `/ping` reports, if the most recent write failed.
    pub fn error(&self) -> Option<String> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.error.clone()
    }

    /// Disk writes since the last call.
    pub fn take_writes(&self) -> u64 {
        self.writes.swap(0, Ordering::Relaxed)
    }

    /// Disk writes since the start (tried, whether they succeeded or not).
    pub fn writes_total(&self) -> u64 {
        self.writes_total.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_reported_until_the_next_success() {
        let status = DiskStatus::default();
        assert_eq!(status.error(), None);
        status.wrote("q", &Err(io::Error::other("no space left on device")));
        status.wrote("q", &Err(io::Error::other("no space left on device")));
        assert_eq!(status.error().as_deref(), Some("no space left on device"));
        assert_eq!(status.take_writes(), 2);
        assert_eq!(status.take_writes(), 0);
        status.wrote("q", &Ok(()));
        assert_eq!(status.error(), None);
    }

    #[test]
    fn repeats_within_a_second_are_counted_not_logged() {
        let status = DiskStatus::default();
        for _ in 0..1000 {
            status.record("q", &Err(io::Error::other("full")));
        }
        let state = status.state.lock().unwrap();
        assert_eq!(state.suppressed, 999);
    }
}
