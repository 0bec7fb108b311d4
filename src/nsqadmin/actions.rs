//! nsqadmin's write routes (NSQADMIN.md §6.3): create a topic or channel through
//! lookupd, pause/unpause/empty/delete a topic or channel on every nsqd that holds
//! it, tombstone a topic's producer. Only admins act (else 403 `FORBIDDEN`); the
//! calls to nodes go one after another, and a node that fails is a warning, never a
//! failure of the whole action; the webhook hears of each action as Go's does.

use super::context::{error, ok_json, upstream_error, warning, Admin};
use super::upstream::url;
use crate::http::client::query_escape;
use crate::http::{Request, Response};
use crate::proto::is_valid_name;
use serde::Deserialize;

/// A JSON body as Go's decoder reads it: an empty body is `EOF`, a syntax error is
/// named as Go names it.
fn body<'a, T: Deserialize<'a>>(req: &'a Request) -> Result<T, Response> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Err(error(400, "EOF"));
    }
    serde_json::from_slice(&req.body).map_err(|e| error(400, &go_json_error(&req.body, &e)))
}

/// Go's `encoding/json` words for the common syntax errors (`invalid character 'b'
/// looking for beginning of object key string`, `unexpected EOF`); serde's otherwise.
fn go_json_error(body: &[u8], e: &serde_json::Error) -> String {
    if e.is_eof() {
        return "unexpected EOF".into();
    }
    if !e.is_syntax() {
        return e.to_string();
    }
    // The byte serde stopped at: its line and column are 1-based.
    let line_start: usize = (body.split(|&b| b == b'\n').take(e.line().saturating_sub(1)))
        .map(|l| l.len() + 1)
        .sum();
    let at = line_start + e.column().saturating_sub(1);
    let Some(&c) = body.get(at) else {
        return e.to_string();
    };
    let before = body[..at].iter().rev().find(|b| !b.is_ascii_whitespace());
    let expected = match before {
        None | Some(b':') | Some(b'[') => "beginning of value",
        Some(b'{') | Some(b',') => "beginning of object key string",
        _ => return e.to_string(),
    };
    format!("invalid character '{}' looking for {expected}", c as char)
}

/// POSTs every URL, one after another; the errors.
fn post_all(admin: &Admin, urls: &[String]) -> Vec<String> {
    urls.iter()
        .filter_map(|u| admin.cluster.upstream.post(u).err())
        .collect()
}

fn ok(phases: &[&[String]]) -> Response {
    ok_json(&serde_json::json!({ "message": warning(phases) }))
}

#[derive(Deserialize)]
struct Create {
    #[serde(default)]
    topic: String,
    #[serde(default)]
    channel: String,
}

