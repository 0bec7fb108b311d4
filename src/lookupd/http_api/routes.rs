//! Every nsqlookupd route: the router and its handlers, plain functions over an
//! [`HttpContext`] and the registration `Db`. Activity and tombstones are judged at
//! request time; the DB lock is held for one DB call at a time.

use super::reply::{err, ok_empty, ok_json, params, required, topic_channel, v1, with_topic};
use super::shapes::{
    debug_key, debug_producer, Channels, DebugProducer, Lookup, NodeView, Nodes, Topics,
};
use crate::http::{Request, Response, Router};
use crate::lookupd::db::{Db, PeerInfo};
use crate::proto;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What the HTTP handlers share.
pub struct HttpContext {
    /// The registration database, shared with the V1 TCP handler.
    pub db: Arc<Mutex<Db>>,
    /// A producer silent for longer than this is left out of `/lookup` and `/nodes`.
    pub inactive_producer_timeout: Duration,
    /// How long `/topic/tombstone` hides a producer for a topic.
    pub tombstone_lifetime: Duration,
}

pub(super) fn lock(db: &Mutex<Db>) -> MutexGuard<'_, Db> {
    db.lock().unwrap_or_else(|p| p.into_inner())
}

fn unix_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// Builds the router of every nsqlookupd route.
pub fn router(ctx: Arc<HttpContext>) -> Router {
    let mut r = Router::new();
    r.decorate_errors(v1);
    r.add("GET", "/ping", |_| Response::text(200, "OK"));
    r.add("GET", "/info", |_| {
        ok_json(&serde_json::json!({ "version": crate::NSQ_VERSION }))
    });
    type Route = fn(&HttpContext, &Request) -> Response;
    let routes: [(&'static str, &'static str, Route); 10] = [
        ("GET", "/debug", debug),
        ("GET", "/lookup", lookup),
        ("GET", "/topics", topics),
        ("GET", "/channels", channels),
        ("GET", "/nodes", nodes),
        ("POST", "/topic/create", topic_create),
        ("POST", "/topic/delete", topic_delete),
        ("POST", "/channel/create", channel_create),
        ("POST", "/channel/delete", channel_delete),
        ("POST", "/topic/tombstone", topic_tombstone),
    ];
    for (method, path, route) in routes {
        let c = ctx.clone();
        r.add(method, path, move |req| route(&c, req));
    }
    r
}

fn topics(ctx: &HttpContext, _req: &Request) -> Response {
    let topics = lock(&ctx.db).topics();
    ok_json(&Topics { topics })
}

fn channels(ctx: &HttpContext, req: &Request) -> Response {
    with_topic(req, |topic| {
        let channels = lock(&ctx.db).channels(topic);
        ok_json(&Channels { channels })
    })
}

fn lookup(ctx: &HttpContext, req: &Request) -> Response {
    with_topic(req, |topic| {
        let found = lock(&ctx.db).lookup(
            topic,
            Instant::now(),
            ctx.inactive_producer_timeout,
            ctx.tombstone_lifetime,
        );
        match found {
            Some((channels, producers)) => ok_json(&Lookup {
                channels,
                producers: producers.iter().map(PeerInfo::view).collect(),
            }),
            None => err(404, "TOPIC_NOT_FOUND"),
        }
    })
}

fn nodes(ctx: &HttpContext, _req: &Request) -> Response {
    let nodes = lock(&ctx.db).nodes(
        Instant::now(),
        ctx.inactive_producer_timeout,
        ctx.tombstone_lifetime,
    );
    let producers = nodes
        .into_iter()
        .map(|n| NodeView {
            remote_address: n.peer.remote_address,
            hostname: n.peer.hostname,
            broadcast_address: n.peer.broadcast_address,
            tcp_port: n.peer.tcp_port,
            http_port: n.peer.http_port,
            version: n.peer.version,
            topology_zone: n.peer.topology_zone,
            topology_region: n.peer.topology_region,
            tombstones: n.tombstones,
            topics: n.topics,
        })
        .collect();
    ok_json(&Nodes { producers })
}

fn debug(ctx: &HttpContext, _req: &Request) -> Response {
    let dump = lock(&ctx.db).dump();
    let data: BTreeMap<String, Vec<DebugProducer>> = dump
        .into_iter()
        .map(|(key, producers)| {
            let list = producers.into_iter().map(debug_producer).collect();
            (debug_key(&key), list)
        })
        .collect();
    ok_json(&data)
}

fn topic_create(ctx: &HttpContext, req: &Request) -> Response {
    with_topic(req, |topic| {
        if !proto::is_valid_name(topic.as_bytes()) {
            return err(400, "INVALID_ARG_TOPIC");
        }
        log::info!("DB: adding topic({topic})");
        lock(&ctx.db).add_key(topic, None);
        ok_empty()
    })
}

fn topic_delete(ctx: &HttpContext, req: &Request) -> Response {
    with_topic(req, |topic| {
        log::info!("DB: removing topic({topic}) and its channels");
        lock(&ctx.db).delete_topic(topic);
        ok_empty()
    })
}

fn channel_create(ctx: &HttpContext, req: &Request) -> Response {
    match topic_channel(req) {
        Ok((topic, channel)) => {
            log::info!("DB: adding channel({channel}) in topic({topic})");
            lock(&ctx.db).add_key(&topic, Some(&channel));
            ok_empty()
        }
        Err(resp) => resp,
    }
}

fn channel_delete(ctx: &HttpContext, req: &Request) -> Response {
    match topic_channel(req) {
        Ok((topic, channel)) => {
            if !lock(&ctx.db).delete_channel(&topic, &channel) {
                return err(404, "CHANNEL_NOT_FOUND");
            }
            log::info!("DB: removing channel({channel}) from topic({topic})");
            ok_empty()
        }
        Err(resp) => resp,
    }
}

fn topic_tombstone(ctx: &HttpContext, req: &Request) -> Response {
    let pairs = match params(req) {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let args = required(&pairs, "topic", "MISSING_ARG_TOPIC")
        .and_then(|t| Ok((t, required(&pairs, "node", "MISSING_ARG_NODE")?)));
    match args {
        Ok((topic, node)) => {
            log::info!("DB: setting tombstone for producer@{node} of topic({topic})");
            lock(&ctx.db).tombstone(topic, node, Instant::now(), unix_nanos());
            ok_empty()
        }
        Err(resp) => resp,
    }
}
