//! Unit tests of the registry: topics and channels, publish and delivery, in-flight
//! timeouts, deferrals, pause, delete and the persisted metadata.

use super::*;
use crate::proto::ClientState;
use channel::InFlightError;
use message::Message;

fn config() -> Config {
    Config {
        node_id: 7,
        mem_queue_size: 100,
        data_path: None,
        disk: crate::diskqueue::Config {
            max_bytes_per_file: 1 << 20,
            min_msg_size: 26,
            max_msg_size: 1 << 20,
            sync_every: 2500,
        },
        max_msg_timeout: Duration::from_secs(15 * 60),
        max_channel_consumers: 0,
        e2e_percentiles: Vec::new(),
        e2e_window: Duration::from_secs(600),
    }
}

fn info(msg_timeout: Duration) -> ClientInfo {
    ClientInfo {
        remote: "127.0.0.1:4150".parse().unwrap(),
        client_id: "127.0.0.1".into(),
        hostname: "127.0.0.1".into(),
        user_agent: String::new(),
        state: ClientState::Init,
        msg_timeout,
        sample_rate: 0,
        heartbeat_interval: Some(Duration::from_secs(30)),
        output_buffer_size: 16384,
        output_buffer_timeout: Duration::from_millis(250),
        connect_ts: 0,
        subscription: None,
        pub_counts: Default::default(),
        auth_identity: None,
        compression: "",
        tls: None,
    }
}

fn registry() -> Registry {
    Registry::new(config())
}

/// Adds client `id` and subscribes it with window `rdy`.
fn consumer(reg: &mut Registry, id: ClientId, topic: &str, channel: &str, rdy: u64, now: Instant) {
    reg.add_client(id, info(Duration::from_secs(60)));
    reg.subscribe(id, topic, channel, now).unwrap();
    reg.rdy(id, rdy);
}

fn pump(reg: &mut Registry, now: Instant) -> Vec<(ClientId, Message)> {
    let mut out = Vec::new();
    reg.pump(now, |client, m| out.push((client, m.clone())));
    out
}

fn bodies(delivered: &[(ClientId, Message)]) -> Vec<&[u8]> {
    delivered.iter().map(|(_, m)| &m.body[..]).collect()
}

fn pub_one(reg: &mut Registry, topic: &str, body: &[u8], now: Instant) {
    reg.publish(topic, [body], 0, now).unwrap();
}

#[test]
fn publish_without_channel_holds_then_subscribe_drains_in_order() {
    let now = Instant::now();
    let mut reg = registry();
    reg.publish("t", [&b"a"[..], b"b"], 0, now).unwrap();
    pub_one(&mut reg, "t", b"c", now);
    let topic = &reg.topics["t"];
    assert_eq!(topic.depth(), 3);
    assert!(topic.channels.is_empty());
    assert_eq!(topic.message_count, 3);
    assert_eq!(topic.message_bytes, 3);
    assert!(pump(&mut reg, now).is_empty());

    reg.add_client(1, info(Duration::from_secs(60)));
    reg.subscribe(1, "t", "c", now).unwrap();
    assert_eq!(reg.topics["t"].depth(), 0);
    assert_eq!(reg.topics["t"].channels["c"].depth(), 3);
    assert_eq!(reg.topics["t"].channels["c"].message_count, 3);
    // RDY 0 until the client says otherwise.
    assert!(pump(&mut reg, now).is_empty());
    reg.rdy(1, 10);
    let got = pump(&mut reg, now);
    assert_eq!(bodies(&got), vec![&b"a"[..], b"b", b"c"]);
    assert!(got.iter().all(|(c, m)| *c == 1 && m.attempts == 1));
    // Distinct, increasing IDs.
    assert!(got[0].1.id < got[1].1.id && got[1].1.id < got[2].1.id);
    // Later publishes flow straight through.
    pub_one(&mut reg, "t", b"d", now);
    assert_eq!(reg.topics["t"].depth(), 0);
    assert_eq!(bodies(&pump(&mut reg, now)), vec![&b"d"[..]]);
}

