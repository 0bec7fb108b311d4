//! Unit tests of the nsqlookupd routes, through the router without a socket.

use super::*;
use crate::http::{Request, Response, Router};
use crate::lookupd::db::{Db, PeerInfo};
use routes::lock;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const HOUR: Duration = Duration::from_secs(3600);

fn ctx_with(timeout: Duration, lifetime: Duration) -> (Router, Arc<Mutex<Db>>) {
    let db = Arc::new(Mutex::new(Db::new()));
    let ctx = Arc::new(HttpContext {
        db: db.clone(),
        inactive_producer_timeout: timeout,
        tombstone_lifetime: lifetime,
    });
    (router(ctx), db)
}

fn ctx() -> (Router, Arc<Mutex<Db>>) {
    ctx_with(HOUR, HOUR)
}

fn peer(id: &str, http_port: u16) -> PeerInfo {
    PeerInfo {
        id: id.into(),
        remote_address: id.into(),
        hostname: "h".into(),
        broadcast_address: "127.0.0.1".into(),
        tcp_port: http_port - 1,
        http_port,
        version: "1.3.0".into(),
        topology_zone: String::new(),
        topology_region: String::new(),
        last_update: Instant::now(),
        last_update_unix_ns: 1_700_000_000_000_000_000,
    }
}

fn call(r: &Router, method: &str, target: &str) -> Response {
    r.handle(&Request::new(method, target, b""))
}

fn json_of(resp: &Response) -> Value {
    serde_json::from_slice(&resp.body).expect("JSON body")
}

fn body(resp: &Response) -> String {
    String::from_utf8_lossy(&resp.body).into_owned()
}

fn assert_err(resp: Response, status: u16, message: &str) {
    assert_eq!(resp.status, status, "{}", body(&resp));
    assert_eq!(body(&resp), format!("{{\"message\":\"{message}\"}}"));
    assert_eq!(resp.get_header("X-NSQ-Content-Type"), Some(V1_HEADER.1));
    assert_eq!(resp.get_header("Content-Type"), Some(crate::http::JSON));
}

fn assert_empty_ok(resp: Response) {
    assert_eq!(resp.status, 200, "{}", body(&resp));
    assert!(resp.body.is_empty());
    assert_eq!(resp.get_header("Content-Type"), None);
    assert_eq!(resp.get_header("X-NSQ-Content-Type"), Some(V1_HEADER.1));
}

