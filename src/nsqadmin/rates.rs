//! Rates without Graphite (beyond Go's nsqadmin): a thread samples every nsqd's
//! `/stats` each `--sample-interval` and keeps, per topic and per channel, the
//! cluster-wide `message_count`, `depth` and `in_flight_count` for `--sample-window`
//! (a bounded ring per series). `/api/rates/...` serves a series with messages/s
//! between samples; the topic and channel pages draw it.

use super::cluster::Cluster;
use super::stats::NsqdStats;
use super::upstream::{fan_out, url};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Series not seen for this many samples are dropped (a deleted topic).
const STALE_SAMPLES: u64 = 3;

/// One sample of a topic or channel, summed over the nodes that answered.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Sample {
    /// Unix seconds.
    pub timestamp: u64,
    pub message_count: i64,
    pub depth: i64,
    pub in_flight_count: i64,
    /// Messages/s since the previous sample (`null` for the first one).
    pub rate: Option<f64>,
}

/// A series, the round it was last seen in, and each node's last message count.
struct Series {
    samples: VecDeque<Sample>,
    seen: u64,
    last: HashMap<String, i64>,
}

/// One round's figures of a topic or channel on one node.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Figures {
    pub message_count: i64,
    pub depth: i64,
    pub in_flight_count: i64,
}

/// One round: per `(topic, channel)`, each answering node's figures.
pub type Round = HashMap<(String, String), HashMap<String, Figures>>;

/// Every series, by `(topic, channel)` (`""` for the topic itself).
pub struct Rates {
    series: Mutex<HashMap<(String, String), Series>>,
    capacity: usize,
    /// The sampling interval, in seconds (for the pages).
    pub interval: Duration,
    window: Duration,
    stop: Mutex<bool>,
    stopped: Condvar,
}

impl Rates {
    /// Empty series, `window / interval` samples each.
    pub fn new(interval: Duration, window: Duration) -> Rates {
        let capacity = (window.as_millis() / interval.as_millis().max(1)).max(2) as usize;
        Rates {
            series: Mutex::default(),
            capacity,
            interval,
            window,
            stop: Mutex::new(false),
            stopped: Condvar::new(),
        }
    }

