//! Flow control: the one place RDY is decided. It spreads `max_in_flight` over the
//! links when their number changes, runs go-nsq's backoff (RDY 0 everywhere, sleep,
//! RDY 1 on one random link to probe, full RDY again at level 0), and rotates RDY
//! every `rdy_redistribute_interval` when links outnumber `max_in_flight` or a
//! probe sits on an idle link. Its thread also enforces the stop deadline.
//!
//! Lock order: the flow lock, then the links map, then a link (then its writer).

use super::backoff::{self, Action, Backoff, Signal};
use super::life::STOP_CAP;
use super::link::Link;
use super::rdy::{self, Limits, Slot};
use super::Inner;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long to wait before probing again when no link was there to probe.
const NO_LINK_RETRY: Duration = Duration::from_secs(1);

/// RDY and backoff state, with a condvar for the flow thread.
#[derive(Debug)]
pub(super) struct Flow {
    state: Mutex<FlowState>,
    wake: Condvar,
}

#[derive(Debug)]
struct FlowState {
    max_in_flight: u64,
    backoff: Backoff,
    /// Set while sleeping in backoff: when to probe with RDY 1.
    resume_at: Option<Instant>,
}

impl Flow {
    /// Flow control for `max_in_flight`, not backing off.
    pub(super) fn new(max_in_flight: u64) -> Flow {
        Flow {
            state: Mutex::new(FlowState {
                max_in_flight,
                backoff: Backoff::default(),
                resume_at: None,
            }),
            wake: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, FlowState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wakes the flow thread (stop, or a link gone).
    pub(super) fn wake(&self) {
        let _state = self.lock();
        self.wake.notify_all();
    }

    /// The number of links changed: outside backoff, re-spread RDY.
    pub(super) fn rebalance(&self, inner: &Inner) {
        let state = self.lock();
        if state.backoff.level() == 0 && state.resume_at.is_none() {
            apply_full(&state, inner);
        }
    }

    /// go-nsq's `ChangeMaxInFlight`.
    pub(super) fn set_max_in_flight(&self, inner: &Inner, n: u64) {
        let mut state = self.lock();
        if state.max_in_flight == n {
            return;
        }
        state.max_in_flight = n;
        if state.backoff.level() == 0 && state.resume_at.is_none() {
            apply_full(&state, inner);
        }
    }

    /// A message was answered: move the backoff level and act on it. Signals are
    /// ignored while sleeping, so a burst of failures counts once (as in go-nsq).
    pub(super) fn signal(&self, inner: &Inner, signal: Signal) {
        let mut state = self.lock();
        if state.resume_at.is_some() || inner.is_stopping() {
            return;
        }
        let config = &inner.config;
        let action = state.backoff.apply(
            signal,
            config.backoff_multiplier,
            config.max_backoff_duration,
        );
        match action {
            Action::Nothing => {}
            Action::Exit => {
                log::warn!("exiting backoff, returning all to full RDY");
                apply_full(&state, inner);
            }
            Action::Sleep(level) => {
                let d = backoff::sleep_for(
                    config.backoff_strategy,
                    config.backoff_multiplier,
                    level,
                    config.max_backoff_duration,
                    |n| inner.random_below(n),
                );
                log::warn!("backing off for {d:?} (backoff level {level}), setting all to RDY 0");
                for link in inner.links() {
                    link.set_rdy(0);
                }
                state.resume_at = Some(Instant::now() + d);
                self.wake.notify_all();
            }
        }
    }

    /// The backoff sleep is over: RDY 1 on one random link.
    fn resume(&self, state: &mut FlowState, inner: &Inner) {
        let links = inner.links();
        if links.is_empty() {
            log::warn!("no connection available to resume, backing off for {NO_LINK_RETRY:?}");
            state.resume_at = Some(Instant::now() + NO_LINK_RETRY);
            return;
        }
        let choice = &links[inner.random_below(links.len() as u64) as usize];
        log::warn!("({}) backoff timeout expired, sending RDY 1", choice.addr);
        choice.set_rdy(1);
    }

    /// The periodic rotation (go-nsq's `redistributeRDY`).
    fn redistribute(&self, state: &FlowState, inner: &Inner) {
        let backing_off = state.backoff.level() > 0;
        let links = inner.links();
        if state.resume_at.is_some()
            || !rdy::needs_redistribution(links.len(), state.max_in_flight, backing_off)
        {
            return;
        }
        let budget = if backing_off { 1 } else { state.max_in_flight };
        let limits = Limits {
            idle: inner.config.low_rdy_idle_timeout,
            held: inner.config.low_rdy_timeout,
        };
        let slots = slots(&links);
        let plan = rdy::redistribute(&slots, budget, limits, &mut |n| pick(inner, n));
        apply(&links, &plan);
    }
}

fn pick(inner: &Inner, n: usize) -> usize {
    inner.random_below(n as u64) as usize
}

fn slots(links: &[Arc<Link>]) -> Vec<Slot> {
    let now = Instant::now();
    links.iter().map(|l| l.slot(now)).collect()
}

fn apply(links: &[Arc<Link>], plan: &[u64]) {
    for (link, &count) in links.iter().zip(plan) {
        link.set_rdy(count);
    }
}

/// Full RDY on every link (not while stopping: nsqd ignores RDY after CLS).
fn apply_full(state: &FlowState, inner: &Inner) {
    if inner.is_stopping() {
        return;
    }
    let links = inner.links();
    let plan = rdy::full(&slots(&links), state.max_in_flight, &mut |n| pick(inner, n));
    apply(&links, &plan);
}

/// The flow thread: backoff probes and RDY rotation until stop, then the stop
/// deadline — after [`STOP_CAP`] every socket is closed and queued messages dropped.
pub(super) fn run(inner: &Inner) {
    let flow = &inner.flow;
    let interval = inner.config.rdy_redistribute_interval;
    let mut next_rotation = Instant::now() + interval;
    let mut state = flow.lock();
    while !inner.is_stopping() {
        let now = Instant::now();
        if state.resume_at.is_some_and(|at| at <= now) {
            state.resume_at = None;
            flow.resume(&mut state, inner);
            continue;
        }
        if next_rotation <= now {
            flow.redistribute(&state, inner);
            next_rotation = now + interval;
            continue;
        }
        let until = state
            .resume_at
            .map_or(next_rotation, |at| at.min(next_rotation));
        state = flow
            .wake
            .wait_timeout(state, until - now)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
    let cap = inner.life.stopped_at().unwrap_or_else(Instant::now) + STOP_CAP;
    loop {
        let links = inner.links();
        if links.is_empty() {
            return;
        }
        let now = Instant::now();
        if now >= cap {
            log::warn!("stop: in-flight messages not answered within {STOP_CAP:?}, closing");
            for link in links {
                link.shutdown();
            }
            inner.queue.abandon();
            return;
        }
        state = flow
            .wake
            .wait_timeout(state, cap - now)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}
