//! Black-box: nsqd started with `--statsd-address` pushes Go nsqd's statsd lines over
//! UDP, with the host-key prefix, counters as deltas and gauges for depths.

mod common;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

/// Reads datagrams until `done(all text so far)` or the deadline; returns the text.
fn receive_until(sock: &UdpSocket, deadline: Instant, done: impl Fn(&str) -> bool) -> String {
    let mut all = String::new();
    let mut buf = [0u8; 65536];
    while !done(&all) && Instant::now() < deadline {
        if let Ok(n) = sock.recv(&mut buf) {
            assert!(
                n <= 508,
                "datagram of {n} bytes exceeds --statsd-udp-packet-size"
            );
            let text = std::str::from_utf8(&buf[..n]).expect("UTF-8 datagram");
            assert!(text.ends_with('\n'), "datagram ends mid-line: {text:?}");
            all.push_str(text);
            all.push('\u{0}');
        }
    }
    all
}

fn lines(all: &str) -> Vec<&str> {
    all.split(['\n', '\u{0}'])
        .filter(|l| !l.is_empty())
        .collect()
}

/// The HTTP port nsqd logged, if it did.
fn http_port(nsqd: &common::Nsqd) -> Option<u16> {
    let log = nsqd.log_text();
    let rest = log.split("HTTP: listening on ").nth(1)?;
    let addr: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
    addr.rsplit_once(':')?.1.parse().ok()
}

#[test]
fn pushes_counters_and_gauges_with_host_prefix() {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind UDP");
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let address = format!("--statsd-address={}", sock.local_addr().unwrap());
    let nsqd = common::Nsqd::start(&[
        &address,
        "--statsd-interval=1s",
        "--statsd-prefix=nsq.%s",
        "--broadcast-address=127.0.0.1",
    ]);

    let mut consumer = nsqd.client();
    consumer.sub("statsd_t", "ch");
    let mut producer = nsqd.client();
    for body in [&b"one"[..], b"two", b"three"] {
        producer.publish("statsd_t", body);
    }

    // mem.gc_runs is the last line of a push (--statsd-mem-stats defaults to true).
    let wanted = [
        "statsd_t.message_count:3|c",
        "statsd_t.channel.ch.depth:3|g",
        ".mem.gc_runs:",
    ];
    let deadline = Instant::now() + common::WAIT;
    let all = receive_until(&sock, deadline, |all| {
        wanted.iter().all(|w| all.contains(w))
    });
    let got = lines(&all);

    let prefix = match http_port(&nsqd) {
        Some(port) => format!("nsq.127_0_0_1_{port}."),
        None => "nsq.127_0_0_1_".to_string(),
    };
    assert!(
        !got.is_empty(),
        "no statsd datagram within {:?}",
        common::WAIT
    );
    for line in &got {
        assert!(
            line.starts_with(&prefix),
            "{line:?} lacks prefix {prefix:?}"
        );
        assert!(line.ends_with("|c") || line.ends_with("|g"), "{line:?}");
    }
    let find = |suffix: &str| {
        got.iter()
            .any(|l| l.starts_with(&prefix) && l.ends_with(suffix))
    };
    for suffix in [
        "topic.statsd_t.message_count:3|c",
        "topic.statsd_t.message_bytes:11|c",
        "topic.statsd_t.depth:0|g",
        "topic.statsd_t.backend_depth:0|g",
        "topic.statsd_t.channel.ch.message_count:3|c",
        "topic.statsd_t.channel.ch.depth:3|g",
        "topic.statsd_t.channel.ch.in_flight_count:0|g",
        "topic.statsd_t.channel.ch.deferred_count:0|g",
        "topic.statsd_t.channel.ch.requeue_count:0|c",
        "topic.statsd_t.channel.ch.timeout_count:0|c",
        "topic.statsd_t.channel.ch.clients:1|g",
    ] {
        assert!(find(suffix), "no {suffix} in {got:#?}");
    }
    assert!(
        got.iter().any(|l| l.contains(".mem.heap_in_use_bytes:")),
        "{got:#?}"
    );

    // The next push sends counters as deltas: nothing new was published.
    let all = receive_until(&sock, Instant::now() + common::WAIT, |all| {
        lines(all)
            .iter()
            .any(|l| l.ends_with("topic.statsd_t.message_count:0|c"))
    });
    assert!(
        lines(&all)
            .iter()
            .any(|l| l.ends_with("topic.statsd_t.message_count:0|c")),
        "no zero delta in {all:?}"
    );
}
