//! Finding nsqds: the configured lookupds (polled one at a time, round-robin, every
//! `lookupd_poll_interval` after an initial random jitter, and at once when a link
//! closes) and the directly configured nsqds (re-dialed every
//! `lookupd_poll_interval` while missing). It only decides whom to dial; opening a
//! link is [`Inner::connect`]'s job.
//!
//! One poll asks each lookupd at most once (go-nsq asks up to three times, even the
//! same one), and the same failure repeated is logged once with a count
//! ([`Repeats`]), so a lookupd that is down costs one line, not three a poll.

use super::lookup;
use super::Inner;
use crate::client::Error;
use crate::logging::Repeats;
use log::Level;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How many lookupds one poll tries before giving up until the next (go-nsq's 3).
const TRIES_PER_POLL: usize = 3;
/// The same failure is logged at most this often (with a count of the repeats).
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// Discovery state, with a condvar for the discovery thread.
#[derive(Debug)]
pub(super) struct Discovery {
    state: Mutex<DiscoveryState>,
    wake: Condvar,
    /// Failed lookupd queries and failed dials, each collapsed while it repeats.
    query_errors: Repeats,
    dial_errors: Repeats,
}

#[derive(Debug)]
struct DiscoveryState {
    lookupds: Vec<String>,
    next_lookupd: usize,
    direct: Vec<String>,
    /// A link closed: poll the lookupds now.
    repoll: bool,
    next_poll: Option<Instant>,
    next_retry: Instant,
}

impl Discovery {
    /// Nothing configured; the first direct retry is one interval from `now`.
    pub(super) fn new(next_retry: Instant) -> Discovery {
        Discovery {
            state: Mutex::new(DiscoveryState {
                lookupds: Vec::new(),
                next_lookupd: 0,
                direct: Vec::new(),
                repoll: false,
                next_poll: None,
                next_retry,
            }),
            wake: Condvar::new(),
            query_errors: Repeats::new(REPORT_EVERY),
            dial_errors: Repeats::new(REPORT_EVERY),
        }
    }

    fn lock(&self) -> MutexGuard<'_, DiscoveryState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wakes the discovery thread (stop).
    pub(super) fn wake(&self) {
        let _state = self.lock();
        self.wake.notify_all();
    }

    /// Adds a lookupd; `Some(true)` when it is the first, `None` when already known.
    /// The first schedules periodic polls from `first_poll` on.
    pub(super) fn add_lookupd(&self, addr: &str, first_poll: Instant) -> Option<bool> {
        let mut state = self.lock();
        if state.lookupds.iter().any(|a| a == addr) {
            return None;
        }
        state.lookupds.push(addr.to_string());
        let first = state.lookupds.len() == 1;
        if first {
            state.next_poll = Some(first_poll);
            self.wake.notify_all();
        }
        Some(first)
    }

    /// Remembers a directly connected nsqd, to re-dial while it is missing.
    pub(super) fn add_direct(&self, addr: &str) {
        let mut state = self.lock();
        if !state.direct.iter().any(|a| a == addr) {
            state.direct.push(addr.to_string());
        }
    }

    /// Forgets a direct nsqd; false when it was not configured.
    pub(super) fn remove_direct(&self, addr: &str) -> bool {
        let mut state = self.lock();
        let before = state.direct.len();
        state.direct.retain(|a| a != addr);
        state.direct.len() != before
    }

    /// A link closed: with lookupds configured, poll now (go-nsq's recheck).
    pub(super) fn request_repoll(&self) {
        let mut state = self.lock();
        if !state.lookupds.is_empty() {
            state.repoll = true;
            self.wake.notify_all();
        }
    }

    /// How many lookupds are configured.
    fn lookupd_count(&self) -> usize {
        self.lock().lookupds.len()
    }

    /// The next lookupd in round-robin order.
    fn next_lookupd(&self) -> Option<String> {
        let mut state = self.lock();
        if state.lookupds.is_empty() {
            return None;
        }
        let i = state.next_lookupd % state.lookupds.len();
        state.next_lookupd = (i + 1) % state.lookupds.len();
        Some(state.lookupds[i].clone())
    }
}

/// One poll: ask lookupds in turn (up to [`TRIES_PER_POLL`], each at most once)
/// until one answers, then dial every producer not yet connected.
pub(super) fn poll_lookupds(inner: &std::sync::Arc<Inner>) {
    let config = &inner.config;
    let tries = TRIES_PER_POLL.min(inner.discovery.lookupd_count());
    for _ in 0..tries {
        let Some(addr) = inner.discovery.next_lookupd() else {
            return;
        };
        log::debug!("querying nsqlookupd {addr}");
        match lookup::query(
            &addr,
            &inner.topic,
            config.lookupd_poll_timeout,
            &config.auth_secret,
            config.tls_config.as_ref(),
        ) {
            Ok(producers) => {
                inner.discovery.query_errors.reset();
                for nsqd in producers {
                    dial(inner, &nsqd);
                }
                return;
            }
            Err(e) => inner.discovery.query_errors.log(
                Level::Error,
                format_args!("error querying nsqlookupd ({addr}) - {e}"),
            ),
        }
    }
}

fn dial(inner: &std::sync::Arc<Inner>, addr: &str) {
    match inner.connect(addr) {
        Ok(()) => inner.discovery.dial_errors.reset(),
        Err(Error::Stopped) => {}
        Err(e) => inner.discovery.dial_errors.log(
            Level::Warn,
            format_args!("({addr}) error connecting to nsqd - {e}"),
        ),
    }
}

/// The discovery thread: polls and re-dials on schedule until stop.
pub(super) fn run(inner: &std::sync::Arc<Inner>) {
    let interval = inner.config.lookupd_poll_interval;
    let discovery = &inner.discovery;
    let mut state = discovery.lock();
    while !inner.is_stopping() {
        let now = Instant::now();
        let poll_due = state.next_poll.is_some_and(|t| t <= now);
        let retry_due = state.next_retry <= now;
        if state.repoll || poll_due || retry_due {
            let poll = state.repoll || poll_due;
            state.repoll = false;
            if poll_due {
                state.next_poll = Some(now + interval);
            }
            let missing: Vec<String> = if retry_due {
                state.next_retry = now + interval;
                state.direct.clone()
            } else {
                Vec::new()
            };
            drop(state);
            if poll {
                poll_lookupds(inner);
            }
            for addr in missing {
                if !inner.is_connected(&addr) {
                    log::info!("({addr}) re-connecting to nsqd");
                    dial(inner, &addr);
                }
            }
            state = discovery.lock();
            continue;
        }
        let until = state
            .next_poll
            .map_or(state.next_retry, |t| t.min(state.next_retry));
        state = discovery
            .wake
            .wait_timeout(state, until - now)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}
