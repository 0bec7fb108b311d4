//! nsqadmin's write API, black-box against a real cluster (nsqlookupd + two nsqd +
//! nsqadmin in lookupd mode): each action reaches every nsqd that holds the topic and
//! lookupd where Go's does (NSQADMIN.md §6.3), bad bodies are refused with Go's
//! messages and change nothing, `--admin-user` guards every write (§9), and the
//! `--notification-http-endpoint` webhook gets Go's JSON body (§11) — and an endpoint
//! that is down costs nothing (Go's nsqadmin crashes there).
mod common;

use common::admin::{
    closed_addr, lookupd_json, lookupd_producer_ports, Admin, Cluster, FakeHttp, Json,
};
use common::{eventually, http, HttpResponse, Lookupd};

/// The `message` of a JSON answer.
fn message(r: &HttpResponse) -> String {
    r.json()["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no message in {}", r.text()))
        .to_string()
}

/// Asserts a 200 `{"message":""}`.
fn assert_done(r: &HttpResponse) {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-nsq-content-type"), Some("nsq; version=1.0"));
    assert_eq!(r.json(), serde_json::json!({"message": ""}), "{}", r.text());
}

/// Asserts a `{"message": text}` error answer.
fn assert_error(r: &HttpResponse, status: u16, text: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.header("x-nsq-content-type"), Some("nsq; version=1.0"));
    assert_eq!(
        r.json(),
        serde_json::json!({ "message": text }),
        "{}",
        r.text()
    );
}

/// `topics` of lookupd's `/topics`.
fn lookupd_topics(lookupd: &Lookupd) -> Vec<String> {
    serde_json::from_value(lookupd_json(lookupd, "/topics")["topics"].clone()).unwrap()
}

