//! Choosing a destination per message, as nsq_to_nsq and nsq_to_http do (`--mode`):
//! round-robin, go-hostpool's "standard" pool (hosts in turn from the first; a failed host is left out, retried
//! after 30 s, the wait doubling up to 900 s; all dead: all reset) and its
//! epsilon-greedy pool (explores with a probability that decays from 0.3 to 0.01,
//! else picks by recent response time). The tools' callers report each result with
//! [`Pool::mark`]. Plain data behind one mutex; no I/O.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How a destination is chosen (`--mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One after another (the first message goes to the second address, as Go's
    /// counter is incremented before use).
    RoundRobin,
    /// go-hostpool's standard pool (the default).
    HostPool,
    /// go-hostpool's epsilon-greedy pool.
    EpsilonGreedy,
    /// nsq_to_http's undocumented mode for any other value: every address, in order.
    All,
}

impl Mode {
    /// `--mode`'s value; any other word is `unknown` (nsq_to_nsq: round-robin,
    /// nsq_to_http: all), as Go accepts it without a word.
    pub fn parse(value: &str, unknown: Mode) -> Mode {
        match value {
            "round-robin" => Mode::RoundRobin,
            "hostpool" => Mode::HostPool,
            "epsilon-greedy" => Mode::EpsilonGreedy,
            _ => unknown,
        }
    }
}

const RETRY_FIRST: Duration = Duration::from_secs(30);
const RETRY_MAX: Duration = Duration::from_secs(900);
const EPSILON_START: f64 = 0.3;
const EPSILON_MIN: f64 = 0.01;
const EPSILON_DECAY: f64 = 0.9;
/// Response times weigh less with age: halved about every 5 minutes.
const DECAY: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
struct Host {
    dead: bool,
    retry_at: Instant,
    retry_delay: Duration,
    /// Decaying average response time, in seconds (epsilon-greedy).
    avg: f64,
    updated: Instant,
}

#[derive(Debug)]
struct State {
    hosts: Vec<Host>,
    next: usize,
    epsilon: f64,
    rng: u64,
}

/// The destinations and how the next one is chosen.
#[derive(Debug)]
pub struct Pool {
    mode: Mode,
    state: Mutex<State>,
}

impl Pool {
    /// A pool over `n` destinations (addresses are the caller's, by index).
    pub fn new(n: usize, mode: Mode) -> Pool {
        let now = Instant::now();
        let host = Host {
            dead: false,
            retry_at: now,
            retry_delay: RETRY_FIRST,
            avg: 0.0,
            updated: now,
        };
        let seed = now.elapsed().as_nanos() as u64
            ^ (std::process::id() as u64).rotate_left(32)
            ^ 0x9E37_79B9_7F4A_7C15;
        Pool {
            mode,
            state: Mutex::new(State {
                hosts: vec![host; n.max(1)],
                next: 0,
                epsilon: EPSILON_START,
                rng: seed | 1,
            }),
        }
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The destinations for the next message, by index: one, or (mode `All`) all.
    pub fn pick(&self) -> Vec<usize> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let n = s.hosts.len();
        match self.mode {
            Mode::All => (0..n).collect(),
            Mode::RoundRobin => {
                s.next = s.next.wrapping_add(1);
                vec![s.next % n]
            }
            Mode::HostPool => vec![pick_standard(&mut s, Instant::now())],
            Mode::EpsilonGreedy => vec![pick_greedy(&mut s, Instant::now())],
        }
    }

    /// How a request to destination `i` went, and how long it took.
    pub fn mark(&self, i: usize, ok: bool, took: Duration) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let Some(h) = s.hosts.get_mut(i) else {
            return;
        };
        if ok {
            h.dead = false;
            h.retry_delay = RETRY_FIRST;
            let age = now.duration_since(h.updated).as_secs_f64() / DECAY.as_secs_f64();
            let keep = 0.5f64.powf(age).min(0.9);
            h.avg = h.avg * keep + took.as_secs_f64() * (1.0 - keep);
            h.updated = now;
        } else if !h.dead {
            h.dead = true;
            h.retry_at = now + h.retry_delay;
            h.retry_delay = (h.retry_delay * 2).min(RETRY_MAX);
        }
    }
}

/// go-hostpool's standard choice: the next live host in turn (a dead one whose
/// retry time came is live again); all dead: all reset, the first chosen.
fn pick_standard(s: &mut State, now: Instant) -> usize {
    let n = s.hosts.len();
    for step in 0..n {
        let i = (s.next + step) % n;
        let h = &mut s.hosts[i];
        if h.dead && now >= h.retry_at {
            h.dead = false;
        }
        if !h.dead {
            s.next = i + 1;
            return i;
        }
    }
    for h in &mut s.hosts {
        h.dead = false;
    }
    s.next = 0;
    0
}

/// Epsilon-greedy: explore (the standard choice) with probability epsilon, which
/// decays with each exploration; otherwise the live host with the best recent time.
fn pick_greedy(s: &mut State, now: Instant) -> usize {
    s.rng ^= s.rng << 13;
    s.rng ^= s.rng >> 7;
    s.rng ^= s.rng << 17;
    let draw = (s.rng >> 11) as f64 / (1u64 << 53) as f64;
    if draw < s.epsilon {
        s.epsilon = (s.epsilon * EPSILON_DECAY).max(EPSILON_MIN);
        return pick_standard(s, now);
    }
    let best = (0..s.hosts.len())
        .filter(|&i| !s.hosts[i].dead || now >= s.hosts[i].retry_at)
        .min_by(|&a, &b| s.hosts[a].avg.total_cmp(&s.hosts[b].avg));
    match best {
        Some(i) => {
            s.hosts[i].dead = false;
            i
        }
        None => pick_standard(s, now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_starts_at_the_second_address() {
        let p = Pool::new(3, Mode::RoundRobin);
        let got: Vec<usize> = (0..4).flat_map(|_| p.pick()).collect();
        assert_eq!(got, [1, 2, 0, 1]);
    }

    #[test]
    fn hostpool_leaves_out_failed_hosts_until_all_failed() {
        let p = Pool::new(3, Mode::HostPool);
        let first = p.pick()[0];
        assert_eq!(first, 0, "go-hostpool starts with the first host");
        p.mark(first, false, Duration::ZERO);
        for _ in 0..6 {
            assert_ne!(p.pick()[0], first, "a failed host is left out");
        }
        for i in 0..3 {
            p.mark(i, false, Duration::ZERO);
        }
        assert_eq!(p.pick(), [0], "all dead: reset, the first");
        p.mark(first, true, Duration::ZERO);
    }

    #[test]
    fn epsilon_greedy_prefers_the_faster_host() {
        let p = Pool::new(2, Mode::EpsilonGreedy);
        for _ in 0..20 {
            p.mark(0, true, Duration::from_millis(50));
            p.mark(1, true, Duration::from_millis(1));
        }
        let ones = (0..200).filter(|_| p.pick() == [1]).count();
        assert!(ones > 120, "{ones} of 200 to the faster host");
    }

    #[test]
    fn modes_parse_with_go_fallbacks() {
        assert_eq!(Mode::parse("hostpool", Mode::All), Mode::HostPool);
        assert_eq!(Mode::parse("bogus", Mode::RoundRobin), Mode::RoundRobin);
        assert_eq!(Mode::parse("all", Mode::All), Mode::All);
        assert_eq!(Pool::new(2, Mode::All).pick(), [0, 1]);
    }
}
