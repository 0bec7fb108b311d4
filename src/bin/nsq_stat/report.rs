//! nsq_stat's output, in Go's exact layout: a two-line header (every 25 polls) and
//! one row per interval with the ingress and egress rates since the last poll, the
//! depth split into memory and disk, in-flight and deferred counts, then the
//! requeue, timeout, message and client counts.

use crate::cluster::ChannelStats;
use std::time::Duration;

/// Polls between two headers.
pub const HEADER_EVERY: u64 = 25;

/// The two header lines, each ending in a newline.
pub fn header() -> String {
    format!(
        "{}+{}+{}\n{:>7} {:>7} | {:>7} {:>7} {:>7} {:>5} {:>5} | {:>7} {:>7} {:>12} {:>7}\n",
        "------rate------",
        "----------------depth----------------",
        "--------------metadata---------------",
        "ingress",
        "egress",
        "total",
        "mem",
        "disk",
        "inflt",
        "def",
        "req",
        "t-o",
        "msgs",
        "clients"
    )
}

/// One row (without its newline) for the poll `now`, `interval` after `before`.
///
/// Ingress is new messages per second; egress is those minus the depth they added,
/// per second; both truncated toward zero, as Go's `int64(float64(..))` does.
pub fn row(before: &ChannelStats, now: &ChannelStats, interval: Duration) -> String {
    let secs = interval.as_secs_f64();
    let received = now.message_count - before.message_count;
    let ingress = (received as f64 / secs) as i64;
    let egress = ((received - (now.depth - before.depth)) as f64 / secs) as i64;
    format!(
        "{:7} {:7} | {:7} {:7} {:7} {:5} {:5} | {:7} {:7} {:12} {:7}",
        ingress,
        egress,
        now.depth,
        now.memory_depth,
        now.backend_depth,
        now.in_flight_count,
        now.deferred_count,
        now.requeue_count,
        now.timeout_count,
        now.message_count,
        now.client_count
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_matches_go() {
        assert_eq!(
            header(),
            "------rate------+----------------depth----------------+--------------metadata---------------\n\
             ingress  egress |   total     mem    disk inflt   def |     req     t-o         msgs clients\n"
        );
    }

    #[test]
    fn row_matches_go() {
        let before = ChannelStats {
            depth: 10,
            message_count: 100,
            ..ChannelStats::default()
        };
        let now = ChannelStats {
            depth: 14,
            memory_depth: 12,
            backend_depth: 2,
            in_flight_count: 3,
            deferred_count: 1,
            requeue_count: 5,
            timeout_count: 6,
            message_count: 120,
            client_count: 2,
            ..ChannelStats::default()
        };
        assert_eq!(
            row(&before, &now, Duration::from_secs(2)),
            "     10       8 |      14      12       2     3     1 |       5       6          120       2"
        );
        // Rates truncate toward zero, like Go's int64(float64) conversion.
        let drained = ChannelStats {
            depth: 0,
            message_count: 100,
            ..ChannelStats::default()
        };
        assert!(row(&before, &drained, Duration::from_secs(3)).starts_with("      0       3 |"));
    }
}
