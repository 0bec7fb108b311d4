//! Tests of `/stats`: query parsing, the snapshot, and both renderings (JSON keys,
//! order and values as nsqd writes them; the text layout). The helpers [`config`],
//! [`node`] and [`sample_registry`] are shared with the `/metrics` and statsd tests.

use super::text::nanos_to_human;
use super::*;
use crate::common::gotime::{format_duration, rfc3339_utc};
use crate::common::json::{push_json_f64, push_json_str};
use crate::proto::ClientState;
use crate::registry::latency::LatencyWindow;
use crate::registry::Config;
use crate::registry::{ClientInfo, Registry};
use serde_json::Value;
use std::time::{Duration, Instant};

pub(crate) fn config(percentiles: Vec<f64>) -> Config {
    Config {
        node_id: 1,
        mem_queue_size: 100,
        data_path: None,
        disk: crate::diskqueue::Config {
            max_bytes_per_file: 1 << 20,
            min_msg_size: 26,
            max_msg_size: 1 << 20,
            sync_every: 2500,
        },
        max_msg_timeout: Duration::from_secs(900),
        max_channel_consumers: 0,
        e2e_percentiles: percentiles,
        e2e_window: Duration::from_secs(600),
    }
}

pub(crate) fn info(port: u16) -> ClientInfo {
    ClientInfo {
        remote: format!("127.0.0.1:{port}").parse().unwrap(),
        client_id: "cid".into(),
        hostname: "host.example".into(),
        user_agent: "probe/1.0".into(),
        state: ClientState::Init,
        msg_timeout: Duration::from_secs(60),
        sample_rate: 0,
        heartbeat_interval: Some(Duration::from_secs(30)),
        output_buffer_size: 16384,
        output_buffer_timeout: Duration::from_millis(250),
        connect_ts: 1_000,
        subscription: None,
        pub_counts: Default::default(),
        auth_identity: None,
        compression: "",
        tls: None,
    }
}

pub(crate) fn node(percentiles: Vec<f64>) -> NodeInfo {
    NodeInfo {
        version: "1.3.0".into(),
        start_time: 1_795_486_829,
        started: Instant::now(),
        e2e_percentiles: percentiles,
    }
}

/// h1: channel chx with consumer 1 (one in flight, one finished) and a producer 2;
/// h2: paused topic with channel c1 and no clients; h3: no channels.
pub(crate) fn sample_registry(now: Instant) -> Registry {
    let mut reg = Registry::new(config(Vec::new()));
    reg.add_client(1, info(44658));
    reg.subscribe(1, "h1", "chx", now).unwrap();
    reg.rdy(1, 1);
    let mut producer = info(44674);
    producer.client_id = "127.0.0.1".into();
    producer.hostname = "127.0.0.1".into();
    producer.user_agent = String::new();
    reg.add_client(2, producer);
    reg.publish("h1", [&b"hello"[..], b"world", b"!!!!!!"], 0, now)
        .unwrap();
    reg.count_publish(2, "h1", 3);
    let mut got = Vec::new();
    reg.pump(now, |c, m| got.push((c, m.id)));
    assert_eq!(got.len(), 1);
    reg.channel("h2", "c1", now);
    reg.set_topic_paused("h2", true, now).unwrap();
    reg.set_channel_paused("h2", "c1", true).unwrap();
    reg.topic("h3");
    reg.publish("h3", [&b"x"[..]], 0, now).unwrap();
    reg
}

fn q(pairs: &[(&str, &str)]) -> StatsQuery {
    let owned: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    StatsQuery::from_pairs(&owned)
}

fn snapshot(reg: &mut Registry, query: &StatsQuery) -> Snapshot {
    let mut s = collect(reg, query, &node(Vec::new()), Instant::now());
    s.memory = Some(MemStats {
        heap_in_use_bytes: 4096,
        ..MemStats::default()
    });
    s
}

fn json(s: &Snapshot) -> Value {
    serde_json::from_str(&to_json(s)).expect("valid JSON")
}

/// Keys in document order (serde_json without preserve_order sorts, so re-scan).
fn keys_in_order(text: &str, obj_start: usize) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut keys = Vec::new();
    let mut depth = 0i32;
    let mut i = obj_start;
    let mut in_str = false;
    let mut str_start = 0;
    let mut expect_key = false;
    while i < bytes.len() {
        let c = bytes[i];
        if in_str {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == b'"' {
                in_str = false;
                if depth == 1 && expect_key {
                    keys.push(text[str_start..i].to_string());
                    expect_key = false;
                }
            }
        } else {
            match c {
                b'"' => {
                    in_str = true;
                    str_start = i + 1;
                }
                b'{' | b'[' => {
                    depth += 1;
                    if depth == 1 {
                        expect_key = true;
                    }
                }
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                b',' if depth == 1 => expect_key = true,
                _ => {}
            }
        }
        i += 1;
    }
    keys
}

fn keys_at(text: &str, marker: &str) -> Vec<String> {
    let at = text
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {text}"));
    let start = text[..at].rfind('{').unwrap();
    keys_in_order(text, start)
}

#[test]
fn query_parsing_follows_nsqd() {
    let d = q(&[]);
    assert_eq!(d, StatsQuery::default());
    let s = q(&[
        ("format", "json"),
        ("topic", "t"),
        ("channel", "c"),
        ("include_clients", "false"),
        ("include_mem", "0"),
    ]);
    assert!(s.json && !s.include_clients && !s.include_mem);
    assert_eq!(
        (s.topic.as_deref(), s.channel.as_deref()),
        (Some("t"), Some("c"))
    );
    let s = q(&[
        ("format", "text"),
        ("include_clients", "nope"),
        ("include_mem", "1"),
        ("topic", ""),
    ]);
    assert!(!s.json && s.include_clients && s.include_mem && s.topic.is_none());
    let s = q(&[("include_clients", "0"), ("include_clients", "true")]);
    assert!(!s.include_clients, "first value wins");
}

