//! IDENTIFY on a V2 connection: decodes and negotiates the settings (`nsqd::identify`),
//! re-arms the heartbeat, records the client's details in the registry, answers, and
//! switches compression on when it was granted.

use super::codec::send_response;
use super::conn::V2Conn;
use super::handler::V2Handler;
use crate::compress::Codec;
use crate::nsqd::identify;
use crate::proto::ProtoError;
use crate::reactor::{ConnId, Net};
use crate::registry::{ClientId, Registry};
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
        log::debug!("client({client}) IDENTIFY: {req:?}");
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
        let (codec, name) = match identify::deflate_granted(&req, &self.config.identify) {
            Some(level) => (Codec::deflate(level), "deflate"),
            None if identify::snappy_granted(&req, &self.config.identify) => {
                (Codec::snappy(), "snappy")
            }
            None => (None, ""),
        };
        if let Some(conn) = net.conn(id).filter(|c| c.state.codec.is_none()) {
            if codec.is_some() {
                // Everything after the JSON reply is compressed, both ways.
                conn.state.codec = codec;
                send_response(net, id, b"OK");
                if let Some(info) = registry.clients.get_mut(&client) {
                    info.compression = name;
                }
            }
        }
        Ok(())
    }
}