    /// The window kept, in seconds.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// The samples of a topic (`channel` = "") or channel, oldest first.
    pub fn series(&self, topic: &str, channel: &str) -> Vec<Sample> {
        let series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        (series.get(&(topic.to_string(), channel.to_string())))
            .map(|s| s.samples.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Adds one round. The rate counts, per node, the messages since that node's
    /// previous answer: a node that missed a round adds nothing then and no burst
    /// when it is back, and one whose count went down (restarted) adds nothing.
    pub fn record(&self, round: u64, timestamp: u64, figures: Round) {
        let mut series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        for (key, nodes) in figures {
            let s = series.entry(key).or_insert_with(|| Series {
                samples: VecDeque::new(),
                seen: round,
                last: HashMap::new(),
            });
            let mut total = Figures::default();
            let mut new_messages = 0;
            let mut known = false;
            for (node, f) in &nodes {
                total.message_count += f.message_count;
                total.depth += f.depth;
                total.in_flight_count += f.in_flight_count;
                if let Some(&before) = s.last.get(node) {
                    known = true;
                    new_messages += (f.message_count - before).max(0);
                }
            }
            let rate = s.samples.back().filter(|_| known).and_then(|last| {
                let secs = timestamp.checked_sub(last.timestamp).filter(|&d| d > 0)? as f64;
                Some(new_messages as f64 / secs)
            });
            for (node, f) in nodes {
                s.last.insert(node, f.message_count);
            }
            if s.samples.len() == self.capacity {
                s.samples.pop_front();
            }
            s.samples.push_back(Sample {
                timestamp,
                message_count: total.message_count,
                depth: total.depth,
                in_flight_count: total.in_flight_count,
                rate,
            });
            s.seen = round;
        }
        series.retain(|_, s| round.saturating_sub(s.seen) < STALE_SAMPLES);
    }

    /// Waits one interval; false once stopping.
    fn pause(&self) -> bool {
        let stop = self.stop.lock().unwrap_or_else(|p| p.into_inner());
        let (stop, _) = (self.stopped)
            .wait_timeout_while(stop, self.interval, |s| !*s)
            .unwrap_or_else(|p| p.into_inner());
        !*stop
    }

    /// Ends the sampling thread's wait.
    pub fn stop(&self) {
        *self.stop.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.stopped.notify_all();
    }
}

/// One round: every nsqd's `/stats`, per topic and channel and node.
fn sample(cluster: &Cluster) -> Round {
    let Ok((producers, _)) = cluster.all_producers() else {
        return HashMap::new();
    };
    let nodes: Vec<String> = producers.iter().map(|p| p.http_address()).collect();
    let results = fan_out(&nodes, |node| {
        (cluster.upstream)
            .get_json::<NsqdStats>(&url(node, "/stats?format=json&include_clients=false"))
    });
    let mut round = Round::new();
    for (node, stats) in nodes.iter().zip(results) {
        let Ok(stats) = stats else { continue };
        for t in stats.topics.into_iter().flatten() {
            let f = Figures {
                message_count: t.message_count,
                depth: t.depth,
                in_flight_count: 0,
            };
            round
                .entry((t.topic_name.clone(), String::new()))
                .or_default()
                .insert(node.clone(), f);
            for c in t.channels.into_iter().flatten() {
                let f = Figures {
                    message_count: c.message_count,
                    depth: c.depth,
                    in_flight_count: c.in_flight_count,
                };
                let key = (t.topic_name.clone(), c.channel_name);
                round.entry(key).or_default().insert(node.clone(), f);
            }
        }
    }
    round
}

/// Starts the sampling thread; it stops when `rates.stop()` is called.
pub fn spawn_sampler(cluster: Arc<Cluster>, rates: Arc<Rates>) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("nsqadmin-sampler".into())
        .spawn(move || {
            let mut round = 0;
            loop {
                let figures = sample(&cluster);
                rates.record(round, unix_now(), figures);
                round += 1;
                if !rates.pause() {
                    break;
                }
            }
        })
}

/// Unix seconds now.
pub fn unix_now() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(topic: &str, nodes: &[(&str, i64)]) -> Round {
        let per_node = nodes
            .iter()
            .map(|(n, m)| {
                (
                    n.to_string(),
                    Figures {
                        message_count: *m,
                        depth: 1,
                        in_flight_count: 0,
                    },
                )
            })
            .collect();
        HashMap::from([((topic.to_string(), String::new()), per_node)])
    }

    #[test]
    fn rates_are_per_second_between_samples_in_a_bounded_window() {
        let rates = Rates::new(Duration::from_secs(5), Duration::from_secs(15));
        rates.record(0, 100, one("t", &[("a", 10)]));
        rates.record(1, 105, one("t", &[("a", 60)]));
        rates.record(2, 110, one("t", &[("a", 60)]));
        rates.record(3, 115, one("t", &[("a", 160)]));
        let s = rates.series("t", "");
        assert_eq!(s.len(), 3, "the window holds 15 s / 5 s samples");
        let got: Vec<Option<f64>> = s.iter().map(|x| x.rate).collect();
        assert_eq!(got, [Some(10.0), Some(0.0), Some(20.0)]);
        assert!(rates.series("t", "c").is_empty());
        for round in 4..8 {
            rates.record(round, 120, HashMap::new());
        }
        assert!(rates.series("t", "").is_empty(), "a topic gone is dropped");
    }

    #[test]
    fn a_node_missing_for_a_round_makes_no_spike() {
        let rates = Rates::new(Duration::from_secs(1), Duration::from_secs(60));
        rates.record(0, 1, one("t", &[("a", 1), ("b", 20)]));
        rates.record(1, 2, one("t", &[("a", 1)]));
        rates.record(2, 3, one("t", &[("a", 3), ("b", 20)]));
        rates.record(3, 4, one("t", &[("a", 3), ("b", 5)])); // b restarted
        let got: Vec<(i64, Option<f64>)> = rates
            .series("t", "")
            .iter()
            .map(|s| (s.message_count, s.rate))
            .collect();
        assert_eq!(
            got,
            [(21, None), (1, Some(0.0)), (23, Some(2.0)), (8, Some(0.0))]
        );
    }
}
