//! Micro-benchmarks of the hot paths: command parsing, frame encoding, registry
//! enqueue/dequeue (publish, then pump to a consumer, then FIN), and the `/stats` JSON
//! body of a large node. Run with
//! `cargo bench --bench micro`; the end-to-end figures come from `make bench`.

use nsq::nsqd::stats::{self, ChannelStats, MemStats, Snapshot, TopicStats};
use nsq::proto::{self, ClientState, Limits, ParseContext};
use nsq::registry::{ClientInfo, Config, Registry};
use std::time::{Duration, Instant};

fn main() {
    divan::main();
}

fn limits() -> Limits {
    Limits {
        max_msg_size: 1 << 20,
        max_body_size: 5 << 20,
        max_rdy_count: 2500,
        max_req_timeout_ms: 3_600_000,
    }
}

/// An MPUB of 200 messages of 100 bytes, as the bench tools send it.
fn mpub_bytes() -> Vec<u8> {
    let mut body = 200i32.to_be_bytes().to_vec();
    for _ in 0..200 {
        body.extend_from_slice(&100i32.to_be_bytes());
        body.extend_from_slice(&[b'x'; 100]);
    }
    let mut out = b"MPUB bench\n".to_vec();
    out.extend_from_slice(&(body.len() as i32).to_be_bytes());
    out.extend_from_slice(&body);
    out
}

#[divan::bench]
fn parse_pub(b: divan::Bencher) {
    let limits = limits();
    let ctx = ParseContext {
        state: ClientState::Init,
        heartbeats_enabled: true,
        limits: &limits,
        tls_missing: false,
    };
    let mut cmd = b"PUB bench\n".to_vec();
    cmd.extend_from_slice(&100i32.to_be_bytes());
    cmd.extend_from_slice(&[b'x'; 100]);
    b.bench(|| {
        proto::parse(divan::black_box(&cmd), &ctx)
            .ok()
            .flatten()
            .map(|(_, n)| n)
    });
}

#[divan::bench]
fn parse_mpub_200(b: divan::Bencher) {
    let limits = limits();
    let ctx = ParseContext {
        state: ClientState::Init,
        heartbeats_enabled: true,
        limits: &limits,
        tls_missing: false,
    };
    let cmd = mpub_bytes();
    b.bench(|| {
        proto::parse(divan::black_box(&cmd), &ctx)
            .ok()
            .flatten()
            .map(|(_, n)| n)
    });
}

#[divan::bench]
fn parse_fin(b: divan::Bencher) {
    let limits = limits();
    let ctx = ParseContext {
        state: ClientState::Subscribed,
        heartbeats_enabled: true,
        limits: &limits,
        tls_missing: false,
    };
    let cmd = b"FIN 0123456789abcdef\n".to_vec();
    b.bench(|| {
        proto::parse(divan::black_box(&cmd), &ctx)
            .ok()
            .flatten()
            .map(|(_, n)| n)
    });
}

#[divan::bench]
fn encode_message_frame(b: divan::Bencher) {
    let mut out = Vec::with_capacity(1 << 20);
    let body = [b'x'; 100];
    b.bench_local(|| {
        if out.len() > (1 << 19) {
            out.clear();
        }
        proto::write_message(&mut out, 1, 1, b"0123456789abcdef", divan::black_box(&body));
    });
}

fn registry() -> Registry {
    Registry::new(Config {
        node_id: 1,
        mem_queue_size: usize::MAX,
        data_path: None,
        disk: nsq::diskqueue::Config {
            max_bytes_per_file: 100 << 20,
            min_msg_size: 26,
            max_msg_size: (1 << 20) + 26,
            sync_every: 2500,
        },
        max_msg_timeout: Duration::from_secs(900),
        max_channel_consumers: 0,
        e2e_percentiles: Vec::new(),
        e2e_window: Duration::from_secs(600),
    })
}

/// Publishes 200 messages (one MPUB), pumps them to one consumer, FINs them all.
#[divan::bench]
fn registry_publish_pump_fin_200(b: divan::Bencher) {
    let mut reg = registry();
    let now = Instant::now();
    reg.add_client(
        1,
        ClientInfo {
            remote: "127.0.0.1:1".parse().unwrap_or_else(|_| unreachable!()),
            client_id: String::new(),
            hostname: String::new(),
            user_agent: String::new(),
            state: ClientState::Init,
            msg_timeout: Duration::from_secs(60),
            sample_rate: 0,
            heartbeat_interval: None,
            output_buffer_size: 16384,
            output_buffer_timeout: Duration::ZERO,
            connect_ts: 0,
            subscription: None,
            pub_counts: Default::default(),
            auth_identity: None,
            compression: "",
            tls: None,
        },
    );
    let _ = reg.subscribe(1, "bench", "ch", now);
    reg.rdy(1, 2500);
    let bodies: Vec<Vec<u8>> = (0..200).map(|_| vec![b'x'; 100]).collect();
    let mut ids = Vec::with_capacity(200);
    b.bench_local(|| {
        reg.publish("bench", bodies.iter().map(|b| b.as_slice()), 0, now)
            .unwrap();
        ids.clear();
        reg.pump(now, |_, msg| ids.push(msg.id));
        for id in &ids {
            let _ = reg.finish(1, id);
        }
    });
}

/// `GET /stats?format=json` of a node with 10,000 topics of one channel each (no
/// clients, no e2e percentiles).
#[divan::bench]
fn stats_json_10k_topics(b: divan::Bencher) {
    let topics = (0..10_000)
        .map(|i| TopicStats {
            name: format!("topic-{i:05}"),
            channels: vec![ChannelStats {
                name: "archive".into(),
                depth: i,
                message_count: i * 3,
                clients: Some(Vec::new()),
                ..ChannelStats::default()
            }],
            depth: i,
            message_count: i * 3,
            message_bytes: i * 300,
            ..TopicStats::default()
        })
        .collect();
    let snapshot = Snapshot {
        version: "1.3.0".into(),
        health: "OK".into(),
        start_time: 1_795_486_829,
        topics: Some(topics),
        include_mem: true,
        memory: Some(MemStats::default()),
        ..Snapshot::default()
    };
    b.bench(|| stats::to_json(divan::black_box(&snapshot)).len());
}
