//! The consumer's lifetime: how many of its threads are alive and when stop began,
//! so `wait()` can return once every thread has exited — or once the stop deadline
//! has passed, as go-nsq's `StopChan` closes after 30 s whatever handlers are doing.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a stop waits for in-flight messages before closing everything.
pub(super) const STOP_CAP: Duration = Duration::from_secs(30);

/// Live threads and the stop time, with a condvar for waiters.
#[derive(Debug, Default)]
pub(super) struct Life {
    state: Mutex<LifeState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct LifeState {
    live: usize,
    stopped_at: Option<Instant>,
}

impl Life {
    fn lock(&self) -> MutexGuard<'_, LifeState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A thread is about to start.
    pub(super) fn enter(&self) {
        self.lock().live += 1;
    }

    /// A thread has finished (or failed to start).
    pub(super) fn leave(&self) {
        let mut state = self.lock();
        state.live = state.live.saturating_sub(1);
        drop(state);
        self.changed.notify_all();
    }

    /// Records that stop began (the first call counts).
    pub(super) fn mark_stopped(&self) {
        self.lock().stopped_at.get_or_insert_with(Instant::now);
        self.changed.notify_all();
    }

    /// When stop began, if it has.
    pub(super) fn stopped_at(&self) -> Option<Instant> {
        self.lock().stopped_at
    }

    /// Waits until stopped and every thread has exited (or [`STOP_CAP`] after stop),
    /// or until `until`; true when stopped.
    pub(super) fn wait(&self, until: Option<Instant>) -> bool {
        let mut state = self.lock();
        loop {
            let now = Instant::now();
            let cap = state.stopped_at.map(|at| at + STOP_CAP);
            if cap.is_some() && (state.live == 0 || cap.is_some_and(|c| now >= c)) {
                return true;
            }
            if until.is_some_and(|u| now >= u) {
                return false;
            }
            let wake = match (cap, until) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            state = match wake {
                Some(at) => {
                    self.changed
                        .wait_timeout(state, at.saturating_duration_since(now))
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
                None => self.changed.wait(state).unwrap_or_else(|p| p.into_inner()),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_returns_once_stopped_and_threads_are_gone() {
        let life = Life::default();
        life.enter();
        let soon = Instant::now() + Duration::from_millis(20);
        assert!(!life.wait(Some(soon)));
        life.mark_stopped();
        assert!(!life.wait(Some(Instant::now() + Duration::from_millis(20))));
        life.leave();
        assert!(life.wait(None));
        assert!(life.stopped_at().is_some());
    }
}
