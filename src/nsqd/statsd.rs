//! The statsd pusher (`--statsd-address`): every `--statsd-interval` it takes a stats
//! snapshot and sends nsqd's metric lines over UDP, counters as deltas since the
//! previous push, batched into datagrams of at most `--statsd-udp-packet-size` bytes.

use super::stats::{collect, MemStats, NodeInfo, Snapshot, StatsQuery};
use crate::registry::Registry;
use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The statsd options.
#[derive(Debug, Clone)]
pub struct StatsdOptions {
    /// `--statsd-address` (`host:port`, UDP).
    pub address: String,
    /// Raw `--statsd-prefix`; `%s` stands for the host key.
    pub prefix: String,
    /// `--statsd-interval`.
    pub interval: Duration,
    /// `--statsd-udp-packet-size`.
    pub udp_packet_size: usize,
    /// `--statsd-mem-stats`.
    pub mem_stats: bool,
    /// `--statsd-exclude-ephemeral`.
    pub exclude_ephemeral: bool,
    /// `--broadcast-address`, for the host key.
    pub broadcast_address: String,
    /// The broadcast HTTP port, for the host key.
    pub http_port: u16,
}

/// The key prefix: `%s` becomes `<broadcast_address>_<http_port>` with `.` and `:`
/// turned into `_`, and a non-empty prefix ends with `.`.
fn prefix(raw: &str, broadcast_address: &str, http_port: u16) -> String {
    if raw.is_empty() {
        return String::new();
    }
    let host = if broadcast_address.contains(':') {
        format!("[{broadcast_address}]:{http_port}")
    } else {
        format!("{broadcast_address}:{http_port}")
    };
    let key = host.replace(['.', ':'], "_");
    let mut p = raw.replace("%s", &key);
    if !p.ends_with('.') {
        p.push('.');
    }
    p
}

/// A counter's increase; a counter that went down (topic recreated) counts from zero.
fn delta(now: u64, before: u64) -> u64 {
    if now >= before {
        now - before
    } else {
        now
    }
}

/// Builds the lines of each push and remembers the counters for the next delta.
#[derive(Debug, Default)]
struct Pusher {
    prefix: String,
    exclude_ephemeral: bool,
    topics: HashMap<String, [u64; 2]>,
    channels: HashMap<(String, String), [u64; 3]>,
    gc_runs: u64,
}

impl Pusher {
    fn lines(&mut self, snap: &Snapshot, mem: Option<&MemStats>) -> Vec<String> {
        let p = &self.prefix;
        let mut out = Vec::new();
        let mut topics = HashMap::new();
        let mut channels = HashMap::new();
        for t in snap.topics.iter().flatten() {
            if self.exclude_ephemeral && t.ephemeral {
                continue;
            }
            let n = &t.name;
            let last = self.topics.get(n).copied().unwrap_or_default();
            out.push(format!(
                "{p}topic.{n}.message_count:{}|c",
                delta(t.message_count, last[0])
            ));
            out.push(format!(
                "{p}topic.{n}.message_bytes:{}|c",
                delta(t.message_bytes, last[1])
            ));
            out.push(format!("{p}topic.{n}.depth:{}|g", t.depth));
            out.push(format!("{p}topic.{n}.backend_depth:{}|g", t.backend_depth));
            for &(q, v) in t.e2e.percentiles.iter().flatten() {
                out.push(format!(
                    "{p}topic.{n}.e2e_processing_latency_{:.0}:{}|g",
                    q * 100.0,
                    v as i64
                ));
            }
            topics.insert(n.clone(), [t.message_count, t.message_bytes]);
            for c in &t.channels {
                if self.exclude_ephemeral && c.ephemeral {
                    continue;
                }
                let key = (n.clone(), c.name.clone());
                let last = self.channels.get(&key).copied().unwrap_or_default();
                let cp = format!("{p}topic.{n}.channel.{}", c.name);
                out.push(format!(
                    "{cp}.message_count:{}|c",
                    delta(c.message_count, last[0])
                ));
                out.push(format!("{cp}.depth:{}|g", c.depth));
                out.push(format!("{cp}.backend_depth:{}|g", c.backend_depth));
                out.push(format!("{cp}.in_flight_count:{}|g", c.in_flight_count));
                out.push(format!("{cp}.deferred_count:{}|g", c.deferred_count));
                out.push(format!(
                    "{cp}.requeue_count:{}|c",
                    delta(c.requeue_count, last[1])
                ));
                out.push(format!(
                    "{cp}.timeout_count:{}|c",
                    delta(c.timeout_count, last[2])
                ));
                out.push(format!("{cp}.clients:{}|g", c.client_count));
                for &(q, v) in c.e2e.percentiles.iter().flatten() {
                    out.push(format!(
                        "{cp}.e2e_processing_latency_{:.0}:{}|g",
                        q * 100.0,
                        v as i64
                    ));
                }
                channels.insert(key, [c.message_count, c.requeue_count, c.timeout_count]);
            }
        }
        self.topics = topics;
        self.channels = channels;
        if let Some(m) = mem {
            for (name, v) in [
                ("heap_objects", m.heap_objects),
                ("heap_idle_bytes", m.heap_idle_bytes),
                ("heap_in_use_bytes", m.heap_in_use_bytes),
                ("heap_released_bytes", m.heap_released_bytes),
                ("gc_pause_usec_100", m.gc_pause_usec_100),
                ("gc_pause_usec_99", m.gc_pause_usec_99),
                ("gc_pause_usec_95", m.gc_pause_usec_95),
                ("next_gc_bytes", m.next_gc_bytes),
            ] {
                out.push(format!("{p}mem.{name}:{v}|g"));
            }
            out.push(format!(
                "{p}mem.gc_runs:{}|c",
                delta(m.gc_total_runs, self.gc_runs)
            ));
            self.gc_runs = m.gc_total_runs;
        }
        out
    }
}

