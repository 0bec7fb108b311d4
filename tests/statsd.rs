//! Black-box: nsqd started with `--statsd-address` pushes Go nsqd's statsd lines over
//! UDP, with the host-key prefix, counters as deltas and gauges for depths.

mod common;

use std::net::UdpSocket;
use std::time::Instant;

/// Reads whole pushes off `sock`: datagrams of at most 508 bytes, each ending with a
/// full line; a push ends with its `mem.gc_runs` line (`--statsd-mem-stats` defaults
/// to true).
struct Pushes {
    sock: UdpSocket,
}

impl Pushes {
    /// The lines of the next push; fails the test when none comes within
    /// [`common::WAIT`] (a deadline that only turns a hang into a failure).
    fn next(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            let n = self
                .sock
                .recv(&mut buf)
                .unwrap_or_else(|e| panic!("no statsd datagram within {:?}: {e}", common::WAIT));
            assert!(
                n <= 508,
                "datagram of {n} bytes exceeds --statsd-udp-packet-size"
            );
            let text = std::str::from_utf8(&buf[..n]).expect("UTF-8 datagram");
            assert!(text.ends_with('\n'), "datagram ends mid-line: {text:?}");
            lines.extend(text.lines().map(str::to_string));
            if lines.last().is_some_and(|l| l.contains(".mem.gc_runs:")) {
                return lines;
            }
        }
    }
}

/// The value of the metric `name` (`<prefix><name>:<value>|<kind>`) in `push`, if
/// there.
fn value(push: &[String], prefix: &str, name: &str, kind: &str) -> Option<u64> {
    let head = format!("{prefix}{name}:");
    push.iter().find_map(|l| {
        l.strip_prefix(&head)?
            .strip_suffix(&format!("|{kind}"))?
            .parse()
            .ok()
    })
}

#[test]
fn pushes_counters_and_gauges_with_host_prefix() {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind UDP");
    sock.set_read_timeout(Some(common::WAIT)).unwrap();
    let address = format!("--statsd-address={}", sock.local_addr().unwrap());
    let nsqd = common::Nsqd::start(&[
        &address,
        "--statsd-interval=1s",
        "--statsd-prefix=nsq.%s",
        "--broadcast-address=127.0.0.1",
    ]);
    let pushes = Pushes { sock };
    let prefix = format!("nsq.127_0_0_1_{}.", nsqd.http.port());

    // A subscriber with RDY 0: the three messages stay in the channel.
    let mut consumer = nsqd.client();
    consumer.sub("statsd_t", "ch");
    let mut producer = nsqd.client();
    for body in [&b"one"[..], b"two", b"three"] {
        producer.publish("statsd_t", body);
    }

    // Counters are deltas, so the publishes may be split over pushes: add them up
    // until all three are counted.
    let counters = [
        "topic.statsd_t.message_count",
        "topic.statsd_t.message_bytes",
        "topic.statsd_t.channel.ch.message_count",
        "topic.statsd_t.channel.ch.requeue_count",
        "topic.statsd_t.channel.ch.timeout_count",
    ];
    let mut sums = [0u64; 5];
    let deadline = Instant::now() + common::WAIT;
    let push = loop {
        assert!(
            Instant::now() < deadline,
            "counted so far {sums:?} of {counters:?}"
        );
        let push = pushes.next();
        for line in &push {
            assert!(
                line.starts_with(&prefix),
                "{line:?} lacks prefix {prefix:?}"
            );
            assert!(line.ends_with("|c") || line.ends_with("|g"), "{line:?}");
        }
        for (sum, name) in sums.iter_mut().zip(counters) {
            *sum += value(&push, &prefix, name, "c").unwrap_or(0);
        }
        if sums[0] >= 3 && sums[1] >= 11 && sums[2] >= 3 {
            break push;
        }
    };
    assert_eq!(sums, [3, 11, 3, 0, 0], "sums of {counters:?}");

    // That push was taken once all three were in the channel: its gauges are the
    // final state.
    for (name, want) in [
        ("topic.statsd_t.depth", 0),
        ("topic.statsd_t.backend_depth", 0),
        ("topic.statsd_t.channel.ch.depth", 3),
        ("topic.statsd_t.channel.ch.backend_depth", 0),
        ("topic.statsd_t.channel.ch.in_flight_count", 0),
        ("topic.statsd_t.channel.ch.deferred_count", 0),
        ("topic.statsd_t.channel.ch.clients", 1),
    ] {
        assert_eq!(
            value(&push, &prefix, name, "g"),
            Some(want),
            "{name} in {push:#?}"
        );
    }
    assert!(
        value(&push, &prefix, "mem.heap_in_use_bytes", "g").is_some(),
        "{push:#?}"
    );

    // The next push sends counters as deltas: nothing new was published.
    let push = pushes.next();
    for name in counters {
        assert_eq!(
            value(&push, &prefix, name, "c"),
            Some(0),
            "{name} in {push:#?}"
        );
    }
    assert_eq!(
        value(&push, &prefix, "topic.statsd_t.channel.ch.depth", "g"),
        Some(3),
        "{push:#?}"
    );
}
