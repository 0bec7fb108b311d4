//! End-to-end processing latency (publish to FIN) over a sliding window, for the
//! `e2e_processing_latency` percentiles of `/stats`.
//!
//! Like nsqd's quantile streams, the window is two halves: samples land in the
//! current half; when it is older than half the window it becomes the previous half
//! and the old previous half is dropped. Each half keeps at most [`MAX_SAMPLES`]
//! samples (a uniform reservoir), so memory stays bounded under any load.

use std::time::{Duration, Instant};

/// Samples kept per half-window.
pub const MAX_SAMPLES: usize = 4096;

#[derive(Debug, Clone)]
struct Half {
    started: Instant,
    samples: Vec<u64>,
    seen: u64,
}

impl Half {
    fn new(now: Instant) -> Half {
        Half {
            started: now,
            samples: Vec::new(),
            seen: 0,
        }
    }
}

/// A sliding window of latency samples in nanoseconds.
#[derive(Debug, Clone)]
pub struct LatencyWindow {
    window: Duration,
    current: Half,
    previous: Option<Half>,
    rng: u64,
}

impl LatencyWindow {
    /// An empty window of `window` length.
    pub fn new(window: Duration, now: Instant) -> LatencyWindow {
        LatencyWindow {
            window,
            current: Half::new(now),
            previous: None,
            rng: 0x2545_f491_4f6c_dd1d,
        }
    }

    fn rotate(&mut self, now: Instant) {
        let half = self.window / 2;
        if now.duration_since(self.current.started) >= half {
            let old = std::mem::replace(&mut self.current, Half::new(now));
            self.previous = (now.duration_since(old.started) < self.window).then_some(old);
        }
    }

    /// Records one latency.
    pub fn record(&mut self, nanos: u64, now: Instant) {
        self.rotate(now);
        let half = &mut self.current;
        half.seen += 1;
        if half.samples.len() < MAX_SAMPLES {
            half.samples.push(nanos);
        } else {
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            let slot = self.rng % half.seen;
            if let Some(s) = half.samples.get_mut(slot as usize) {
                *s = nanos;
            }
        }
    }

    /// Samples seen in the window.
    pub fn count(&mut self, now: Instant) -> u64 {
        self.rotate(now);
        self.current.seen + self.previous.as_ref().map_or(0, |p| p.seen)
    }

    /// The value at each quantile in `quantiles` (each in (0, 1]), nearest rank over
    /// the kept samples; empty when there are none.
    pub fn percentiles(&mut self, quantiles: &[f64], now: Instant) -> Vec<(f64, f64)> {
        self.rotate(now);
        let mut all: Vec<u64> = self.current.samples.clone();
        if let Some(p) = &self.previous {
            all.extend_from_slice(&p.samples);
        }
        if all.is_empty() {
            return Vec::new();
        }
        all.sort_unstable();
        quantiles
            .iter()
            .map(|&q| {
                let rank = ((q * all.len() as f64).ceil() as usize).clamp(1, all.len());
                (q, all[rank - 1] as f64)
            })
            .collect()
    }

    /// Merges another window's kept samples into this one (a topic's view of its channels).
    pub fn merge(&mut self, other: &LatencyWindow) {
        for s in other
            .current
            .samples
            .iter()
            .chain(other.previous.iter().flat_map(|p| p.samples.iter()))
        {
            if self.current.samples.len() < MAX_SAMPLES * 4 {
                self.current.samples.push(*s);
            }
        }
        self.current.seen += other.current.seen + other.previous.as_ref().map_or(0, |p| p.seen);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let now = Instant::now();
        let mut w = LatencyWindow::new(Duration::from_secs(600), now);
        for v in 1..=100 {
            w.record(v, now);
        }
        assert_eq!(w.count(now), 100);
        assert_eq!(
            w.percentiles(&[0.5, 0.99, 1.0], now),
            vec![(0.5, 50.0), (0.99, 99.0), (1.0, 100.0)]
        );
    }

    #[test]
    fn old_samples_leave_the_window() {
        let start = Instant::now();
        let mut w = LatencyWindow::new(Duration::from_secs(10), start);
        w.record(5, start);
        let later = start + Duration::from_secs(6);
        w.record(7, later);
        assert_eq!(w.count(later), 2);
        let much_later = start + Duration::from_secs(12);
        assert_eq!(w.count(much_later), 1);
        assert_eq!(w.percentiles(&[1.0], much_later), vec![(1.0, 7.0)]);
        let gone = start + Duration::from_secs(30);
        assert_eq!(w.count(gone), 0);
        assert!(w.percentiles(&[0.5], gone).is_empty());
    }

    #[test]
    fn memory_is_bounded() {
        let now = Instant::now();
        let mut w = LatencyWindow::new(Duration::from_secs(600), now);
        for v in 0..100_000 {
            w.record(v, now);
        }
        assert_eq!(w.count(now), 100_000);
        assert!(w.current.samples.len() <= MAX_SAMPLES);
    }
}
