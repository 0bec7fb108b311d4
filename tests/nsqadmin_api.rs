//! nsqadmin's read API, black-box against a real cluster (nsqlookupd + two nsqd +
//! nsqadmin in lookupd mode, all on loopback): every `/api` route's status and JSON
//! shape as NSQADMIN.md records them (§3, §4, §6.2, §7; key order read from the raw
//! JSON text), `/config/:opt` (§8), `--base-path` (§9) and nsq-rs's
//! `/api/rates/...` series. (Unknown paths and wrong methods: `nsqadmin_faults.rs`.)
//! Deadlines only turn a hang into a failure.
mod common;

use common::admin::{lookupd_post, Admin, Cluster, Json};
use common::{consumer, eventually, HttpResponse, Lookupd};

/// The `message` of a JSON answer.
fn message(r: &HttpResponse) -> String {
    r.json()["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no message in {}", r.text()))
        .to_string()
}

/// Asserts a JSON answer as nsqadmin writes it: `status`, Go's content type and
/// `X-NSQ-Content-Type`; its document with the key order kept.
fn json_answer(r: &HttpResponse, status: u16) -> Json {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8"),
        "{}",
        r.text()
    );
    assert_eq!(
        r.header("x-nsq-content-type"),
        Some("nsq; version=1.0"),
        "{}",
        r.text()
    );
    Json::parse(&r.text())
}

/// Asserts a `{"message": text}` error answer.
fn assert_error(r: &HttpResponse, status: u16, text: &str) {
    let doc = json_answer(r, status);
    assert_eq!(doc.keys(), ["message"], "{}", r.text());
    assert_eq!(message(r), text);
}

const TOPIC_KEYS: [&str; 11] = [
    "node",
    "hostname",
    "topic_name",
    "depth",
    "memory_depth",
    "backend_depth",
    "message_count",
    "nodes",
    "channels",
    "paused",
    "e2e_processing_latency",
];

const CHANNEL_KEYS: [&str; 17] = [
    "node",
    "hostname",
    "topic_name",
    "channel_name",
    "depth",
    "memory_depth",
    "backend_depth",
    "in_flight_count",
    "deferred_count",
    "requeue_count",
    "timeout_count",
    "message_count",
    "client_count",
    "nodes",
    "clients",
    "paused",
    "e2e_processing_latency",
];

/// NSQADMIN.md §7, in order.
const CLIENT_KEYS: [&str; 24] = [
    "node",
    "remote_address",
    "version",
    "client_id",
    "hostname",
    "user_agent",
    "connect_ts",
    "connected",
    "in_flight_count",
    "ready_count",
    "finish_count",
    "requeue_count",
    "message_count",
    "sample_rate",
    "deflate",
    "snappy",
    "authed",
    "auth_identity",
    "auth_identity_url",
    "tls",
    "tls_cipher_suite",
    "tls_version",
    "tls_negotiated_protocol",
    "tls_negotiated_protocol_is_mutual",
];

const PRODUCER_KEYS: [&str; 9] = [
    "remote_addresses",
    "remote_address",
    "hostname",
    "broadcast_address",
    "tcp_port",
    "http_port",
    "version",
    "topics",
    "out_of_date",
];

fn with_message(keys: &[&'static str]) -> Vec<&'static str> {
    keys.iter().copied().chain(["message"]).collect()
}

fn num(j: &Json) -> i64 {
    match j {
        Json::Num(n) => *n as i64,
        other => panic!("not a number: {other:?}"),
    }
}

fn text(j: &Json) -> &str {
    match j {
        Json::Str(s) => s,
        other => panic!("not a string: {other:?}"),
    }
}

/// A channel by name in a list of channel objects.
fn named<'a>(list: &'a [Json], name: &str) -> &'a Json {
    (list.iter().find(|c| text(c.get("channel_name")) == name))
        .unwrap_or_else(|| panic!("no channel {name} in {list:?}"))
}

/// Asserts that rows are sorted by hostname (ties in any order).
fn assert_sorted_by_hostname(rows: &[Json]) {
    let names: Vec<&str> = rows.iter().map(|r| text(r.get("hostname"))).collect();
    assert!(
        names.windows(2).all(|w| w[0] <= w[1]),
        "not sorted by hostname: {names:?}"
    );
    assert!(names.iter().all(|n| !n.is_empty()), "{names:?}");
}