#[test]
fn subscribe_records_the_subscription() {
    let now = Instant::now();
    let mut reg = registry();
    reg.add_client(1, info(Duration::from_secs(7)));
    reg.subscribe(1, "t", "c", now).unwrap();
    let c = &reg.clients[&1];
    assert_eq!(c.state, ClientState::Subscribed);
    assert_eq!(c.subscription, Some(("t".to_string(), "c".to_string())));
    let ch = &reg.topics["t"].channels["c"];
    assert_eq!(ch.consumers.len(), 1);
    let consumer = &ch.consumers[0];
    assert_eq!(consumer.client, 1);
    assert_eq!(consumer.rdy, 0);
    assert_eq!(consumer.msg_timeout, Duration::from_secs(7));
}

#[test]
fn fan_out_shares_one_body() {
    let now = Instant::now();
    let mut reg = registry();
    consumer(&mut reg, 1, "t", "c1", 10, now);
    consumer(&mut reg, 2, "t", "c2", 10, now);
    pump(&mut reg, now);
    pub_one(&mut reg, "t", b"shared", now);
    let got = pump(&mut reg, now);
    assert_eq!(got.len(), 2);
    let mut who: Vec<ClientId> = got.iter().map(|(c, _)| *c).collect();
    who.sort();
    assert_eq!(who, vec![1, 2]);
    let (a, b) = (&got[0].1, &got[1].1);
    assert!(a.body.same_allocation(&b.body), "one allocation for both");
    assert_eq!(&a.body[..], b"shared");
    assert_eq!(a.id, b.id);
    assert_eq!(a.timestamp, b.timestamp);
    assert_eq!(reg.topics["t"].channels["c1"].message_count, 1);
    assert_eq!(reg.topics["t"].channels["c2"].message_count, 1);
    assert_eq!(reg.topics["t"].message_count, 1);
    // Per-channel attempts and in-flight state: FIN on one channel leaves the other.
    reg.finish(1, &a.id).unwrap();
    assert_eq!(reg.topics["t"].channels["c1"].in_flight_count(), 0);
    assert_eq!(reg.topics["t"].channels["c2"].in_flight_count(), 1);
}

#[test]
fn held_messages_fan_out_to_a_new_channel_and_later_channels_miss_them() {
    let now = Instant::now();
    let mut reg = registry();
    pub_one(&mut reg, "t", b"early", now);
    // HTTP-style channel creation with no consumer.
    reg.channel("t", "c1", now);
    assert_eq!(reg.topics["t"].depth(), 0);
    assert_eq!(reg.topics["t"].channels["c1"].depth(), 1);
    consumer(&mut reg, 2, "t", "c2", 10, now);
    assert_eq!(reg.topics["t"].channels["c2"].depth(), 0);
    assert!(pump(&mut reg, now).is_empty());
    // The held message stays on c1 until someone subscribes there.
    consumer(&mut reg, 1, "t", "c1", 10, now);
    let got = pump(&mut reg, now);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, 1);
    assert_eq!(&got[0].1.body[..], b"early");
}

#[test]
fn dpub_deferral_starts_when_handed_to_a_channel() {
    let t0 = Instant::now();
    let ms = Duration::from_millis;
    let mut reg = registry();
    reg.publish("t", [&b"later"[..]], 1000, t0).unwrap();
    assert_eq!(reg.topics["t"].depth(), 1);
    // The channel appears 5 s later: the second of deferral starts then.
    let t1 = t0 + ms(5000);
    consumer(&mut reg, 1, "t", "c", 10, t1);
    let ch = &reg.topics["t"].channels["c"];
    assert_eq!(ch.deferred_count(), 1);
    assert_eq!(ch.depth(), 0);
    assert_eq!(ch.message_count, 1);
    assert!(pump(&mut reg, t1).is_empty());
    // A deadline is known, no later than the release.
    assert!(reg.next_deadline().is_some_and(|d| d <= t1 + ms(1000)));
    // Well past publish + 1 s, but not handoff + 1 s.
    reg.expire(t1 + ms(500));
    assert!(pump(&mut reg, t1 + ms(500)).is_empty());
    assert_eq!(reg.next_deadline(), Some(t1 + ms(1000)));
    reg.expire(t1 + ms(999));
    assert!(pump(&mut reg, t1 + ms(999)).is_empty());
    reg.expire(t1 + ms(1000));
    let got = pump(&mut reg, t1 + ms(1000));
    assert_eq!(bodies(&got), vec![&b"later"[..]]);
    assert_eq!(got[0].1.attempts, 1);
}

