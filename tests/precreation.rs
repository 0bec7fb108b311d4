//! Channel pre-creation as a client sees it (NSQ-PROTOCOL.md §2, "lookupd
//! pre-creation"): with lookupd configured, the call that creates a topic — HTTP
//! `/topic/create` or `/pub`, TCP PUB or SUB — answers only once the channels lookupd
//! knows exist, so whoever looks next sees the topic flowing, as with Go's nsqd. A
//! slow lookupd holds up only the creating connection, an unreachable one delays the
//! creation by at most the request timeout, and no message is lost either way.
mod common;

use common::fake_lookupd::{fake_lookupd, identify_reply, HeldHttp};
use common::{command_bytes, http, Client, Lookupd, Nsqd, WAIT};
use serde_json::{json, Value};
use std::io::Read;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Waits until nsqd reports its one lookupd peer connected (identified and
/// registered): from then on, new topics ask that lookupd for their channels.
fn wait_peer_connected(nsqd: &Nsqd) {
    common::eventually("nsqd's lookupd peer to connect", || {
        let info = http(nsqd.http, "GET", "/info", b"").json();
        info["lookupd_peers"][0]["connected"] == true
    });
}

/// nsqd registered with a real lookupd.
fn pair() -> (Lookupd, Nsqd) {
    let lookupd = Lookupd::start(&[]);
    let nsqd = Nsqd::start(&[
        "--broadcast-address=127.0.0.1",
        &format!("--lookupd-tcp-address={}", lookupd.tcp),
    ]);
    wait_peer_connected(&nsqd);
    (lookupd, nsqd)
}

/// nsqd registered with a fake lookupd whose HTTP API holds every request until
/// released; `args` are extra nsqd flags.
fn pair_with_held_http(args: &[&str]) -> (HeldHttp, Nsqd) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp = listener.local_addr().unwrap();
    let held = HeldHttp::start();
    let _seen = fake_lookupd(listener, identify_reply(tcp, held.addr));
    let mut full = vec![
        "--broadcast-address=127.0.0.1".to_string(),
        format!("--lookupd-tcp-address={tcp}"),
    ];
    full.extend(args.iter().map(|a| a.to_string()));
    let full: Vec<&str> = full.iter().map(String::as_str).collect();
    let nsqd = Nsqd::start(&full);
    wait_peer_connected(&nsqd);
    (held, nsqd)
}

fn post_ok(addr: std::net::SocketAddr, target: &str, body: &[u8]) {
    let resp = http(addr, "POST", target, body);
    assert_eq!(resp.status, 200, "POST {target}: {}", resp.text());
}

/// The `/stats` JSON of `topic` (which must exist).
fn topic_stats(nsqd: &Nsqd, topic: &str) -> Value {
    let stats = http(
        nsqd.http,
        "GET",
        &format!("/stats?format=json&topic={topic}"),
        b"",
    )
    .json();
    let topics = stats["topics"].as_array().expect("topics");
    topics
        .iter()
        .find(|t| t["topic_name"] == topic)
        .unwrap_or_else(|| panic!("no topic {topic} in {stats}"))
        .clone()
}

