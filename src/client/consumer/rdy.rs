//! RDY planning as pure arithmetic: how `max_in_flight` is spread over connections,
//! which idle connections give their RDY back, and when a connection is starved.
//! Plans take each connection's current [`Slot`] and return the RDY each should have;
//! randomness comes in as `pick(n)`, an index in `0..n`.

use std::time::Duration;

/// One connection as the planner sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Slot {
    /// The RDY last sent.
    pub(super) rdy: u64,
    /// The server's `max_rdy_count`.
    pub(super) max_rdy: u64,
    /// Time since its last message (or since it connected).
    pub(super) idle: Duration,
    /// Time since its RDY was last changed.
    pub(super) held: Duration,
}

/// When a connection holding RDY must give it back during redistribution.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// `low_rdy_idle_timeout`: no message for this long.
    pub(super) idle: Duration,
    /// `low_rdy_timeout`: RDY held for this long.
    pub(super) held: Duration,
}

/// go-nsq's per-connection share: `max(1, max_in_flight / conns)`, never above
/// `max_in_flight` (so 0 pauses everything).
pub(super) fn per_connection(max_in_flight: u64, conns: usize) -> u64 {
    let conns = (conns as u64).max(1);
    (max_in_flight / conns).max(1).min(max_in_flight)
}

/// RDY outside backoff: every connection gets its share (capped by its server's
/// `max_rdy_count`); with more connections than `max_in_flight`, RDY 1 goes to
/// `max_in_flight` of them, those already holding RDY first, the rest at random.
pub(super) fn full(
    slots: &[Slot],
    max_in_flight: u64,
    pick: &mut dyn FnMut(usize) -> usize,
) -> Vec<u64> {
    if slots.len() as u64 <= max_in_flight {
        let share = per_connection(max_in_flight, slots.len());
        return slots.iter().map(|s| share.min(s.max_rdy)).collect();
    }
    let mut plan = vec![0; slots.len()];
    let mut budget = max_in_flight;
    for (rdy, slot) in plan.iter_mut().zip(slots) {
        if slot.rdy > 0 && budget > 0 {
            *rdy = 1;
            budget -= 1;
        }
    }
    fill(&mut plan, budget, pick);
    plan
}

/// True when RDY must rotate: more connections than `max_in_flight`, or backing off
/// (a single probing RDY 1 that may sit on a dead or idle connection).
pub(super) fn needs_redistribution(conns: usize, max_in_flight: u64, backing_off: bool) -> bool {
    conns as u64 > max_in_flight || (backing_off && conns > 0)
}

/// Rotation: connections idle or holding RDY past `limits` give it back, then RDY 1
/// goes to random connections without RDY until `budget` RDY is out.
pub(super) fn redistribute(
    slots: &[Slot],
    budget: u64,
    limits: Limits,
    pick: &mut dyn FnMut(usize) -> usize,
) -> Vec<u64> {
    let mut plan: Vec<u64> = slots
        .iter()
        .map(|s| {
            let stale = s.idle > limits.idle || s.held > limits.held;
            if stale {
                0
            } else {
                s.rdy
            }
        })
        .collect();
    let used: u64 = plan.iter().sum();
    fill(&mut plan, budget.saturating_sub(used), pick);
    plan
}

/// Gives RDY 1 to up to `budget` random entries of `plan` that have none.
fn fill(plan: &mut [u64], mut budget: u64, pick: &mut dyn FnMut(usize) -> usize) {
    let mut empty: Vec<usize> = (0..plan.len()).filter(|&i| plan[i] == 0).collect();
    while budget > 0 && !empty.is_empty() {
        let chosen = empty.swap_remove(pick(empty.len()) % empty.len());
        plan[chosen] = 1;
        budget -= 1;
    }
}

/// go-nsq's starvation test: a connection with messages in flight at 85 % or more
/// of its RDY.
pub(super) fn is_starved(rdy: u64, in_flight: u64) -> bool {
    in_flight > 0 && in_flight >= rdy.saturating_mul(85) / 100
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    fn slot(rdy: u64, idle_s: u32, held_s: u32) -> Slot {
        Slot {
            rdy,
            max_rdy: 2500,
            idle: idle_s * SEC,
            held: held_s * SEC,
        }
    }

    fn first(_: usize) -> usize {
        0
    }

    #[test]
    fn share_is_spread_over_connections() {
        assert_eq!(per_connection(200, 1), 200);
        assert_eq!(per_connection(200, 3), 66);
        assert_eq!(per_connection(2, 5), 1);
        assert_eq!(per_connection(0, 3), 0);
        assert_eq!(per_connection(7, 0), 7);
        let slots = [slot(0, 0, 0), slot(0, 0, 0)];
        assert_eq!(full(&slots, 200, &mut first), [100, 100]);
        let capped = [
            Slot {
                max_rdy: 30,
                ..slot(0, 0, 0)
            },
            slot(0, 0, 0),
        ];
        assert_eq!(full(&capped, 200, &mut first), [30, 100]);
        assert_eq!(full(&slots, 0, &mut first), [0, 0]);
    }

    #[test]
    fn more_connections_than_max_in_flight_keep_holders_then_fill() {
        let slots = [slot(0, 0, 0), slot(1, 0, 0), slot(0, 0, 0), slot(5, 0, 0)];
        assert_eq!(full(&slots, 1, &mut first), [0, 1, 0, 0]);
        assert_eq!(full(&slots, 3, &mut first), [1, 1, 0, 1]);
        let fresh = [slot(0, 0, 0); 4];
        let mut last = |n: usize| n - 1;
        assert_eq!(full(&fresh, 2, &mut last), [0, 0, 1, 1]);
    }

    #[test]
    fn redistribution_moves_stale_rdy() {
        let limits = Limits {
            idle: 10 * SEC,
            held: 30 * SEC,
        };
        assert!(needs_redistribution(3, 2, false));
        assert!(!needs_redistribution(2, 2, false));
        assert!(needs_redistribution(1, 200, true));
        assert!(!needs_redistribution(0, 0, true));
        // Busy and fresh: nothing moves.
        let slots = [slot(1, 1, 1), slot(0, 0, 0)];
        assert_eq!(redistribute(&slots, 1, limits, &mut first), [1, 0]);
        // Idle too long: RDY goes to a random connection (here the second one).
        let slots = [slot(1, 11, 1), slot(0, 0, 0)];
        assert_eq!(redistribute(&slots, 1, limits, &mut |n| n - 1), [0, 1]);
        // Held too long.
        let slots = [slot(1, 0, 31), slot(0, 0, 0), slot(0, 0, 0)];
        assert_eq!(redistribute(&slots, 1, limits, &mut |n| n - 1), [0, 0, 1]);
        // Nothing held (a probe lost with its connection): one comes back.
        let slots = [slot(0, 0, 0), slot(0, 0, 0)];
        assert_eq!(redistribute(&slots, 1, limits, &mut first), [1, 0]);
    }

    #[test]
    fn starvation_is_in_flight_near_rdy() {
        assert!(is_starved(100, 85));
        assert!(!is_starved(100, 84));
        assert!(is_starved(1, 1));
        assert!(!is_starved(1, 0));
        assert!(!is_starved(0, 0));
    }
}