#[test]
fn dpub_to_a_flowing_topic_defers_from_publish() {
    let t0 = Instant::now();
    let ms = Duration::from_millis;
    let mut reg = registry();
    consumer(&mut reg, 1, "t", "c", 10, t0);
    reg.publish("t", [&b"x"[..], b"y"], 200, t0).unwrap();
    pub_one(&mut reg, "t", b"now", t0);
    assert_eq!(bodies(&pump(&mut reg, t0)), vec![&b"now"[..]]);
    assert_eq!(reg.topics["t"].channels["c"].deferred_count(), 2);
    assert_eq!(reg.next_deadline(), Some(t0 + ms(200)));
    reg.expire(t0 + ms(199));
    assert!(pump(&mut reg, t0 + ms(199)).is_empty());
    reg.expire(t0 + ms(200));
    assert_eq!(bodies(&pump(&mut reg, t0 + ms(200))), vec![&b"x"[..], b"y"]);
}

#[test]
fn remove_client_deletes_ephemeral_channel_then_ephemeral_topic() {
    let now = Instant::now();
    let mut reg = registry();
    consumer(&mut reg, 1, "t#ephemeral", "c#ephemeral", 1, now);
    consumer(&mut reg, 2, "t#ephemeral", "c#ephemeral", 1, now);
    assert!(reg.topics["t#ephemeral"].ephemeral);
    reg.remove_client(1);
    assert!(!reg.clients.contains_key(&1));
    assert_eq!(
        reg.topics["t#ephemeral"].channels["c#ephemeral"]
            .consumers
            .len(),
        1
    );
    reg.remove_client(2);
    assert!(!reg.topics.contains_key("t#ephemeral"));
    assert!(reg.clients.is_empty());
    // Removing again, or an unknown client, is harmless.
    reg.remove_client(2);
    reg.remove_client(99);
}

#[test]
fn remove_client_keeps_what_is_not_ephemeral() {
    let now = Instant::now();
    let mut reg = registry();
    // Ephemeral channel of a durable topic: the channel goes, the topic stays.
    consumer(&mut reg, 1, "t", "c#ephemeral", 1, now);
    reg.remove_client(1);
    assert!(reg.topics.contains_key("t"));
    assert!(!reg.topics["t"].channels.contains_key("c#ephemeral"));
    // Durable channel of an ephemeral topic: both stay.
    consumer(&mut reg, 2, "e#ephemeral", "c", 1, now);
    reg.remove_client(2);
    assert!(reg.topics["e#ephemeral"].channels.contains_key("c"));
    // An ephemeral topic with a second channel stays while that channel lives.
    consumer(&mut reg, 3, "f#ephemeral", "a#ephemeral", 1, now);
    consumer(&mut reg, 4, "f#ephemeral", "b#ephemeral", 1, now);
    reg.remove_client(3);
    assert!(reg.topics.contains_key("f#ephemeral"));
    assert_eq!(reg.topics["f#ephemeral"].channels.len(), 1);
    reg.remove_client(4);
    assert!(!reg.topics.contains_key("f#ephemeral"));
    // An ephemeral topic that never had a channel is not deleted by a publisher leaving.
    reg.add_client(5, info(Duration::from_secs(60)));
    pub_one(&mut reg, "p#ephemeral", b"x", now);
    reg.remove_client(5);
    assert!(reg.topics.contains_key("p#ephemeral"));
}