/// Sets up `orders`: channels `audit` on both nodes and `tail` on node 0 (with one
/// consumer holding one message in flight); 3 messages on node 0, 2 on node 1.
fn orders(c: &Cluster) -> common::Client {
    for i in 0..2 {
        c.nsqd_post(i, "/topic/create?topic=orders", "");
        c.nsqd_post(i, "/channel/create?topic=orders&channel=audit", "");
    }
    c.nsqd_post(0, "/channel/create?topic=orders&channel=tail", "");
    let identify = r#"{"client_id":"cid-7","hostname":"consumer.example","user_agent":"admin-test/1.0","feature_negotiation":true}"#;
    let mut tail = consumer(&c.nsqd[0], identify, "orders", "tail", 1);
    c.publish(0, "orders", 3);
    c.publish(1, "orders", 2);
    tail.read_message();
    c.wait_producers("orders", &[0, 1]);
    eventually("one message in flight on tail", || {
        c.channel_on(0, "orders", "tail")
            .is_some_and(|t| t["in_flight_count"] == 1)
    });
    tail
}

#[test]
fn topic_and_channel_totals_sum_both_nodes_in_go_shapes() {
    let c = Cluster::start(&[]);
    let _tail = orders(&c);
    let nodes = [c.node(0), c.node(1)];

    // GET /api/topics
    let r = c.admin.get("/api/topics");
    let doc = json_answer(&r, 200);
    assert_eq!(doc.keys(), ["topics", "message"]);
    assert_eq!(
        r.json(),
        serde_json::json!({"topics": ["orders"], "message": ""})
    );

    // GET /api/topics/orders: totals, per-node rows, merged channels.
    let r = c.admin.get("/api/topics/orders");
    let t = json_answer(&r, 200);
    assert_eq!(t.keys(), with_message(&TOPIC_KEYS));
    assert_eq!(
        (
            text(t.get("node")),
            text(t.get("hostname")),
            text(t.get("topic_name"))
        ),
        ("*", "", "orders")
    );
    assert_eq!(text(t.get("message")), "");
    let raw: Vec<serde_json::Value> = (0..2).map(|i| c.topic_on(i, "orders").unwrap()).collect();
    let sum = |k: &str| raw.iter().map(|t| t[k].as_i64().unwrap()).sum::<i64>();
    assert_eq!(num(t.get("message_count")), 5);
    assert_eq!(num(t.get("depth")), sum("depth"));
    assert_eq!(num(t.get("backend_depth")), sum("backend_depth"));
    assert_eq!(
        num(t.get("memory_depth")),
        sum("depth") - sum("backend_depth")
    );
    assert_eq!(t.get("paused"), &Json::Bool(false));
    let rows = t.get("nodes").items();
    assert_eq!(rows.len(), 2, "{}", r.text());
    assert_sorted_by_hostname(rows);
    let mut row_nodes: Vec<&str> = rows.iter().map(|r| text(r.get("node"))).collect();
    row_nodes.sort();
    let mut want_nodes: Vec<&str> = nodes.iter().map(String::as_str).collect();
    want_nodes.sort();
    assert_eq!(
        row_nodes, want_nodes,
        "one row per nsqd, named broadcast:http_port"
    );
    for row in rows {
        assert_eq!(row.keys(), TOPIC_KEYS);
        assert_eq!(row.get("nodes"), &Json::Null);
        let i = nodes
            .iter()
            .position(|n| n == text(row.get("node")))
            .unwrap();
        assert_eq!(num(row.get("message_count")), [3, 2][i]);
        let depth = num(row.get("depth"));
        assert_eq!(
            num(row.get("memory_depth")),
            depth - num(row.get("backend_depth"))
        );
        // Per-node rows keep per-node channels (Go's merge would overwrite them).
        let mut names: Vec<&str> = row
            .get("channels")
            .items()
            .iter()
            .map(|c| text(c.get("channel_name")))
            .collect();
        names.sort();
        assert_eq!(names, [vec!["audit", "tail"], vec!["audit"]][i]);
        for ch in row.get("channels").items() {
            assert_eq!(text(ch.get("node")), nodes[i]);
        }
    }
    let channels = t.get("channels").items();
    let names: Vec<&str> = channels
        .iter()
        .map(|c| text(c.get("channel_name")))
        .collect();
    assert_eq!(names, ["audit", "tail"], "merged by name, first-seen order");
    for ch in channels {
        assert_eq!(ch.keys(), CHANNEL_KEYS);
        assert_eq!(text(ch.get("node")), "*");
    }
    let audit = named(channels, "audit");
    assert_eq!(
        (num(audit.get("depth")), num(audit.get("message_count"))),
        (5, 5)
    );
    assert_eq!(
        num(audit.get("memory_depth")),
        5 - num(audit.get("backend_depth"))
    );
    assert_eq!(audit.get("nodes").items().len(), 2);
    let tail = named(channels, "tail");
    assert_eq!(
        (num(tail.get("depth")), num(tail.get("in_flight_count"))),
        (2, 1)
    );
    assert_eq!(
        (
            num(tail.get("message_count")),
            num(tail.get("client_count"))
        ),
        (3, 1)
    );
    assert_eq!(tail.get("nodes").items().len(), 1);
    let e2e = t.get("e2e_processing_latency");
    assert_eq!(
        e2e.keys(),
        ["count", "percentiles", "topic", "channel", "host"]
    );
    assert_eq!(
        (text(e2e.get("topic")), text(e2e.get("host"))),
        ("orders", "*")
    );

    // GET /api/topics/orders/tail: the channel with its clients.
    let r = c.admin.get("/api/topics/orders/tail");
    let ch = json_answer(&r, 200);
    assert_eq!(ch.keys(), with_message(&CHANNEL_KEYS));
    assert_eq!((text(ch.get("node")), text(ch.get("hostname"))), ("*", ""));
    assert_eq!(
        (text(ch.get("topic_name")), text(ch.get("channel_name"))),
        ("orders", "tail")
    );
    assert_eq!(
        (
            num(ch.get("depth")),
            num(ch.get("in_flight_count")),
            num(ch.get("client_count"))
        ),
        (2, 1, 1)
    );
    let rows = ch.get("nodes").items();
    assert_eq!(rows.len(), 1);
    assert_eq!(text(rows[0].get("node")), nodes[0]);
    assert_eq!(rows[0].get("nodes"), &Json::Null);
    assert_eq!(
        rows[0].get("clients").items().len(),
        1,
        "per-node rows carry their clients"
    );
    let clients = ch.get("clients").items();
    assert_eq!(clients.len(), 1, "{}", r.text());
    let cl = &clients[0];
    assert_eq!(cl.keys(), CLIENT_KEYS, "client keys in Go's order");
    assert_eq!(text(cl.get("node")), nodes[0]);
    assert_eq!(text(cl.get("version")), "V2");
    assert_eq!(text(cl.get("client_id")), "cid-7");
    assert_eq!(text(cl.get("hostname")), "consumer.example");
    assert_eq!(text(cl.get("user_agent")), "admin-test/1.0");
    assert_eq!(
        (num(cl.get("ready_count")), num(cl.get("in_flight_count"))),
        (1, 1)
    );
    let raw_client = &c.channel_on(0, "orders", "tail").unwrap()["clients"][0];
    assert_eq!(
        num(cl.get("connect_ts")),
        raw_client["connect_ts"].as_i64().unwrap()
    );
    let connected = num(cl.get("connected"));
    assert!(
        connected >= 0 && connected % 1_000_000_000 == 0,
        "connected is whole seconds in ns: {connected}"
    );
    assert!(text(cl.get("remote_address")).starts_with("127.0.0.1:"));

    // An unknown channel of a known topic: 200 with only a message.
    let r = c.admin.get("/api/topics/orders/nochan");
    assert_eq!(json_answer(&r, 200).keys(), ["message"]);
    assert_eq!(message(&r), "");

    // GET /api/nodes: producer objects.
    let r = c.admin.get("/api/nodes");
    let doc = json_answer(&r, 200);
    assert_eq!(doc.keys(), ["nodes", "message"]);
    let producers = doc.get("nodes").items();
    assert_eq!(producers.len(), 2, "{}", r.text());
    assert_sorted_by_hostname(producers);
    for p in producers {
        assert_eq!(p.keys(), PRODUCER_KEYS);
        let i = (0..2)
            .find(|&i| num(p.get("http_port")) == i64::from(c.nsqd[i].http.port()))
            .expect("a known nsqd");
        assert_eq!(num(p.get("tcp_port")), i64::from(c.nsqd[i].tcp.port()));
        assert_eq!(text(p.get("broadcast_address")), "127.0.0.1");
        assert_eq!(text(p.get("version")), "1.3.0");
        assert_eq!(p.get("out_of_date"), &Json::Bool(false));
        let remote = text(p.get("remote_address"));
        let remotes: Vec<&str> = p.get("remote_addresses").items().iter().map(text).collect();
        assert_eq!(remotes, [format!("{}/{remote}", c.lookupd.http)]);
        let topics = p.get("topics").items();
        assert_eq!(topics.len(), 1);
        assert_eq!(topics[0].keys(), ["topic", "tombstoned"]);
        assert_eq!(
            (text(topics[0].get("topic")), topics[0].get("tombstoned")),
            ("orders", &Json::Bool(false))
        );
    }

    // GET /api/nodes/:node: every topic of one nsqd with channels and clients.
    let r = c.admin.get(&format!("/api/nodes/{}", nodes[0]));
    let doc = json_answer(&r, 200);
    assert_eq!(
        doc.keys(),
        [
            "node",
            "topics",
            "total_messages",
            "total_clients",
            "message"
        ]
    );
    assert_eq!(text(doc.get("node")), nodes[0]);
    assert_eq!(
        (
            num(doc.get("total_messages")),
            num(doc.get("total_clients"))
        ),
        (3, 1)
    );
    let topics = doc.get("topics").items();
    assert_eq!(topics.len(), 1);
    assert_eq!(topics[0].keys(), TOPIC_KEYS);
    assert_eq!(text(topics[0].get("node")), nodes[0]);
    let tail = named(topics[0].get("channels").items(), "tail");
    assert_eq!(tail.get("clients").items().len(), 1);
    let r = c.admin.get("/api/nodes/127.0.0.1:1");
    assert_error(&r, 404, "NODE_NOT_FOUND");

    // GET /api/counter: every channel's message count per node.
    let r = c.admin.get("/api/counter");
    let doc = json_answer(&r, 200);
    assert_eq!(doc.keys(), ["stats", "message"]);
    let stats = r.json()["stats"].clone();
    let counts = stats.as_object().unwrap();
    assert_eq!(counts.len(), 3, "{stats}");
    for (ch, i, n) in [("audit", 0, 3), ("audit", 1, 2), ("tail", 0, 3)] {
        let key = format!("orders:{ch}:{}", nodes[i]);
        assert_eq!(
            counts[&key],
            serde_json::json!({"node": nodes[i], "topic_name": "orders", "channel_name": ch, "message_count": n}),
            "{key}"
        );
    }
    let first = doc.get("stats").keys()[0].to_string();
    assert_eq!(
        doc.get("stats").get(&first).keys(),
        ["node", "topic_name", "channel_name", "message_count"]
    );

    // paused = any node paused.
    c.nsqd_post(1, "/channel/pause?topic=orders&channel=audit", "");
    c.nsqd_post(0, "/topic/pause?topic=orders", "");
    let r = c.admin.get("/api/topics/orders");
    let t = r.json();
    assert_eq!(t["paused"], true, "{t}");
    let audit = t["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel_name"] == "audit")
        .unwrap();
    assert_eq!(audit["paused"], true, "{audit}");
    let tail = t["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel_name"] == "tail")
        .unwrap();
    assert_eq!(tail["paused"], false, "{tail}");
}