#[test]
fn json_keys_and_order_match_nsqd() {
    let now = Instant::now();
    let mut reg = sample_registry(now);
    let s = snapshot(&mut reg, &StatsQuery::default());
    let text = to_json(&s);
    assert_eq!(
        keys_in_order(&text, 0),
        [
            "version",
            "health",
            "start_time",
            "topics",
            "memory",
            "producers",
            "lookupd_peers"
        ]
    );
    assert_eq!(
        keys_at(&text, "\"topic_name\":\"h1\""),
        [
            "topic_name",
            "channels",
            "depth",
            "backend_depth",
            "message_count",
            "message_bytes",
            "paused",
            "e2e_processing_latency"
        ]
    );
    assert_eq!(
        keys_at(&text, "\"channel_name\":\"chx\""),
        [
            "channel_name",
            "depth",
            "backend_depth",
            "in_flight_count",
            "deferred_count",
            "message_count",
            "requeue_count",
            "timeout_count",
            "client_count",
            "clients",
            "paused",
            "e2e_processing_latency"
        ]
    );
    let client_keys = [
        "client_id",
        "hostname",
        "version",
        "remote_address",
        "state",
        "ready_count",
        "in_flight_count",
        "message_count",
        "finish_count",
        "requeue_count",
        "connect_ts",
        "sample_rate",
        "deflate",
        "snappy",
        "user_agent",
        "topology_zone",
        "topology_region",
        "tls",
        "tls_cipher_suite",
        "tls_version",
        "tls_negotiated_protocol",
        "tls_negotiated_protocol_is_mutual",
    ];
    assert_eq!(keys_at(&text, "\"client_id\":\"cid\""), client_keys);
    let mut producer_keys: Vec<&str> = client_keys.to_vec();
    producer_keys.insert(17, "pub_counts");
    assert_eq!(keys_at(&text, "\"client_id\":\"127.0.0.1\""), producer_keys);
    assert_eq!(
        keys_at(&text, "\"heap_objects\""),
        [
            "heap_objects",
            "heap_idle_bytes",
            "heap_in_use_bytes",
            "heap_released_bytes",
            "gc_pause_usec_100",
            "gc_pause_usec_99",
            "gc_pause_usec_95",
            "next_gc_bytes",
            "gc_total_runs"
        ]
    );
}

