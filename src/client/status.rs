//! The tools' `--status-every N` lines (Go's `timer_metrics`): a ring of the last N
//! request durations; every N records after the first, one line `PREFIX finished N
//! - 99th: 3.33ms - 95th: 3.33ms - avg: 2.56ms` at INFO.

use std::sync::Mutex;
use std::time::Duration;

/// One timer (`[aggregate]`, or one destination).
#[derive(Debug)]
pub struct StatusTimer {
    prefix: String,
    every: usize,
    ring: Mutex<(Vec<Duration>, usize)>,
}

impl StatusTimer {
    /// A timer logging every `every` records (0: never); warns, as Go does, when
    /// `every` is below 100.
    pub fn new(prefix: &str, every: usize) -> StatusTimer {
        if every > 0 && every < 100 {
            log::warn!("Warning: use more than 100 status values for accurate percentiles (configured with {every})");
        }
        StatusTimer {
            prefix: prefix.to_string(),
            every,
            ring: Mutex::new((Vec::with_capacity(every), 0)),
        }
    }

    /// Records one duration; returns the status line when one is due (also logged).
    pub fn record(&self, took: Duration) -> Option<String> {
        if self.every == 0 {
            return None;
        }
        let mut guard = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        let (ring, count) = &mut *guard;
        let line = (*count > 0 && *count % self.every == 0).then(|| self.line(ring));
        if ring.len() < self.every {
            ring.push(took);
        } else {
            ring[*count % self.every] = took;
        }
        *count += 1;
        if let Some(line) = &line {
            log::info!("{line}");
        }
        line
    }

    fn line(&self, ring: &[Duration]) -> String {
        let mut sorted = ring.to_vec();
        sorted.sort();
        let n = sorted.len();
        let at = |p: f64| {
            let i = ((p / 100.0) * n as f64 + 0.5).ceil() as usize;
            sorted[i.min(n - 1)]
        };
        let avg = sorted.iter().sum::<Duration>() / n as u32;
        format!(
            "{} finished {} - 99th: {} - 95th: {} - avg: {}",
            self.prefix,
            n,
            ms(at(99.0)),
            ms(at(95.0)),
            ms(avg)
        )
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}ms", d.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_every_n_records_after_the_first_window() {
        let t = StatusTimer::new("[aggregate]:", 3);
        let d = |ms: u64| Duration::from_millis(ms);
        assert_eq!(t.record(d(1)), None);
        assert_eq!(t.record(d(2)), None);
        assert_eq!(t.record(d(3)), None);
        assert_eq!(
            t.record(d(4)).as_deref(),
            Some("[aggregate]: finished 3 - 99th: 3.00ms - 95th: 3.00ms - avg: 2.00ms")
        );
        assert_eq!(StatusTimer::new("x", 0).record(d(1)), None);
    }
}
