//! The reactor callbacks of the V2 handler (`impl Handler for V2Handler`): accepting
//! and closing connections (their registry entries), reads, the peer's close, timers,
//! wake-ups from other threads, the end of a round and the flush. Each delegates the
//! protocol work to the other files of `v2`.

use super::codec::{encode_output, input_at_eof, send_error};
use super::conn::V2Conn;
use super::handler::V2Handler;
use crate::nsqd::identify::Negotiated;
use crate::proto::{self, ClientState};
use crate::reactor::{ConnId, Connection, Handler, Net, Timers};
use crate::registry::lock;
use crate::registry::{ClientId, ClientInfo};
use std::net::SocketAddr;
use std::time::Instant;

impl Handler for V2Handler {
    type Conn = V2Conn;

    fn accepted(&mut self, timers: &mut Timers, id: ConnId, peer: SocketAddr) -> V2Conn {
        let client = self.next_client;
        self.next_client += 1;
        self.conns.insert(client, id);
        let now = Instant::now();
        let settings = Negotiated::defaults(&self.config.identify);
        let ip = peer.ip().to_string();
        lock(&self.registry).add_client(
            client,
            ClientInfo {
                remote: peer,
                client_id: ip.clone(),
                hostname: ip,
                user_agent: String::new(),
                state: ClientState::Init,
                msg_timeout: settings.msg_timeout,
                sample_rate: 0,
                heartbeat_interval: settings.heartbeat_interval,
                output_buffer_size: settings.output_buffer_size,
                output_buffer_timeout: settings.output_buffer_timeout,
                connect_ts: crate::registry::message::unix_nanos() / 1_000_000_000,
                subscription: None,
                pub_counts: Default::default(),
                auth_identity: None,
                compression: "",
                tls: None,
            },
        );
        log::info!("TCP: new client({peer})");
        log::debug!("TCP: client({client}) is {peer}");
        let mut conn = V2Conn::new(client, settings, now);
        conn.arm_timer(timers);
        conn
    }

    fn readable(&mut self, net: &mut Net<V2Conn>, id: ConnId) {
        if let Some(conn) = net.conn(id) {
            conn.state.last_read = Instant::now();
        }
        self.process(net, id);
    }

    fn read_closed(&mut self, net: &mut Net<V2Conn>, id: ConnId) {
        let Some(conn) = net.conn(id) else {
            return;
        };
        if self.waiting(&conn.state) {
            // Commands or replies are waiting: they run, then the connection closes.
            conn.state.peer_closed = true;
            return;
        }
        if conn.state.magic_ok && !conn.input.is_empty() {
            let ctx = self.parse_context(&conn.state);
            if let Some(e) = proto::parse_at_eof(input_at_eof(conn), &ctx) {
                send_error(net, id, &e);
            }
        }
        net.close(id);
    }

    fn closed(&mut self, _net: &mut Net<V2Conn>, _id: ConnId, conn: V2Conn) {
        self.conns.remove(&conn.client);
        if self.conns.capacity() > 4 * self.conns.len() + 64 {
            self.conns.shrink_to_fit(); // a burst of connections is gone: give it back
        }
        self.creating.remove(&conn.client);
        self.owing.remove(&conn.client);
        lock(&self.registry).remove_client(conn.client);
        log::info!("PROTOCOL(V2): client({}) exiting ioloop", conn.client);
    }

    fn timer(&mut self, net: &mut Net<V2Conn>, key: u64, now: Instant) {
        self.timer_fired(net, key, now);
    }

    fn woken(&mut self, net: &mut Net<V2Conn>) {
        // Other threads mark work in the registry (round_end pumps it), end group
        // commits, hand over auth answers, or release topics that connections wait on.
        self.release_owed(net);
        let answers =
            std::mem::take(&mut *self.auth_answers.lock().unwrap_or_else(|p| p.into_inner()));
        for answer in answers {
            self.auth_answered(net, answer);
        }
        if !self.creating.is_empty() {
            let registry = lock(&self.registry);
            let released: Vec<ClientId> = (self.creating.iter())
                .filter(|(_, topic)| !registry.is_held(topic))
                .map(|(&client, _)| client)
                .collect();
            drop(registry);
            for client in released {
                self.creating.remove(&client);
                if let Some(&id) = self.conns.get(&client) {
                    self.resume(net, id);
                }
            }
        }
    }

    fn round_end(&mut self, net: &mut Net<V2Conn>) {
        self.deliver(net);
    }

    fn stopping(&mut self, _net: &mut Net<V2Conn>) {
        log::info!("TCP: closing {} clients", self.conns.len());
    }

    fn before_flush(&mut self, conn: &mut Connection<V2Conn>) {
        encode_output(conn);
    }
}