/// Each channel of `topic` with its depth and message count.
fn channel_depths(nsqd: &Nsqd, topic: &str) -> Vec<(String, u64, u64)> {
    let t = topic_stats(nsqd, topic);
    let mut out: Vec<(String, u64, u64)> = t["channels"]
        .as_array()
        .expect("channels")
        .iter()
        .map(|c| {
            let name = c["channel_name"].as_str().expect("name").to_string();
            let depth = c["depth"].as_u64().expect("depth");
            (name, depth, c["message_count"].as_u64().expect("count"))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn create_channel_then_publish_twice_reads_depth_2_every_time() {
    let (_lookupd, nsqd) = pair();
    for i in 0..1000 {
        let t = format!("seq{i}");
        post_ok(nsqd.http, &format!("/topic/create?topic={t}"), b"");
        post_ok(
            nsqd.http,
            &format!("/channel/create?topic={t}&channel=c"),
            b"",
        );
        post_ok(nsqd.http, &format!("/pub?topic={t}"), b"one");
        post_ok(nsqd.http, &format!("/pub?topic={t}"), b"two");
        assert_eq!(
            channel_depths(&nsqd, &t),
            [("c".to_string(), 2, 2)],
            "round {i}"
        );
    }
}

#[test]
fn a_tcp_pub_to_a_new_topic_lands_in_the_channel_lookupd_knows() {
    let (lookupd, nsqd) = pair();
    let mut client = nsqd.client();
    for i in 0..200 {
        let t = format!("tcp{i}");
        // Another node's channel, as lookupd knows it.
        post_ok(
            lookupd.http,
            &format!("/channel/create?topic={t}&channel=known"),
            b"",
        );
        client.publish(&t, b"first");
        assert_eq!(
            channel_depths(&nsqd, &t),
            [("known".to_string(), 1, 1)],
            "round {i}"
        );
        assert_eq!(topic_stats(&nsqd, &t)["depth"], 0, "round {i}");
    }
}

#[test]
fn a_sub_to_a_new_topic_gets_the_first_message_with_the_known_channels() {
    let (lookupd, nsqd) = pair();
    post_ok(lookupd.http, "/channel/create?topic=s&channel=other", b"");
    let mut consumer = common::consumer(&nsqd, r#"{"client_id":"c"}"#, "s", "mine", 1);
    nsqd.client().publish("s", b"first");
    assert_eq!(consumer.read_message().body, b"first");
    assert_eq!(
        channel_depths(&nsqd, "s"),
        [("mine".to_string(), 0, 1), ("other".to_string(), 1, 1)]
    );
}

#[test]
fn a_slow_lookupd_holds_only_the_creating_connection() {
    let (held, nsqd) = pair_with_held_http(&["--http-client-request-timeout=60s"]);
    // A topic created while lookupd answers at once (with nothing): flowing.
    held.release();
    let mut other = nsqd.client();
    other.publish("existing", b"x");

    // Now lookupd holds: the first PUB to a new topic waits for it, and so does the
    // command behind it on the same connection.
    held.hold();
    let mut waiting = nsqd.client();
    waiting.command("PUB new", Some(b"m1"));
    waiting.command("PUB new", Some(b"m2"));
    common::eventually("the lookupd query to arrive", || held.holding() == 1);

    // Everyone else is served meanwhile: stats, and other connections' commands.
    other.publish("existing", b"y");
    assert_eq!(topic_stats(&nsqd, "existing")["message_count"], 2);
    assert_eq!(topic_stats(&nsqd, "new")["message_count"], 0);
    assert!(
        waiting.try_read_frame(Duration::from_millis(200)).is_err(),
        "answered before lookupd did"
    );

    held.release();
    waiting.expect_response("OK");
    waiting.expect_response("OK");
    let t = topic_stats(&nsqd, "new");
    assert_eq!(
        (t["depth"].as_u64(), t["message_count"].as_u64()),
        (Some(2), Some(2))
    );
}

#[test]
fn an_unreachable_lookupd_delays_creation_by_the_request_timeout_and_loses_nothing() {
    let (_held, nsqd) = pair_with_held_http(&["--http-client-request-timeout=1s"]);

    let start = Instant::now();
    post_ok(nsqd.http, "/pub?topic=h", b"over http");
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "HTTP /pub answered before the lookupd query timed out"
    );

    let start = Instant::now();
    nsqd.client().publish("t", b"over tcp");
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "PUB answered before the lookupd query timed out"
    );

    for (topic, body) in [("h", &b"over http"[..]), ("t", b"over tcp")] {
        assert_eq!(topic_stats(&nsqd, topic)["depth"], 1, "{topic}");
        let mut consumer = common::consumer(&nsqd, "{}", topic, "c", 1);
        assert_eq!(consumer.read_message().body, body);
    }
    common::wait_log(|| nsqd.log_text(), "failed to query nsqlookupd 127.0.0.1:");
}

#[test]
fn commands_sent_before_a_half_close_still_run_after_the_release() {
    let (held, nsqd) = pair_with_held_http(&["--http-client-request-timeout=60s"]);
    let mut raw = TcpStream::connect(nsqd.tcp).unwrap();
    raw.set_read_timeout(Some(WAIT)).unwrap();
    let mut out = b"  V2".to_vec();
    out.extend(command_bytes("PUB late", Some(b"kept")));
    std::io::Write::write_all(&mut raw, &out).unwrap();
    raw.shutdown(Shutdown::Write).unwrap();
    common::eventually("the lookupd query to arrive", || held.holding() == 1);

    held.release();
    let mut got = Vec::new();
    raw.read_to_end(&mut got).unwrap();
    assert_eq!(got, [&[0, 0, 0, 6, 0, 0, 0, 0][..], b"OK"].concat());
    assert_eq!(topic_stats(&nsqd, "late")["depth"], 1);
}

#[test]
fn without_lookupd_nothing_waits() {
    let nsqd = Nsqd::start(&[]);
    let mut c: Client = nsqd.client();
    c.publish("solo", b"x");
    assert_eq!(topic_stats(&nsqd, "solo")["depth"], 1);
    assert_eq!(topic_stats(&nsqd, "solo")["channels"], json!([]));
}