#[test]
fn max_channel_consumers_refuses_extra_subscribers() {
    let now = Instant::now();
    let mut reg = Registry::new(Config {
        max_channel_consumers: 2,
        ..config()
    });
    for id in 1..=3 {
        reg.add_client(id, info(Duration::from_secs(60)));
    }
    reg.subscribe(1, "t", "c", now).unwrap();
    reg.subscribe(2, "t", "c", now).unwrap();
    let e = reg.subscribe(3, "t", "c", now).unwrap_err();
    assert_eq!(
        e,
        SubError::TooManyConsumers {
            topic: "t".into(),
            channel: "c".into(),
            limit: 2
        }
    );
    assert_eq!(
        e.to_string(),
        "SUB failed consumers for t:c exceeds limit of 2"
    );
    assert_eq!(reg.topics["t"].channels["c"].consumers.len(), 2);
    assert_eq!(reg.clients[&3].state, ClientState::Init);
    assert_eq!(reg.clients[&3].subscription, None);
    // Another channel has its own count.
    reg.subscribe(3, "t", "other", now).unwrap();
    // Room again once someone leaves.
    reg.add_client(4, info(Duration::from_secs(60)));
    reg.remove_client(1);
    reg.subscribe(4, "t", "c", now).unwrap();
    // 0 means unlimited.
    let mut reg = registry();
    for id in 1..=50 {
        consumer(&mut reg, id, "t", "c", 1, now);
    }
    assert_eq!(reg.topics["t"].channels["c"].consumers.len(), 50);
}

#[test]
fn pump_only_visits_dirty_topics() {
    let now = Instant::now();
    let mut reg = registry();
    consumer(&mut reg, 1, "a", "c", 0, now);
    consumer(&mut reg, 2, "b", "c", 0, now);
    pub_one(&mut reg, "a", b"a1", now);
    pub_one(&mut reg, "b", b"b1", now);
    // Nobody is ready: nothing goes, and the dirty marks are spent.
    assert!(pump(&mut reg, now).is_empty());
    assert!(!reg.topics["a"].dirty && !reg.topics["b"].dirty);
    // Opening the windows behind the registry's back does not make the topics dirty...
    for t in ["a", "b"] {
        let ch = reg
            .topics
            .get_mut(t)
            .unwrap()
            .channels
            .get_mut("c")
            .unwrap();
        ch.consumers[0].rdy = 5;
    }
    assert!(pump(&mut reg, now).is_empty());
    // ...RDY through the registry does, for that client's topic only.
    reg.rdy(1, 5);
    let got = pump(&mut reg, now);
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].0, &got[0].1.body[..]), (1, &b"a1"[..]));
    assert_eq!(reg.topics["b"].channels["c"].depth(), 1);
    // A publish marks its topic.
    pub_one(&mut reg, "b", b"b2", now);
    let got = pump(&mut reg, now);
    assert_eq!(bodies(&got), vec![&b"b1"[..], b"b2"]);
    assert!(got.iter().all(|(c, _)| *c == 2));
    // Pumping again finds nothing to do.
    assert!(pump(&mut reg, now).is_empty());
}

#[test]
fn pump_delivers_only_to_ready_consumers() {
    let now = Instant::now();
    let mut reg = registry();
    consumer(&mut reg, 1, "t", "c", 1, now);
    consumer(&mut reg, 2, "t", "c", 0, now);
    reg.publish("t", [&b"1"[..], b"2", b"3"], 0, now).unwrap();
    let got = pump(&mut reg, now);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, 1);
    // FIN frees the window and marks the topic.
    reg.finish(1, &got[0].1.id).unwrap();
    let got = pump(&mut reg, now);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, 1);
    // CLS: RDY 0 and closing.
    reg.close_wait(1);
    assert_eq!(reg.clients[&1].state, ClientState::Closing);
    reg.finish(1, &got[0].1.id).unwrap();
    assert!(pump(&mut reg, now).is_empty());
    reg.rdy(2, 1);
    assert_eq!(pump(&mut reg, now)[0].0, 2);
}

