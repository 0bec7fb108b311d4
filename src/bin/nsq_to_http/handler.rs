//! What nsq_to_http does with each message, as Go's `PublishHandler`: `--sample`
//! (a message not drawn is finished without a request), the address by `--mode`
//! (one per message, or in the "all" mode every address in flag order, the first
//! failure ending the message) and the `--status-every` timers (`[aggregate]:` per
//! whole message; `[<url>]:` per request, only with two or more addresses). An
//! `Err` makes the consumer requeue the message with backoff.

use crate::publish::Publisher;
use nsq::client::pool::{Mode, Pool};
use nsq::client::status::StatusTimer;
use nsq::client::{HandlerError, Message};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// The per-message work, shared by the `--n` handler threads.
pub struct Handler {
    publisher: Publisher,
    pool: Pool,
    sample: f64,
    /// splitmix64 state for the sampling draws.
    rng: AtomicU64,
    aggregate: StatusTimer,
    /// Each address's timer (one shared by repeated addresses, as Go's map does).
    per_address: Vec<Arc<StatusTimer>>,
}

impl Handler {
    /// A handler over `publisher`'s addresses; `mode` is `--mode` as given.
    pub fn new(publisher: Publisher, mode: &str, sample: f64, status_every: usize) -> Handler {
        let n = publisher.len();
        let mut per_address: Vec<Arc<StatusTimer>> = Vec::with_capacity(n);
        for i in 0..n {
            let address = publisher.address(i);
            let timer = match (0..i).find(|&j| publisher.address(j) == address) {
                Some(j) => per_address[j].clone(),
                // One address: its timer is disabled, the aggregate says it all.
                None if n == 1 => Arc::new(StatusTimer::new("", 0)),
                None => Arc::new(StatusTimer::new(&format!("[{address}]:"), status_every)),
            };
            per_address.push(timer);
        }
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()).rotate_left(32);
        Handler {
            pool: Pool::new(n, Mode::parse(mode, Mode::All)),
            publisher,
            sample,
            rng: AtomicU64::new(seed),
            aggregate: StatusTimer::new("[aggregate]:", status_every),
            per_address,
        }
    }

    /// Handles one message: `Ok` finishes it, `Err` requeues it.
    pub fn handle(&self, msg: &Message) -> Result<(), HandlerError> {
        if self.sample < 1.0 && self.draw() > self.sample {
            return Ok(());
        }
        let start = Instant::now();
        let picks = self.pool.pick();
        match self.pool.mode() {
            Mode::All => {
                for i in picks {
                    let started = Instant::now();
                    self.publisher.publish(i, &msg.body)?;
                    self.per_address[i].record(started.elapsed());
                }
            }
            mode => {
                let i = picks[0];
                let result = self.publisher.publish(i, &msg.body);
                if mode != Mode::RoundRobin {
                    self.pool.mark(i, result.is_ok(), start.elapsed());
                }
                result?;
                self.per_address[i].record(start.elapsed());
            }
        }
        self.aggregate.record(start.elapsed());
        Ok(())
    }

    /// A uniform draw in [0, 1) (Go's `rand.Float64`), from splitmix64.
    fn draw(&self) -> f64 {
        let mut z = self
            .rng
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}
