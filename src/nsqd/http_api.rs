//! nsqd's HTTP API: every route of the reference's route table, with nsqd's status
//! codes, messages, content types and the `X-NSQ-Content-Type: nsq; version=1.0`
//! header that go-nsq and nsqadmin key on. Handlers are plain functions over an
//! [`HttpContext`]; a publish wakes the reactor so TCP consumers get it at once.

use super::config_api::{self, ConfigValue, PutError};
use super::durability::Persister;
use super::lookup_peers::LookupPeers;
use super::metrics;
use super::options::Options;
use super::stats::{self, NodeInfo, StatsQuery};
use crate::http::{BadQuery, Request, Response, Router};
use crate::proto::{self, Limits};
use crate::reactor::Wakeup;
use crate::registry::{lock, SharedRegistry};
use crate::registry::{NotFound, Registry};
use std::sync::{Arc, RwLock};
use std::time::Instant;

/// What the HTTP handlers share.
pub struct HttpContext {
    /// nsqd's state.
    pub registry: SharedRegistry,
    /// Wakes the reactor after a publish or a delete.
    pub wakeup: Wakeup,
    /// The options, changeable at runtime through `PUT /config`.
    pub options: Arc<RwLock<Options>>,
    /// Version, start time, e2e percentiles.
    pub node: NodeInfo,
    /// The TCP port actually bound.
    pub tcp_port: u16,
    /// The HTTP port actually bound.
    pub http_port: u16,
    /// The OS hostname.
    pub hostname: String,
    /// Message and body limits.
    pub limits: Limits,
    /// The nsqlookupd peers (`PUT /config/nsqlookupd_tcp_addresses` changes them).
    pub lookup: Arc<LookupPeers>,
    /// Fsyncs and metadata writes owed after a change.
    pub persister: Arc<Persister>,
}

/// After a change: asks the syncer for the disk work owed and wakes the reactor.
fn settle(ctx: &HttpContext) {
    ctx.persister.settle(false);
    ctx.wakeup.wake();
}

/// The answer to a publish: `OK` once stored (and, with `--sync-every=1`, once the
/// group commit that covers it is done: this worker waits, the reactor does not);
/// a disk that refused it is `503 EXITING`, as Go's nsqd answers any failed put.
/// `publish` runs under the registry lock; only a publish that wrote to a disk
/// queue waits (one to an ephemeral topic, or into memory, has nothing to sync).
fn published(
    ctx: &HttpContext,
    publish: impl FnOnce(&mut Registry) -> std::io::Result<()>,
) -> Response {
    let mut registry = lock(&ctx.registry);
    let before = registry.disk_writes();
    let result = publish(&mut registry);
    // Under the lock, so the flush that collects the write covers the ticket.
    let ticket = (ctx.persister).settle(registry.disk_writes() != before);
    drop(registry);
    ctx.wakeup.wake();
    let result = result.and_then(|()| ticket.map_or(Ok(()), |t| ctx.persister.wait(t)));
    match result {
        Ok(()) => ok_text(),
        Err(e) => {
            log::error!("HTTP: publish failed - {e}");
            err(503, "EXITING")
        }
    }
}

/// The `X-NSQ-Content-Type` header of every V1 response.
pub const V1_HEADER: (&str, &str) = ("X-NSQ-Content-Type", "nsq; version=1.0");

/// The plain HTTP listener's router under `--tls-required=true`: every request is
/// answered `403` with Go's exact body (spaces included), naming the HTTPS port.
pub fn tls_required_router(https_port: u16) -> Router {
    let body = format!("{{\"message\": \"TLS_REQUIRED\", \"https_port\": {https_port}}}");
    let mut router = Router::new();
    router.not_found(move |_| v1(Response::json(403, body.clone())));
    router
}

fn v1(resp: Response) -> Response {
    resp.header(V1_HEADER.0, V1_HEADER.1)
}

fn err(status: u16, message: &str) -> Response {
    v1(Response::error(status, message))
}

fn ok_text() -> Response {
    v1(Response::text(200, "OK"))
}

fn ok_empty() -> Response {
    v1(Response::new(200, ""))
}

fn options(ctx: &HttpContext) -> std::sync::RwLockReadGuard<'_, Options> {
    ctx.options.read().unwrap_or_else(|p| p.into_inner())
}