#[test]
fn inactive_topics_are_the_lookupd_topics_without_producers() {
    let c = Cluster::start(&[]);
    c.publish(0, "live", 1);
    c.wait_producers("live", &[0]);
    lookupd_post(&c.lookupd, "/topic/create?topic=lonely");
    lookupd_post(&c.lookupd, "/channel/create?topic=lonely&channel=lc");
    lookupd_post(&c.lookupd, "/channel/create?topic=lonely&channel=la");
    lookupd_post(&c.lookupd, "/topic/create?topic=bare");
    let r = c.admin.get("/api/topics");
    json_answer(&r, 200);
    assert_eq!(
        r.json(),
        serde_json::json!({"topics": ["bare", "live", "lonely"], "message": ""})
    );
    let r = c.admin.get("/api/topics?inactive=true");
    let doc = json_answer(&r, 200);
    assert_eq!(doc.keys(), ["topics", "message"]);
    assert_eq!(
        r.json(),
        serde_json::json!({"topics": {"bare": null, "lonely": ["la", "lc"]}, "message": ""})
    );
    // A topic in lookupd with no producer is an empty topic, not an error page.
    let r = c.admin.get("/api/topics/bare");
    let t = json_answer(&r, 200);
    assert_eq!(t.keys(), with_message(&TOPIC_KEYS));
    assert_eq!(
        (num(t.get("message_count")), t.get("channels")),
        (0, &Json::Null)
    );
}

