//! The client library end to end against the real nsqd: a Producer publishes 100,000
//! messages (MPUB batches, PUBs and async PUBs) and a Consumer receives every one.

mod common;

use common::{Nsqd, WAIT};
use nsq::client::{Config, Consumer, Producer};
use std::collections::HashSet;
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[test]
fn a_hundred_thousand_messages_from_producer_to_consumer_none_lost() {
    let nsqd = Nsqd::start(&["--mem-queue-size=20000"]);
    let addr = nsqd.tcp.to_string();
    let producer = Producer::new(&addr, Config::default()).unwrap();
    let consumer = Consumer::new(
        "e2e",
        "all",
        Config {
            max_in_flight: 500,
            ..Config::default()
        },
    )
    .unwrap();
    let (seen_tx, seen) = mpsc::channel::<Vec<u8>>();
    consumer.add_concurrent_handlers(
        move |msg| {
            let _ = seen_tx.send(msg.body.clone());
            Ok(())
        },
        4,
    );
    consumer.connect_to_nsqd(&addr).unwrap();

    // 90,000 in MPUB batches of 1000, 5,000 PUBs, 5,000 async PUBs.
    let mut n = 0u32;
    let mut next = || {
        n += 1;
        format!("m{n}").into_bytes()
    };
    for _ in 0..90 {
        let batch: Vec<Vec<u8>> = (0..1000).map(|_| next()).collect();
        producer.multi_publish("e2e", &batch).unwrap();
    }
    for _ in 0..5000 {
        producer.publish("e2e", &next()).unwrap();
    }
    let (done, results) = mpsc::channel();
    for i in 0..5000u32 {
        producer
            .publish_async("e2e", &next(), done.clone(), i)
            .unwrap();
    }
    for i in 0..5000u32 {
        let t = results
            .recv_timeout(WAIT)
            .expect("a transaction per async publish");
        assert_eq!(t.args, i);
        t.result.unwrap();
    }

    let mut bodies = HashSet::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while bodies.len() < 100_000 {
        assert!(
            Instant::now() < deadline,
            "received {} of 100000",
            bodies.len()
        );
        if let Ok(body) = seen.recv_timeout(Duration::from_millis(200)) {
            assert!(bodies.insert(body), "a message arrived twice");
        }
    }
    assert!((1..=100_000).all(|i| bodies.contains(format!("m{i}").as_bytes())));
    consumer.stop();
    assert!(consumer.wait_timeout(WAIT), "consumer stopped");
    producer.stop();
    let stats = common::http(nsqd.http, "GET", "/stats?format=json&topic=e2e", b"").text();
    assert!(stats.contains("\"message_count\":100000"), "{stats}");
    assert!(stats.contains("\"depth\":0"), "{stats}");
    assert!(stats.contains("\"in_flight_count\":0"), "{stats}");
}
