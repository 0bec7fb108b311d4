//! One V2 connection's protocol state: its client id, IDENTIFY settings, auth grant,
//! TLS session and compression buffers, and when its heartbeat, read timeout or TLS
//! handshake deadline is next due. No I/O here.

use super::owed::Owed;
use crate::compress::Codec;
use crate::nsqd::auth::Authorizations;
use crate::nsqd::identify::Negotiated;
use crate::proto::ClientState;
use crate::reactor::Timers;
use crate::registry::ClientId;
use crate::tls::ServerSession;
use std::time::{Duration, Instant};

/// How long a client has to finish the TLS handshake IDENTIFY started (Go: 5 s).
pub(super) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// One V2 connection's protocol state.
#[derive(Debug)]
pub struct V2Conn {
    pub(super) client: ClientId,
    pub(super) magic_ok: bool,
    pub(super) state: ClientState,
    pub(super) settings: Negotiated,
    pub(super) last_read: Instant,
    pub(super) next_heartbeat: Instant,
    /// When this connection's live timer fires; earlier-set timers that fire later
    /// than planned are recognised as stale by comparing against it.
    pub(super) timer_at: Instant,
    /// What AUTH was granted, and the secret (for re-queries once it expires).
    pub(super) auth: Option<(Authorizations, String)>,
    /// An auth-server query is running: commands wait in the input buffer.
    pub(super) auth_pending: bool,
    /// A re-query found no authorizations left: every SUB and publish is refused.
    pub(super) auth_revoked: bool,
    /// The peer closed its sending side while commands were waiting: the connection
    /// is closed once they have run.
    pub(super) peer_closed: bool,
    /// Deflate or snappy, once IDENTIFY negotiated it: input is decoded into
    /// `plain_in`, and frames are staged in `plain_out` and encoded just before each
    /// flush.
    pub(super) codec: Option<Codec>,
    pub(super) plain_in: Vec<u8>,
    pub(super) plain_out: Vec<u8>,
    /// TLS, once IDENTIFY granted it: under the compression, next to the socket.
    pub(super) tls: Option<ServerSession>,
    /// The TLS handshake is running and must end by then.
    pub(super) handshake_deadline: Option<Instant>,
    /// Replies held for a group commit (`--sync-every=1`).
    pub(super) owed: Owed,
    /// A fatal error was answered behind held replies: close once they are out.
    pub(super) close_when_paid: bool,
}

impl V2Conn {
    /// A fresh connection of `client`, accepted at `now` with the default `settings`.
    pub(super) fn new(client: ClientId, settings: Negotiated, now: Instant) -> V2Conn {
        V2Conn {
            client,
            magic_ok: false,
            state: ClientState::Init,
            next_heartbeat: now + settings.heartbeat_interval.unwrap_or_default(),
            settings,
            last_read: now,
            timer_at: now,
            auth: None,
            auth_pending: false,
            auth_revoked: false,
            peer_closed: false,
            codec: None,
            plain_in: Vec::new(),
            plain_out: Vec::new(),
            tls: None,
            handshake_deadline: None,
            owed: Owed::default(),
            close_when_paid: false,
        }
    }

    pub(super) fn read_deadline(&self) -> Option<Instant> {
        self.settings
            .heartbeat_interval
            .map(|hb| self.last_read + hb * 2)
    }

    fn next_timer(&self) -> Option<Instant> {
        let live = self.read_deadline().map(|d| d.min(self.next_heartbeat));
        match (live, self.handshake_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// True when frames are staged in `plain_out` (compression or TLS is on).
    pub(super) fn layered(&self) -> bool {
        self.codec.is_some() || self.tls.is_some()
    }

    /// Sets the connection's timer (keyed by its client id) for its next deadline.
    pub(super) fn arm_timer(&mut self, timers: &mut Timers) {
        if let Some(at) = self.next_timer() {
            self.timer_at = at;
            timers.set(at, self.client);
        }
    }
}