#[test]
fn json_values() {
    let now = Instant::now();
    let mut reg = sample_registry(now);
    let v = json(&snapshot(&mut reg, &StatsQuery::default()));
    assert_eq!(v["version"], "1.3.0");
    assert_eq!(v["health"], "OK");
    assert_eq!(v["start_time"], 1_795_486_829);
    assert_eq!(v["memory"]["heap_in_use_bytes"], 4096);
    let topics = v["topics"].as_array().unwrap();
    let names: Vec<&str> = topics
        .iter()
        .map(|t| t["topic_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["h1", "h2", "h3"]);
    let h1 = &topics[0];
    assert_eq!(h1["message_count"], 3);
    assert_eq!(h1["message_bytes"], 16);
    assert_eq!(h1["depth"], 0);
    assert_eq!(h1["backend_depth"], 0);
    assert_eq!(h1["paused"], false);
    assert_eq!(
        h1["e2e_processing_latency"],
        serde_json::json!({"count":0,"percentiles":null})
    );
    let chx = &h1["channels"][0];
    assert_eq!(chx["depth"], 2);
    assert_eq!(chx["in_flight_count"], 1);
    assert_eq!(chx["deferred_count"], 0);
    assert_eq!(chx["message_count"], 3);
    assert_eq!(chx["client_count"], 1);
    let c = &chx["clients"][0];
    assert_eq!(c["version"], "V2");
    assert_eq!(c["remote_address"], "127.0.0.1:44658");
    assert_eq!(c["state"], 3);
    assert_eq!(c["ready_count"], 1);
    assert_eq!(c["in_flight_count"], 1);
    assert_eq!(c["message_count"], 1);
    assert_eq!(c["user_agent"], "probe/1.0");
    assert_eq!(c["tls"], false);
    assert!(c.get("authed").is_none() && c.get("pub_counts").is_none());
    let h2 = &topics[1];
    assert_eq!(h2["paused"], true);
    assert_eq!(h2["channels"][0]["paused"], true);
    assert_eq!(h2["channels"][0]["clients"], serde_json::json!([]));
    assert_eq!(topics[2]["channels"], serde_json::json!([]));
    assert_eq!(topics[2]["depth"], 1);
    let producers = v["producers"].as_array().unwrap();
    assert_eq!(producers.len(), 1);
    assert_eq!(
        producers[0]["pub_counts"],
        serde_json::json!([{"topic":"h1","count":3}])
    );
    assert_eq!(producers[0]["state"], 0);
}

#[test]
fn null_versus_empty_rules() {
    let now = Instant::now();
    let mut empty = Registry::new(config(Vec::new()));
    let v = json(&snapshot(&mut empty, &StatsQuery::default()));
    assert_eq!(v["topics"], serde_json::json!([]));
    assert_eq!(v["producers"], Value::Null);

    let mut reg = sample_registry(now);
    let v = json(&snapshot(&mut reg, &q(&[("topic", "nope")])));
    assert_eq!(v["topics"], Value::Null);
    assert_eq!(v["producers"], Value::Null);

    let v = json(&snapshot(
        &mut reg,
        &q(&[("include_clients", "false"), ("include_mem", "false")]),
    ));
    assert!(v.get("memory").is_none());
    assert_eq!(v["producers"], Value::Null);
    assert_eq!(v["topics"][0]["channels"][0]["clients"], Value::Null);
    assert_eq!(v["topics"][0]["channels"][0]["client_count"], 1);
    assert!(!to_json(&snapshot(&mut reg, &q(&[("include_mem", "false")]))).contains("memory"));
}

#[test]
fn topic_and_channel_filters() {
    let now = Instant::now();
    let mut reg = sample_registry(now);
    reg.channel("h1", "other", now);
    let v = json(&snapshot(&mut reg, &q(&[("topic", "h1")])));
    let topics = v["topics"].as_array().unwrap();
    assert_eq!(topics.len(), 1);
    assert_eq!(topics[0]["channels"].as_array().unwrap().len(), 2);

    let v = json(&snapshot(&mut reg, &q(&[("channel", "c1")])));
    let topics = v["topics"].as_array().unwrap();
    assert_eq!(topics.len(), 1, "topics lacking c1 are omitted");
    assert_eq!(topics[0]["topic_name"], "h2");

    let v = json(&snapshot(
        &mut reg,
        &q(&[("topic", "h1"), ("channel", "c1")]),
    ));
    assert_eq!(v["topics"], serde_json::json!([]));

    let v = json(&snapshot(
        &mut reg,
        &q(&[("topic", "h1"), ("channel", "other")]),
    ));
    assert_eq!(v["topics"][0]["channels"].as_array().unwrap().len(), 1);
    assert_eq!(v["topics"][0]["channels"][0]["channel_name"], "other");
}

#[test]
fn pub_counts_quirk() {
    let now = Instant::now();
    let mut reg = sample_registry(now);
    reg.publish("h3", [&b"y"[..]], 0, now).unwrap();
    reg.count_publish(2, "h3", 1);
    let v = json(&snapshot(&mut reg, &StatsQuery::default()));
    assert_eq!(v["producers"][0]["pub_counts"].as_array().unwrap().len(), 1);
    let v = json(&snapshot(&mut reg, &q(&[("topic", "h3")])));
    assert_eq!(
        v["producers"][0]["pub_counts"],
        serde_json::json!([{"topic":"h3","count":1}])
    );
    let v = json(&snapshot(&mut reg, &q(&[("topic", "h2")])));
    assert_eq!(
        v["producers"].as_array().unwrap().len(),
        1,
        "still a producer"
    );
    assert!(v["producers"][0].get("pub_counts").is_none());

    // A consumer that also published appears in both places, with its counters.
    reg.count_publish(1, "h1", 2);
    let v = json(&snapshot(&mut reg, &StatsQuery::default()));
    let producers = v["producers"].as_array().unwrap();
    assert_eq!(producers.len(), 2);
    assert_eq!(producers[0]["client_id"], "cid");
    assert_eq!(producers[0]["in_flight_count"], 1);
    assert_eq!(
        v["topics"][0]["channels"][0]["clients"][0]["pub_counts"][0]["count"],
        2
    );
}

#[test]
fn e2e_percentiles_when_configured() {
    let now = Instant::now();
    let mut reg = Registry::new(config(vec![0.5, 0.99]));
    reg.channel("t", "a", now);
    reg.channel("t", "b", now);
    let mut w = LatencyWindow::new(Duration::from_secs(600), now);
    for v in 1..=100 {
        w.record(v * 1000, now);
    }
    reg.topics
        .get_mut("t")
        .unwrap()
        .channels
        .get_mut("a")
        .unwrap()
        .e2e = Some(w);
    reg.topic("empty");
    let s = collect(
        &mut reg,
        &StatsQuery::default(),
        &node(vec![0.5, 0.99]),
        now,
    );
    assert_eq!(s.e2e_percentiles, [0.99, 0.5]);
    let v: Value = serde_json::from_str(&to_json(&s)).unwrap();
    let t = &v["topics"][1];
    assert_eq!(t["topic_name"], "t");
    assert_eq!(
        t["e2e_processing_latency"],
        serde_json::json!({"count":100,"percentiles":[{"quantile":0.99,"value":99000},{"quantile":0.5,"value":50000}]})
    );
    assert_eq!(t["channels"][0]["e2e_processing_latency"]["count"], 100);
    assert_eq!(
        t["channels"][1]["e2e_processing_latency"],
        serde_json::json!({"count":0,"percentiles":[{"quantile":0.99,"value":0},{"quantile":0.5,"value":0}]})
    );
    // A topic with no channels has no aggregate, as in nsqd.
    assert_eq!(
        v["topics"][0]["e2e_processing_latency"],
        serde_json::json!({"count":0,"percentiles":null})
    );
    let raw = to_json(&s);
    assert!(raw.contains(r#"{"quantile":0.99,"value":99000}"#), "{raw}");
    let text = to_text(&s);
    assert!(
        text.contains("msgs: 0        e2e%: 99.0us, 50.0us\n"),
        "{text}"
    );
}

#[test]
fn go_json_number_and_string_encoding() {
    let mut s = String::new();
    for v in [0.0, 0.99, 1.0, 1234567.0, 1e21, 1.5e-7, 0.000001] {
        push_json_f64(&mut s, v);
        s.push(' ');
    }
    assert_eq!(s, "0 0.99 1 1234567 1e+21 1.5e-7 0.000001 ");
    let mut s = String::new();
    push_json_str(&mut s, "a\"b\\c\n<&>\u{1}é");
    assert_eq!(s, r#""a\"b\\c\n\u003c\u0026\u003e\u0001é""#);
}

#[test]
fn go_durations_and_times() {
    assert_eq!(format_duration(Duration::ZERO), "0s");
    assert_eq!(format_duration(Duration::from_nanos(999)), "999ns");
    assert_eq!(format_duration(Duration::from_nanos(1500)), "1.5\u{b5}s");
    assert_eq!(format_duration(Duration::from_micros(1500)), "1.5ms");
    assert_eq!(
        format_duration(Duration::from_nanos(47_070_241_453)),
        "47.070241453s"
    );
    assert_eq!(format_duration(Duration::from_secs(60)), "1m0s");
    assert_eq!(format_duration(Duration::from_secs(3600)), "1h0m0s");
    assert_eq!(format_duration(Duration::from_secs(3723)), "1h2m3s");
    assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339_utc(1_795_486_829), "2026-11-24T02:20:29Z");
    assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(nanos_to_human(1000.0), "1000.0ns");
    assert_eq!(nanos_to_human(2_500_000_000.0), "2.5s");
}

#[test]
fn text_format() {
    let now = Instant::now();
    let mut reg = sample_registry(now);
    let mut s = snapshot(&mut reg, &StatsQuery::default());
    s.uptime = Duration::from_nanos(47_070_241_453);
    s.now_unix = 1_000;
    let text = to_text(&s);
    let expected = concat!(
        "nsqd v1.3.0 (built w/nsq-rs)\n",
        "start_time 2026-11-24T02:20:29Z\n",
        "uptime 47.070241453s\n",
        "\n",
        "Health: OK\n",
        "\n",
        "Memory:\n",
        "   heap_objects             \t0\n",
        "   heap_idle_bytes          \t0\n",
        "   heap_in_use_bytes        \t4096\n",
        "   heap_released_bytes      \t0\n",
        "   gc_pause_usec_100        \t0\n",
        "   gc_pause_usec_99         \t0\n",
        "   gc_pause_usec_95         \t0\n",
        "   next_gc_bytes            \t0\n",
        "   gc_total_runs            \t0\n",
        "\n",
        "Topics:\n",
        "   [h1             ] depth: 0     be-depth: 0     msgs: 3        e2e%: \n",
        "      [chx                      ] depth: 2     be-depth: 0     inflt: 1    def: 0    re-q: 0     timeout: 0     msgs: 3        e2e%: \n",
        "        [V2 host.example:44658 probe/1.0] state: 3 inflt: 1    rdy: 1    fin: 0        re-q: 0        msgs: 1        connected: 0s\n",
        "\n",
        "*P [h2             ] depth: 0     be-depth: 0     msgs: 0        e2e%: \n",
        "   *P [c1                       ] depth: 0     be-depth: 0     inflt: 0    def: 0    re-q: 0     timeout: 0     msgs: 0        e2e%: \n",
        "\n",
        "   [h3             ] depth: 1     be-depth: 0     msgs: 1        e2e%: \n",
        "\n",
        "Producers:\n",
        "   [V2 127.0.0.1:44674      ] msgs: 3        topics: h1=3 connected: 0s\n",
    );
    assert_eq!(text, expected);

    let mut empty = Registry::new(config(Vec::new()));
    let text = to_text(&snapshot(&mut empty, &q(&[("include_mem", "false")])));
    assert!(!text.contains("Memory:"));
    assert!(
        text.ends_with("\nHealth: OK\n\nTopics: None\n\nProducers: None\n"),
        "{text}"
    );
}

#[test]
fn memory_from_proc_status() {
    let m = MemStats::from_proc_status("Name:\tnsqd\nVmRSS:\t   2248 kB\nVmData:\t 100 kB\n");
    assert_eq!(m.heap_in_use_bytes, 2248 * 1024);
    assert_eq!(MemStats::from_proc_status("garbage").heap_in_use_bytes, 0);
}

/// `sample_registry` plus: e2e samples in `h1/chx`, a second consumer of `h1/chx`
/// with `<&>"`, a tab, U+2028 and a control character in its identity, authed and
/// deflating; a snappy producer authed without identity; channel `h1/other`.
fn rich_registry(now: Instant) -> Registry {
    let mut reg = sample_registry(now);
    let mut odd = info(50001);
    odd.client_id = "a<b>&\"c\\d".into();
    odd.hostname = "h<&>\"ost\u{2028}\t".into();
    odd.user_agent = "ua/1 \"x\" <y> & z\u{1}é".into();
    odd.auth_identity = Some(("who<&>".into(), "http://auth/?a=1&b=<2>".into()));
    odd.compression = "deflate";
    odd.sample_rate = 42;
    odd.connect_ts = 1_234_567;
    reg.add_client(3, odd);
    reg.subscribe(3, "h1", "chx", now).unwrap();
    reg.rdy(3, 7);
    let mut snappy = info(50002);
    snappy.client_id = "snappy".into();
    snappy.auth_identity = Some((String::new(), String::new()));
    snappy.compression = "snappy";
    reg.add_client(4, snappy);
    reg.count_publish(4, "h2", 5);
    reg.count_publish(4, "h1", 9);
    reg.channel("h1", "other", now);
    let mut w = LatencyWindow::new(Duration::from_secs(600), now);
    for v in 1..=7 {
        w.record(v * 1_234_567, now);
    }
    reg.topics
        .get_mut("h1")
        .unwrap()
        .channels
        .get_mut("chx")
        .unwrap()
        .e2e = Some(w);
    reg
}

fn rich_json(query: &[(&str, &str)]) -> String {
    let now = Instant::now();
    let mut reg = rich_registry(now);
    let mut s = collect(&mut reg, &q(query), &node(vec![0.5, 0.999, 0.99]), now);
    s.memory = Some(MemStats {
        heap_objects: 1,
        heap_in_use_bytes: 4096,
        gc_total_runs: u64::MAX,
        ..MemStats::default()
    });
    s.lookupd_peers = vec![
        ("127.0.0.1:4160".into(), true),
        ("look<&>up:4161".into(), false),
    ];
    to_json(&s)
}

/// The exact bytes of the JSON body, pinned (captured from the hand-written writer
/// that preceded the serde one).
#[test]
fn json_bytes_are_pinned() {
    let cases: [(&[(&str, &str)], &str); 7] = [
        (
            &[],
            r#"{"version":"1.3.0","health":"OK","start_time":1795486829,"topics":[{"topic_name":"h1","channels":[{"channel_name":"chx","depth":2,"backend_depth":0,"in_flight_count":1,"deferred_count":0,"message_count":3,"requeue_count":0,"timeout_count":0,"client_count":2,"clients":[{"client_id":"cid","hostname":"host.example","version":"V2","remote_address":"127.0.0.1:44658","state":3,"ready_count":1,"in_flight_count":1,"message_count":1,"finish_count":0,"requeue_count":0,"connect_ts":1000,"sample_rate":0,"deflate":false,"snappy":false,"user_agent":"probe/1.0","topology_zone":"","topology_region":"","tls":false,"tls_cipher_suite":"","tls_version":"","tls_negotiated_protocol":"","tls_negotiated_protocol_is_mutual":false},{"client_id":"a\u003cb\u003e\u0026\"c\\d","hostname":"h\u003c\u0026\u003e\"ost\u2028\t","version":"V2","remote_address":"127.0.0.1:50001","state":3,"ready_count":7,"in_flight_count":0,"message_count":0,"finish_count":0,"requeue_count":0,"connect_ts":1234567,"sample_rate":42,"deflate":true,"snappy":false,"user_agent":"ua/1 \"x\" \u003cy\u003e \u0026 z\u0001é","authed":true,"auth_identity":"who\u003c\u0026\u003e","auth_identity_url":"http://auth/?a=1\u0026b=\u003c2\u003e","topology_zone":"","topology_region":"","tls":false,"tls_cipher_suite":"","tls_version":"","tls_negotiated_protocol":"","tls_negotiated_protocol_is_mutual":false}],"paused":false,"e2e_processing_latency":{"count":7,"percentiles":[{"quantile":0.999,"value":8641969},{"quantile":0.99,"value":8641969},{"quantile":0.5,"value":4938268}]}},{"channel_name":"other","depth":0,"backend_depth":0,"in_flight_count":0,"deferred_count":0,"message_count":0,"requeue_count":0,"timeout_count":0,"client_count":0,"clients":[],"paused":false,"e2e_processing_latency":{"count":0,"percentiles":[{"quantile":0.999,"value":0},{"quantile":0.99,"value":0},{"quantile":0.5,"value":0}]}}],"depth":0,"backend_depth":0,"message_count":3,"message_bytes":16,"paused":false,"e2e_processing_latency":{"count":7,"percentiles":[{"quantile":0.999,"value":8641969},{"quantile":0.99,"value":8641969},{"quantile":0.5,"value":4938268}]}},{"topic_name":"h2","channels":[{"channel_name":"c1","depth":0,"backend_depth":0,"in_flight_count":0,"deferred_count":0,"message_count":0,"requeue_count":0,"timeout_count":0,"client_count":0,"clients":[],"paused":true,"e2e_processing_latency":{"count":0,"percentiles":[{"quantile":0.999,"value":0},{"quantile":0.99,"value":0},{"quantile":0.5,"value":0}]}}],"depth":0,"backend_depth":0,"message_count":0,"message_bytes":0,"paused":true,"e2e_processing_latency":{"count":0,"percentiles":[{"quantile":0.999,"value":0},{"quantile":0.99,"value":0},{"quantile":0.5,"value":0}]}},{"topic_name":"h3","channels":[],"depth":1,"backend_depth":0,"message_count":1,"message_bytes":1,"paused":false,"e2e_processing_latency":{"count":0,"percentiles":null}}],"memory":{"heap_objects":1,"heap_idle_bytes":0,"heap_in_use_bytes":4096,"heap_released_bytes":0,"gc_pause_usec_100":0,"gc_pause_usec_99":0,"gc_pause_usec_95":0,"next_gc_bytes":0,"gc_total_runs":18446744073709551615},"producers":[{"client_id":"127.0.0.1","hostname":"127.0.0.1","version":"V2","remote_address":"127.0.0.1:44674","state":0,"ready_count":0,"in_flight_count":0,"message_count":0,"finish_count":0,"requeue_count":0,"connect_ts":1000,"sample_rate":0,"deflate":false,"snappy":false,"user_agent":"","topology_zone":"","topology_region":"","pub_counts":[{"topic":"h1","count":3}],"tls":false,"tls_cipher_suite":"","tls_version":"","tls_negotiated_protocol":"","tls_negotiated_protocol_is_mutual":false},{"client_id":"snappy","hostname":"host.example","version":"V2","remote_address":"127.0.0.1:50002","state":0,"ready_count":0,"in_flight_count":0,"message_count":0,"finish_count":0,"requeue_count":0,"connect_ts":1000,"sample_rate":0,"deflate":false,"snappy":true,"user_agent":"probe/1.0","authed":true,"topology_zone":"","topology_region":"","pub_counts":[{"topic":"h1","count":9}],"tls":false,"tls_cipher_suite":"","tls_version":"","tls_negotiated_protocol":"","tls_negotiated_protocol_is_mutual":false}],"lookupd_peers":[{"address":"127.0.0.1:4160","connected":true},{"address":"look\u003c\u0026\u003eup:4161","connected":false}]}"#,
        ),
        (
            &[("include_clients", "false")],
            r#"{"version":"1.3.0","health":"OK","start_time":1795486829,"topics":[{"topic_name":"h1","channels":[{"channel_name":"chx","depth":2,"backend_depth":0,"in_flight_count":1,"deferred_count":0,"message_count":3,"requeue_count":0,"timeout_count":0,"client_count":2,"clients":null,"paused":false,"e2e_processing_latency":{"count":7,"percentiles":[{"quantile":0.999,"value":8641969},{"quantile":0.99,"value":8641969},{"quantile":0.5,"value":4938268}]}},{"channel_name":"other","depth":0,"backend_depth":0,"in_flight_count":0,"deferred_count":0,"message_count":0,"requeue_count":0,"timeout_count":0,"client_count":0,"clients":null,"paused":false,"e2e_processing_latency":{"count":0,"percentiles":[{"quantile":0.999,"value":0},{"quantile":0.99,"value":0},{"quantile":0.5,"value":0}]}}],"depth":0,"backend_depth":0,"message_count":3,"message_bytes":16,"paused":false,"e2e_processing_latency":{"count":7,"percentiles":[{"quantile":0.999,"value":8641969},{"quantile":0.99,"value":8641969},{"quantile":0.5,"value":4938268}]}},{"topic_name":"h2","channels":[{"channel_name":"c1","depth":0,"backend_depth":0,"in_flight_count":0,"deferred_count":0,"message_count":0,"requeue_count":0,"timeout_count":0,"client_count":0,"clients":null,"paused":true,"e2e_processing_latency":{"count":0,"percentiles":[{"quantile":0.999,"value":0},{"quantile":0.99,"value":0},{"quantile":0.5,"value":0}]}}],"depth":0,"backend_depth":0,"message_count":0,"message_bytes":0,"paused":true,"e2e_processing_latency":{"count":0,"percentiles":[{"quantile":0.999,"value":0},{"quantile":0.99,"value":0},{"quantile":0.5,"value":0}]}},{"topic_name":"h3","channels":[],"depth":1,"backend_depth":0,"message_count":1,"message_bytes":1,"paused":false,"e2e_processing_latency":{"count":0,"percentiles":null}}],"memory":{"heap_objects":1,"heap_idle_bytes":0,"heap_in_use_bytes":4096,"heap_released_bytes":0,"gc_pause_usec_100":0,"gc_pause_usec_99":0,"gc_pause_usec_95":0,"next_gc_bytes":0,"gc_total_runs":18446744073709551615},"producers":null,"lookupd_peers":[{"address":"127.0.0.1:4160","connected":true},{"address":"look\u003c\u0026\u003eup:4161","connected":false}]}"#,
        ),
        (
            &[("include_mem", "false")],
            r#"{"version":"1.3.0","health":"OK","start_time":1795486829,"topics":[{"topic_name":"h1","channels":[{"channel_name":"chx","depth":2,"backend_depth":0,"in_flight_count":1,"deferred_count":0,"message_count":3,"requeue_count":0,"timeout_count":0,"client_count":2,"clients":[{"client_id":"cid","hostname":"host.example","version":"V2","remote_address":"127.0.0.1:44658","state":3,"ready_count":1,"in_flight_count":1,"message_count":1,"finish_count":0,"requeue_count":0,"connect_ts":1000,"sample_rate":0,"deflate":false,"snappy":false,"user_agent":"probe/1.0","topology_zone":"","topology_region":"","tls":false,"tls_cipher_suite":"","tls_version":"","tls_negotiated_protocol":"","tls_negotiated_protocol_is_mutual":false},{"client_id":"a\u003cb\u003e\u0026\"c\\d","hostname":"h\u003c\u0026\u003e\"ost\u2028\t","version":"V2","remote_address":"127.0.0.1:50001","state":3,"ready_count":7,"in_flight_count":0,"message_count":0,"finish_count":0,"requeue_count":0,"connect_ts":1234567,"sample_rate":42,"deflate":true,"snappy":false,"user_agent":"ua/1 \"x\" \u003cy\u003e \u0026 z\u0001é","authed":true,"auth_identity":"who\u003c\u0026\u003e","auth_identity_url":"http://auth/?a=1\u0026b=\u003c2\u003e","topology_zone":"","topology_region":"","tls":false,"tls_cipher_suite":"","tls_version":"","tls_negotiated_protocol":"","tls_negotiated_protocol_is_mutual":false}],"paused":false,"e2e_processing_latency":{"count":7,"percentiles":[{"quantile":0.999,"value":8641969},{"quantile":0.99,"value":8641969},{"quantile":0.5,"value":4938268}]}},{"channel_name":"other","depth":0,"backend_depth":0,"in_flight_count":0,"deferred_count":0,"message_count":0,"requeue_count":0,"timeout_count":0,"client_count":0,"clients":[],"paused":false,"e2e_processing_latency":{"count":0,"percentiles":[{"quantile":0.999,"value":0},{"quantile":0.99,"value":0},{"quantile":0.5,"value":0}]}}],"depth":0,"backend_depth":0,"message_count":3,"message_bytes":16,"paused":false,"e2e_processing_latency":{"count":7,"percentiles":[{"quantile":0.999,"value":8641969},{"quantile":0.99,"value":8641969},{"quantile":0.5,"value":4938268}]}},{"topic_name":"h2","channels":[{"channel_name":"c1","depth":0,"backend_depth":0,"in_flight_count":0,"deferred_count":0,"message_count":0,"requeue_count":0,"timeout_count":0,"client_count":0,"clients":[],"paused":true,"e2e_processing_latency":{"count":0,"percentiles":[{"quantile":0.999,"value":0},{"quantile":0.99,"value":0},{"quantile":0.5,"value":0}]}}],"depth":0,"backend_depth":0,"message_count":0,"message_bytes":0,"paused":true,"e2e_processing_latency":{"count":0,"percentiles":[{"quantile":0.999,"value":0},{"quantile":0.99,"value":0},{"quantile":0.5,"value":0}]}},{"topic_name":"h3","channels":[],"depth":1,"backend_depth":0,"message_count":1,"message_bytes":1,"paused":false,"e2e_processing_latency":{"count":0,"percentiles":null}}],"producers":[{"client_id":"127.0.0.1","hostname":"127.0.0.1","version":"V2","remote_address":"127.0.0.1:44674","state":0,"ready_count":0,"in_flight_count":0,"message_count":0,"finish_count":0,"requeue_count":0,"connect_ts":1000,"sample_rate":0,"deflate":false,"snappy":false,"user_agent":"","topology_zone":"","topology_region":"","pub_counts":[{"topic":"h1","count":3}],"tls":false,"tls_cipher_suite":"","tls_version":"","tls_negotiated_protocol":"","tls_negotiated_protocol_is_mutual":false},{"client_id":"snappy","hostname":"host.example","version":"V2","remote_address":"127.0.0.1:50002","state":0,"ready_count":0,"in_flight_count":0,"message_count":0,"finish_count":0,"requeue_count":0,"connect_ts":1000,"sample_rate":0,"deflate":false,"snappy":true,"user_agent":"probe/1.0","authed":true,"topology_zone":"","topology_region":"","pub_counts":[{"topic":"h1","count":9}],"tls":false,"tls_cipher_suite":"","tls_version":"","tls_negotiated_protocol":"","tls_negotiated_protocol_is_mutual":false}],"lookupd_peers":[{"address":"127.0.0.1:4160","connected":true},{"address":"look\u003c\u0026\u003eup:4161","connected":false}]}"#,
        ),
        (
            &[("topic", "h1")],
            r#"{"version":"1.3.0","health":"OK","start_time":1795486829,"topics":[{"topic_name":"h1","channels":[{"channel_name":"chx","depth":2,"backend_depth":0,"in_flight_count":1,"deferred_count":0,"message_count":3,"requeue_count":0,"timeout_count":0,"client_count":2,"clients":[{"client_id":"cid","hostname":"host.example","version":"V2","remote_address":"127.0.0.1:44658","state":3,"ready_count":1,"in_flight_count":1,"message_count":1,"finish_count":0,"requeue_count":0,"connect_ts":1000,"sample_rate":0,"deflate":false,"snappy":false,"user_agent":"probe/1.0","topology_zone":"","topology_region":"","tls":false,"tls_cipher_suite":"","tls_version":"","tls_negotiated_protocol":"","tls_negotiated_protocol_is_mutual":false},{"client_id":"a\u003cb\u003e\u0026\"c\\d","hostname":"h\u003c\u0026\u003e\"ost\u2028\t","version":"V2","remote_address":"127.0.0.1:50001","state":3,"ready_count":7,"in_flight_count":0,"message_count":0,"finish_count":0,"requeue_count":0,"connect_ts":1234567,"sample_rate":42,"deflate":true,"snappy":false,"user_agent":"ua/1 \"x\" \u003cy\u003e \u0026 z\u0001é","authed":true,"auth_identity":"who\u003c\u0026\u003e","auth_identity_url":"http://auth/?a=1\u0026b=\u003c2\u003e","topology_zone":"","topology_region":"","tls":false,"tls_cipher_suite":"","tls_version":"","tls_negotiated_protocol":"","tls_negotiated_protocol_is_mutual":false}],"paused":false,"e2e_processing_latency":{"count":7,"percentiles":[{"quantile":0.999,"value":8641969},{"quantile":0.99,"value":8641969},{"quantile":0.5,"value":4938268}]}},{"channel_name":"other","depth":0,"backend_depth":0,"in_flight_count":0,"deferred_count":0,"message_count":0,"requeue_count":0,"timeout_count":0,"client_count":0,"clients":[],"paused":false,"e2e_processing_latency":{"count":0,"percentiles":[{"quantile":0.999,"value":0},{"quantile":0.99,"value":0},{"quantile":0.5,"value":0}]}}],"depth":0,"backend_depth":0,"message_count":3,"message_bytes":16,"paused":false,"e2e_processing_latency":{"count":7,"percentiles":[{"quantile":0.999,"value":8641969},{"quantile":0.99,"value":8641969},{"quantile":0.5,"value":4938268}]}}],"memory":{"heap_objects":1,"heap_idle_bytes":0,"heap_in_use_bytes":4096,"heap_released_bytes":0,"gc_pause_usec_100":0,"gc_pause_usec_99":0,"gc_pause_usec_95":0,"next_gc_bytes":0,"gc_total_runs":18446744073709551615},"producers":[{"client_id":"127.0.0.1","hostname":"127.0.0.1","version":"V2","remote_address":"127.0.0.1:44674","state":0,"ready_count":0,"in_flight_count":0,"message_count":0,"finish_count":0,"requeue_count":0,"connect_ts":1000,"sample_rate":0,"deflate":false,"snappy":false,"user_agent":"","topology_zone":"","topology_region":"","pub_counts":[{"topic":"h1","count":3}],"tls":false,"tls_cipher_suite":"","tls_version":"","tls_negotiated_protocol":"","tls_negotiated_protocol_is_mutual":false},{"client_id":"snappy","hostname":"host.example","version":"V2","remote_address":"127.0.0.1:50002","state":0,"ready_count":0,"in_flight_count":0,"message_count":0,"finish_count":0,"requeue_count":0,"connect_ts":1000,"sample_rate":0,"deflate":false,"snappy":true,"user_agent":"probe/1.0","authed":true,"topology_zone":"","topology_region":"","pub_counts":[{"topic":"h1","count":9}],"tls":false,"tls_cipher_suite":"","tls_version":"","tls_negotiated_protocol":"","tls_negotiated_protocol_is_mutual":false}],"lookupd_peers":[{"address":"127.0.0.1:4160","connected":true},{"address":"look\u003c\u0026\u003eup:4161","connected":false}]}"#,
        ),
        (
            &[("topic", "h1"), ("channel", "other")],
            r#"{"version":"1.3.0","health":"OK","start_time":1795486829,"topics":[{"topic_name":"h1","channels":[{"channel_name":"other","depth":0,"backend_depth":0,"in_flight_count":0,"deferred_count":0,"message_count":0,"requeue_count":0,"timeout_count":0,"client_count":0,"clients":[],"paused":false,"e2e_processing_latency":{"count":0,"percentiles":[{"quantile":0.999,"value":0},{"quantile":0.99,"value":0},{"quantile":0.5,"value":0}]}}],"depth":0,"backend_depth":0,"message_count":3,"message_bytes":16,"paused":false,"e2e_processing_latency":{"count":7,"percentiles":[{"quantile":0.999,"value":8641969},{"quantile":0.99,"value":8641969},{"quantile":0.5,"value":4938268}]}}],"memory":{"heap_objects":1,"heap_idle_bytes":0,"heap_in_use_bytes":4096,"heap_released_bytes":0,"gc_pause_usec_100":0,"gc_pause_usec_99":0,"gc_pause_usec_95":0,"next_gc_bytes":0,"gc_total_runs":18446744073709551615},"producers":[{"client_id":"127.0.0.1","hostname":"127.0.0.1","version":"V2","remote_address":"127.0.0.1:44674","state":0,"ready_count":0,"in_flight_count":0,"message_count":0,"finish_count":0,"requeue_count":0,"connect_ts":1000,"sample_rate":0,"deflate":false,"snappy":false,"user_agent":"","topology_zone":"","topology_region":"","pub_counts":[{"topic":"h1","count":3}],"tls":false,"tls_cipher_suite":"","tls_version":"","tls_negotiated_protocol":"","tls_negotiated_protocol_is_mutual":false},{"client_id":"snappy","hostname":"host.example","version":"V2","remote_address":"127.0.0.1:50002","state":0,"ready_count":0,"in_flight_count":0,"message_count":0,"finish_count":0,"requeue_count":0,"connect_ts":1000,"sample_rate":0,"deflate":false,"snappy":true,"user_agent":"probe/1.0","authed":true,"topology_zone":"","topology_region":"","pub_counts":[{"topic":"h1","count":9}],"tls":false,"tls_cipher_suite":"","tls_version":"","tls_negotiated_protocol":"","tls_negotiated_protocol_is_mutual":false}],"lookupd_peers":[{"address":"127.0.0.1:4160","connected":true},{"address":"look\u003c\u0026\u003eup:4161","connected":false}]}"#,
        ),
        (
            &[("channel", "c1"), ("include_mem", "0")],
            r#"{"version":"1.3.0","health":"OK","start_time":1795486829,"topics":[{"topic_name":"h2","channels":[{"channel_name":"c1","depth":0,"backend_depth":0,"in_flight_count":0,"deferred_count":0,"message_count":0,"requeue_count":0,"timeout_count":0,"client_count":0,"clients":[],"paused":true,"e2e_processing_latency":{"count":0,"percentiles":[{"quantile":0.999,"value":0},{"quantile":0.99,"value":0},{"quantile":0.5,"value":0}]}}],"depth":0,"backend_depth":0,"message_count":0,"message_bytes":0,"paused":true,"e2e_processing_latency":{"count":0,"percentiles":[{"quantile":0.999,"value":0},{"quantile":0.99,"value":0},{"quantile":0.5,"value":0}]}}],"producers":[{"client_id":"127.0.0.1","hostname":"127.0.0.1","version":"V2","remote_address":"127.0.0.1:44674","state":0,"ready_count":0,"in_flight_count":0,"message_count":0,"finish_count":0,"requeue_count":0,"connect_ts":1000,"sample_rate":0,"deflate":false,"snappy":false,"user_agent":"","topology_zone":"","topology_region":"","pub_counts":[{"topic":"h1","count":3}],"tls":false,"tls_cipher_suite":"","tls_version":"","tls_negotiated_protocol":"","tls_negotiated_protocol_is_mutual":false},{"client_id":"snappy","hostname":"host.example","version":"V2","remote_address":"127.0.0.1:50002","state":0,"ready_count":0,"in_flight_count":0,"message_count":0,"finish_count":0,"requeue_count":0,"connect_ts":1000,"sample_rate":0,"deflate":false,"snappy":true,"user_agent":"probe/1.0","authed":true,"topology_zone":"","topology_region":"","pub_counts":[{"topic":"h1","count":9}],"tls":false,"tls_cipher_suite":"","tls_version":"","tls_negotiated_protocol":"","tls_negotiated_protocol_is_mutual":false}],"lookupd_peers":[{"address":"127.0.0.1:4160","connected":true},{"address":"look\u003c\u0026\u003eup:4161","connected":false}]}"#,
        ),
        (
            &[("topic", "nope")],
            r#"{"version":"1.3.0","health":"OK","start_time":1795486829,"topics":null,"memory":{"heap_objects":1,"heap_idle_bytes":0,"heap_in_use_bytes":4096,"heap_released_bytes":0,"gc_pause_usec_100":0,"gc_pause_usec_99":0,"gc_pause_usec_95":0,"next_gc_bytes":0,"gc_total_runs":18446744073709551615},"producers":null,"lookupd_peers":[{"address":"127.0.0.1:4160","connected":true},{"address":"look\u003c\u0026\u003eup:4161","connected":false}]}"#,
        ),
    ];
    for (query, want) in cases {
        let got = rich_json(query);
        assert_eq!(got, want, "{query:?}");
    }

    // Empty registry, no peers; odd floats (Go has no NaN/Inf: the writer puts 0).
    let mut empty = Registry::new(config(Vec::new()));
    let got = to_json(&snapshot(&mut empty, &q(&[("include_mem", "false")])));
    assert_eq!(
        got,
        r#"{"version":"1.3.0","health":"OK","start_time":1795486829,"topics":[],"producers":null,"lookupd_peers":[]}"#
    );
    let now = Instant::now();
    let mut reg = rich_registry(now);
    let mut s = snapshot(&mut reg, &q(&[("topic", "h3"), ("include_mem", "false")]));
    s.topics.as_mut().unwrap()[0].e2e = E2eStats {
        count: 3,
        percentiles: Some(vec![
            (f64::NAN, f64::INFINITY),
            (f64::NEG_INFINITY, 1e21),
            (1.5e-7, 0.000001),
            (-0.0, 123456789.125),
        ]),
    };
    let got = to_json(&s);
    assert_eq!(
        got,
        r#"{"version":"1.3.0","health":"OK","start_time":1795486829,"topics":[{"topic_name":"h3","channels":[],"depth":1,"backend_depth":0,"message_count":1,"message_bytes":1,"paused":false,"e2e_processing_latency":{"count":3,"percentiles":[{"quantile":0,"value":0},{"quantile":0,"value":1e+21},{"quantile":1.5e-7,"value":0.000001},{"quantile":-0,"value":123456789.125}]}}],"producers":[{"client_id":"127.0.0.1","hostname":"127.0.0.1","version":"V2","remote_address":"127.0.0.1:44674","state":0,"ready_count":0,"in_flight_count":0,"message_count":0,"finish_count":0,"requeue_count":0,"connect_ts":1000,"sample_rate":0,"deflate":false,"snappy":false,"user_agent":"","topology_zone":"","topology_region":"","tls":false,"tls_cipher_suite":"","tls_version":"","tls_negotiated_protocol":"","tls_negotiated_protocol_is_mutual":false},{"client_id":"snappy","hostname":"host.example","version":"V2","remote_address":"127.0.0.1:50002","state":0,"ready_count":0,"in_flight_count":0,"message_count":0,"finish_count":0,"requeue_count":0,"connect_ts":1000,"sample_rate":0,"deflate":false,"snappy":true,"user_agent":"probe/1.0","authed":true,"topology_zone":"","topology_region":"","tls":false,"tls_cipher_suite":"","tls_version":"","tls_negotiated_protocol":"","tls_negotiated_protocol_is_mutual":false}],"lookupd_peers":[]}"#
    );
}