#[test]
fn config_options_read_and_change_at_runtime() {
    let first = Lookupd::start(&[]);
    let second = Lookupd::start(&[]);
    lookupd_post(&first, "/topic/create?topic=on_first");
    lookupd_post(&second, "/topic/create?topic=on_second");
    let admin = Admin::start(&[format!("--lookupd-http-address={}", first.http)]);
    let get = |opt: &str| {
        let r = admin.get(&format!("/config/{opt}"));
        assert_eq!(r.status, 200, "{opt}: {}", r.text());
        assert_eq!(
            r.header("x-nsq-content-type"),
            Some("nsq; version=1.0"),
            "{opt}"
        );
        r.text()
    };
    assert_eq!(get("log_level"), "2");
    assert_eq!(get("log_prefix"), "[nsqadmin] ");
    let r = admin.get("/config/log_prefix");
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(
        get("nsqlookupd_http_addresses"),
        format!("[\"{}\"]", first.http)
    );
    assert_eq!(get("nsqd_http_addresses"), "[]");
    assert_eq!(get("admin_users"), "[]");
    assert_eq!(get("http_client_request_timeout"), "5000000000");
    assert_eq!(get("http_client_connect_timeout"), "2000000000");
    assert_eq!(get("acl_http_header"), "X-Forwarded-User");
    assert_eq!(get("allow_config_from_cidr"), "127.0.0.1/8");
    for opt in ["logger", "nope", "graphite"] {
        assert_error(&admin.get(&format!("/config/{opt}")), 400, "INVALID_OPTION");
    }

    // PUT log_level.
    let r = admin.call("PUT", "/config/log_level", "debug");
    assert_eq!((r.status, r.text()), (200, "1".to_string()));
    assert_eq!(get("log_level"), "1");
    eventually("a DEBUG line once the level is debug", || {
        admin.get("/api/topics");
        admin.log_text().contains("DEBUG")
    });
    assert_error(
        &admin.call("PUT", "/config/log_level", "loud"),
        400,
        "INVALID_VALUE",
    );
    let r = admin.call("PUT", "/config/log_level", "warn");
    assert_eq!((r.status, r.text()), (200, "3".to_string()));
    assert_error(
        &admin.call("PUT", "/config/log_level", ""),
        413,
        "INVALID_VALUE",
    );
    assert_error(
        &admin.call("PUT", "/config/log_prefix", "x"),
        400,
        "INVALID_OPTION",
    );
    assert_error(
        &admin.call("PUT", "/config/nope", "x"),
        400,
        "INVALID_OPTION",
    );

    // PUT nsqlookupd_http_addresses: the next query asks the new lookupd.
    let r = admin.get("/api/topics");
    assert_eq!(r.json()["topics"], serde_json::json!(["on_first"]));
    assert_error(
        &admin.call("PUT", "/config/nsqlookupd_http_addresses", "not json"),
        400,
        "INVALID_VALUE",
    );
    assert_error(
        &admin.call("PUT", "/config/nsqlookupd_http_addresses", "\"a:1\""),
        400,
        "INVALID_VALUE",
    );
    let list = format!("[\"{}\"]", second.http);
    let r = admin.call("PUT", "/config/nsqlookupd_http_addresses", &list);
    assert_eq!((r.status, r.text()), (200, list.clone()));
    assert_eq!(get("nsqlookupd_http_addresses"), list);
    let r = admin.get("/api/topics");
    assert_eq!(
        r.json()["topics"],
        serde_json::json!(["on_second"]),
        "{}",
        r.text()
    );
    let both = format!("[\"{}\",\"{}\"]", first.http, second.http);
    let r = admin.call("PUT", "/config/nsqlookupd_http_addresses", &both);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = admin.get("/api/topics");
    assert_eq!(
        r.json()["topics"],
        serde_json::json!(["on_first", "on_second"]),
        "{}",
        r.text()
    );
}

