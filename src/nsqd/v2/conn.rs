//! One V2 connection's protocol state: its client id, IDENTIFY settings, auth grant,
//! compression buffers, and when its heartbeat or read timeout is next due. No I/O here.

use crate::compress::Codec;
use crate::nsqd::auth::Authorizations;
use crate::nsqd::identify::Negotiated;
use crate::proto::ClientState;
use crate::reactor::Timers;
use crate::registry::ClientId;
use std::time::Instant;

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
        }
    }

    pub(super) fn read_deadline(&self) -> Option<Instant> {
        self.settings
            .heartbeat_interval
            .map(|hb| self.last_read + hb * 2)
    }

    fn next_timer(&self) -> Option<Instant> {
        self.read_deadline().map(|d| d.min(self.next_heartbeat))
    }

    /// Sets the connection's timer (keyed by its client id) for its next deadline.
    pub(super) fn arm_timer(&mut self, timers: &mut Timers) {
        if let Some(at) = self.next_timer() {
            self.timer_at = at;
            timers.set(at, self.client);
        }
    }
}
