//! nsqadmin when things go wrong, black-box: a hung or killed nsqd is a 200 with the
//! other nodes' data and a `WARNING: ` message, all nodes down is 502
//! `UPSTREAM_ERROR: failed to query any ...` (NSQADMIN.md §6.1), and a node missing
//! from a rate sample is no rate spike; an "nsqd" or "lookupd" answering garbage is a
//! warning, never a panic; unknown paths, wrong methods, odd path segments and
//! oversized bodies get httprouter's and Go's answers (§3, §8); 100 concurrent page
//! and API requests are all answered; a start that cannot work is one `FATAL:` line
//! in Go's words with exit 1 (a refused flag: exit 2). Deadlines only turn a hang
//! into a failure.
mod common;

use common::admin::{registered_nsqd, Admin, Cluster, FakeHttp};
use common::{eventually, http, HttpResponse, Lookupd, Nsqd, WAIT};
use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The `message` of a JSON answer.
fn message(r: &HttpResponse) -> String {
    r.json()["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no message in {}", r.text()))
        .to_string()
}

/// Asserts a `{"message": text}` error answer with nsqadmin's headers.
fn assert_error(r: &HttpResponse, status: u16, text: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    let json = Some("application/json; charset=utf-8");
    assert_eq!(r.header("content-type"), json, "{}", r.text());
    assert_eq!(r.header("x-nsq-content-type"), Some("nsq; version=1.0"));
    assert_eq!(
        r.json(),
        serde_json::json!({ "message": text }),
        "{}",
        r.text()
    );
}

/// Asserts a 200 whose message is a warning naming `node`.
fn assert_warning(r: &HttpResponse, node: &str) {
    assert_eq!(r.status, 200, "{}", r.text());
    let m = message(r);
    assert!(m.starts_with("WARNING: "), "{m}");
    assert!(m.contains(node), "{node} not in {m}");
}

/// Asserts a 502 `UPSTREAM_ERROR: failed to query any <kind>: ...`.
fn assert_upstream_error(r: &HttpResponse, kind: &str) {
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(r.header("x-nsq-content-type"), Some("nsq; version=1.0"));
    let m = message(r);
    assert!(
        m.starts_with(&format!("UPSTREAM_ERROR: failed to query any {kind}: ")),
        "{m}"
    );
}

/// The `node` of every per-node row of a topic answer.
fn row_nodes(r: &HttpResponse) -> Vec<String> {
    let json = r.json();
    (json["nodes"].as_array().into_iter().flatten())
        .map(|n| n["node"].as_str().unwrap().to_string())
        .collect()
}

fn assert_pings(admin: &mut Admin) {
    assert!(admin.alive(), "nsqadmin exited: {}", admin.log_text());
    let r = admin.get("/ping");
    assert_eq!((r.status, r.text()), (200, "OK".to_string()));
}

#[test]
fn a_hung_then_killed_node_in_lookupd_mode() {
    let mut c = Cluster::start(&["--http-client-request-timeout=1s"]);
    for i in 0..2 {
        c.publish(i, "orders", 2);
    }
    c.wait_producers("orders", &[0, 1]);
    let (n0, n1) = (c.node(0), c.node(1));

    // Stopped: still registered with lookupd, but it never answers.
    c.nsqd[1].signal("STOP");
    let r = c.admin.get("/api/topics/orders");
    assert_warning(&r, &n1);
    assert_eq!(row_nodes(&r), vec![n0.clone()]);
    assert_eq!(r.json()["message_count"], 2);
    let r = c.admin.get("/api/topics/orders/nochan");
    assert_warning(&r, &n1);
    let r = c.admin.get("/api/counter");
    assert_warning(&r, &n1);
    let r = c
        .admin
        .call("POST", "/api/topics/orders", r#"{"action":"pause"}"#);
    assert_warning(&r, &n1);
    assert_eq!(
        c.topic_on(0, "orders").unwrap()["paused"],
        true,
        "the live node acted"
    );

    // Killed: lookupd drops it; what is left answers without a warning.
    c.nsqd[1].signal("KILL");
    c.nsqd[1].wait_exit();
    c.wait_producers("orders", &[0]);
    let r = c.admin.get("/api/topics/orders");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        (row_nodes(&r), message(&r)),
        (vec![n0.clone()], String::new())
    );

    // lookupd down too: nothing to ask.
    c.lookupd.signal("KILL");
    c.lookupd.wait_exit();
    for path in [
        "/api/topics",
        "/api/topics/orders",
        "/api/nodes",
        "/api/counter",
        "/api/topics?inactive=true",
    ] {
        let r = c.admin.get(path);
        assert_upstream_error(&r, "nsqlookupd");
        assert!(
            message(&r).contains(&c.lookupd.http.to_string()),
            "{}",
            r.text()
        );
    }
    assert_pings(&mut c.admin);
}