/// Packs `\n`-terminated lines into datagrams of at most `max` bytes, in order, as
/// nsqd's boundary-buffered writer does; a line longer than `max` goes alone.
fn packets(lines: &[String], max: usize) -> Vec<Vec<u8>> {
    // Go's bufio.NewWriterSize uses its default (4096) for a non-positive size.
    let max = if max == 0 { 4096 } else { max };
    let mut out = Vec::new();
    let mut buf: Vec<u8> = Vec::with_capacity(max);
    for line in lines {
        let len = line.len() + 1;
        if !buf.is_empty() && buf.len() + len > max {
            out.push(std::mem::take(&mut buf));
        }
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        if buf.len() >= max {
            out.push(std::mem::take(&mut buf));
        }
    }
    if !buf.is_empty() {
        out.push(buf);
    }
    out
}

fn send(address: &str, datagrams: &[Vec<u8>]) {
    let target: SocketAddr = match address.to_socket_addrs().map(|mut a| a.next()) {
        Ok(Some(a)) => a,
        Ok(None) | Err(_) => {
            log::error!("failed to create UDP socket to statsd({address})");
            return;
        }
    };
    let local: SocketAddr = if target.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let socket = match UdpSocket::bind(local) {
        Ok(s) => s,
        Err(e) => {
            log::error!("failed to create UDP socket to statsd({address}) - {e}");
            return;
        }
    };
    for d in datagrams {
        if let Err(e) = socket.send_to(d, target) {
            log::warn!("STATSD: failed to send to {address} - {e}");
        }
    }
}

