//! [`to_json`]: the `format=json` body of `GET /stats`, byte-compatible with nsqd's
//! (same keys in the same order, same `null`-versus-`[]` rules). Rendering only: the
//! snapshot is already copied (reading `/proc` for the memory section is the only I/O).
//!
//! Why not `#[derive(Serialize)]` like the rest of the crate: it was tried (wire structs
//! in nsqd's key order, `skip_serializing_if` for the omitted keys, same bytes) and
//! measured with `cargo bench --bench micro -- stats_json` on 10,000 topics of one
//! channel: serde 4.45 ms fastest / 4.83 ms median, this writer 1.94 ms / 2.00 ms, on
//! the same 2-core machine. `/stats` is polled by nsqadmin and nsq_stat every few
//! seconds on nodes with many topics, so the writer stays, small and pinned byte for
//! byte by `stats::tests`.

use super::snapshot::{ChannelStats, ClientStats, E2eStats, Snapshot, TopicStats};
use crate::common::json::{push_json_f64, push_json_str};
use std::fmt::Write as _;

struct Obj<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Obj<'a> {
    fn new(out: &'a mut String) -> Obj<'a> {
        out.push('{');
        Obj { out, first: true }
    }
    fn key(&mut self, k: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push('"');
        self.out.push_str(k);
        self.out.push_str("\":");
        self.out
    }
    fn num(&mut self, k: &str, v: impl std::fmt::Display) {
        let out = self.key(k);
        let _ = write!(out, "{v}");
    }
    fn str(&mut self, k: &str, v: &str) {
        push_json_str(self.key(k), v);
    }
    fn bool(&mut self, k: &str, v: bool) {
        self.key(k).push_str(if v { "true" } else { "false" });
    }
    fn end(self) {
        self.out.push('}');
    }
}

fn push_list<T>(out: &mut String, items: Option<&[T]>, mut each: impl FnMut(&mut String, &T)) {
    let Some(items) = items else {
        out.push_str("null");
        return;
    };
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(out, item);
    }
    out.push(']');
}

fn push_e2e(out: &mut String, e2e: &E2eStats) {
    let mut o = Obj::new(out);
    o.num("count", e2e.count);
    push_list(
        o.key("percentiles"),
        e2e.percentiles.as_deref(),
        |out, &(q, v)| {
            out.push_str("{\"quantile\":");
            push_json_f64(out, q);
            out.push_str(",\"value\":");
            push_json_f64(out, v);
            out.push('}');
        },
    );
    o.end();
}

fn push_client(out: &mut String, c: &ClientStats) {
    let mut o = Obj::new(out);
    o.str("client_id", &c.client_id);
    o.str("hostname", &c.hostname);
    o.str("version", "V2");
    o.str("remote_address", &c.remote_address);
    o.num("state", c.state);
    o.num("ready_count", c.ready_count);
    o.num("in_flight_count", c.in_flight_count);
    o.num("message_count", c.message_count);
    o.num("finish_count", c.finish_count);
    o.num("requeue_count", c.requeue_count);
    o.num("connect_ts", c.connect_ts);
    o.num("sample_rate", c.sample_rate);
    o.bool("deflate", c.compression == "deflate");
    o.bool("snappy", c.compression == "snappy");
    o.str("user_agent", &c.user_agent);
    if let Some((identity, url)) = &c.auth_identity {
        o.bool("authed", true);
        if !identity.is_empty() {
            o.str("auth_identity", identity);
        }
        if !url.is_empty() {
            o.str("auth_identity_url", url);
        }
    }
    o.str("topology_zone", "");
    o.str("topology_region", "");
    if !c.pub_counts.is_empty() {
        push_list(
            o.key("pub_counts"),
            Some(&c.pub_counts[..]),
            |out, (t, n)| {
                let mut p = Obj::new(out);
                p.str("topic", t);
                p.num("count", n);
                p.end();
            },
        );
    }
    let tls = c.tls.as_ref();
    o.bool("tls", tls.is_some());
    o.str("tls_cipher_suite", tls.map_or("", |t| &t.cipher_suite));
    o.str("tls_version", tls.map_or("", |t| &t.version));
    o.str(
        "tls_negotiated_protocol",
        tls.map_or("", |t| &t.negotiated_protocol),
    );
    // Go: NegotiatedProtocolIsMutual is deprecated and always true on a TLS connection.
    o.bool("tls_negotiated_protocol_is_mutual", tls.is_some());
    o.end();
}

fn push_channel(out: &mut String, c: &ChannelStats) {
    let mut o = Obj::new(out);
    o.str("channel_name", &c.name);
    o.num("depth", c.depth);
    o.num("backend_depth", c.backend_depth);
    o.num("in_flight_count", c.in_flight_count);
    o.num("deferred_count", c.deferred_count);
    o.num("message_count", c.message_count);
    o.num("requeue_count", c.requeue_count);
    o.num("timeout_count", c.timeout_count);
    o.num("client_count", c.client_count);
    push_list(o.key("clients"), c.clients.as_deref(), push_client);
    o.bool("paused", c.paused);
    push_e2e(o.key("e2e_processing_latency"), &c.e2e);
    o.end();
}

fn push_topic(out: &mut String, t: &TopicStats) {
    let mut o = Obj::new(out);
    o.str("topic_name", &t.name);
    push_list(o.key("channels"), Some(&t.channels[..]), push_channel);
    o.num("depth", t.depth);
    o.num("backend_depth", t.backend_depth);
    o.num("message_count", t.message_count);
    o.num("message_bytes", t.message_bytes);
    o.bool("paused", t.paused);
    push_e2e(o.key("e2e_processing_latency"), &t.e2e);
    o.end();
}

/// The `format=json` body, byte-compatible with nsqd's (compact, no trailing newline).
pub fn to_json(snapshot: &Snapshot) -> String {
    let mut out = String::with_capacity(1024);
    let mut o = Obj::new(&mut out);
    o.str("version", &snapshot.version);
    o.str("health", &snapshot.health);
    o.num("start_time", snapshot.start_time);
    push_list(o.key("topics"), snapshot.topics.as_deref(), push_topic);
    if let Some(mem) = snapshot.memory_stats() {
        let mut m = Obj::new(o.key("memory"));
        for (k, v) in mem.fields() {
            m.num(k, v);
        }
        m.end();
    }
    push_list(
        o.key("producers"),
        snapshot.producers.as_deref(),
        push_client,
    );
    let peers = o.key("lookupd_peers");
    peers.push('[');
    for (i, (address, connected)) in snapshot.lookupd_peers.iter().enumerate() {
        if i > 0 {
            peers.push(',');
        }
        let mut p = Obj::new(peers);
        p.str("address", address);
        p.bool("connected", *connected);
        p.end();
    }
    peers.push(']');
    o.end();
    out
}
