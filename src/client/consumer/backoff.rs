//! Failure policy as pure arithmetic: the backoff level go-nsq keeps, how long a
//! level sleeps, and the default requeue delay. No clocks, no I/O: callers bring the
//! randomness and act on the returned [`Action`].

use crate::client::BackoffStrategy;
use std::time::Duration;

/// What a handled message says about the consumer's health (go-nsq's signals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Signal {
    /// A message was finished: one level down.
    Resume,
    /// A message was requeued with backoff: one level up.
    Backoff,
    /// A message was requeued without backoff: the level stays.
    Continue,
}

/// What the consumer must do after a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    /// Nothing changes.
    Nothing,
    /// Backoff is over: restore full RDY everywhere.
    Exit,
    /// Send RDY 0 everywhere and sleep at this level before probing with RDY 1.
    Sleep(u32),
}

/// The backoff level, moved by signals.
#[derive(Debug, Default)]
pub(super) struct Backoff {
    level: u32,
}

impl Backoff {
    /// The current level (0: not backing off).
    pub(super) fn level(&self) -> u32 {
        self.level
    }

    /// Applies `signal`: a failure raises the level unless that level's duration would
    /// exceed `max`; a success lowers it. Any signal at a level above 0 sleeps again.
    pub(super) fn apply(&mut self, signal: Signal, multiplier: Duration, max: Duration) -> Action {
        let mut changed = false;
        match signal {
            Signal::Resume if self.level > 0 => {
                self.level -= 1;
                changed = true;
            }
            Signal::Backoff if exponential(multiplier, self.level.saturating_add(1)) <= max => {
                self.level = self.level.saturating_add(1);
                changed = true;
            }
            _ => {}
        }
        match self.level {
            0 if changed => Action::Exit,
            0 => Action::Nothing,
            level => Action::Sleep(level),
        }
    }
}

/// `multiplier × 2^level`, saturating.
pub(super) fn exponential(multiplier: Duration, level: u32) -> Duration {
    let nanos = multiplier
        .as_nanos()
        .saturating_mul(1u128 << level.min(100));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// How long `level` sleeps, capped at `max`. Full jitter takes `random(n)`, a number
/// in `0..n`, and sleeps that many nanoseconds of the exponential duration.
pub(super) fn sleep_for(
    strategy: BackoffStrategy,
    multiplier: Duration,
    level: u32,
    max: Duration,
    random: impl FnOnce(u64) -> u64,
) -> Duration {
    let full = exponential(multiplier, level).min(max);
    match strategy {
        BackoffStrategy::Exponential => full,
        BackoffStrategy::FullJitter => {
            let nanos = u64::try_from(full.as_nanos()).unwrap_or(u64::MAX);
            Duration::from_nanos(random(nanos))
        }
    }
}

/// go-nsq's automatic requeue delay: `default × attempts`, capped at `max`.
pub(super) fn requeue_delay(default: Duration, attempts: u16, max: Duration) -> Duration {
    default.saturating_mul(u32::from(attempts)).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);
    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn durations_double_per_level() {
        assert_eq!(exponential(SEC, 0), SEC);
        assert_eq!(exponential(SEC, 1), 2 * SEC);
        assert_eq!(exponential(SEC, 3), 8 * SEC);
        assert_eq!(exponential(SEC, 200), Duration::from_nanos(u64::MAX));
        assert_eq!(exponential(Duration::ZERO, 50), Duration::ZERO);
        let max = 120 * SEC;
        let exp = BackoffStrategy::Exponential;
        assert_eq!(sleep_for(exp, SEC, 2, max, |_| 0), 4 * SEC);
        assert_eq!(sleep_for(exp, SEC, 9, max, |_| 0), max);
        let jitter = BackoffStrategy::FullJitter;
        assert_eq!(sleep_for(jitter, MS, 2, max, |n| n / 2), 2 * MS);
        assert_eq!(sleep_for(jitter, MS, 2, max, |_| 0), Duration::ZERO);
    }

    #[test]
    fn failures_raise_and_successes_lower_the_level() {
        let mut b = Backoff::default();
        let (m, max) = (SEC, 120 * SEC);
        assert_eq!(b.apply(Signal::Resume, m, max), Action::Nothing);
        assert_eq!(b.apply(Signal::Continue, m, max), Action::Nothing);
        assert_eq!(b.apply(Signal::Backoff, m, max), Action::Sleep(1));
        assert_eq!(b.apply(Signal::Backoff, m, max), Action::Sleep(2));
        assert_eq!(b.apply(Signal::Continue, m, max), Action::Sleep(2));
        assert_eq!(b.apply(Signal::Resume, m, max), Action::Sleep(1));
        assert_eq!(b.apply(Signal::Resume, m, max), Action::Exit);
        assert_eq!(b.level(), 0);
    }

    #[test]
    fn the_level_stops_where_the_duration_would_pass_the_max() {
        let mut b = Backoff::default();
        // 1s × 2^6 = 64s ≤ 120s, 2^7 = 128s > 120s.
        for _ in 0..20 {
            b.apply(Signal::Backoff, SEC, 120 * SEC);
        }
        assert_eq!(b.level(), 6);
        let mut off = Backoff::default();
        assert_eq!(
            off.apply(Signal::Backoff, SEC, Duration::ZERO),
            Action::Nothing
        );
    }

    #[test]
    fn requeue_delay_grows_with_attempts_up_to_the_max() {
        let max = 15 * 60 * SEC;
        assert_eq!(requeue_delay(90 * SEC, 1, max), 90 * SEC);
        assert_eq!(requeue_delay(90 * SEC, 3, max), 270 * SEC);
        assert_eq!(requeue_delay(90 * SEC, 100, max), max);
        assert_eq!(requeue_delay(100 * MS, 0, max), Duration::ZERO);
    }
}