/// Starts the pusher thread; it stops soon after `stop` is set.
pub fn spawn(
    opts: StatsdOptions,
    registry: Arc<Mutex<Registry>>,
    node: NodeInfo,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    let mut pusher = Pusher {
        prefix: prefix(&opts.prefix, &opts.broadcast_address, opts.http_port),
        exclude_ephemeral: opts.exclude_ephemeral,
        ..Pusher::default()
    };
    let interval = opts.interval.max(Duration::from_millis(10));
    let query = StatsQuery {
        json: true,
        topic: None,
        channel: None,
        include_clients: false,
        include_mem: false,
    };
    std::thread::Builder::new()
        .name("nsqd-statsd".into())
        .spawn(move || {
            let slice = Duration::from_millis(100);
            let mut next = Instant::now() + interval;
            loop {
                loop {
                    if stop.load(Ordering::SeqCst) {
                        log::info!("STATSD: closing");
                        return;
                    }
                    let now = Instant::now();
                    if now >= next {
                        break;
                    }
                    std::thread::sleep((next - now).min(slice));
                }
                let snap = {
                    let mut reg = crate::registry::lock(&registry);
                    collect(&mut reg, &query, &node, Instant::now())
                };
                log::info!("STATSD: pushing stats to {}", opts.address);
                let mem = opts.mem_stats.then(MemStats::read);
                let lines = pusher.lines(&snap, mem.as_ref());
                send(&opts.address, &packets(&lines, opts.udp_packet_size));
                next += interval;
                let now = Instant::now();
                if next <= now {
                    next = now + interval;
                }
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nsqd::stats::tests::{config, node, sample_registry};
    use crate::nsqd::stats::StatsQuery;

    fn snap(reg: &mut Registry) -> Snapshot {
        let q = StatsQuery {
            include_clients: false,
            include_mem: false,
            ..StatsQuery::default()
        };
        collect(reg, &q, &node(Vec::new()), Instant::now())
    }

    #[test]
    fn prefix_rules() {
        assert_eq!(prefix("nsq.%s", "127.0.0.1", 4151), "nsq.127_0_0_1_4151.");
        assert_eq!(
            prefix("nsq.%s.", "host.example", 80),
            "nsq.host_example_80."
        );
        assert_eq!(prefix("app", "h", 1), "app.");
        assert_eq!(prefix("", "h", 1), "");
        assert_eq!(prefix("%s", "::1", 4151), "[__1]_4151.");
    }

    #[test]
    fn lines_and_deltas() {
        let now = Instant::now();
        let mut reg = sample_registry(now);
        let mut p = Pusher {
            prefix: "nsq.h_1.".into(),
            ..Pusher::default()
        };
        let mem = MemStats {
            heap_in_use_bytes: 7,
            gc_total_runs: 5,
            ..MemStats::default()
        };
        let lines = p.lines(&snap(&mut reg), Some(&mem));
        for expected in [
            "nsq.h_1.topic.h1.message_count:3|c",
            "nsq.h_1.topic.h1.message_bytes:16|c",
            "nsq.h_1.topic.h1.depth:0|g",
            "nsq.h_1.topic.h1.backend_depth:0|g",
            "nsq.h_1.topic.h1.channel.chx.message_count:3|c",
            "nsq.h_1.topic.h1.channel.chx.depth:2|g",
            "nsq.h_1.topic.h1.channel.chx.backend_depth:0|g",
            "nsq.h_1.topic.h1.channel.chx.in_flight_count:1|g",
            "nsq.h_1.topic.h1.channel.chx.deferred_count:0|g",
            "nsq.h_1.topic.h1.channel.chx.requeue_count:0|c",
            "nsq.h_1.topic.h1.channel.chx.timeout_count:0|c",
            "nsq.h_1.topic.h1.channel.chx.clients:1|g",
            "nsq.h_1.topic.h3.depth:1|g",
            "nsq.h_1.mem.heap_in_use_bytes:7|g",
            "nsq.h_1.mem.gc_runs:5|c",
        ] {
            assert!(
                lines.iter().any(|l| l == expected),
                "{expected} in {lines:#?}"
            );
        }
        assert_eq!(lines.iter().filter(|l| l.contains(".mem.")).count(), 9);

        reg.publish("h1", [&b"ab"[..]], 0, now).unwrap();
        let lines = p.lines(&snap(&mut reg), Some(&mem));
        assert!(lines.contains(&"nsq.h_1.topic.h1.message_count:1|c".to_string()));
        assert!(lines.contains(&"nsq.h_1.topic.h1.message_bytes:2|c".to_string()));
        assert!(lines.contains(&"nsq.h_1.topic.h1.channel.chx.message_count:1|c".to_string()));
        assert!(lines.contains(&"nsq.h_1.topic.h1.channel.chx.depth:3|g".to_string()));
        assert!(lines.contains(&"nsq.h_1.mem.gc_runs:0|c".to_string()));

        // A recreated topic counts from zero again.
        reg.delete_topic("h1").unwrap();
        reg.publish("h1", [&b"z"[..]], 0, now).unwrap();
        let lines = p.lines(&snap(&mut reg), None);
        assert!(lines.contains(&"nsq.h_1.topic.h1.message_count:1|c".to_string()));
        assert!(!lines.iter().any(|l| l.contains("mem.")));
    }

    #[test]
    fn e2e_and_ephemeral() {
        let now = Instant::now();
        let mut reg = Registry::new(config(vec![0.99, 0.5]));
        reg.channel("t", "c", now);
        reg.channel("t", "e#ephemeral", now);
        reg.channel("x#ephemeral", "c", now);
        let mut w = crate::registry::latency::LatencyWindow::new(Duration::from_secs(60), now);
        w.record(1234, now);
        reg.topics
            .get_mut("t")
            .unwrap()
            .channels
            .get_mut("c")
            .unwrap()
            .e2e = Some(w);
        let s = collect(
            &mut reg,
            &StatsQuery::default(),
            &node(vec![0.5, 0.99]),
            now,
        );
        let mut p = Pusher {
            prefix: "p.".into(),
            exclude_ephemeral: true,
            ..Pusher::default()
        };
        let lines = p.lines(&s, None);
        assert!(lines.contains(&"p.topic.t.e2e_processing_latency_99:1234|g".to_string()));
        assert!(lines.contains(&"p.topic.t.channel.c.e2e_processing_latency_50:1234|g".to_string()));
        assert!(!lines.iter().any(|l| l.contains("ephemeral")), "{lines:#?}");
        p.exclude_ephemeral = false;
        let lines = p.lines(&s, None);
        assert!(lines.contains(&"p.topic.x#ephemeral.depth:0|g".to_string()));
        assert!(lines.contains(&"p.topic.t.channel.e#ephemeral.clients:0|g".to_string()));
    }

    #[test]
    fn packetization() {
        let lines: Vec<String> = ["aaaa", "bbbb", "cccc", "dddddddddddddd", "e"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let got = packets(&lines, 10);
        let got: Vec<&str> = got
            .iter()
            .map(|d| std::str::from_utf8(d).unwrap())
            .collect();
        assert_eq!(got, ["aaaa\nbbbb\n", "cccc\n", "dddddddddddddd\n", "e\n"]);
        for d in packets(&lines, 12) {
            assert!(d.len() <= 12 || d.iter().filter(|&&b| b == b'\n').count() == 1);
            assert!(d.ends_with(b"\n"));
        }
        assert!(packets(&[], 508).is_empty());
        assert_eq!(packets(&lines, 0).len(), 1);
    }

    /// Generous: a deadline that only turns a hang into a failure.
    const WAIT: Duration = Duration::from_secs(30);

    fn options(address: String, interval: Duration) -> StatsdOptions {
        StatsdOptions {
            address,
            prefix: "nsq.%s".into(),
            interval,
            udp_packet_size: 508,
            mem_stats: true,
            exclude_ephemeral: false,
            broadcast_address: "10.0.0.1".into(),
            http_port: 4151,
        }
    }

    /// Waits for `handle`'s thread to end, failing the test after [`WAIT`].
    fn join_within_wait(handle: JoinHandle<()>) {
        let deadline = Instant::now() + WAIT;
        while !handle.is_finished() {
            assert!(Instant::now() < deadline, "the pusher did not stop");
            std::thread::sleep(Duration::from_millis(10));
        }
        handle.join().expect("the pusher thread panicked");
    }

    #[test]
    fn pushes_over_udp_in_packets_of_at_most_the_packet_size() {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(WAIT)).unwrap();
        let registry = Arc::new(Mutex::new(sample_registry(Instant::now())));
        let stop = Arc::new(AtomicBool::new(false));
        let opts = options(
            sock.local_addr().unwrap().to_string(),
            Duration::from_millis(200),
        );
        let handle = spawn(opts, registry, node(Vec::new()), stop.clone()).unwrap();
        // mem.gc_runs is the last line of a push: read one whole push.
        let mut all = String::new();
        let mut buf = [0u8; 2048];
        while !all.contains("mem.gc_runs") {
            let n = sock.recv(&mut buf).expect("a datagram within WAIT");
            assert!(n <= 508, "datagram of {n} bytes");
            all.push_str(std::str::from_utf8(&buf[..n]).unwrap());
        }
        assert!(
            all.contains("nsq.10_0_0_1_4151.topic.h1.message_count:3|c\n"),
            "{all}"
        );
        assert!(
            all.contains("nsq.10_0_0_1_4151.topic.h1.channel.chx.depth:2|g\n"),
            "{all}"
        );
        stop.store(true, Ordering::SeqCst);
        join_within_wait(handle);
    }

    /// With an hour-long interval, setting `stop` ends the thread without waiting the
    /// interval out (and without a push): the wait only turns a hang into a failure.
    #[test]
    fn stops_promptly_without_waiting_out_the_interval() {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_nonblocking(true).unwrap();
        let registry = Arc::new(Mutex::new(sample_registry(Instant::now())));
        let stop = Arc::new(AtomicBool::new(false));
        let hour = Duration::from_secs(3600);
        let opts = options(sock.local_addr().unwrap().to_string(), hour);
        let handle = spawn(opts, registry, node(Vec::new()), stop.clone()).unwrap();
        assert!(!handle.is_finished(), "the pusher runs until stopped");
        stop.store(true, Ordering::SeqCst);
        join_within_wait(handle);
        let mut buf = [0u8; 2048];
        let nothing = sock.recv(&mut buf).unwrap_err();
        assert_eq!(nothing.kind(), std::io::ErrorKind::WouldBlock, "no push");
    }
}
