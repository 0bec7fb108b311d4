//! IDENTIFY on a V2 connection: decodes and negotiates the settings (`nsqd::identify`),
//! re-arms the heartbeat, records the client's details in the registry, answers, and
//! switches TLS and then compression on when they were granted (Go's order).

use super::codec::{encode_output, send_response};
use super::conn::{V2Conn, HANDSHAKE_TIMEOUT};
use super::handler::V2Handler;
use crate::compress::Codec;
use crate::nsqd::identify;
use crate::proto::ProtoError;
use crate::reactor::{ConnId, Net};
use crate::registry::{lock, ClientId, Registry};
use crate::tls::ServerSession;
use std::time::Instant;

impl V2Handler {
    pub(super) fn identify(
        &self,
        registry: &mut Registry,
        net: &mut Net<V2Conn>,
        id: ConnId,
        client: ClientId,
        body: &[u8],
        now: Instant,
    ) -> Result<(), ProtoError> {
        let req = identify::decode(body)?;
        let Some((conn, timers)) = net.conn_and_timers(id) else {
            return Ok(());
        };
        let settings = identify::negotiate(&req, &conn.state.settings, &self.config.identify)?;
        let heartbeat_changed =
            settings.heartbeat_interval != conn.state.settings.heartbeat_interval;
        conn.state.settings = settings.clone();
        if heartbeat_changed {
            if let Some(hb) = settings.heartbeat_interval {
                conn.state.next_heartbeat = now + hb;
            }
            conn.state.arm_timer(timers);
        }
        if let Some(info) = registry.clients.get_mut(&client) {
            info.client_id = req.client_id.clone().unwrap_or_default();
            info.hostname = req.hostname.clone().unwrap_or_default();
            info.user_agent = req.user_agent.clone().unwrap_or_default();
            info.msg_timeout = settings.msg_timeout;
            info.sample_rate = settings.sample_rate;
            info.heartbeat_interval = settings.heartbeat_interval;
            info.output_buffer_size = settings.output_buffer_size;
            info.output_buffer_timeout = settings.output_buffer_timeout;
        }
        log::debug!("client({client}) IDENTIFY: {req}");
        if req.feature_negotiation != Some(true) {
            send_response(net, id, b"OK");
            return Ok(());
        }
        let both = identify::deflate_granted(&req, &self.config.identify).is_some()
            && identify::snappy_granted(&req, &self.config.identify);
        if both {
            let text = "cannot enable both deflate and snappy compression";
            return Err(ProtoError::fatal("E_IDENTIFY_FAILED", text));
        }
        let json = identify::reply_json(&req, &settings, &self.config.identify);
        send_response(net, id, &json);
        if identify::tls_granted(&req, &self.config.identify) {
            self.start_tls(net, id, now)?;
        }
        let (codec, name) = match identify::deflate_granted(&req, &self.config.identify) {
            Some(level) => (Codec::deflate(level), "deflate"),
            None if identify::snappy_granted(&req, &self.config.identify) => {
                (Codec::snappy(), "snappy")
            }
            None => (None, ""),
        };
        if let Some(conn) = net.conn(id).filter(|c| c.state.codec.is_none()) {
            if codec.is_some() {
                // What is staged so far (TLS's OK) goes out uncompressed; everything
                // after is compressed, both ways.
                encode_output(conn);
                conn.state.codec = codec;
                send_response(net, id, b"OK");
                if let Some(info) = registry.clients.get_mut(&client) {
                    info.compression = name;
                }
            }
        }
        Ok(())
    }

    /// Turns TLS on after the JSON reply (sent plain): the client's handshake comes
    /// next, and `OK` is sent inside TLS once it is done. It must end within
    /// [`HANDSHAKE_TIMEOUT`].
    fn start_tls(&self, net: &mut Net<V2Conn>, id: ConnId, now: Instant) -> Result<(), ProtoError> {
        let Some(config) = self.config.tls.as_ref() else {
            return Ok(());
        };
        let session = ServerSession::new(config)
            .map_err(|e| ProtoError::fatal("E_IDENTIFY_FAILED", format!("IDENTIFY failed {e}")))?;
        let Some((conn, timers)) = net.conn_and_timers(id) else {
            return Ok(());
        };
        conn.state.tls = Some(session);
        conn.state.handshake_deadline = Some(now + HANDSHAKE_TIMEOUT);
        conn.state.arm_timer(timers);
        send_response(net, id, b"OK");
        Ok(())
    }
}

impl V2Handler {
    /// After TLS read what the client sent: its answer (handshake, alerts) is
    /// flushed, and once the handshake is done the deadline is dropped and what it
    /// agreed is recorded for `/stats` and auth.
    pub(super) fn tls_progress(&self, net: &mut Net<V2Conn>, id: ConnId) {
        let Some((conn, timers)) = net.conn_and_timers(id) else {
            return;
        };
        let pending = !conn.output.is_empty();
        let done = match (&conn.state.tls, conn.state.handshake_deadline) {
            (Some(tls), Some(_)) => tls.info(),
            _ => None,
        };
        let client = conn.state.client;
        if let Some(info) = done {
            conn.state.handshake_deadline = None;
            conn.state.arm_timer(timers);
            log::debug!(
                "client({client}) TLS {} {}",
                info.version,
                info.cipher_suite
            );
            if let Some(c) = lock(&self.registry).clients.get_mut(&client) {
                c.tls = Some(Box::new(info));
            }
        }
        if pending {
            net.output(id);
        }
    }
}