/// `(message_count, rate)` of every sample of `topic`'s series, oldest first.
fn series(admin: &Admin, topic: &str) -> Vec<(i64, Option<f64>)> {
    let r = admin.get(&format!("/api/rates/topics/{topic}"));
    assert_eq!(r.status, 200, "{}", r.text());
    let json = r.json();
    (json["samples"].as_array().into_iter().flatten())
        .map(|s| (s["message_count"].as_i64().unwrap(), s["rate"].as_f64()))
        .collect()
}

#[test]
fn a_node_missing_from_one_sample_makes_no_rate_spike() {
    // 1 message on node 0, 20 on node 1, then nothing more is published: once both
    // nodes were sampled, every rate must be 0 — also after node 1 stopped
    // answering for a round or more and came back.
    let c = Cluster::start(&["--sample-interval=1s", "--http-client-request-timeout=1s"]);
    c.publish(0, "steady", 1);
    c.publish(1, "steady", 20);
    c.wait_producers("steady", &[0, 1]);
    eventually("a sample of both nodes", || {
        series(&c.admin, "steady").iter().any(|s| s.0 == 21)
    });
    c.nsqd[1].signal("STOP");
    let after = |s: &[(i64, Option<f64>)], counts: &[i64]| {
        let mut want = counts.iter();
        let mut next = want.next();
        for (count, _) in s {
            if Some(count) == next {
                next = want.next();
            }
        }
        next.is_none()
    };
    eventually("a sample without node 1", || {
        after(&series(&c.admin, "steady"), &[21, 1])
    });
    c.nsqd[1].signal("CONT");
    eventually("node 1 back in a sample", || {
        after(&series(&c.admin, "steady"), &[21, 1, 21])
    });
    let s = series(&c.admin, "steady");
    let first = s.iter().position(|x| x.0 == 21).unwrap();
    for (count, rate) in &s[first + 1..] {
        assert!(
            rate.unwrap_or(0.0) == 0.0,
            "rate {rate:?} at count {count} with nothing published: {s:?}"
        );
    }
}