#[test]
fn config_is_only_for_the_allowed_cidr_and_routes_live_under_the_base_path() {
    let lookupd = Lookupd::start(&[]);
    let l = format!("--lookupd-http-address={}", lookupd.http);
    let outside = Admin::start(&[l.clone(), "--allow-config-from-cidr=10.0.0.0/8".into()]);
    assert_error(&outside.get("/config/log_level"), 403, "FORBIDDEN");
    assert_error(
        &outside.call("PUT", "/config/log_level", "debug"),
        403,
        "FORBIDDEN",
    );
    let open = Admin::start(&[l.clone(), "--allow-config-from-cidr=".into()]);
    assert_eq!(open.get("/config/log_level").text(), "2");

    let based = Admin::start(&[l, "--base-path=nsq/ui/".into()]);
    let r = based.get("/nsq/ui/ping");
    assert_eq!((r.status, r.text()), (200, "OK".to_string()));
    assert_eq!(based.get("/ping").status, 404);
    assert_eq!(based.get("/api/topics").status, 404);
    let r = based.get("/nsq/ui/api/topics");
    assert_eq!(
        (r.status, r.json()),
        (200, serde_json::json!({"topics": [], "message": ""}))
    );
    let r = based.get("/nsq/ui/");
    assert_eq!((r.status, r.header("location")), (301, Some("/nsq/ui")));
    assert_eq!(based.get("/nsq/ui").status, 200);
    assert_eq!(based.get("/nsq/uix/ping").status, 404);
}

