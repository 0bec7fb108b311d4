//! The client library end to end against the real nsqd: a Producer publishes 100,000
//! messages (MPUB batches, PUBs and async PUBs) and a Consumer receives every one.

mod common;

use common::{eventually, Nsqd, WAIT};
use nsq::client::{Config, Consumer, Producer};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::mpsc;

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

    // No bound on the total time: only a stall (nothing new for WAIT) fails.
    let mut bodies = HashSet::new();
    while bodies.len() < 100_000 {
        let body = seen
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("stalled after {} of 100000", bodies.len()));
        assert!(bodies.insert(body), "a message arrived twice");
    }
    assert!((1..=100_000).all(|i| bodies.contains(format!("m{i}").as_bytes())));
    consumer.stop();
    assert!(consumer.wait_timeout(WAIT), "consumer stopped");
    producer.stop();
    // The consumer is gone once nsqd has read all it sent (every FIN) and its close.
    let stats =
        || -> Value { common::http(nsqd.http, "GET", "/stats?format=json&topic=e2e", b"").json() };
    eventually("the consumer to leave the channel", || {
        stats()["topics"][0]["channels"][0]["client_count"] == 0
    });
    let s = stats();
    let topic = &s["topics"][0];
    assert_eq!(topic["topic_name"], "e2e", "{s}");
    assert_eq!(topic["message_count"], 100_000, "{s}");
    assert_eq!(topic["depth"], 0, "{s}");
    let channels = topic["channels"].as_array().expect("channels");
    assert_eq!(channels.len(), 1, "{s}");
    let ch = &channels[0];
    assert_eq!(ch["channel_name"], "all", "{s}");
    for (key, want) in [
        ("message_count", 100_000),
        ("depth", 0),
        ("in_flight_count", 0),
        ("deferred_count", 0),
        ("requeue_count", 0),
        ("timeout_count", 0),
    ] {
        assert_eq!(ch[key], want, "{key} in {ch}");
    }
}