#[test]
fn a_killed_node_in_nsqd_mode_is_a_warning_then_all_down_is_502() {
    let local = ["--broadcast-address=127.0.0.1"];
    let mut nsqd = [Nsqd::start(&local), Nsqd::start(&local)];
    for n in &nsqd {
        let r = http(n.http, "POST", "/pub?topic=orders", b"m");
        assert_eq!(r.status, 200);
        let r = http(
            n.http,
            "POST",
            "/channel/create?topic=orders&channel=audit",
            b"",
        );
        assert_eq!(r.status, 200);
    }
    let (n0, n1) = (nsqd[0].http.to_string(), nsqd[1].http.to_string());
    let mut admin = Admin::start(&[
        format!("--nsqd-http-address={n0}"),
        format!("--nsqd-http-address={n1}"),
    ]);
    let r = admin.get("/api/nodes");
    assert_eq!(
        (r.status, message(&r)),
        (200, String::new()),
        "{}",
        r.text()
    );
    assert_eq!(r.json()["nodes"].as_array().unwrap().len(), 2);
    let mut both = row_nodes(&admin.get("/api/topics/orders"));
    both.sort();
    let mut want = vec![n0.clone(), n1.clone()];
    want.sort();
    assert_eq!(both, want);

    nsqd[1].signal("KILL");
    nsqd[1].wait_exit();
    let r = admin.get("/api/topics/orders");
    assert_warning(&r, &n1);
    // Go's words: `Get "http://ADDR/...": dial tcp ADDR: connect: connection refused`.
    let refused = format!("dial tcp {n1}: connect: connection refused");
    assert!(message(&r).contains(&refused), "{}", r.text());
    assert_eq!(row_nodes(&r), vec![n0.clone()]);
    let r = admin.get("/api/nodes");
    assert_warning(&r, &n1);
    let nodes = r.json()["nodes"].clone();
    assert_eq!(nodes.as_array().unwrap().len(), 1, "{nodes}");
    assert_eq!(nodes[0]["http_port"], nsqd[0].http.port());
    assert_eq!(nodes[0]["remote_addresses"], serde_json::Value::Null);
    assert_eq!(nodes[0]["remote_address"], "");
    assert_eq!(
        nodes[0]["topics"],
        serde_json::json!([{"topic": "orders", "tombstoned": false}])
    );
    let r = admin.get("/api/topics");
    assert_warning(&r, &n1);
    assert_eq!(r.json()["topics"], serde_json::json!(["orders"]));
    assert_warning(&admin.get("/api/counter"), &n1);
    assert_warning(&admin.get("/api/topics/orders/audit"), &n1);
    let r = admin.get("/api/topics?inactive=true");
    assert_eq!(
        r.json(),
        serde_json::json!({"topics": {}, "message": ""}),
        "nsqd mode has no inactive topics"
    );
    let r = admin.call("POST", "/api/topics/orders/audit", r#"{"action":"pause"}"#);
    assert_warning(&r, &n1);
    let stats = http(nsqd[0].http, "GET", "/stats?format=json&topic=orders", b"").json();
    assert_eq!(stats["topics"][0]["channels"][0]["paused"], true, "{stats}");
    let r = admin.get(&format!("/api/nodes/{n0}"));
    assert_warning(&r, &n1);
    assert_eq!(r.json()["node"], n0.as_str());

    nsqd[0].signal("KILL");
    nsqd[0].wait_exit();
    for path in [
        "/api/nodes",
        "/api/topics",
        "/api/topics/orders",
        "/api/counter",
    ] {
        let r = admin.get(path);
        assert_upstream_error(&r, "nsqd");
        let m = message(&r);
        assert!(m.contains(&n0) && m.contains(&n1), "both named: {m}");
    }
    assert_upstream_error(
        &admin.call("POST", "/api/topics/orders", r#"{"action":"empty"}"#),
        "nsqd",
    );
    assert_pings(&mut admin);
}

#[test]
fn garbage_from_an_nsqd_or_lookupd_is_a_warning_not_a_crash() {
    let garbage = FakeHttp::start(200, "{not json");
    let fake = garbage.addr.to_string();

    // nsqd mode: a real nsqd next to one that answers garbage.
    let nsqd = Nsqd::start(&["--broadcast-address=127.0.0.1"]);
    let r = http(nsqd.http, "POST", "/pub?topic=orders", b"m");
    assert_eq!(r.status, 200);
    let real = nsqd.http.to_string();
    let mut admin = Admin::start(&[
        format!("--nsqd-http-address={real}"),
        format!("--nsqd-http-address={fake}"),
    ]);
    for path in [
        "/api/topics",
        "/api/nodes",
        "/api/topics/orders",
        "/api/counter",
        "/api/topics/orders/x",
    ] {
        let r = admin.get(path);
        assert_warning(&r, &fake);
    }
    assert_eq!(
        admin.get("/api/topics").json()["topics"],
        serde_json::json!(["orders"])
    );
    assert_eq!(
        row_nodes(&admin.get("/api/topics/orders")),
        vec![real.clone()]
    );
    let r = admin.get(&format!("/api/nodes/{fake}"));
    assert_eq!(r.status, 404, "garbage is no node: {}", r.text());
    let seen = garbage.requests();
    assert!(
        seen.iter().any(|s| s.target.starts_with("/stats")),
        "{seen:?}"
    );
    assert_pings(&mut admin);

    // lookupd mode: a real lookupd next to one that answers garbage.
    let lookupd = Lookupd::start(&[]);
    let registered = registered_nsqd(&lookupd);
    let r = http(registered.http, "POST", "/pub?topic=events", b"m");
    assert_eq!(r.status, 200);
    let mut admin2 = Admin::start(&[
        format!("--lookupd-http-address={}", lookupd.http),
        format!("--lookupd-http-address={fake}"),
    ]);
    eventually("events in lookupd", || {
        admin2.get("/api/topics").json()["topics"] == serde_json::json!(["events"])
    });
    for path in [
        "/api/topics",
        "/api/nodes",
        "/api/topics/events",
        "/api/counter",
        "/api/topics?inactive=true",
    ] {
        assert_warning(&admin2.get(path), &fake);
    }
    let r = admin2.get("/api/nodes");
    assert_eq!(
        r.json()["nodes"].as_array().unwrap().len(),
        1,
        "{}",
        r.text()
    );
    assert_pings(&mut admin2);
    assert_pings(&mut admin);
}

#[test]
fn a_hundred_concurrent_requests_are_all_answered() {
    let mut c = Cluster::start(&[]);
    for i in 0..2 {
        c.publish(i, "orders", 1);
    }
    c.wait_producers("orders", &[0, 1]);
    let addr = c.admin.http;
    let paths = [
        "/",
        "/topics/orders",
        "/api/topics",
        "/api/topics/orders",
        "/api/nodes",
        "/nodes",
        "/api/counter",
    ];
    let threads: Vec<_> = (0..100)
        .map(|i| {
            let path = paths[i % paths.len()];
            std::thread::spawn(move || (path, http(addr, "GET", path, b"").status))
        })
        .collect();
    for t in threads {
        let (path, status) = t.join().expect("request thread");
        assert_eq!(status, 200, "{path}");
    }
    assert_pings(&mut c.admin);
    let r = c.admin.get("/api/topics/orders");
    assert_eq!(
        (r.status, row_nodes(&r).len(), message(&r)),
        (200, 2, String::new())
    );
}

#[test]
fn routes_answer_as_go_nsqadmin_does() {
    let lookupd = Lookupd::start(&[]);
    let admin = Admin::start(&[format!("--lookupd-http-address={}", lookupd.http)]);
    let r = admin.get("/ping");
    assert_eq!((r.status, r.text()), (200, "OK".to_string()));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.header("x-nsq-content-type"), Some("nsq; version=1.0"));
    for path in [
        "/nope",
        "/info",
        "/api/nope",
        "/api/topics/a/b/c",
        "/api/nodes/a/b",
        "/config",
    ] {
        assert_error(&admin.get(path), 404, "NOT_FOUND");
    }
    for (method, path, allow) in [
        ("PUT", "/api/topics", "GET, POST, OPTIONS"),
        ("PUT", "/api/topics/t", "DELETE, GET, POST, OPTIONS"),
        ("PATCH", "/api/topics/t/c", "DELETE, GET, POST, OPTIONS"),
        ("POST", "/api/nodes", "GET, OPTIONS"),
        ("POST", "/api/nodes/n:1", "DELETE, GET, OPTIONS"),
        ("DELETE", "/api/counter", "GET, OPTIONS"),
        ("POST", "/config/log_level", "GET, PUT, OPTIONS"),
        ("POST", "/ping", "GET, OPTIONS"),
        ("HEAD", "/ping", "GET, OPTIONS"),
    ] {
        let r = admin.call(method, path, "");
        assert_eq!(r.header("allow"), Some(allow), "{method} {path}");
        if method != "HEAD" {
            assert_error(&r, 405, "METHOD_NOT_ALLOWED");
        } else {
            assert_eq!(r.status, 405);
        }
    }
    let r = admin.call("OPTIONS", "/api/topics", "");
    assert_eq!(
        (r.status, r.header("allow")),
        (200, Some("GET, POST, OPTIONS"))
    );
    for (path, to) in [
        ("/api/topics/", "/api/topics"),
        ("/api/nodes/", "/api/nodes"),
        ("/topics/", "/topics"),
    ] {
        let r = admin.get(path);
        assert_eq!((r.status, r.header("location")), (301, Some(to)), "{path}");
    }
    // Unknown topic: lookupd's 404, in Go's words.
    let r = admin.get("/api/topics/nope");
    assert_error(
        &r,
        502,
        r#"UPSTREAM_ERROR: failed to query any nsqlookupd: got response 404 Not Found "{\"message\":\"TOPIC_NOT_FOUND\"}""#,
    );
    let r = admin.get("/api/topics/nope/c");
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(message(&r).starts_with("UPSTREAM_ERROR: "), "{}", r.text());
    assert_error(
        &admin.get("/api/nodes/127.0.0.1:4151"),
        404,
        "NODE_NOT_FOUND",
    );
    let r = admin.get("/api/nodes");
    assert_eq!(r.header("x-nsq-content-type"), Some("nsq; version=1.0"));
    assert_eq!(r.json(), serde_json::json!({"nodes": [], "message": ""}));
    let r = admin.get("/static/no-such-file.js");
    assert_eq!(r.status, 404);
    for page in [
        "/",
        "/topics",
        "/topics/t",
        "/topics/t/c",
        "/nodes",
        "/nodes/n:1",
        "/counter",
        "/lookup",
    ] {
        let r = admin.get(page);
        assert_eq!(r.status, 200, "{page}");
        assert!(
            r.header("content-type")
                .unwrap_or("")
                .starts_with("text/html"),
            "{page}"
        );
    }
}

#[test]
fn a_config_value_over_one_mib_is_413_invalid_value() {
    // NSQADMIN.md §8: a PUT body that is empty or over 1 MiB is 413 INVALID_VALUE.
    let lookupd = Lookupd::start(&[]);
    let admin = Admin::start(&[format!("--lookupd-http-address={}", lookupd.http)]);
    let list = format!("[\"{}\"]", lookupd.http);
    let exactly = format!("{list}{}", " ".repeat((1 << 20) - list.len()));
    let r = admin.call("PUT", "/config/nsqlookupd_http_addresses", &exactly);
    assert_eq!(r.status, 200, "1 MiB is allowed: {}", r.text());
    let over = format!("{exactly} ");
    assert_error(
        &admin.call("PUT", "/config/nsqlookupd_http_addresses", &over),
        413,
        "INVALID_VALUE",
    );
    assert_error(
        &admin.call("PUT", "/config/log_level", &"d".repeat(2 << 20)),
        413,
        "INVALID_VALUE",
    );
}

#[test]
fn a_path_segment_with_an_ampersand_is_that_whole_name() {
    // `orders&x` is a topic name (an invalid one), never the topic `orders`: Go's
    // router hands the whole segment to the handler, and lookupd does not know it.
    let c = Cluster::start(&[]);
    for i in 0..2 {
        c.nsqd_post(i, "/topic/create?topic=orders", "");
        c.nsqd_post(i, "/channel/create?topic=orders&channel=audit", "");
    }
    c.wait_producers("orders", &[0, 1]);
    let r = c.admin.get("/api/topics/orders&x");
    assert_eq!(r.status, 502, "answered for another topic: {}", r.text());
    let r = c
        .admin
        .call("POST", "/api/topics/orders&x", r#"{"action":"pause"}"#);
    assert_eq!(r.status, 502, "{}", r.text());
    let r = c.admin.call("DELETE", "/api/topics/orders&x/audit", "");
    assert_eq!(r.status, 502, "{}", r.text());
    let r = c.admin.call("DELETE", "/api/topics/orders&x", "");
    assert_eq!(r.status, 502, "{}", r.text());
    for i in 0..2 {
        let t = c
            .topic_on(i, "orders")
            .expect("orders was deleted through orders&x");
        assert_eq!(t["paused"], false, "orders was paused through orders&x");
        assert!(
            c.channel_on(i, "orders", "audit").is_some(),
            "audit was deleted through orders&x"
        );
    }
}

/// Runs nsqadmin with `args` to its end: exit code, stdout, stderr.
fn run(args: &[String]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nsqadmin"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nsqadmin");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break Some(status);
        }
        if Instant::now() >= deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let _ = child.kill();
    let _ = child.wait();
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    let status = status.unwrap_or_else(|| panic!("nsqadmin {args:?} kept running: {err}"));
    (status.code(), out, err)
}