/// `channels` of lookupd's `/channels?topic=`.
fn lookupd_channels(lookupd: &Lookupd, topic: &str) -> Vec<String> {
    let r = http(
        lookupd.http,
        "GET",
        &format!("/channels?topic={topic}"),
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    serde_json::from_value(r.json()["channels"].clone()).unwrap()
}

/// `orders` with channel `audit` on both nsqd, 3 + 2 messages.
fn orders(c: &Cluster) {
    for i in 0..2 {
        c.nsqd_post(i, "/topic/create?topic=orders", "");
        c.nsqd_post(i, "/channel/create?topic=orders&channel=audit", "");
    }
    c.publish(0, "orders", 3);
    c.publish(1, "orders", 2);
    c.wait_producers("orders", &[0, 1]);
}

fn field(v: &Option<serde_json::Value>, key: &str) -> serde_json::Value {
    v.as_ref()
        .map_or(serde_json::Value::Null, |v| v[key].clone())
}

#[test]
fn topic_and_channel_actions_reach_every_node() {
    let c = Cluster::start(&[]);
    orders(&c);
    // A second topic whose messages stay at the topic (no channel).
    c.publish(0, "queue", 4);
    c.publish(1, "queue", 1);
    c.wait_producers("queue", &[0, 1]);
    let topic = |i, t| c.topic_on(i, t);
    let audit = |i| c.channel_on(i, "orders", "audit");

    // Topic pause / unpause.
    assert_done(
        &c.admin
            .call("POST", "/api/topics/orders", r#"{"action":"pause"}"#),
    );
    for i in 0..2 {
        assert_eq!(field(&topic(i, "orders"), "paused"), true, "nsqd {i}");
    }
    assert_eq!(c.admin.get("/api/topics/orders").json()["paused"], true);
    assert_done(
        &c.admin
            .call("POST", "/api/topics/orders", r#"{"action":"unpause"}"#),
    );
    for i in 0..2 {
        assert_eq!(field(&topic(i, "orders"), "paused"), false, "nsqd {i}");
    }

    // Topic empty: the topic's own queue, on both.
    assert_eq!(
        (
            field(&topic(0, "queue"), "depth"),
            field(&topic(1, "queue"), "depth")
        ),
        (4.into(), 1.into())
    );
    assert_done(
        &c.admin
            .call("POST", "/api/topics/queue", r#"{"action":"empty"}"#),
    );
    for i in 0..2 {
        assert_eq!(field(&topic(i, "queue"), "depth"), 0, "nsqd {i}");
    }
    assert_eq!(c.admin.get("/api/topics/queue").json()["depth"], 0);

    // Channel pause / unpause / empty.
    assert_done(
        &c.admin
            .call("POST", "/api/topics/orders/audit", r#"{"action":"pause"}"#),
    );
    for i in 0..2 {
        assert_eq!(field(&audit(i), "paused"), true, "nsqd {i}");
    }
    assert_done(&c.admin.call(
        "POST",
        "/api/topics/orders/audit",
        r#"{"action":"unpause"}"#,
    ));
    for i in 0..2 {
        assert_eq!(field(&audit(i), "paused"), false, "nsqd {i}");
    }
    assert_eq!(
        (field(&audit(0), "depth"), field(&audit(1), "depth")),
        (3.into(), 2.into())
    );
    assert_done(
        &c.admin
            .call("POST", "/api/topics/orders/audit", r#"{"action":"empty"}"#),
    );
    for i in 0..2 {
        assert_eq!(field(&audit(i), "depth"), 0, "nsqd {i}");
    }

    // Deleting a channel nobody has: 200, one 404 warning per node asked.
    let r = c.admin.call("DELETE", "/api/topics/orders/nochan", "");
    assert_eq!(r.status, 200, "{}", r.text());
    let m = message(&r);
    assert!(m.starts_with("WARNING: "), "{m}");
    assert_eq!(
        m.matches("CHANNEL_NOT_FOUND").count(),
        3,
        "lookupd and both nsqd: {m}"
    );

    // Delete a channel: gone from both nsqd and from lookupd.
    assert!(lookupd_channels(&c.lookupd, "orders").contains(&"audit".to_string()));
    assert_done(&c.admin.call("DELETE", "/api/topics/orders/audit", ""));
    for i in 0..2 {
        assert!(audit(i).is_none(), "nsqd {i} still has audit");
        assert!(topic(i, "orders").is_some(), "nsqd {i} lost the topic");
    }
    eventually("lookupd to drop orders/audit", || {
        !lookupd_channels(&c.lookupd, "orders").contains(&"audit".to_string())
    });

    // Delete a topic: gone from both nsqd and from lookupd.
    assert_done(&c.admin.call("DELETE", "/api/topics/orders", ""));
    for i in 0..2 {
        assert!(topic(i, "orders").is_none(), "nsqd {i} still has orders");
        assert!(topic(i, "queue").is_some(), "nsqd {i} lost queue");
    }
    eventually("lookupd to drop orders", || {
        !lookupd_topics(&c.lookupd).contains(&"orders".to_string())
    });
    let r = c.admin.get("/api/topics");
    assert_eq!(
        r.json()["topics"],
        serde_json::json!(["queue"]),
        "{}",
        r.text()
    );
}

#[test]
fn an_action_on_a_channel_one_node_lacks_is_a_warning() {
    let c = Cluster::start(&[]);
    orders(&c);
    c.nsqd_post(0, "/channel/create?topic=orders&channel=only0", "");
    let r = c
        .admin
        .call("POST", "/api/topics/orders/only0", r#"{"action":"pause"}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    let m = message(&r);
    assert!(m.starts_with("WARNING: got response 404 Not Found "), "{m}");
    assert!(m.contains("CHANNEL_NOT_FOUND"), "{m}");
    assert_eq!(m.matches("got response").count(), 1, "one node failed: {m}");
    assert_eq!(field(&c.channel_on(0, "orders", "only0"), "paused"), true);
}

#[test]
fn create_goes_through_lookupd_and_tombstone_deletes_on_the_node() {
    let c = Cluster::start(&[]);
    // A new topic and channel: lookupd has both, no nsqd is asked for the topic.
    assert_done(
        &c.admin
            .call("POST", "/api/topics", r#"{"topic":"fresh","channel":"fc"}"#),
    );
    assert!(lookupd_topics(&c.lookupd).contains(&"fresh".to_string()));
    assert_eq!(lookupd_channels(&c.lookupd, "fresh"), ["fc"]);
    assert!(c.topic_on(0, "fresh").is_none() && c.topic_on(1, "fresh").is_none());
    assert_done(&c.admin.call("POST", "/api/topics", r#"{"topic":"solo"}"#));
    assert!(lookupd_topics(&c.lookupd).contains(&"solo".to_string()));
    assert!(lookupd_channels(&c.lookupd, "solo").is_empty());

    // A channel of a topic an nsqd holds: that nsqd gets the channel too.
    orders(&c);
    assert_done(&c.admin.call(
        "POST",
        "/api/topics",
        r#"{"topic":"orders","channel":"added"}"#,
    ));
    assert!(lookupd_channels(&c.lookupd, "orders").contains(&"added".to_string()));
    for i in 0..2 {
        assert!(
            c.channel_on(i, "orders", "added").is_some(),
            "nsqd {i} lacks the new channel"
        );
    }

    // Tombstone orders on node 1: lookupd stops listing it, node 1 deletes it.
    let node1 = c.node(1);
    let r = c.admin.call(
        "DELETE",
        &format!("/api/nodes/{node1}"),
        r#"{"topic":"orders"}"#,
    );
    assert_done(&r);
    assert!(c.topic_on(1, "orders").is_none(), "node 1 still has orders");
    assert!(c.topic_on(0, "orders").is_some(), "node 0 lost orders");
    let ports = lookupd_producer_ports(&c.lookupd, "orders");
    assert_eq!(ports, [c.nsqd[0].http.port()], "lookupd still lists node 1");
    let r = c.admin.get("/api/topics/orders");
    let nodes: Vec<serde_json::Value> = r.json()["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["node"].clone())
        .collect();
    assert_eq!(nodes, [serde_json::json!(c.node(0))], "{}", r.text());

    // Tombstoning on a node that does not answer: lookupd succeeds, /info fails.
    let dead = closed_addr();
    let r = c.admin.call(
        "DELETE",
        &format!("/api/nodes/{dead}"),
        r#"{"topic":"orders"}"#,
    );
    assert_eq!(r.status, 502, "{}", r.text());
    let m = message(&r);
    assert!(
        m.starts_with(&format!(
            "UPSTREAM_ERROR: failed to query any nsqd: Get \"http://{dead}/info\": "
        )),
        "{m}"
    );
}

#[test]
fn bad_bodies_are_refused_and_change_nothing() {
    let c = Cluster::start(&[]);
    orders(&c);
    let a = &c.admin;
    assert_error(
        &a.call("POST", "/api/topics", r#"{"topic":"a b"}"#),
        400,
        "INVALID_TOPIC",
    );
    assert_error(
        &a.call("POST", "/api/topics", r#"{"channel":"c"}"#),
        400,
        "INVALID_TOPIC",
    );
    assert_error(
        &a.call(
            "POST",
            "/api/topics",
            &format!(r#"{{"topic":"{}"}}"#, "x".repeat(65)),
        ),
        400,
        "INVALID_TOPIC",
    );
    assert_error(
        &a.call("POST", "/api/topics", r#"{"topic":"ok","channel":"c!"}"#),
        400,
        "INVALID_CHANNEL",
    );
    assert_error(&a.call("POST", "/api/topics", ""), 400, "EOF");
    assert_error(&a.call("POST", "/api/topics/orders", ""), 400, "EOF");
    assert_error(
        &a.call("POST", "/api/topics/orders/audit", "  \n"),
        400,
        "EOF",
    );
    for body in [
        r#"{"action":"explode"}"#,
        r#"{"action":""}"#,
        "{}",
        r#"{"action":"PAUSE"}"#,
    ] {
        assert_error(
            &a.call("POST", "/api/topics/orders", body),
            400,
            "INVALID_ACTION",
        );
        assert_error(
            &a.call("POST", "/api/topics/orders/audit", body),
            400,
            "INVALID_ACTION",
        );
    }
    for body in ["{bad", "[1,2]", r#"{"action":5}"#, "\u{0}"] {
        for path in [
            "/api/topics",
            "/api/topics/orders",
            "/api/topics/orders/audit",
        ] {
            let r = a.call("POST", path, body);
            assert_eq!(r.status, 400, "{path} {body:?}: {}", r.text());
            let m = message(&r);
            assert!(!m.is_empty() && m != "EOF", "{path} {body:?}: {m}");
        }
    }
    let node = c.node(0);
    let tomb = format!("/api/nodes/{node}");
    assert_error(&a.call("DELETE", &tomb, ""), 400, "INVALID_BODY");
    assert_error(&a.call("DELETE", &tomb, "{bad"), 400, "INVALID_BODY");
    assert_error(
        &a.call("DELETE", &tomb, r#"{"topic":"a b"}"#),
        400,
        "INVALID_TOPIC",
    );
    // Nothing happened.
    for i in 0..2 {
        let t = c.topic_on(i, "orders").expect("orders still there");
        assert_eq!(t["paused"], false);
        assert_eq!(c.channel_on(i, "orders", "audit").unwrap()["paused"], false);
    }
    assert_eq!(lookupd_producer_ports(&c.lookupd, "orders").len(), 2);
    let topics = lookupd_topics(&c.lookupd);
    assert!(!topics.contains(&"ok".to_string()), "{topics:?}");
}

#[test]
fn a_tombstone_body_without_a_topic_is_an_invalid_topic_as_in_go() {
    // Go decodes `{}` fine and then finds the empty topic name invalid; only a body
    // that does not decode is INVALID_BODY.
    let c = Cluster::start(&[]);
    let tomb = format!("/api/nodes/{}", c.node(0));
    assert_error(&c.admin.call("DELETE", &tomb, "{}"), 400, "INVALID_TOPIC");
    assert_error(
        &c.admin.call("DELETE", &tomb, r#"{"topic":""}"#),
        400,
        "INVALID_TOPIC",
    );
}

#[test]
fn bad_json_is_named_in_go_decoder_words() {
    let lookupd = Lookupd::start(&[]);
    let admin = Admin::start(&[format!("--lookupd-http-address={}", lookupd.http)]);
    let r = admin.call("POST", "/api/topics", "{bad");
    assert_error(
        &r,
        400,
        "invalid character 'b' looking for beginning of object key string",
    );
}

#[test]
fn only_admin_users_may_act() {
    let c = Cluster::start(&["--admin-user=alice", "--admin-user=carol"]);
    orders(&c);
    let a = &c.admin;
    let create = r#"{"topic":"guarded"}"#;
    let nobody: &[(&str, &str)] = &[];
    let bob = &[("X-Forwarded-User", "bob")][..];
    let alice = &[("X-Forwarded-User", "alice")][..];
    for who in [nobody, bob] {
        assert_error(
            &a.call_with("POST", "/api/topics", who, create),
            403,
            "FORBIDDEN",
        );
        // The check comes before the body is read.
        assert_error(
            &a.call_with("POST", "/api/topics", who, "{bad"),
            403,
            "FORBIDDEN",
        );
        assert_error(
            &a.call_with("POST", "/api/topics/orders", who, r#"{"action":"pause"}"#),
            403,
            "FORBIDDEN",
        );
        assert_error(
            &a.call_with(
                "POST",
                "/api/topics/orders/audit",
                who,
                r#"{"action":"empty"}"#,
            ),
            403,
            "FORBIDDEN",
        );
        assert_error(
            &a.call_with("DELETE", "/api/topics/orders", who, ""),
            403,
            "FORBIDDEN",
        );
        assert_error(
            &a.call_with("DELETE", "/api/topics/orders/audit", who, ""),
            403,
            "FORBIDDEN",
        );
        let tomb = format!("/api/nodes/{}", c.node(0));
        assert_error(
            &a.call_with("DELETE", &tomb, who, r#"{"topic":"orders"}"#),
            403,
            "FORBIDDEN",
        );
    }
    assert!(!lookupd_topics(&c.lookupd).contains(&"guarded".to_string()));
    for i in 0..2 {
        let t = c.topic_on(i, "orders").expect("orders still there");
        assert_eq!(t["paused"], false);
        assert_eq!(
            c.channel_on(i, "orders", "audit").unwrap()["depth"],
            [3, 2][i]
        );
    }
    // Reads are not checked.
    assert_eq!(a.get("/api/topics").status, 200);
    assert_eq!(a.get("/api/nodes").status, 200);
    // Listed users act.
    assert_done(&a.call_with("POST", "/api/topics", alice, create));
    assert!(lookupd_topics(&c.lookupd).contains(&"guarded".to_string()));
    assert_done(&a.call_with("POST", "/api/topics/orders", alice, r#"{"action":"pause"}"#));
    assert_eq!(field(&c.topic_on(1, "orders"), "paused"), true);
    let carol = &[("X-Forwarded-User", "carol")][..];
    assert_done(&a.call_with("DELETE", "/api/topics/orders", carol, ""));
    assert!(c.topic_on(0, "orders").is_none());
}

/// The webhook body of `seen` with its keys in order.
fn hook_body(seen: &common::admin::Seen) -> Json {
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.header("content-type"), Some("application/json"));
    Json::parse(&seen.text())
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn the_webhook_gets_go_json_for_each_action() {
    let hook = FakeHttp::start(200, "");
    let endpoint = format!("--notification-http-endpoint=http://{}/", hook.addr);
    let c = Cluster::start(&[&endpoint]);
    orders(&c);
    let host = c.admin.http.to_string();
    // `via` is nsqadmin's host name, the same host nsqd reports in /info.
    let info = http(c.nsqd[0].http, "GET", "/info", b"").json();
    let via = info["hostname"]
        .as_str()
        .expect("nsqd hostname")
        .to_string();
    let basic = [
        ("Host", host.as_str()),
        ("User-Agent", "hook-test/1.0"),
        ("Authorization", "Basic YWxpY2U6c2VjcmV0"),
    ];
    let plain = [("Host", host.as_str()), ("User-Agent", "plain/2")];
    let before = unix_now();

    let a = &c.admin;
    assert_done(&a.call_with(
        "POST",
        "/api/topics",
        &basic,
        r#"{"topic":"hooked","channel":"hc"}"#,
    ));
    // Refused requests are never notified.
    assert_eq!(
        a.call_with("POST", "/api/topics/orders", &basic, r#"{"action":"nope"}"#)
            .status,
        400
    );
    assert_eq!(
        a.call_with("POST", "/api/topics", &basic, r#"{"topic":"b d"}"#)
            .status,
        400
    );
    assert_done(&a.call_with(
        "POST",
        "/api/topics/orders",
        &plain,
        r#"{"action":"pause"}"#,
    ));
    assert_done(&a.call_with(
        "POST",
        "/api/topics/orders/audit",
        &plain,
        r#"{"action":"empty"}"#,
    ));
    assert_done(&a.call_with("DELETE", "/api/topics/orders/audit", &plain, ""));
    let node = c.node(1);
    assert_done(&a.call_with(
        "DELETE",
        &format!("/api/nodes/{node}"),
        &basic,
        r#"{"topic":"orders"}"#,
    ));
    assert_done(&a.call_with("DELETE", "/api/topics/orders", &basic, ""));

    let got = hook.wait_for(7);
    let after = unix_now();
    let url = |path: &str| format!("http://{host}{path}");
    let want: [(&str, &str, &str, &str, bool, String, &str); 7] = [
        (
            "create_topic",
            "hooked",
            "",
            "",
            true,
            url("/api/topics"),
            "hook-test/1.0",
        ),
        (
            "create_channel",
            "hooked",
            "hc",
            "",
            true,
            url("/api/topics"),
            "hook-test/1.0",
        ),
        (
            "pause_topic",
            "orders",
            "",
            "",
            false,
            url("/api/topics/orders"),
            "plain/2",
        ),
        (
            "empty_channel",
            "orders",
            "audit",
            "",
            false,
            url("/api/topics/orders/audit"),
            "plain/2",
        ),
        (
            "delete_channel",
            "orders",
            "audit",
            "",
            false,
            url("/api/topics/orders/audit"),
            "plain/2",
        ),
        (
            "tombstone_topic_producer",
            "orders",
            "",
            &node,
            true,
            url(&format!("/api/nodes/{node}")),
            "hook-test/1.0",
        ),
        (
            "delete_topic",
            "orders",
            "",
            "",
            true,
            url("/api/topics/orders"),
            "hook-test/1.0",
        ),
    ];
    for (seen, (action, topic, channel, node, user, url, agent)) in got.iter().zip(want) {
        let body = hook_body(seen);
        let mut keys = vec!["action", "topic"];
        keys.extend((!channel.is_empty()).then_some("channel"));
        keys.extend((!node.is_empty()).then_some("node"));
        keys.push("timestamp");
        keys.extend(user.then_some("user"));
        keys.extend(["remote_ip", "user_agent", "url", "via"]);
        assert_eq!(body.keys(), keys, "{}", seen.text());
        let s = |k: &str| match body.get(k) {
            Json::Str(s) => s.clone(),
            other => panic!("{k} is {other:?} in {}", seen.text()),
        };
        assert_eq!(
            (s("action"), s("topic")),
            (action.to_string(), topic.to_string())
        );
        if !channel.is_empty() {
            assert_eq!(s("channel"), channel);
        }
        if !node.is_empty() {
            assert_eq!(s("node"), node);
        }
        if user {
            assert_eq!(s("user"), "alice");
        }
        assert_eq!(
            (s("url"), s("user_agent"), s("via")),
            (url, agent.to_string(), via.clone())
        );
        let remote: std::net::SocketAddr = s("remote_ip").parse().expect("remote_ip is ip:port");
        assert_eq!(remote.ip().to_string(), "127.0.0.1");
        let Json::Num(ts) = body.get("timestamp") else {
            panic!("timestamp in {}", seen.text())
        };
        assert!(
            (before as f64..=after as f64).contains(ts),
            "timestamp {ts} not in {before}..={after}"
        );
    }
    assert_eq!(hook.requests().len(), 7, "nothing else was notified");
}

#[test]
fn an_endpoint_that_is_down_fails_no_action() {
    let endpoint = format!("--notification-http-endpoint=http://{}/", closed_addr());
    let mut c = Cluster::start(&[&endpoint]);
    orders(&c);
    assert_done(
        &c.admin
            .call("POST", "/api/topics", r#"{"topic":"t1","channel":"c1"}"#),
    );
    assert_done(
        &c.admin
            .call("POST", "/api/topics/orders", r#"{"action":"pause"}"#),
    );
    let failures = |c: &Cluster| {
        c.admin
            .log_text()
            .matches("failed to POST notification")
            .count()
    };
    eventually("the failed notifications to be logged", || {
        failures(&c) >= 3
    });
    assert!(c.admin.alive(), "nsqadmin exited: {}", c.admin.log_text());
    let r = c.admin.get("/ping");
    assert_eq!((r.status, r.text()), (200, "OK".to_string()));
    // The sender keeps going after failures.
    assert_done(
        &c.admin
            .call("POST", "/api/topics/orders", r#"{"action":"unpause"}"#),
    );
    assert_eq!(field(&c.topic_on(0, "orders"), "paused"), false);
    eventually("the next failure to be logged", || failures(&c) >= 4);
    assert!(c.admin.alive(), "nsqadmin exited: {}", c.admin.log_text());
}