/// Builds the router of every nsqd route.
pub fn router(ctx: Arc<HttpContext>) -> Router {
    let mut r = Router::new();
    r.decorate_errors(v1);
    let c = ctx.clone();
    r.add("GET", "/ping", move |_| ping(&c));
    let c = ctx.clone();
    r.add("GET", "/info", move |_| info(&c));
    let c = ctx.clone();
    r.add("POST", "/pub", move |req| publish(&c, req))
        .limit_body(ctx.limits.max_msg_size as usize, err(413, "MSG_TOO_BIG"))
        .quiet();
    let c = ctx.clone();
    r.add("POST", "/mpub", move |req| multi_publish(&c, req))
        .limit_body(ctx.limits.max_body_size as usize, err(413, "BODY_TOO_BIG"))
        .quiet();
    let c = ctx.clone();
    r.add("GET", "/stats", move |req| stats_route(&c, req));
    let c = ctx.clone();
    r.add("GET", "/metrics", move |_| metrics_route(&c));
    type Action = fn(&HttpContext, &Request) -> Response;
    let actions: [(&'static str, Action); 10] = [
        ("/topic/create", topic_create),
        ("/topic/delete", topic_delete),
        ("/topic/empty", topic_empty),
        ("/topic/pause", |c, r| topic_pause(c, r, true)),
        ("/topic/unpause", |c, r| topic_pause(c, r, false)),
        ("/channel/create", channel_create),
        ("/channel/delete", channel_delete),
        ("/channel/empty", channel_empty),
        ("/channel/pause", |c, r| channel_pause(c, r, true)),
        ("/channel/unpause", |c, r| channel_pause(c, r, false)),
    ];
    for (path, action) in actions {
        let c = ctx.clone();
        r.add("POST", path, move |req| action(&c, req));
    }
    let c = ctx.clone();
    r.add("GET", "/config/:opt", move |req| config_get(&c, req));
    let c = ctx.clone();
    r.add("PUT", "/config/:opt", move |req| config_put(&c, req))
        .limit_body(ctx.limits.max_msg_size as usize, err(413, "INVALID_VALUE"));
    r.add("PUT", "/debug/setblockrate", |req| {
        match req
            .query_param("rate")
            .ok()
            .flatten()
            .map(|r| r.parse::<i64>())
        {
            Some(Ok(_)) => Response::new(200, ""),
            _ => Response::text(400, "invalid block rate"),
        }
    });
    r.add("POST", "/debug/freememory", |_| Response::new(200, ""));
    r
}

/// `/info`, keys in nsqd's order.
#[derive(serde::Serialize)]
struct Info<'a> {
    version: &'a str,
    broadcast_address: &'a str,
    hostname: &'a str,
    http_port: u16,
    tcp_port: u16,
    start_time: i64,
    max_heartbeat_interval: u64,
    max_output_buffer_size: u64,
    max_output_buffer_timeout: u64,
    max_deflate_level: u8,
    topology_zone: &'a str,
    topology_region: &'a str,
    /// Beyond Go's /info: the configured lookupd peers and whether each is connected.
    lookupd_peers: Vec<PeerJson>,
}

#[derive(serde::Serialize)]
struct PeerJson {
    address: String,
    connected: bool,
}

fn info(ctx: &HttpContext) -> Response {
    let o = options(ctx);
    let info = Info {
        version: crate::NSQ_VERSION,
        broadcast_address: &o.broadcast_address,
        hostname: &ctx.hostname,
        http_port: ctx.http_port,
        tcp_port: ctx.tcp_port,
        start_time: ctx.node.start_time,
        max_heartbeat_interval: o.max_heartbeat_interval.as_nanos() as u64,
        max_output_buffer_size: o.max_output_buffer_size,
        max_output_buffer_timeout: o.max_output_buffer_timeout.as_nanos() as u64,
        max_deflate_level: o.max_deflate_level,
        topology_zone: "",
        topology_region: "",
        lookupd_peers: ctx
            .lookup
            .status()
            .into_iter()
            .map(|p| PeerJson {
                address: p.address,
                connected: p.connected,
            })
            .collect(),
    };
    match serde_json::to_string(&info) {
        Ok(body) => v1(Response::json(200, body)),
        Err(_) => err(500, "INTERNAL_ERROR"),
    }
}

/// The query's `topic`, validated; nsqd's errors otherwise.
fn topic_param(req: &Request) -> Result<(Vec<(String, String)>, String), Response> {
    let pairs = req
        .query_pairs()
        .map_err(|BadQuery| err(400, "INVALID_REQUEST"))?;
    let topic = first(&pairs, "topic").ok_or_else(|| err(400, "MISSING_ARG_TOPIC"))?;
    if !proto::is_valid_name(topic.as_bytes()) {
        return Err(err(400, "INVALID_TOPIC"));
    }
    Ok((pairs.clone(), topic.to_string()))
}

