//! The V2 handler's state: its configuration, which connection serves which client,
//! the registry's timer, and what commands wait on (auth answers, topic holds). No
//! protocol logic here: the other files of `v2` add the behaviour.

use super::conn::V2Conn;
use crate::nsqd::auth::{AuthError, AuthServers, Authorizations};
use crate::nsqd::durability::{Persister, Ticket};
use crate::nsqd::identify::IdentifyLimits;
use crate::proto::{Limits, ParseContext};
use crate::reactor::{ConnId, Wakeup};
use crate::registry::{ClientId, SharedRegistry};
use crate::tls::ServerTls;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Everything the V2 handler needs to know about the server.
#[derive(Debug, Clone)]
pub struct V2Config {
    /// Command limits for the parser.
    pub limits: Limits,
    /// IDENTIFY ranges and reply values.
    pub identify: IdentifyLimits,
    /// `--max-req-timeout`: REQ delays are clamped to it.
    pub max_req_timeout: Duration,
    /// The auth servers (`--auth-http-address`); `None`: AUTH is disabled.
    pub auth: Option<AuthServers>,
    /// The TLS configuration (`--tls-cert`, `--tls-key`, ...); `None`: no TLS.
    pub tls: Option<ServerTls>,
    /// `--tls-required` is `true` or `tcp-https`: every command but IDENTIFY needs TLS.
    pub tls_required: bool,
}

/// Timer key of the registry's deadlines; connection timers use their client id (≥ 1).
pub(super) const REGISTRY_TIMER: u64 = 0;

/// An auth server's answer for one connection, from a query thread.
pub(super) struct AuthAnswer {
    pub(super) client: ClientId,
    /// True for AUTH itself (which gets a reply), false for a re-query.
    pub(super) first: bool,
    pub(super) secret: String,
    pub(super) result: Result<Authorizations, AuthError>,
}

/// nsqd's V2 protocol, as a reactor handler.
pub struct V2Handler {
    pub(super) registry: SharedRegistry,
    pub(super) persister: Arc<Persister>,
    pub(super) config: V2Config,
    pub(super) conns: HashMap<ClientId, ConnId>,
    pub(super) next_client: ClientId,
    pub(super) registry_timer: Option<Instant>,
    /// Auth answers waiting for the loop (which the query threads wake).
    pub(super) auth_answers: Arc<Mutex<Vec<AuthAnswer>>>,
    /// Connections whose command created a topic still held for channel
    /// pre-creation, by the topic: their commands wait until its release.
    pub(super) creating: HashMap<ClientId, String>,
    pub(super) wakeup: Wakeup,
    /// Connections holding replies for a group commit, and the last commit ticket
    /// whose end was acted on.
    pub(super) owing: HashSet<ClientId>,
    pub(super) released: Ticket,
}

impl V2Handler {
    /// A handler serving `registry`; `wakeup` wakes its loop when an auth answer is in.
    pub fn new(
        registry: SharedRegistry,
        config: V2Config,
        persister: Arc<Persister>,
        wakeup: Wakeup,
    ) -> V2Handler {
        V2Handler {
            registry,
            persister,
            config,
            conns: HashMap::new(),
            next_client: 1,
            registry_timer: None,
            auth_answers: Arc::default(),
            creating: HashMap::new(),
            wakeup,
            owing: HashSet::new(),
            released: 0,
        }
    }
}

impl V2Handler {
    /// What the parser must know about `conn`: its state, heartbeats, the limits, and
    /// whether TLS is required but not on.
    pub(super) fn parse_context<'a>(&'a self, conn: &V2Conn) -> ParseContext<'a> {
        ParseContext {
            state: conn.state,
            heartbeats_enabled: conn.settings.heartbeat_interval.is_some(),
            limits: &self.config.limits,
            tls_missing: self.config.tls_required && conn.tls.is_none(),
        }
    }
}
