//! An auth server's 200 reply, validated sans-IO in Go's order: the JSON (missing and
//! null fields are Go's zero values), each authorization's permissions and regexes,
//! the ttl, then that there is at least one. Never trusts the reply: a bad field is a
//! query failure, not a panic.

use super::grant::{Authorizations, Rule};
use super::pattern::Pattern;
use serde::Deserialize;
use std::time::{Duration, Instant};

/// Why a query did not give authorizations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// Unreachable server, non-200, invalid JSON, ttl <= 0, unknown permission, bad
    /// regex: `E_AUTH_FAILED AUTH failed` on the wire; the text is the reason for the log.
    Failed(String),
    /// 200 with no authorizations: `E_UNAUTHORIZED AUTH no authorizations found`.
    NoAuthorizations,
}

/// An auth server's reply as sent. Every field may be missing or null, as Go's decoding
/// into zero values allows; unknown fields are ignored.
#[derive(Deserialize)]
struct Reply {
    ttl: Option<i64>,
    identity: Option<String>,
    identity_url: Option<String>,
    authorizations: Option<Vec<ReplyRule>>,
}

/// One entry of a reply's `authorizations`.
#[derive(Deserialize)]
struct ReplyRule {
    topic: Option<String>,
    channels: Option<Vec<String>>,
    permissions: Option<Vec<String>>,
}

/// Validates a 200 reply's `body`, received at `now`, in Go's order: each
/// authorization's permissions and regexes, then the ttl, then that there is at least one.
pub(super) fn parse(body: &[u8], now: Instant) -> Result<Authorizations, AuthError> {
    let reply: Reply = serde_json::from_slice(body)
        .map_err(|e| AuthError::Failed(format!("invalid JSON reply: {e}")))?;
    let rules = reply
        .authorizations
        .unwrap_or_default()
        .into_iter()
        .map(Rule::compile)
        .collect::<Result<Vec<Rule>, AuthError>>()?;
    let ttl = reply.ttl.unwrap_or(0);
    if ttl <= 0 {
        return Err(AuthError::Failed(format!("invalid TTL {ttl} (must be >0)")));
    }
    let expires = now
        .checked_add(Duration::from_secs(ttl.unsigned_abs()))
        .ok_or_else(|| AuthError::Failed(format!("TTL {ttl} too large")))?;
    if rules.is_empty() {
        return Err(AuthError::NoAuthorizations);
    }
    Ok(Authorizations {
        identity: reply.identity.unwrap_or_default(),
        identity_url: reply.identity_url.unwrap_or_default(),
        expires,
        rules,
    })
}

impl Rule {
    fn compile(rule: ReplyRule) -> Result<Rule, AuthError> {
        let permissions = rule.permissions.unwrap_or_default();
        if let Some(p) = permissions
            .iter()
            .find(|p| !matches!(p.as_str(), "subscribe" | "publish"))
        {
            return Err(AuthError::Failed(format!("unknown permission {p:?}")));
        }
        let compile = |what: &str, source: &str| {
            Pattern::new(source)
                .map_err(|e| AuthError::Failed(format!("unable to compile {what} {source:?}: {e}")))
        };
        let topic = compile("topic", rule.topic.as_deref().unwrap_or_default())?;
        let channels = rule
            .channels
            .unwrap_or_default()
            .iter()
            .map(|c| compile("channel", c))
            .collect::<Result<Vec<Pattern>, AuthError>>()?;
        Ok(Rule {
            topic,
            channels,
            subscribe: permissions.iter().any(|p| p == "subscribe"),
            publish: permissions.iter().any(|p| p == "publish"),
        })
    }
}