#[test]
fn finish_requeue_touch_errors_through_the_registry() {
    let now = Instant::now();
    let mut reg = registry();
    consumer(&mut reg, 1, "t", "c", 1, now);
    consumer(&mut reg, 2, "t", "c", 0, now);
    reg.add_client(3, info(Duration::from_secs(60)));
    pub_one(&mut reg, "t", b"m", now);
    let got = pump(&mut reg, now);
    let id = got[0].1.id;
    assert_eq!(reg.finish(2, &id), Err(InFlightError::NotOwner));
    assert_eq!(
        reg.requeue(2, &id, Duration::ZERO, now),
        Err(InFlightError::NotOwner)
    );
    assert_eq!(reg.touch(2, &id, now), Err(InFlightError::NotOwner));
    // Not subscribed, or unknown: not in flight.
    assert_eq!(reg.finish(3, &id), Err(InFlightError::NotInFlight));
    assert_eq!(reg.finish(42, &id), Err(InFlightError::NotInFlight));
    assert_eq!(reg.finish(1, &[b'0'; 16]), Err(InFlightError::NotInFlight));
    // REQ 0 and redelivery.
    reg.requeue(1, &id, Duration::ZERO, now).unwrap();
    let ch = &reg.topics["t"].channels["c"];
    assert_eq!(ch.requeue_count, 1);
    assert_eq!(ch.consumers[0].requeue_count, 1);
    let got = pump(&mut reg, now);
    assert_eq!((got[0].0, got[0].1.attempts), (1, 2));
    assert_eq!(reg.finish(1, &id), Ok(()));
    assert_eq!(reg.finish(1, &id), Err(InFlightError::NotInFlight));
    assert_eq!(reg.topics["t"].channels["c"].consumers[0].finish_count, 1);
}

#[test]
fn in_flight_timeout_via_next_deadline_and_expire() {
    let t0 = Instant::now();
    let s = Duration::from_secs;
    let mut reg = registry();
    assert_eq!(reg.next_deadline(), None);
    reg.add_client(1, info(s(1)));
    reg.subscribe(1, "t", "c", t0).unwrap();
    reg.rdy(1, 1);
    pub_one(&mut reg, "t", b"m", t0);
    let got = pump(&mut reg, t0);
    assert_eq!(got.len(), 1);
    assert_eq!(reg.next_deadline(), Some(t0 + s(1)));
    // Early: nothing moves.
    reg.expire(t0 + s(1) - Duration::from_millis(1));
    assert!(pump(&mut reg, t0 + s(1)).is_empty());
    assert_eq!(reg.topics["t"].channels["c"].in_flight_count(), 1);
    // At the deadline: requeued and redelivered.
    reg.expire(t0 + s(1));
    let ch = &reg.topics["t"].channels["c"];
    assert_eq!(ch.timeout_count, 1);
    assert_eq!(ch.requeue_count, 0);
    assert_eq!(ch.in_flight_count(), 0);
    let got = pump(&mut reg, t0 + s(1));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1.attempts, 2);
    assert_eq!(reg.next_deadline(), Some(t0 + s(2)));
    // FIN, then nothing is pending once expire has looked.
    reg.finish(1, &got[0].1.id).unwrap();
    reg.expire(t0 + s(2));
    assert_eq!(reg.next_deadline(), None);
    assert_eq!(reg.topics["t"].channels["c"].timeout_count, 1);
}

#[test]
fn requeue_with_delay_sets_the_deadline() {
    let t0 = Instant::now();
    let s = Duration::from_secs;
    let mut reg = registry();
    consumer(&mut reg, 1, "t", "c", 1, t0);
    pub_one(&mut reg, "t", b"m", t0);
    let id = pump(&mut reg, t0)[0].1.id;
    assert_eq!(reg.next_deadline(), Some(t0 + s(60)));
    reg.requeue(1, &id, s(2), t0).unwrap();
    assert_eq!(reg.next_deadline(), Some(t0 + s(2)));
    assert_eq!(reg.topics["t"].channels["c"].deferred_count(), 1);
    assert!(pump(&mut reg, t0 + s(1)).is_empty());
    reg.expire(t0 + s(1));
    assert!(pump(&mut reg, t0 + s(1)).is_empty());
    reg.expire(t0 + s(2));
    let got = pump(&mut reg, t0 + s(2));
    assert_eq!((got[0].1.id, got[0].1.attempts), (id, 2));
}

#[test]
fn touch_is_capped_by_max_msg_timeout() {
    let t0 = Instant::now();
    let s = Duration::from_secs;
    let mut reg = Registry::new(Config {
        max_msg_timeout: s(15),
        ..config()
    });
    reg.add_client(1, info(s(10)));
    reg.subscribe(1, "t", "c", t0).unwrap();
    reg.rdy(1, 1);
    pub_one(&mut reg, "t", b"m", t0);
    let id = pump(&mut reg, t0)[0].1.id;
    reg.touch(1, &id, t0 + s(8)).unwrap();
    // The old deadline passes without a timeout.
    reg.expire(t0 + s(10));
    assert_eq!(reg.topics["t"].channels["c"].timeout_count, 0);
    assert_eq!(reg.next_deadline(), Some(t0 + s(15)));
    reg.expire(t0 + s(15));
    assert_eq!(reg.topics["t"].channels["c"].timeout_count, 1);
}

