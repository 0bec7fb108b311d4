//! Black-box cluster tests: real `nsqd` processes registering with a real `nsqlookupd`
//! over the V1 protocol (NSQ-PROTOCOL.md §4.3), checked through lookupd's HTTP API (§5):
//! producers in `/lookup`, `/topics`, `/channels`, `/nodes` and `/debug` as topics and
//! channels come and go on nsqd, nsqd shutdown, tombstones, the peer list in nsqd's
//! `/info` and `/stats`, `PUT /config/nsqlookupd_tcp_addresses`, reconnect to a restarted
//! lookupd, and the exact V1 bytes nsqd sends to a fake lookupd.
mod common;

use common::fake_lookupd::{expect_line, fake_lookupd, identify_reply, next_seen, HeldHttp, Seen};
use common::{http, Lookupd, Nsqd, WAIT};
use serde_json::{json, Value};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Starts an nsqd registering with `lookupd`.
fn nsqd_for(lookupd: &Lookupd) -> Nsqd {
    nsqd_with(&lookupd.tcp.to_string())
}

/// Starts an nsqd registering with the lookupd at `lookupd_tcp`.
fn nsqd_with(lookupd_tcp: &str) -> Nsqd {
    Nsqd::start(&[
        "--broadcast-address=127.0.0.1",
        &format!("--lookupd-tcp-address={lookupd_tcp}"),
    ])
}

/// GETs `target` and returns its JSON, asserting 200.
fn get_json(addr: SocketAddr, target: &str) -> Value {
    let resp = http(addr, "GET", target, b"");
    assert_eq!(resp.status, 200, "GET {target}: {}", resp.text());
    resp.json()
}

/// POSTs `target` and asserts 200.
fn post_ok(addr: SocketAddr, target: &str) {
    let resp = http(addr, "POST", target, b"");
    assert_eq!(resp.status, 200, "POST {target}: {}", resp.text());
}