/// Asserts a failed start: exit 1, INFO lines only, then one FATAL line with
/// `failed to instantiate nsqadmin - <reason>` (or `reason` alone for listen).
fn assert_fatal(args: &[String], reason: &str) {
    let (code, _, err) = run(args);
    assert_eq!(code, Some(1), "{args:?}: {err}");
    let lines: Vec<&str> = err.lines().collect();
    let fatal: Vec<&&str> = lines.iter().filter(|l| l.contains("FATAL:")).collect();
    assert_eq!(fatal.len(), 1, "{args:?}: {err}");
    assert!(
        lines.last().unwrap().contains("FATAL:"),
        "FATAL is the last line: {err}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l.contains("INFO:") || l.contains("FATAL:")),
        "{err}"
    );
    assert!(fatal[0].starts_with("[nsqadmin] "), "{err}");
    assert!(
        fatal[0].ends_with(reason),
        "want …{reason}, got {}",
        fatal[0]
    );
}

#[test]
fn start_up_errors_are_one_fatal_line_in_go_words() {
    let l = "--lookupd-http-address=127.0.0.1:4161".to_string();
    let n = "--nsqd-http-address=127.0.0.1:4151".to_string();
    let local = "--http-address=127.0.0.1:0".to_string();
    assert_fatal(
        std::slice::from_ref(&local),
        "FATAL: failed to instantiate nsqadmin - --nsqd-http-address or --lookupd-http-address required",
    );
    assert_fatal(
        &[local.clone(), l.clone(), n],
        "FATAL: failed to instantiate nsqadmin - use --nsqd-http-address or --lookupd-http-address not both",
    );
    assert_fatal(
        &[local.clone(), l.clone(), "--allow-config-from-cidr=bad".into()],
        "FATAL: failed to instantiate nsqadmin - failed to parse --allow-config-from-cidr (bad) - invalid CIDR address: bad",
    );
    assert_fatal(
        &[local, l.clone(), "--http-client-tls-cert=/nonexistent.pem".into()],
        "FATAL: failed to instantiate nsqadmin - --http-client-tls-cert and --http-client-tls-key must be specified together",
    );
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    assert_fatal(
        &[format!("--http-address={addr}"), l.clone()],
        &format!("listen ({addr}) failed - address already in use"),
    );

    // Flags whose effect nsq-rs does not have: refused, exit 2.
    for flag in [
        "--graphite-url=http://x",
        "--proxy-graphite",
        "--statsd-interval=10s",
        "--statsd-prefix=x.%s",
    ] {
        let (code, _, err) = run(&[l.clone(), flag.to_string()]);
        assert_eq!(code, Some(2), "{flag}: {err}");
        assert!(err.contains("not supported"), "{flag}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{flag}: {err}");
    }
    let (code, _, err) = run(&[l, "--no-such-flag".into()]);
    assert_eq!(code, Some(2), "{err}");

    let (code, out, _) = run(&["--version".into()]);
    assert_eq!(code, Some(0));
    assert_eq!(out.trim(), nsq::version_line("nsqadmin"));
    assert!(out.starts_with("nsqadmin v1.3.0 (nsq-rs "), "{out}");
}

#[test]
fn sigterm_stops_nsqadmin_cleanly() {
    let lookupd = Lookupd::start(&[]);
    let mut admin = Admin::start(&[format!("--lookupd-http-address={}", lookupd.http)]);
    assert_pings(&mut admin);
    admin.signal("TERM");
    assert_eq!(admin.wait_exit(), Some(0), "{}", admin.log_text());
    assert!(
        admin
            .log_text()
            .contains(&format!("HTTP: closing {}", admin.http)),
        "{}",
        admin.log_text()
    );
}