#[test]
fn disconnect_leaves_in_flight_messages_until_timeout() {
    let t0 = Instant::now();
    let s = Duration::from_secs;
    let mut reg = registry();
    reg.add_client(1, info(s(1)));
    reg.subscribe(1, "t", "c", t0).unwrap();
    reg.rdy(1, 2);
    consumer(&mut reg, 2, "t", "c", 0, t0);
    reg.publish("t", [&b"1"[..], b"2"], 0, t0).unwrap();
    assert_eq!(pump(&mut reg, t0).len(), 2);
    reg.remove_client(1);
    let ch = &reg.topics["t"].channels["c"];
    assert_eq!(ch.in_flight_count(), 2);
    assert_eq!(ch.consumers.len(), 1);
    reg.expire(t0 + s(1));
    assert_eq!(reg.topics["t"].channels["c"].timeout_count, 2);
    reg.rdy(2, 5);
    let got = pump(&mut reg, t0 + s(1));
    assert_eq!(bodies(&got), vec![&b"1"[..], b"2"]);
    assert!(got.iter().all(|(c, m)| *c == 2 && m.attempts == 2));
}

#[test]
fn ephemeral_topic_without_channel_bounds_what_it_holds() {
    let now = Instant::now();
    let mut reg = Registry::new(Config {
        mem_queue_size: 2,
        ..config()
    });
    reg.publish("e#ephemeral", [&b"1"[..], b"2", b"3"], 0, now)
        .unwrap();
    assert_eq!(reg.topics["e#ephemeral"].depth(), 2);
    assert_eq!(reg.topics["e#ephemeral"].message_count, 3);
    consumer(&mut reg, 1, "e#ephemeral", "c", 10, now);
    assert_eq!(bodies(&pump(&mut reg, now)), vec![&b"1"[..], b"2"]);
}

#[test]
fn config_is_kept() {
    let reg = registry();
    assert_eq!(reg.config().node_id, 7);
    assert_eq!(reg.config().mem_queue_size, 100);
}

#[test]
fn dpub_deadline_survives_an_expire_before_any_channel() {
    let t0 = Instant::now();
    let ms = Duration::from_millis;
    let mut reg = registry();
    reg.publish("t", [&b"later"[..]], 1000, t0).unwrap();
    // The publish-time deadline passes while the topic has no channel.
    reg.expire(t0 + ms(2000));
    assert_eq!(reg.topics["t"].depth(), 1);
    let t1 = t0 + ms(5000);
    consumer(&mut reg, 1, "t", "c", 10, t1);
    assert!(pump(&mut reg, t1).is_empty());
    assert_eq!(reg.next_deadline(), Some(t1 + ms(1000)));
    reg.expire(t1 + ms(1000));
    assert_eq!(bodies(&pump(&mut reg, t1 + ms(1000))), vec![&b"later"[..]]);
}