/// `POST /api/topics {"topic","channel"}`: created on every lookupd; a channel also
/// on every nsqd that lookupd lists for the topic.
pub fn create(admin: &Admin, req: &Request) -> Response {
    if !admin.is_admin(req) {
        return error(403, "FORBIDDEN");
    }
    let c: Create = match body(req) {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    if !is_valid_name(c.topic.as_bytes()) {
        return error(400, "INVALID_TOPIC");
    }
    if !c.channel.is_empty() && !is_valid_name(c.channel.as_bytes()) {
        return error(400, "INVALID_CHANNEL");
    }
    let lookupds = admin.cluster.lookupds();
    let topic = query_escape(&c.topic);
    let urls: Vec<String> = (lookupds.iter())
        .map(|l| url(l, &format!("/topic/create?topic={topic}")))
        .collect();
    let w1 = post_all(admin, &urls);
    if !urls.is_empty() && w1.len() == urls.len() {
        return upstream_error(&format!(
            "failed to query any nsqlookupd: {}",
            w1.join("\n")
        ));
    }
    admin.notify(req, "create_topic", &c.topic, "", "");
    if c.channel.is_empty() {
        return ok(&[&w1]);
    }
    if lookupds.is_empty() {
        return upstream_error("failed to query any nsqlookupd: ");
    }
    let q = format!("topic={topic}&channel={}", query_escape(&c.channel));
    let urls: Vec<String> = (lookupds.iter())
        .map(|l| url(l, &format!("/channel/create?{q}")))
        .collect();
    let w2 = post_all(admin, &urls);
    let (producers, w3) = admin
        .cluster
        .lookupd_topic_producers(&c.topic)
        .unwrap_or_else(|e| (Vec::new(), vec![e]));
    let urls: Vec<String> = (producers.iter())
        .map(|p| url(&p.http_address(), &format!("/channel/create?{q}")))
        .collect();
    let w4 = post_all(admin, &urls);
    admin.notify(req, "create_channel", &c.topic, &c.channel, "");
    ok(&[&w1, &w2, &w3, &w4])
}

#[derive(Deserialize)]
struct Action {
    #[serde(default)]
    action: String,
}

/// `POST /api/topics/:topic[/:channel] {"action": "pause"|"unpause"|"empty"}` on
/// every nsqd that holds the topic.
pub fn act(admin: &Admin, req: &Request, topic: &str, channel: Option<&str>) -> Response {
    if !admin.is_admin(req) {
        return error(403, "FORBIDDEN");
    }
    let a: Action = match body(req) {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    if !matches!(a.action.as_str(), "pause" | "unpause" | "empty") {
        return error(400, "INVALID_ACTION");
    }
    let (kind, query) = match channel {
        Some(c) => (
            "channel",
            format!("topic={}&channel={}", query_escape(topic), query_escape(c)),
        ),
        None => ("topic", format!("topic={}", query_escape(topic))),
    };
    // Go notifies these even when the action then fails.
    admin.notify(
        req,
        &format!("{}_{kind}", a.action),
        topic,
        channel.unwrap_or(""),
        "",
    );
    let (producers, w1) = match admin.cluster.topic_producers(topic) {
        Ok(found) => found,
        Err(e) => return upstream_error(&e),
    };
    let urls: Vec<String> = (producers.iter())
        .map(|p| url(&p.http_address(), &format!("/{kind}/{}?{query}", a.action)))
        .collect();
    let w2 = post_all(admin, &urls);
    ok(&[&w1, &w2])
}

/// `DELETE /api/topics/:topic[/:channel]`: deleted on every lookupd, then on every
/// nsqd that held it.
pub fn delete(admin: &Admin, req: &Request, topic: &str, channel: Option<&str>) -> Response {
    if !admin.is_admin(req) {
        return error(403, "FORBIDDEN");
    }
    let (kind, query) = match channel {
        Some(c) => (
            "channel",
            format!("topic={}&channel={}", query_escape(topic), query_escape(c)),
        ),
        None => ("topic", format!("topic={}", query_escape(topic))),
    };
    let (producers, w1) = match admin.cluster.topic_producers(topic) {
        Ok(found) => found,
        Err(e) => return upstream_error(&e),
    };
    let lookupds = admin.cluster.lookupds();
    let urls: Vec<String> = (lookupds.iter().cloned())
        .chain(producers.iter().map(|p| p.http_address()))
        .map(|node| url(&node, &format!("/{kind}/delete?{query}")))
        .collect();
    let w2 = post_all(admin, &urls);
    admin.notify(
        req,
        &format!("delete_{kind}"),
        topic,
        channel.unwrap_or(""),
        "",
    );
    ok(&[&w1, &w2])
}

#[derive(Deserialize)]
struct Tombstone {
    #[serde(default)]
    topic: String,
}

/// `DELETE /api/nodes/:node {"topic"}`: the topic tombstoned for that node on every
/// lookupd, then deleted on the node.
pub fn tombstone(admin: &Admin, req: &Request, node: &str) -> Response {
    if !admin.is_admin(req) {
        return error(403, "FORBIDDEN");
    }
    let t = match body::<Tombstone>(req) {
        Ok(t) => t,
        Err(_) => return error(400, "INVALID_BODY"),
    };
    if !is_valid_name(t.topic.as_bytes()) {
        return error(400, "INVALID_TOPIC");
    }
    let topic = query_escape(&t.topic);
    let urls: Vec<String> = (admin.cluster.lookupds().iter())
        .map(|l| {
            url(
                l,
                &format!("/topic/tombstone?topic={topic}&node={}", query_escape(node)),
            )
        })
        .collect();
    let w1 = post_all(admin, &urls);
    // The node must be an nsqd that answers.
    if let Err(e) = admin.cluster.upstream.get(&url(node, "/info")) {
        return upstream_error(&format!("failed to query any nsqd: {e}"));
    }
    let w2 = post_all(admin, &[url(node, &format!("/topic/delete?topic={topic}"))]);
    admin.notify(req, "tombstone_topic_producer", &t.topic, "", node);
    ok(&[&w1, &w2])
}
