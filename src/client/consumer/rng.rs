//! A tiny xorshift generator for jitter and random picks; not for anything secret.

use std::time::{SystemTime, UNIX_EPOCH};

/// xorshift64* state (never zero).
#[derive(Debug)]
pub(super) struct Rng(u64);

impl Rng {
    /// Seeded from the clock and the process id, so consumers started together differ.
    pub(super) fn seeded() -> Rng {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Rng::new(nanos ^ (u64::from(std::process::id()) << 32))
    }

    /// A generator from `seed` (0 is replaced, as xorshift would stay at 0).
    pub(super) fn new(seed: u64) -> Rng {
        Rng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub(super) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub(super) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// A number in `[0, 1)`.
    pub(super) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_in_range_and_vary() {
        let mut rng = Rng::new(0);
        let picks: Vec<u64> = (0..1000).map(|_| rng.below(7)).collect();
        assert!(picks.iter().all(|&p| p < 7));
        assert!((0..7).all(|v| picks.contains(&v)));
        assert_eq!(rng.below(0), 0);
        let u = rng.unit();
        assert!((0.0..1.0).contains(&u));
        assert_ne!(Rng::seeded().next_u64(), Rng::new(1).next_u64());
    }
}