#[test]
fn load_hands_held_messages_to_every_channel_in_order() {
    let dir = std::env::temp_dir().join(format!("nsq-rs-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let now = Instant::now();
    let on_disk = Config {
        data_path: Some(dir.clone()),
        mem_queue_size: 2,
        ..config()
    };
    let mut reg = Registry::new(on_disk.clone());
    let bodies: Vec<Vec<u8>> = (0..5).map(|i| format!("m{i}").into_bytes()).collect();
    reg.publish("t", bodies.iter().map(|b| b.as_slice()), 0, now)
        .unwrap();
    for topic in reg.stop_work(now) {
        for job in topic.write().unwrap() {
            job.run().unwrap();
        }
    }
    let meta = metadata::Metadata {
        topics: Some(vec![metadata::TopicMeta {
            name: "t".into(),
            paused: false,
            channels: Some(vec![
                metadata::ChannelMeta {
                    name: "a".into(),
                    paused: false,
                },
                metadata::ChannelMeta {
                    name: "b".into(),
                    paused: true,
                },
            ]),
        }]),
        version: "1.3.0".into(),
    };
    let mut reg = Registry::new(on_disk);
    reg.load(&meta, now);
    let t = reg.topics.get_mut("t").unwrap();
    assert_eq!(t.depth(), 0);
    for name in ["a", "b"] {
        let ch = t.channels.get_mut(name).unwrap();
        assert_eq!(ch.depth(), 5, "{name}");
        let got: Vec<Vec<u8>> = (0..5)
            .map(|_| ch.backlog().pop().unwrap().body.to_vec())
            .collect();
        assert_eq!(got, bodies, "{name}");
    }
    assert!(t.channels["b"].paused);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sync_jobs_follow_disk_writes() {
    let dir = std::env::temp_dir().join(format!("nsq-rs-syncjobs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let now = Instant::now();
    let mut cfg = Config {
        data_path: Some(dir.clone()),
        mem_queue_size: 0,
        ..config()
    };
    cfg.disk.sync_every = 1;
    let mut reg = Registry::new(cfg);
    reg.channel("t", "c", now);
    assert!(
        reg.sync_jobs(false).is_empty(),
        "nothing written, nothing owed"
    );
    pub_one(&mut reg, "t", b"x", now);
    let jobs = reg.sync_jobs(false);
    assert_eq!(jobs.len(), 1, "the channel's queue owes its fsync");
    for job in jobs {
        job.unwrap().run().unwrap();
    }
    assert!(reg.sync_jobs(false).is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_new_topic_is_held_until_released_with_the_channels_lookupd_knows() {
    let now = Instant::now();
    let mut reg = registry();
    let (tx, rx) = std::sync::mpsc::channel();
    reg.set_precreate(Some(tx));
    reg.channel("t", "mine", now);
    pub_one(&mut reg, "t", b"first", now);
    assert_eq!(
        rx.try_recv().unwrap(),
        "t",
        "the new topic is announced once"
    );
    assert!(rx.try_recv().is_err());
    assert_eq!(reg.topics["t"].depth(), 1, "held by the topic");
    assert_eq!(reg.topics["t"].channels["mine"].depth(), 0);

    let known = [
        "other".to_string(),
        "tail#ephemeral".to_string(),
        "bad name".to_string(),
    ];
    reg.release_topic("t", &known, now);
    let t = &reg.topics["t"];
    assert_eq!(t.depth(), 0);
    let names: Vec<&String> = t.channels.keys().collect();
    assert_eq!(
        names,
        ["mine", "other"],
        "ephemeral and invalid names skipped"
    );
    assert!(
        t.channels.values().all(|c| c.depth() == 1),
        "every channel got it"
    );

    reg.release_topic("t", &["late".to_string()], now);
    assert!(
        !reg.topics["t"].channels.contains_key("late"),
        "a flowing topic is not held"
    );
    reg.set_precreate(None);
    pub_one(&mut reg, "u", b"x", now);
    assert!(rx.try_recv().is_err(), "no lookupd, no hold");
}

#[test]
fn creating_a_held_topic_tells_the_creator_to_wait_until_release_or_delete() {
    let now = Instant::now();
    let mut reg = registry();
    assert!(!reg.create_topic("free"), "no lookupd: nothing to wait for");
    let (tx, _rx) = std::sync::mpsc::channel();
    reg.set_precreate(Some(tx));
    assert!(reg.create_topic("t"), "the creator waits");
    assert!(!reg.create_topic("t"), "later callers go on, as in Go");
    assert!(reg.is_held("t"));
    let signal = reg.release_signal("t").expect("held");
    assert_eq!(signal.try_recv(), Err(std::sync::mpsc::TryRecvError::Empty));
    reg.release_topic("t", &[], now);
    assert_eq!(
        signal.try_recv(),
        Err(std::sync::mpsc::TryRecvError::Disconnected),
        "release ends the wait"
    );
    assert!(
        reg.release_signal("t").is_none(),
        "a flowing topic is not held"
    );

    assert!(reg.create_topic("d"));
    let signal = reg.release_signal("d").expect("held");
    reg.delete_topic("d").unwrap();
    assert_eq!(
        signal.try_recv(),
        Err(std::sync::mpsc::TryRecvError::Disconnected),
        "deleting the topic ends the wait"
    );
}
