//! The edges of every nsqlookupd handler: the query arguments it reads (with
//! nsqlookupd's 400 messages) and the answers it gives, all carrying the
//! `X-NSQ-Content-Type: nsq; version=1.0` header go-nsq keys on.

use crate::http::{BadQuery, Request, Response};
use crate::proto;
use serde::Serialize;

/// The `X-NSQ-Content-Type` header of every V1 response.
pub const V1_HEADER: (&str, &str) = ("X-NSQ-Content-Type", "nsq; version=1.0");

/// Adds the V1 header.
pub fn v1(resp: Response) -> Response {
    resp.header(V1_HEADER.0, V1_HEADER.1)
}

pub(super) fn err(status: u16, message: &str) -> Response {
    v1(Response::error(status, message))
}

pub(super) fn ok_empty() -> Response {
    v1(Response::new(200, ""))
}

pub(super) fn ok_json(value: &impl Serialize) -> Response {
    match serde_json::to_string(value) {
        Ok(body) => v1(Response::json(200, body)),
        Err(_) => err(500, "INTERNAL_ERROR"),
    }
}

/// The decoded query, or 400 `INVALID_REQUEST`.
pub(super) fn params(req: &Request) -> Result<Vec<(String, String)>, Response> {
    req.query_pairs()
        .map_err(|BadQuery| err(400, "INVALID_REQUEST"))
}

/// The first value of `key`, or `missing` (400) when absent.
pub(super) fn required<'a>(
    pairs: &'a [(String, String)],
    key: &str,
    missing: &str,
) -> Result<&'a str, Response> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| err(400, missing))
}

/// `topic` and `channel`, both present and valid (Go's `GetTopicChannelArgs`).
pub(super) fn topic_channel(req: &Request) -> Result<(String, String), Response> {
    let pairs = params(req)?;
    let topic = required(&pairs, "topic", "MISSING_ARG_TOPIC")?;
    if !proto::is_valid_name(topic.as_bytes()) {
        return Err(err(400, "INVALID_ARG_TOPIC"));
    }
    let channel = required(&pairs, "channel", "MISSING_ARG_CHANNEL")?;
    if !proto::is_valid_name(channel.as_bytes()) {
        return Err(err(400, "INVALID_ARG_CHANNEL"));
    }
    Ok((topic.to_string(), channel.to_string()))
}

/// Runs `f` on the request's `topic` or answers the parameter error.
pub(super) fn with_topic(req: &Request, f: impl FnOnce(&str) -> Response) -> Response {
    match params(req).and_then(|p| required(&p, "topic", "MISSING_ARG_TOPIC").map(str::to_string)) {
        Ok(topic) => f(&topic),
        Err(resp) => resp,
    }
}