fn first<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn publish(ctx: &HttpContext, req: &Request) -> Response {
    if req.body.len() as u64 > ctx.limits.max_msg_size {
        return err(413, "MSG_TOO_BIG");
    }
    if req.body.is_empty() {
        return err(400, "MSG_EMPTY");
    }
    let (pairs, topic) = match topic_param(req) {
        Ok(t) => t,
        Err(resp) => return resp,
    };
    // nsqd creates the topic before it looks at `defer`.
    ctx.lookup.create_topic(&topic);
    let defer_ms = match first(&pairs, "defer") {
        None => 0,
        Some(d) => match d.parse::<i64>() {
            Ok(ms) if ms >= 0 && ms as u64 <= ctx.limits.max_req_timeout_ms => ms as u64,
            _ => return err(400, "INVALID_DEFER"),
        },
    };
    published(ctx, |r| {
        r.publish(&topic, [req.body.as_slice()], defer_ms, Instant::now())
    })
}

fn multi_publish(ctx: &HttpContext, req: &Request) -> Response {
    if req.body.len() as u64 > ctx.limits.max_body_size {
        return err(413, "BODY_TOO_BIG");
    }
    let (pairs, topic) = match topic_param(req) {
        Ok(t) => t,
        Err(resp) => return resp,
    };
    ctx.lookup.create_topic(&topic);
    let binary = match first(&pairs, "binary") {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(other) => {
            log::warn!("deprecated value '{other}' used for /mpub binary param");
            true
        }
    };
    let bodies: Vec<&[u8]> = if binary {
        match proto::parse_mpub_records(&req.body, &ctx.limits) {
            Ok(records) => records.collect(),
            Err(e) => return err(413, e.code.trim_start_matches("E_")),
        }
    } else {
        let mut lines = Vec::new();
        for line in req.body.split(|&b| b == b'\n') {
            if line.is_empty() {
                continue;
            }
            if line.len() as u64 > ctx.limits.max_msg_size {
                return err(413, "MSG_TOO_BIG");
            }
            lines.push(line);
        }
        lines
    };
    if bodies.is_empty() {
        return ok_text();
    }
    published(ctx, |r| r.publish(&topic, bodies, 0, Instant::now()))
}

/// `OK`, or `500 NOK - <error>` while the most recent disk write or fsync failed.
fn ping(ctx: &HttpContext) -> Response {
    match lock(&ctx.registry).disk_error() {
        None => Response::text(200, "OK"),
        Some(e) => Response::text(500, format!("NOK - {e}")),
    }
}

fn stats_route(ctx: &HttpContext, req: &Request) -> Response {
    let pairs = match req.query_pairs() {
        Ok(p) => p,
        Err(BadQuery) => return err(400, "INVALID_REQUEST"),
    };
    let query = StatsQuery::from_pairs(&pairs);
    let mut snapshot = stats::collect(&mut lock(&ctx.registry), &query, &ctx.node, Instant::now());
    snapshot.lookupd_peers = ctx
        .lookup
        .status()
        .into_iter()
        .map(|p| (p.address, p.connected))
        .collect();
    if query.json {
        v1(Response::json(200, stats::to_json(&snapshot)))
    } else {
        v1(Response::text(200, stats::to_text(&snapshot)))
    }
}

fn metrics_route(ctx: &HttpContext) -> Response {
    let query = StatsQuery::from_pairs(&[]);
    let snapshot = stats::collect(&mut lock(&ctx.registry), &query, &ctx.node, Instant::now());
    let (commits, queue_syncs) = ctx.persister.counters();
    let sync = metrics::SyncCounters {
        commits,
        queue_syncs,
    };
    Response::new(200, metrics::prometheus(&snapshot, sync))
        .header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
}

fn not_found(e: NotFound) -> Response {
    match e {
        NotFound::Topic => err(404, "TOPIC_NOT_FOUND"),
        NotFound::Channel => err(404, "CHANNEL_NOT_FOUND"),
    }
}

fn done(result: Result<(), NotFound>, ctx: &HttpContext) -> Response {
    match result {
        Ok(()) => {
            settle(ctx); // not a publish: a failure is reported by /ping
            ok_empty()
        }
        Err(e) => not_found(e),
    }
}

fn topic_create(ctx: &HttpContext, req: &Request) -> Response {
    match topic_param(req) {
        Ok((_, topic)) => {
            ctx.lookup.create_topic(&topic);
            settle(ctx); // not a publish: a failure is reported by /ping
            ok_empty()
        }
        Err(resp) => resp,
    }
}

/// The `topic` of an action on an existing topic (not validated, as in nsqd).
fn existing_topic_param(req: &Request) -> Result<String, Response> {
    let pairs = req
        .query_pairs()
        .map_err(|BadQuery| err(400, "INVALID_REQUEST"))?;
    first(&pairs, "topic")
        .map(str::to_string)
        .ok_or_else(|| err(400, "MISSING_ARG_TOPIC"))
}