/// Polls `f` every 50 ms until it returns `Ok`, failing after [`WAIT`] with the last `Err`.
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        match f() {
            Ok(v) => return v,
            Err(last) if Instant::now() >= deadline => {
                panic!("timed out after {WAIT:?} waiting for {what}; last: {last}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// `Ok(())` if `ok`, else `Err(state)`.
fn check(ok: bool, state: impl std::fmt::Display) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(state.to_string())
    }
}

fn strings(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect();
    out.sort();
    out
}

fn tcp_port(v: &Value) -> u64 {
    v["tcp_port"].as_u64().unwrap_or(0)
}

/// `/lookup?topic=` producers (empty when the topic is unknown).
fn lookup_producers(l: &Lookupd, topic: &str) -> Vec<Value> {
    let resp = http(l.http, "GET", &format!("/lookup?topic={topic}"), b"");
    match resp.status {
        404 => Vec::new(),
        200 => resp.json()["producers"].as_array().unwrap().clone(),
        s => panic!("/lookup?topic={topic}: {s} {}", resp.text()),
    }
}

/// The TCP ports of `/lookup?topic=` producers, sorted.
fn lookup_ports(l: &Lookupd, topic: &str) -> Vec<u64> {
    let mut ports: Vec<u64> = lookup_producers(l, topic).iter().map(tcp_port).collect();
    ports.sort();
    ports
}

fn ports(nsqds: &[&Nsqd]) -> Vec<u64> {
    let mut ports: Vec<u64> = nsqds.iter().map(|n| u64::from(n.tcp.port())).collect();
    ports.sort();
    ports
}

/// Every `/nodes` producer.
fn nodes(l: &Lookupd) -> Vec<Value> {
    get_json(l.http, "/nodes")["producers"]
        .as_array()
        .expect("/nodes producers")
        .clone()
}

/// The `/nodes` entry of `nsqd`, if listed (at most once).
fn node_of(l: &Lookupd, nsqd: &Nsqd) -> Option<Value> {
    let all = nodes(l);
    let mine: Vec<&Value> = all
        .iter()
        .filter(|n| tcp_port(n) == u64::from(nsqd.tcp.port()))
        .collect();
    assert!(mine.len() <= 1, "nsqd listed twice in /nodes: {all:?}");
    mine.first().map(|v| (*v).clone())
}

/// The sorted topics `/nodes` lists for `nsqd` (`None` if it is not listed).
fn node_topics(l: &Lookupd, nsqd: &Nsqd) -> Option<Vec<String>> {
    node_of(l, nsqd).map(|n| strings(&n["topics"]))
}

/// The TCP ports of the producers `/debug` shows under `key` (empty if the key is absent).
fn debug_ports(l: &Lookupd, key: &str) -> Vec<u64> {
    let debug = get_json(l.http, "/debug");
    let mut ports: Vec<u64> = debug
        .get(key)
        .map(|list| list.as_array().unwrap().iter().map(tcp_port).collect())
        .unwrap_or_default();
    ports.sort();
    ports
}

fn channels(l: &Lookupd, topic: &str) -> Vec<String> {
    strings(&get_json(l.http, &format!("/channels?topic={topic}"))["channels"])
}

/// The `lookupd_peers` of nsqd's `/info` and of its `/stats?format=json`, which must
/// agree (asked again while a peer's state changes between the two requests).
fn peers(nsqd: &Nsqd) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let info = get_json(nsqd.http, "/info")["lookupd_peers"].clone();
        let stats = get_json(nsqd.http, "/stats?format=json")["lookupd_peers"].clone();
        if info == stats {
            return info;
        }
        assert!(
            Instant::now() < deadline,
            "/info and /stats disagree on lookupd_peers: {info} vs {stats}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Creates `topic` on nsqd with a TCP PUB.
fn publish(nsqd: &Nsqd, topic: &str) {
    nsqd.client().publish(topic, b"hello");
}

/// Waits until `nsqd` is listed in `/nodes` with exactly `topics`.
fn wait_node_topics(l: &Lookupd, nsqd: &Nsqd, topics: &[&str]) {
    let want: Vec<String> = topics.iter().map(|t| t.to_string()).collect();
    wait_for(&format!("nsqd {} with topics {want:?}", nsqd.tcp), || {
        let got = node_topics(l, nsqd);
        check(got.as_ref() == Some(&want), format!("{got:?}"))
    });
}

/// Asserts one `/lookup` or `/nodes` producer entry describes `nsqd`.
fn assert_describes(p: &Value, nsqd: &Nsqd) {
    assert_eq!(p["broadcast_address"], "127.0.0.1", "{p}");
    assert_eq!(p["tcp_port"], nsqd.tcp.port(), "{p}");
    assert_eq!(p["http_port"], nsqd.http.port(), "{p}");
    assert_eq!(p["version"], "1.3.0", "{p}");
    assert!(p["hostname"].as_str().is_some_and(|h| !h.is_empty()), "{p}");
    let remote: SocketAddr = p["remote_address"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad remote_address in {p}"));
    assert!(remote.ip().is_loopback(), "{p}");
    assert_ne!(remote.port(), 0, "{p}");
}

#[test]
fn lookup_topics_channels_and_nodes_list_both_nsqds() {
    let l = Lookupd::start(&[]);
    let n1 = nsqd_for(&l);
    let n2 = nsqd_for(&l);
    publish(&n1, "t");
    publish(&n1, "only1");
    let mut sub = n2.client();
    sub.sub("t", "c");

    wait_for("both producers of t in /lookup", || {
        let got = lookup_ports(&l, "t");
        check(got == ports(&[&n1, &n2]), format!("{got:?}"))
    });
    wait_node_topics(&l, &n1, &["only1", "t"]);
    wait_node_topics(&l, &n2, &["t"]);

    let lookup = get_json(l.http, "/lookup?topic=t");
    assert_eq!(lookup["channels"], json!(["c"]));
    let producers = lookup["producers"].as_array().unwrap();
    assert_eq!(producers.len(), 2, "{lookup}");
    for nsqd in [&n1, &n2] {
        let mine: Vec<&Value> = producers
            .iter()
            .filter(|p| tcp_port(p) == u64::from(nsqd.tcp.port()))
            .collect();
        assert_eq!(mine.len(), 1, "{lookup}");
        assert_describes(mine[0], nsqd);
    }
    assert_ne!(
        producers[0]["remote_address"], producers[1]["remote_address"],
        "two nsqds, one remote address: {lookup}"
    );
    assert_eq!(lookup_ports(&l, "only1"), vec![u64::from(n1.tcp.port())]);

    assert_eq!(
        strings(&get_json(l.http, "/topics")["topics"]),
        ["only1", "t"]
    );
    assert_eq!(channels(&l, "t"), ["c"]);
    assert_eq!(channels(&l, "only1"), Vec::<String>::new());

    let nodes = nodes(&l);
    assert_eq!(nodes.len(), 2, "{nodes:?}");
    for nsqd in [&n1, &n2] {
        let node = node_of(&l, nsqd).unwrap();
        assert_describes(&node, nsqd);
        let topics = node["topics"].as_array().unwrap();
        assert_eq!(
            node["tombstones"],
            Value::Array(vec![Value::Bool(false); topics.len()]),
            "{node}"
        );
        let in_lookup = producers
            .iter()
            .find(|p| tcp_port(p) == u64::from(nsqd.tcp.port()))
            .unwrap();
        assert_eq!(node["remote_address"], in_lookup["remote_address"]);
    }

    // /debug: the channel key holds n2 only (n1 created t, asking lookupd for its
    // channels, before n2 registered c), the topic key both.
    assert_eq!(
        debug_ports(&l, "channel:t:c"),
        vec![u64::from(n2.tcp.port())]
    );
    assert_eq!(debug_ports(&l, "topic:t:"), ports(&[&n1, &n2]));
    assert_eq!(debug_ports(&l, "client::"), ports(&[&n1, &n2]));
}

#[test]
fn channels_and_topics_deleted_on_nsqd_leave_lookupd() {
    let l = Lookupd::start(&[]);
    let n1 = nsqd_for(&l);
    let n2 = nsqd_for(&l);
    let (p1, p2) = (u64::from(n1.tcp.port()), u64::from(n2.tcp.port()));

    // An HTTP-created channel on n1 and a SUB-created one on n2.
    post_ok(n1.http, "/topic/create?topic=t");
    post_ok(n1.http, "/channel/create?topic=t&channel=c");
    let mut sub = n2.client();
    sub.sub("t", "c");
    wait_for("both nsqds on channel:t:c", || {
        let got = debug_ports(&l, "channel:t:c");
        check(got == ports(&[&n1, &n2]), format!("{got:?}"))
    });
    assert_eq!(channels(&l, "t"), ["c"]);

    // Deleting the channel on n1 removes only n1 from it.
    post_ok(n1.http, "/channel/delete?topic=t&channel=c");
    wait_for("n1 gone from channel:t:c", || {
        let got = debug_ports(&l, "channel:t:c");
        check(got == vec![p2], format!("{got:?}"))
    });
    assert_eq!(channels(&l, "t"), ["c"]);
    assert_eq!(debug_ports(&l, "topic:t:"), ports(&[&n1, &n2]));

    // n2 deletes it too (its consumer is closed by that): no producer is left, but a
    // non-ephemeral channel key stays listed, as in Go.
    post_ok(n2.http, "/channel/delete?topic=t&channel=c");
    wait_for("no producers on channel:t:c", || {
        let got = debug_ports(&l, "channel:t:c");
        check(got.is_empty(), format!("{got:?}"))
    });
    assert_eq!(channels(&l, "t"), ["c"]);
    drop(sub);

    // An ephemeral channel: listed while its consumer is connected, gone with it.
    let mut eph = n1.client();
    eph.sub("t", "e#ephemeral");
    wait_for("ephemeral channel listed", || {
        let got = channels(&l, "t");
        check(got == ["c", "e#ephemeral"], format!("{got:?}"))
    });
    assert_eq!(debug_ports(&l, "channel:t:e#ephemeral"), vec![p1]);
    drop(eph);
    wait_for("ephemeral channel gone after its consumer left", || {
        let got = channels(&l, "t");
        check(got == ["c"], format!("{got:?}"))
    });

    // Deleting the topic on n1 removes n1 as a producer of it; n2 stays.
    post_ok(n1.http, "/topic/delete?topic=t");
    wait_for("n1 gone from /lookup?topic=t", || {
        let got = lookup_ports(&l, "t");
        check(got == vec![p2], format!("{got:?}"))
    });
    wait_node_topics(&l, &n1, &[]);
    assert_eq!(node_topics(&l, &n2), Some(vec!["t".to_string()]));
}

#[test]
fn stopped_nsqd_leaves_nodes_and_lookup() {
    let l = Lookupd::start(&[]);
    let mut n1 = nsqd_for(&l);
    let n2 = nsqd_for(&l);
    publish(&n1, "t");
    publish(&n2, "t");
    wait_for("both producers of t", || {
        let got = lookup_ports(&l, "t");
        check(got == ports(&[&n1, &n2]), format!("{got:?}"))
    });

    n1.signal("TERM");
    assert_eq!(n1.wait_exit(), Some(0), "{}", n1.log_text());
    // Gone on disconnect: WAIT is far below lookupd's 5-minute inactive timeout.
    wait_for("n1 gone from /nodes and /lookup", || {
        let nodes: Vec<u64> = nodes(&l).iter().map(tcp_port).collect();
        let lookup = lookup_ports(&l, "t");
        let want = vec![u64::from(n2.tcp.port())];
        check(
            nodes == want && lookup == want,
            format!("nodes {nodes:?}, lookup {lookup:?}"),
        )
    });
    // The topic key itself survives its producer's disconnect.
    assert_eq!(strings(&get_json(l.http, "/topics")["topics"]), ["t"]);
}

#[test]
fn tombstone_hides_one_producer_for_its_lifetime() {
    let l = Lookupd::start(&["--tombstone-lifetime=6s"]);
    let n1 = nsqd_for(&l);
    let n2 = nsqd_for(&l);
    let (p1, p2) = (u64::from(n1.tcp.port()), u64::from(n2.tcp.port()));
    publish(&n1, "t");
    publish(&n1, "u");
    publish(&n2, "t");
    wait_for("both producers of t", || {
        let got = lookup_ports(&l, "t");
        check(got == ports(&[&n1, &n2]), format!("{got:?}"))
    });
    wait_node_topics(&l, &n1, &["t", "u"]);

    let before = Instant::now();
    post_ok(
        l.http,
        &format!("/topic/tombstone?topic=t&node=127.0.0.1:{}", n1.http.port()),
    );
    assert_eq!(
        lookup_ports(&l, "t"),
        vec![p2],
        "tombstoned n1 still listed"
    );
    assert_eq!(
        lookup_ports(&l, "u"),
        vec![p1],
        "tombstone leaked to topic u"
    );
    let node = node_of(&l, &n1).expect("tombstoned n1 still in /nodes");
    let topics = node["topics"].as_array().unwrap();
    let tombstones = node["tombstones"].as_array().unwrap();
    assert_eq!(topics.len(), tombstones.len(), "{node}");
    for (topic, tomb) in topics.iter().zip(tombstones) {
        assert_eq!(*tomb, Value::Bool(topic == "t"), "{node}");
    }
    let node2 = node_of(&l, &n2).unwrap();
    assert_eq!(node2["tombstones"], json!([false]), "{node2}");

    let back = wait_for("n1 back in /lookup?topic=t", || {
        let got = lookup_ports(&l, "t");
        check(got == ports(&[&n1, &n2]), format!("{got:?}"))?;
        Ok(before.elapsed())
    });
    assert!(
        back >= Duration::from_millis(5900),
        "tombstone (lifetime 6s) lasted only {back:?}"
    );
    let node = node_of(&l, &n1).unwrap();
    assert!(
        node["tombstones"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| *t == false),
        "{node}"
    );
}

#[test]
fn peer_status_and_runtime_lookupd_address_changes() {
    let l = Lookupd::start(&[]);
    let n1 = nsqd_for(&l);
    let n2 = nsqd_for(&l);
    let addr = l.tcp.to_string();
    wait_for("n1 peer connected in /info and /stats", || {
        let got = peers(&n1);
        check(got == json!([{"address": addr, "connected": true}]), &got)
    });

    publish(&n1, "a");
    post_ok(n1.http, "/topic/create?topic=b");
    post_ok(n1.http, "/channel/create?topic=b&channel=c");
    publish(&n2, "a");
    wait_node_topics(&l, &n1, &["a", "b"]);
    wait_node_topics(&l, &n2, &["a"]);

    let resp = http(n1.http, "PUT", "/config/nsqlookupd_tcp_addresses", b"[]");
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.json(), json!([]));
    assert_eq!(peers(&n1), json!([]));
    wait_for("n1 gone from /nodes", || {
        let got: Vec<u64> = nodes(&l).iter().map(tcp_port).collect();
        check(got == vec![u64::from(n2.tcp.port())], format!("{got:?}"))
    });
    assert_eq!(lookup_ports(&l, "a"), vec![u64::from(n2.tcp.port())]);
    assert_eq!(lookup_ports(&l, "b"), Vec::<u64>::new());
    assert_eq!(debug_ports(&l, "channel:b:c"), Vec::<u64>::new());

    let body = json!([addr]).to_string();
    let resp = http(
        n1.http,
        "PUT",
        "/config/nsqlookupd_tcp_addresses",
        body.as_bytes(),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.json(), json!([addr]));
    wait_node_topics(&l, &n1, &["a", "b"]);
    assert_eq!(
        debug_ports(&l, "channel:b:c"),
        vec![u64::from(n1.tcp.port())]
    );
    assert_eq!(lookup_ports(&l, "a"), ports(&[&n1, &n2]));
    wait_for("n1 peer connected again", || {
        let got = peers(&n1);
        check(got == json!([{"address": addr, "connected": true}]), &got)
    });
    // n2 was never disturbed.
    assert_eq!(node_topics(&l, &n2), Some(vec!["a".to_string()]));
}

/// A TCP forwarder the test owns: it listens on one port for the whole test and
/// forwards each connection to the current target, so a lookupd can be killed and a
/// new one started (on a port of its own) behind the same address — no port is ever
/// released and re-bound.
struct Forwarder {
    addr: SocketAddr,
    target: Arc<Mutex<SocketAddr>>,
    /// Both ends of every forwarded connection, closed by `cut`.
    live: Arc<Mutex<Vec<TcpStream>>>,
}

impl Forwarder {
    fn start(target: SocketAddr) -> Forwarder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let target = Arc::new(Mutex::new(target));
        let live = Arc::new(Mutex::new(Vec::new()));
        let (t, l) = (target.clone(), live.clone());
        std::thread::spawn(move || {
            for inbound in listener.incoming() {
                let Ok(inbound) = inbound else { return };
                let to = *t.lock().unwrap();
                let Ok(outbound) = TcpStream::connect(to) else {
                    continue;
                };
                let mut live = l.lock().unwrap();
                for (from, to) in [(&inbound, &outbound), (&outbound, &inbound)] {
                    let (mut from, mut to) = (from.try_clone().unwrap(), to.try_clone().unwrap());
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Both);
                        let _ = from.shutdown(Shutdown::Both);
                    });
                }
                live.extend([inbound, outbound]);
            }
        });
        Forwarder { addr, target, live }
    }

    /// Closes every forwarded connection and sends new ones to `target`.
    fn cut_over(&self, target: SocketAddr) {
        *self.target.lock().unwrap() = target;
        for s in self.live.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

#[test]
fn nsqd_reregisters_everything_with_a_restarted_lookupd() {
    let l = Lookupd::start(&[]);
    let forwarder = Forwarder::start(l.tcp);
    let n1 = nsqd_with(&forwarder.addr.to_string());
    let n2 = nsqd_with(&forwarder.addr.to_string());
    publish(&n1, "a");
    post_ok(n1.http, "/topic/create?topic=b");
    post_ok(n1.http, "/channel/create?topic=b&channel=c");
    publish(&n2, "a");
    wait_node_topics(&l, &n1, &["a", "b"]);
    wait_node_topics(&l, &n2, &["a"]);
    drop(l); // SIGKILL: no goodbye to the nsqds

    let l = Lookupd::start(&[]);
    forwarder.cut_over(l.tcp);
    // Each nsqd finds the old connection dead and reconnects, replaying every
    // registration.
    publish(&n1, "new");
    publish(&n2, "new2");
    wait_node_topics(&l, &n1, &["a", "b", "new"]);
    wait_node_topics(&l, &n2, &["a", "new2"]);
    assert_eq!(lookup_ports(&l, "a"), ports(&[&n1, &n2]));
    assert_eq!(channels(&l, "b"), ["c"]);
    assert_eq!(
        debug_ports(&l, "channel:b:c"),
        vec![u64::from(n1.tcp.port())]
    );
    let addr = forwarder.addr.to_string();
    for nsqd in [&n1, &n2] {
        assert_eq!(peers(nsqd), json!([{"address": addr, "connected": true}]));
    }
}

#[test]
fn nsqd_speaks_exact_v1_bytes_to_lookupd() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let fake = listener.local_addr().unwrap();
    // Its HTTP side closes every request at once: channel pre-creation finds nothing.
    let fake_http = HeldHttp::start();
    fake_http.release();
    let rx = fake_lookupd(listener, identify_reply(fake, fake_http.addr));
    let nsqd = nsqd_with(&fake.to_string());

    match next_seen(&rx) {
        Seen::Magic(m) => assert_eq!(m, b"  V1"),
        other => panic!("expected the magic, got {other:?}"),
    }
    match next_seen(&rx) {
        Seen::Identify(size, body) => {
            assert_eq!(i32::from_be_bytes(size) as usize, body.len());
            let v: Value = serde_json::from_slice(&body).unwrap_or_else(|e| {
                panic!(
                    "IDENTIFY body not JSON ({e}): {}",
                    String::from_utf8_lossy(&body)
                )
            });
            assert_eq!(v["broadcast_address"], "127.0.0.1", "{v}");
            assert!(v["hostname"].as_str().is_some_and(|h| !h.is_empty()), "{v}");
            assert_eq!(v["http_port"], nsqd.http.port(), "{v}");
            assert_eq!(v["tcp_port"], nsqd.tcp.port(), "{v}");
            assert_eq!(v["version"], "1.3.0", "{v}");
        }
        other => panic!("expected IDENTIFY, got {other:?}"),
    }
    wait_for("nsqd peer connected", || {
        let got = peers(&nsqd);
        check(
            got == json!([{"address": fake.to_string(), "connected": true}]),
            &got,
        )
    });

    publish(&nsqd, "t1");
    expect_line(&rx, "REGISTER t1\n");
    post_ok(nsqd.http, "/channel/create?topic=t1&channel=c1");
    expect_line(&rx, "REGISTER t1 c1\n");
    post_ok(nsqd.http, "/channel/delete?topic=t1&channel=c1");
    expect_line(&rx, "UNREGISTER t1 c1\n");
    post_ok(nsqd.http, "/topic/delete?topic=t1");
    expect_line(&rx, "UNREGISTER t1\n");

    match rx.recv_timeout(Duration::from_millis(300)) {
        Err(RecvTimeoutError::Timeout) => {}
        other => panic!("unexpected after UNREGISTER: {other:?}"),
    }
    drop(fake_http);
}

