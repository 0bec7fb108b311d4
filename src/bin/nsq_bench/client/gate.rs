//! The start line the workers meet at: connected workers arrive, the main thread
//! opens it once all have, and a worker that fails still counts as arrived.

use std::sync::{Condvar, Mutex, MutexGuard};

/// A start line: workers arrive when connected, the main thread waits for all of
/// them and then opens it. Unlike a `Barrier`, a worker that fails still arrives
/// (see [`Arrival`]), so nobody waits forever.
#[derive(Default)]
pub(super) struct Gate {
    state: Mutex<(usize, bool)>,
    cv: Condvar,
}

impl Gate {
    pub(super) fn lock(&self) -> MutexGuard<'_, (usize, bool)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn arrive(&self) {
        self.lock().0 += 1;
        self.cv.notify_all();
    }

    pub(super) fn wait_open(&self) {
        let mut st = self.lock();
        while !st.1 {
            st = self.cv.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Waits until `n` workers arrived.
    pub(super) fn wait_arrived(&self, n: usize) {
        let mut st = self.lock();
        while st.0 < n {
            st = self.cv.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    pub(super) fn open(&self) {
        self.lock().1 = true;
        self.cv.notify_all();
    }
}

/// One worker's arrival at a [`Gate`]; arrives on drop if the worker never did.
pub(super) struct Arrival<'a> {
    gate: &'a Gate,
    arrived: bool,
}

impl<'a> Arrival<'a> {
    pub(super) fn new(gate: &'a Gate) -> Self {
        Arrival {
            gate,
            arrived: false,
        }
    }

    pub(super) fn arrive(&mut self) {
        if !self.arrived {
            self.arrived = true;
            self.gate.arrive();
        }
    }

    pub(super) fn arrive_and_wait(&mut self) {
        self.arrive();
        self.gate.wait_open();
    }
}

impl Drop for Arrival<'_> {
    fn drop(&mut self) {
        self.arrive();
    }
}