fn topic_delete(ctx: &HttpContext, req: &Request) -> Response {
    match existing_topic_param(req) {
        Ok(topic) => {
            let result = lock(&ctx.registry).delete_topic(&topic);
            done(result, ctx)
        }
        Err(resp) => resp,
    }
}

fn topic_empty(ctx: &HttpContext, req: &Request) -> Response {
    match topic_param(req) {
        Ok((_, topic)) => {
            let result = lock(&ctx.registry).empty_topic(&topic);
            done(result, ctx)
        }
        Err(resp) => resp,
    }
}

fn topic_pause(ctx: &HttpContext, req: &Request, paused: bool) -> Response {
    match existing_topic_param(req) {
        Ok(topic) => {
            let result = lock(&ctx.registry).set_topic_paused(&topic, paused, Instant::now());
            done(result, ctx)
        }
        Err(resp) => resp,
    }
}

/// `topic` and `channel` of a channel action, validated; the topic must exist.
fn channel_params(ctx: &HttpContext, req: &Request) -> Result<(String, String), Response> {
    let pairs = req
        .query_pairs()
        .map_err(|BadQuery| err(400, "INVALID_REQUEST"))?;
    let topic = first(&pairs, "topic").ok_or_else(|| err(400, "MISSING_ARG_TOPIC"))?;
    if !proto::is_valid_name(topic.as_bytes()) {
        return Err(err(400, "INVALID_ARG_TOPIC"));
    }
    let channel = first(&pairs, "channel").ok_or_else(|| err(400, "MISSING_ARG_CHANNEL"))?;
    if !proto::is_valid_name(channel.as_bytes()) {
        return Err(err(400, "INVALID_ARG_CHANNEL"));
    }
    if !lock(&ctx.registry).topics.contains_key(topic) {
        return Err(err(404, "TOPIC_NOT_FOUND"));
    }
    Ok((topic.to_string(), channel.to_string()))
}

fn channel_create(ctx: &HttpContext, req: &Request) -> Response {
    match channel_params(ctx, req) {
        Ok((topic, channel)) => {
            lock(&ctx.registry).channel(&topic, &channel, Instant::now());
            settle(ctx); // not a publish: a failure is reported by /ping
            ok_empty()
        }
        Err(resp) => resp,
    }
}

fn channel_delete(ctx: &HttpContext, req: &Request) -> Response {
    match channel_params(ctx, req) {
        Ok((t, c)) => {
            let result = lock(&ctx.registry).delete_channel(&t, &c);
            done(result, ctx)
        }
        Err(resp) => resp,
    }
}

fn channel_empty(ctx: &HttpContext, req: &Request) -> Response {
    match channel_params(ctx, req) {
        Ok((t, c)) => {
            let result = lock(&ctx.registry).empty_channel(&t, &c);
            done(result, ctx)
        }
        Err(resp) => resp,
    }
}

fn channel_pause(ctx: &HttpContext, req: &Request, paused: bool) -> Response {
    match channel_params(ctx, req) {
        Ok((t, c)) => {
            let result = lock(&ctx.registry).set_channel_paused(&t, &c, paused);
            done(result, ctx)
        }
        Err(resp) => resp,
    }
}

fn config_response(value: Option<ConfigValue>) -> Response {
    match value {
        Some(ConfigValue::Text(s)) => v1(Response::text(200, s)),
        Some(ConfigValue::Json(v)) => v1(Response::json(200, v.to_string())),
        None => err(400, "INVALID_OPTION"),
    }
}

fn config_get(ctx: &HttpContext, req: &Request) -> Response {
    let name = req.path_param.as_deref().unwrap_or("");
    config_response(config_api::get(&options(ctx), name))
}

fn config_put(ctx: &HttpContext, req: &Request) -> Response {
    if req.body.is_empty() || req.body.len() as u64 > ctx.limits.max_msg_size {
        return err(413, "INVALID_VALUE");
    }
    let name = req.path_param.as_deref().unwrap_or("");
    let mut o = ctx.options.write().unwrap_or_else(|p| p.into_inner());
    match config_api::put(&mut o, name, &req.body) {
        Ok(()) => {
            if name == "nsqlookupd_tcp_addresses" {
                let addresses = o.lookupd_tcp_addresses.clone();
                drop(o);
                ctx.lookup.set_addresses(&addresses);
                return config_response(config_api::get(&options(ctx), name));
            }
            if name == "log_level" {
                if let Some(level) = crate::logging::parse_level(&o.log_level) {
                    log::set_max_level(level);
                }
            }
            config_response(config_api::get(&o, name))
        }
        Err(PutError::InvalidOption) => err(400, "INVALID_OPTION"),
        Err(PutError::InvalidValue) => err(400, "INVALID_VALUE"),
    }
}
