//! The end of a reactor round for V2: kicked clients are closed, the registry pumps
//! its deliveries into the consumers' output buffers (one lock for all), and the
//! registry's timer is armed for its next deadline.

use super::codec::out;
use super::conn::V2Conn;
use super::handler::{V2Handler, REGISTRY_TIMER};
use crate::proto;
use crate::reactor::Net;
use crate::registry::lock;
use std::time::Instant;

impl V2Handler {
    /// Closes kicked clients, pumps deliveries and arms the registry's timer.
    pub(super) fn deliver(&mut self, net: &mut Net<V2Conn>) {
        let now = Instant::now();
        let conns = &self.conns;
        let mut registry = lock(&self.registry);
        for client in registry.take_kicked() {
            if let Some(&id) = conns.get(&client) {
                net.close(id);
            }
        }
        registry.pump(now, |client, msg| {
            let Some(&id) = conns.get(&client) else {
                return;
            };
            if let Some(out) = out(net, id) {
                proto::write_message(out, msg.timestamp, msg.attempts, &msg.id, &msg.body);
            }
        });
        if let Some(at) = registry.next_deadline() {
            if self.registry_timer.is_none_or(|armed| at < armed) {
                self.registry_timer = Some(at);
                net.timers.set(at, REGISTRY_TIMER);
            }
        }
    }
}
