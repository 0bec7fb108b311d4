//! What nsqadmin's handlers share ([`Admin`]: the cluster, the options, the rate
//! series, the webhook) and the answers every `/api` route gives in Go's shape: JSON
//! with `X-NSQ-Content-Type`, Go's escaping, a `message` that carries warnings, 502
//! `UPSTREAM_ERROR: ...` when no node answered.

use super::cluster::Cluster;
use super::notify::{Notification, Notifier};
use super::options::Options;
use super::rates::{unix_now, Rates};
use crate::http::{Request, Response};
use serde::Serialize;
use std::sync::{Arc, RwLock};

/// nsqadmin's shared state.
pub struct Admin {
    pub cluster: Arc<Cluster>,
    /// The options; `PUT /config` changes the lookupds and the log level.
    pub options: RwLock<Options>,
    pub rates: Arc<Rates>,
    /// The webhook, with `--notification-http-endpoint`.
    pub notifier: Option<Notifier>,
    /// This host's name (`via` in notifications).
    pub hostname: String,
}

impl Admin {
    /// The options now.
    pub fn options(&self) -> Options {
        self.options
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// True if `req` may act: no `--admin-user`, or its `--acl-http-header` names one.
    pub fn is_admin(&self, req: &Request) -> bool {
        let o = self.options.read().unwrap_or_else(|p| p.into_inner());
        o.admin_users.is_empty()
            || req
                .header(&o.acl_http_header)
                .is_some_and(|user| o.admin_users.iter().any(|u| u == user))
    }

    /// Queues the webhook for `action` (no endpoint: nothing).
    pub fn notify(&self, req: &Request, action: &str, topic: &str, channel: &str, node: &str) {
        let Some(notifier) = &self.notifier else {
            return;
        };
        let scheme = match req.header("X-Scheme") {
            Some(s) if s.eq_ignore_ascii_case("https") => "https",
            _ => "http",
        };
        let host = req.header("Host").unwrap_or_default();
        let query = if req.query.is_empty() {
            String::new()
        } else {
            format!("?{}", req.query)
        };
        notifier.send(Notification {
            action: action.into(),
            topic: topic.into(),
            channel: channel.into(),
            node: node.into(),
            timestamp: unix_now(),
            user: basic_auth_user(req).unwrap_or_default(),
            remote_ip: req.remote.map(|a| a.to_string()).unwrap_or_default(),
            user_agent: req.header("User-Agent").unwrap_or_default().into(),
            url: format!("{scheme}://{host}{}{query}", req.path),
            via: self.hostname.clone(),
        });
    }
}

/// The user name of an `Authorization: Basic` header.
fn basic_auth_user(req: &Request) -> Option<String> {
    let value = req.header("Authorization")?;
    let (kind, b64) = value.split_once(' ')?;
    if !kind.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64_decode(b64.trim())?;
    let text = String::from_utf8(decoded).ok()?;
    Some(
        text.split_once(':')
            .map_or(text.clone(), |(u, _)| u.to_string()),
    )
}

/// Standard base64 (with or without padding); `None` on a bad character.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// `X-NSQ-Content-Type`, on every answer of nsqadmin's API.
pub fn v1(resp: Response) -> Response {
    resp.header("X-NSQ-Content-Type", "nsq; version=1.0")
}

/// `value` as Go writes JSON, 200.
pub fn ok_json<T: Serialize>(value: &T) -> Response {
    v1(Response::json(200, crate::common::json::to_string(value)))
}

/// `{"message": message}` with `status`.
pub fn error(status: u16, message: &str) -> Response {
    #[derive(Serialize)]
    struct Message<'a> {
        message: &'a str,
    }
    v1(Response::json(
        status,
        crate::common::json::to_string(&Message { message }),
    ))
}

/// 502 `UPSTREAM_ERROR: <why>`: no node answered.
pub fn upstream_error(why: &str) -> Response {
    log::error!("{why}");
    error(502, &format!("UPSTREAM_ERROR: {why}"))
}

/// The `message` of a partial answer: `WARNING: e1\ne2`, phases joined by `; `
/// (empty without warnings).
pub fn warning(phases: &[&[String]]) -> String {
    let parts: Vec<String> = phases
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| format!("WARNING: {}", p.join("\n")))
        .collect();
    if !parts.is_empty() {
        log::warn!("{}", parts.join("; "));
    }
    parts.join("; ")
}

/// A value with its `message`, as every `/api` answer ends.
#[derive(Serialize)]
pub struct WithMessage<T: Serialize> {
    #[serde(flatten)]
    pub value: T,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_and_basic_auth_users() {
        let a = ["x".to_string(), "y".to_string()];
        let b = ["z".to_string()];
        assert_eq!(warning(&[&a, &[], &b]), "WARNING: x\ny; WARNING: z");
        assert_eq!(warning(&[&[]]), "");
        let mut req = Request::new("POST", "/api/topics", b"");
        req.headers
            .push(("Authorization".into(), "Basic YWxpY2U6c2VjcmV0".into()));
        assert_eq!(basic_auth_user(&req).as_deref(), Some("alice"));
    }
}
