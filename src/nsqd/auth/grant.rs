//! What an auth server granted one secret, validated: the identity, when the answer
//! expires, and the check of one SUB or publish against the authorizations (Go's
//! `IsAllowed`). No I/O and no parsing here.

use super::pattern::Pattern;
use std::time::Instant;

/// What the auth server granted one connection's secret.
#[derive(Debug, Clone)]
pub struct Authorizations {
    /// Who the secret belongs to, as the auth server names it (`auth_identity` in /stats).
    pub identity: String,
    /// A link about that identity (`auth_identity_url` in /stats).
    pub identity_url: String,
    /// When the answer must be asked for again (query time + `ttl` seconds).
    pub(super) expires: Instant,
    /// One per entry of the reply's `authorizations`, regexes compiled.
    pub(super) rules: Vec<Rule>,
}

impl Authorizations {
    /// Number of authorizations (AUTH's reply carries it as "permission_count").
    pub fn permission_count(&self) -> usize {
        self.rules.len()
    }

    /// True once `ttl` seconds have passed since the query (`now` >= expiry).
    pub fn is_expired(&self, now: Instant) -> bool {
        now >= self.expires
    }

    /// Go's check: any authorization with the permission (`subscribe` for SUB when
    /// `subscribe` is true, `publish` otherwise), whose topic regex matches somewhere in
    /// `topic`, and one of whose channel regexes matches `channel` (publishes pass
    /// channel "").
    ///
    /// QUIRK (as Go): an authorization with no channels never allows publishing; the
    /// auth server has to grant `".*"` for that.
    pub fn allows(&self, topic: &str, channel: &str, subscribe: bool) -> bool {
        self.rules.iter().any(|rule| {
            let permitted = if subscribe {
                rule.subscribe
            } else {
                rule.publish
            };
            permitted
                && rule.topic.is_match(topic)
                && rule.channels.iter().any(|c| c.is_match(channel))
        })
    }
}

/// One authorization of a reply, validated.
#[derive(Debug, Clone)]
pub(super) struct Rule {
    pub(super) topic: Pattern,
    pub(super) channels: Vec<Pattern>,
    pub(super) subscribe: bool,
    pub(super) publish: bool,
}