/// The samples of a rate series.
fn samples(admin: &Admin, path: &str) -> Vec<serde_json::Value> {
    let r = admin.get(path);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["samples"].as_array().cloned().unwrap_or_default()
}

#[test]
fn rate_series_show_messages_per_second_once_messages_flow() {
    let c = Cluster::start(&["--sample-interval=1s", "--sample-window=1m"]);
    c.nsqd_post(0, "/topic/create?topic=flow", "");
    c.nsqd_post(0, "/channel/create?topic=flow&channel=fc", "");
    c.publish(1, "flow", 1);
    c.wait_producers("flow", &[0, 1]);

    let r = c.admin.get("/api/rates/topics/flow");
    let doc = json_answer(&r, 200);
    assert_eq!(
        doc.keys(),
        ["topic", "interval", "window", "samples", "message"]
    );
    assert_eq!(r.json()["interval"], 1);
    assert_eq!(r.json()["window"], 60);
    let r = c.admin.get("/api/rates/topics/flow/fc");
    let doc = json_answer(&r, 200);
    assert_eq!(
        doc.keys(),
        ["topic", "channel", "interval", "window", "samples", "message"]
    );
    assert_eq!(text(doc.get("channel")), "fc");
    let r = c.admin.get("/api/rates/topics/never_seen");
    assert_eq!(r.json()["samples"], serde_json::json!([]));

    // Keep publishing (bounded) until a sample with a positive rate appears.
    let positive = |path: &str| {
        samples(&c.admin, path)
            .iter()
            .any(|s| s["rate"].as_f64().is_some_and(|r| r > 0.0))
    };
    let mut n = 0;
    eventually("a positive rate for flow and flow/fc", || {
        n += 1;
        if n % 10 == 0 {
            c.publish(0, "flow", 2);
        }
        positive("/api/rates/topics/flow") && positive("/api/rates/topics/flow/fc")
    });
    let all = samples(&c.admin, "/api/rates/topics/flow");
    for s in &all {
        let keys: Vec<&String> = s.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 5, "{s}");
        for k in [
            "timestamp",
            "message_count",
            "depth",
            "in_flight_count",
            "rate",
        ] {
            assert!(s.get(k).is_some(), "{k} in {s}");
        }
    }
    let stamps: Vec<u64> = all
        .iter()
        .map(|s| s["timestamp"].as_u64().unwrap())
        .collect();
    assert!(
        stamps.windows(2).all(|w| w[0] <= w[1]),
        "oldest first: {stamps:?}"
    );
    let counts: Vec<i64> = all
        .iter()
        .map(|s| s["message_count"].as_i64().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    // The topic series sums both nodes: the latest count covers node 1's message.
    let now: i64 = (0..2)
        .map(|i| {
            c.topic_on(i, "flow").unwrap()["message_count"]
                .as_i64()
                .unwrap()
        })
        .sum();
    let last = *counts.last().unwrap();
    assert!(
        last >= 2 && last <= now,
        "last sampled {last}, nodes now {now}"
    );
}