#[test]
fn ping_info_and_router_errors() {
    let (r, _) = ctx();
    let ping = call(&r, "GET", "/ping");
    assert_eq!((ping.status, body(&ping)), (200, "OK".into()));
    assert_eq!(ping.get_header("X-NSQ-Content-Type"), None);
    assert_eq!(ping.get_header("Content-Type"), Some(crate::http::TEXT));
    let info = call(&r, "GET", "/info");
    assert_eq!(body(&info), r#"{"version":"1.3.0"}"#);
    assert_eq!(info.get_header("X-NSQ-Content-Type"), Some(V1_HEADER.1));
    assert_err(call(&r, "GET", "/nope"), 404, "NOT_FOUND");
    let wrong = call(&r, "GET", "/topic/create?topic=t");
    assert_eq!(wrong.get_header("Allow"), Some("OPTIONS, POST"));
    assert_err(wrong, 405, "METHOD_NOT_ALLOWED");
    assert_err(call(&r, "POST", "/topics"), 405, "METHOD_NOT_ALLOWED");
    // Pre-1.0 aliases are gone.
    assert_err(call(&r, "GET", "/create_topic?topic=t"), 404, "NOT_FOUND");
    assert_err(call(&r, "GET", "/debug/pprof"), 404, "NOT_FOUND");
}

#[test]
fn empty_lists_are_arrays() {
    let (r, _) = ctx();
    assert_eq!(body(&call(&r, "GET", "/topics")), r#"{"topics":[]}"#);
    assert_eq!(
        body(&call(&r, "GET", "/channels?topic=t")),
        r#"{"channels":[]}"#
    );
    assert_eq!(body(&call(&r, "GET", "/nodes")), r#"{"producers":[]}"#);
    assert_eq!(body(&call(&r, "GET", "/debug")), "{}");
    r.handle(&Request::new("POST", "/topic/create?topic=t", b""));
    assert_eq!(
        body(&call(&r, "GET", "/lookup?topic=t")),
        r#"{"channels":[],"producers":[]}"#
    );
}

#[test]
fn parameter_errors() {
    let (r, _) = ctx();
    for (m, path) in [
        ("GET", "/channels"),
        ("GET", "/lookup"),
        ("POST", "/topic/create"),
        ("POST", "/topic/delete"),
        ("POST", "/channel/create?channel=c"),
        ("POST", "/channel/delete"),
        ("POST", "/topic/tombstone?node=a:1"),
    ] {
        assert_err(call(&r, m, path), 400, "MISSING_ARG_TOPIC");
    }
    for (m, path) in [
        ("POST", "/topic/create?topic=a*b"),
        ("POST", "/topic/create?topic="),
        ("POST", "/channel/create?topic=a%20b&channel=c"),
        ("POST", "/channel/delete?topic=&channel=c"),
    ] {
        assert_err(call(&r, m, path), 400, "INVALID_ARG_TOPIC");
    }
    assert_err(
        call(&r, "POST", "/channel/create?topic=t"),
        400,
        "MISSING_ARG_CHANNEL",
    );
    assert_err(
        call(&r, "POST", "/channel/delete?topic=t&channel=c!"),
        400,
        "INVALID_ARG_CHANNEL",
    );
    assert_err(
        call(&r, "POST", "/topic/tombstone?topic=t"),
        400,
        "MISSING_ARG_NODE",
    );
    for (m, path) in [
        ("GET", "/channels?topic=%zz"),
        ("GET", "/lookup?topic=t;x"),
        ("POST", "/topic/create?topic=%"),
        ("POST", "/topic/delete?topic=%g0"),
        ("POST", "/channel/create?topic=t&channel=%"),
        ("POST", "/channel/delete?topic=t&channel=%"),
        ("POST", "/topic/tombstone?topic=t&node=%"),
    ] {
        assert_err(call(&r, m, path), 400, "INVALID_REQUEST");
    }
    assert_err(call(&r, "GET", "/lookup?topic=t"), 404, "TOPIC_NOT_FOUND");
    assert_err(
        call(&r, "POST", "/channel/delete?topic=t&channel=c"),
        404,
        "CHANNEL_NOT_FOUND",
    );
}

#[test]
fn create_and_delete_keys() {
    let (r, _) = ctx();
    assert_empty_ok(call(&r, "POST", "/topic/create?topic=t1"));
    assert_empty_ok(call(
        &r,
        "POST",
        "/channel/create?topic=t2&channel=c%23ephemeral",
    ));
    assert_empty_ok(call(&r, "POST", "/channel/create?topic=t2&channel=d"));
    let topics = json_of(&call(&r, "GET", "/topics"));
    let mut names: Vec<&str> = topics["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["t1", "t2"]);
    assert_eq!(
        json_of(&call(&r, "GET", "/channels?topic=t2")),
        json!({"channels": ["c#ephemeral", "d"]})
    );
    assert_eq!(
        json_of(&call(&r, "GET", "/lookup?topic=t2")),
        json!({"channels": ["c#ephemeral", "d"], "producers": []})
    );
    assert_empty_ok(call(&r, "POST", "/channel/delete?topic=t2&channel=d"));
    assert_eq!(
        json_of(&call(&r, "GET", "/channels?topic=t2")),
        json!({"channels": ["c#ephemeral"]})
    );
    assert_empty_ok(call(&r, "POST", "/topic/delete?topic=t2"));
    // Unknown topics and unvalidated names are fine to delete.
    assert_empty_ok(call(&r, "POST", "/topic/delete?topic=nope"));
    assert_empty_ok(call(&r, "POST", "/topic/delete?topic=a*b"));
    assert_eq!(
        json_of(&call(&r, "GET", "/topics")),
        json!({"topics": ["t1"]})
    );
    assert_eq!(
        json_of(&call(&r, "GET", "/channels?topic=t2")),
        json!({"channels": []})
    );
    assert_err(call(&r, "GET", "/lookup?topic=t2"), 404, "TOPIC_NOT_FOUND");
}

#[test]
fn lookup_and_nodes_show_producers_in_nsqlookupd_shape() {
    let (r, db) = ctx();
    {
        let mut db = lock(&db);
        db.add_peer(peer("127.0.0.1:5000", 4151));
        db.register("127.0.0.1:5000", "t", Some("c"));
        db.register("127.0.0.1:5000", "u", None);
    }
    let resp = call(&r, "GET", "/lookup?topic=t");
    assert_eq!(resp.get_header("Content-Type"), Some(crate::http::JSON));
    assert_eq!(resp.get_header("X-NSQ-Content-Type"), Some(V1_HEADER.1));
    assert_eq!(
        body(&resp),
        concat!(
            r#"{"channels":["c"],"producers":[{"remote_address":"127.0.0.1:5000","#,
            r#""hostname":"h","broadcast_address":"127.0.0.1","tcp_port":4150,"#,
            r#""http_port":4151,"version":"1.3.0","topology_zone":"","topology_region":""}]}"#
        )
    );
    assert_eq!(
        body(&call(&r, "GET", "/nodes")),
        concat!(
            r#"{"producers":[{"remote_address":"127.0.0.1:5000","#,
            r#""hostname":"h","broadcast_address":"127.0.0.1","tcp_port":4150,"#,
            r#""http_port":4151,"version":"1.3.0","topology_zone":"","topology_region":"","#,
            r#""tombstones":[false,false],"topics":["t","u"]}]}"#
        )
    );
}

#[test]
fn tombstone_hides_from_lookup_and_flags_nodes() {
    let (r, db) = ctx();
    {
        let mut db = lock(&db);
        db.add_peer(peer("127.0.0.1:5000", 4151));
        db.add_peer(peer("127.0.0.1:5001", 5151));
        for id in ["127.0.0.1:5000", "127.0.0.1:5001"] {
            db.register(id, "a", None);
            db.register(id, "t", None);
        }
    }
    // Unknown node or topic: silently fine.
    assert_empty_ok(call(&r, "POST", "/topic/tombstone?topic=t&node=x:1"));
    assert_empty_ok(call(
        &r,
        "POST",
        "/topic/tombstone?topic=zz&node=127.0.0.1:4151",
    ));
    assert_empty_ok(call(
        &r,
        "POST",
        "/topic/tombstone?topic=t&node=127.0.0.1:4151",
    ));
    let lookup = json_of(&call(&r, "GET", "/lookup?topic=t"));
    let producers = lookup["producers"].as_array().unwrap();
    assert_eq!(producers.len(), 1);
    assert_eq!(producers[0]["http_port"], 5151);
    let a = json_of(&call(&r, "GET", "/lookup?topic=a"));
    assert_eq!(a["producers"].as_array().unwrap().len(), 2);
    let nodes = json_of(&call(&r, "GET", "/nodes"));
    for node in nodes["producers"].as_array().unwrap() {
        let topics = node["topics"].as_array().unwrap();
        let tombstones = node["tombstones"].as_array().unwrap();
        assert_eq!(topics.len(), tombstones.len());
        for (t, ts) in topics.iter().zip(tombstones) {
            let expect = node["http_port"] == 4151 && t == "t";
            assert_eq!(ts.as_bool(), Some(expect), "{node}");
        }
    }
}

#[test]
fn expired_tombstones_and_inactive_producers() {
    // Two views of one db: one that keeps producers active for an hour, one that
    // drops them after 50 ms of silence.
    let (r, db) = ctx_with(HOUR, Duration::ZERO);
    let quick = router(Arc::new(HttpContext {
        db: db.clone(),
        inactive_producer_timeout: Duration::from_millis(50),
        tombstone_lifetime: Duration::ZERO,
    }));
    {
        let mut db = lock(&db);
        db.add_peer(peer("127.0.0.1:5000", 4151));
        db.register("127.0.0.1:5000", "t", None);
    }
    call(&r, "POST", "/topic/tombstone?topic=t&node=127.0.0.1:4151");
    // A zero lifetime means the tombstone is already over.
    let lookup = json_of(&call(&r, "GET", "/lookup?topic=t"));
    assert_eq!(lookup["producers"].as_array().unwrap().len(), 1);
    assert_eq!(
        json_of(&call(&r, "GET", "/nodes"))["producers"][0]["tombstones"],
        json!([false])
    );
    // Once silent for longer than 50 ms, the producer is left out. Judged at request
    // time, so wait for it (the deadline only turns a hang into a failure).
    let deadline = Instant::now() + Duration::from_secs(30);
    while body(&call(&quick, "GET", "/nodes")) != r#"{"producers":[]}"# {
        assert!(
            Instant::now() < deadline,
            "the producer never went inactive"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        body(&call(&quick, "GET", "/lookup?topic=t")),
        r#"{"channels":[],"producers":[]}"#
    );
    // The same producer, judged with the hour-long timeout, is still there.
    let lookup = json_of(&call(&r, "GET", "/lookup?topic=t"));
    assert_eq!(lookup["producers"].as_array().unwrap().len(), 1);
}

#[test]
fn debug_dumps_registrations_like_go() {
    let (r, db) = ctx();
    {
        let mut db = lock(&db);
        db.add_peer(peer("127.0.0.1:5000", 4151));
        db.register("127.0.0.1:5000", "t", Some("c"));
        db.add_key("empty", None);
    }
    call(&r, "POST", "/topic/tombstone?topic=t&node=127.0.0.1:4151");
    let resp = call(&r, "GET", "/debug");
    assert_eq!(resp.get_header("X-NSQ-Content-Type"), Some(V1_HEADER.1));
    let text = body(&resp);
    let untombstoned = concat!(
        r#"[{"broadcast_address":"127.0.0.1","hostname":"h","http_port":4151,"#,
        r#""id":"127.0.0.1:5000","last_update":1700000000000000000,"tcp_port":4150,"#,
        r#""tombstoned":false,"tombstoned_at":-6795364578871345152,"#,
        r#""topology_region":"","topology_zone":"","version":"1.3.0"}]"#
    );
    assert!(
        text.starts_with(&format!(
            r#"{{"channel:t:c":{untombstoned},"client::":{untombstoned},"topic:t:":[{{"#
        )),
        "{text}"
    );
    let v = json_of(&resp);
    assert_eq!(v.as_object().unwrap().len(), 3, "{text}");
    let topic = &v["topic:t:"][0];
    assert_eq!(topic["tombstoned"], true);
    assert!(topic["tombstoned_at"].as_i64().unwrap() > 1_600_000_000_000_000_000);
}
