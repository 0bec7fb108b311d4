//! The V2 handler's timers: the registry's next deadline (in-flight timeouts,
//! deferred messages) and each connection's heartbeat, read timeout (twice the
//! heartbeat interval without data closes it) and TLS handshake deadline.

use super::codec::send_response;
use super::conn::V2Conn;
use super::handler::{V2Handler, REGISTRY_TIMER};
use crate::proto;
use crate::reactor::Net;
use crate::registry::lock;
use std::time::Instant;

impl V2Handler {
    /// The timer `key` fired at `now`: the registry's, or a connection's (by client id).
    pub(super) fn timer_fired(&mut self, net: &mut Net<V2Conn>, key: u64, now: Instant) {
        if key == REGISTRY_TIMER {
            self.registry_timer = None;
            lock(&self.registry).expire(now);
            return;
        }
        let Some(&id) = self.conns.get(&key) else {
            return;
        };
        let Some(conn) = net.conn(id) else {
            return;
        };
        let state = &mut conn.state;
        if state.timer_at > now {
            return; // stale: a later timer is live
        }
        if state.handshake_deadline.is_some_and(|d| d <= now) {
            log::info!("client({key}) IDENTIFY failed: TLS handshake timed out");
            net.close(id);
            return;
        }
        let Some(hb) = state.settings.heartbeat_interval else {
            return;
        };
        if state.read_deadline().is_some_and(|d| d <= now) {
            log::info!("client({key}) timed out: no data for {:?}", hb * 2);
            net.close(id);
            return;
        }
        if state.next_heartbeat <= now {
            state.next_heartbeat = (state.next_heartbeat + hb).max(now);
            send_response(net, id, proto::HEARTBEAT);
        }
        if let Some((conn, timers)) = net.conn_and_timers(id) {
            conn.state.arm_timer(timers);
        }
    }
}