/// The channels nsqd has for `topic`, with their depths, from `/stats`.
fn channel_depths(nsqd: &Nsqd, topic: &str) -> Vec<(String, u64)> {
    let stats = get_json(nsqd.http, &format!("/stats?format=json&topic={topic}"));
    let mut out: Vec<(String, u64)> = stats["topics"][0]["channels"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    let name = c["channel_name"].as_str().unwrap_or("").to_string();
                    (name, c["depth"].as_u64().unwrap_or(0))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn a_new_topic_pre_creates_the_channels_lookupd_knows() {
    let lookupd = Lookupd::start(&[]);
    let a = nsqd_for(&lookupd);
    let mut subs: Vec<_> = ["c1", "c2", "tail#ephemeral"]
        .iter()
        .map(|channel| {
            let mut c = a.client();
            c.sub("pre", channel);
            c
        })
        .collect();
    wait_for("lookupd to know the channels", || {
        let known = channels(&lookupd, "pre");
        check(known.len() == 3, format!("{known:?}"))
    });
    let b = nsqd_for(&lookupd);
    wait_for("the second nsqd to identify with lookupd", || {
        let got = peers(&b);
        check(got[0]["connected"] == true, &got)
    });
    let mut publisher = b.client();
    publisher.publish("pre", b"first");
    // The OK comes once the channels lookupd knows exist, so they hold it already.
    assert_eq!(
        channel_depths(&b, "pre"),
        [("c1".to_string(), 1), ("c2".to_string(), 1)]
    );
    subs.clear();
}

#[test]
fn without_lookupd_a_new_topic_flows_at_once_and_creates_nothing() {
    let nsqd = Nsqd::start(&[]);
    let mut c = nsqd.client();
    c.publish("solo", b"x");
    assert!(channel_depths(&nsqd, "solo").is_empty());
    let stats = get_json(nsqd.http, "/stats?format=json&topic=solo");
    assert_eq!(stats["topics"][0]["depth"].as_u64(), Some(1));
}
