//! The consumer commands of a V2 connection — SUB, RDY, FIN, REQ, TOUCH and CLS —
//! executed against the registry, with their replies and error texts.

use super::codec::send_response;
use super::conn::V2Conn;
use super::handler::V2Handler;
use crate::proto::{self, ClientState, Command, ProtoError};
use crate::reactor::{ConnId, Net};
use crate::registry::{ClientId, Registry};
use std::time::{Duration, Instant};

impl V2Handler {
    /// Executes a consumer command (`dispatch` routes only those here).
    pub(super) fn consume(
        &self,
        registry: &mut Registry,
        net: &mut Net<V2Conn>,
        id: ConnId,
        client: ClientId,
        command: Command<'_>,
        now: Instant,
    ) -> Result<(), ProtoError> {
        match command {
            Command::Sub { topic, channel } => {
                registry
                    .subscribe(client, topic, channel, now)
                    .map_err(|e| ProtoError::fatal("E_SUB_FAILED", e.to_string()))?;
                if let Some(conn) = net.conn(id) {
                    conn.state.state = ClientState::Subscribed;
                }
                send_response(net, id, b"OK");
                Ok(())
            }
            Command::Rdy(None) => Ok(()),
            Command::Rdy(Some(count)) => {
                registry.rdy(client, count);
                Ok(())
            }
            Command::Fin(msg_id) => registry.finish(client, &msg_id).map_err(|e| {
                ProtoError::client(
                    "E_FIN_FAILED",
                    format!("FIN {} failed {}", show_id(&msg_id), e.text()),
                )
            }),
            Command::Req {
                id: msg_id,
                delay_ms,
            } => {
                let max = self.config.max_req_timeout;
                let mut delay = Duration::from_millis(delay_ms);
                if delay > max {
                    log::info!("client({client}) REQ timeout {delay_ms}ms clamped to {max:?}");
                    delay = max;
                }
                registry.requeue(client, &msg_id, delay, now).map_err(|e| {
                    ProtoError::client(
                        "E_REQ_FAILED",
                        format!("REQ {} failed {}", show_id(&msg_id), e.text()),
                    )
                })
            }
            Command::Touch(msg_id) => registry.touch(client, &msg_id, now).map_err(|e| {
                ProtoError::client(
                    "E_TOUCH_FAILED",
                    format!("TOUCH {} failed {}", show_id(&msg_id), e.text()),
                )
            }),
            Command::Cls => {
                registry.close_wait(client);
                if let Some(conn) = net.conn(id) {
                    conn.state.state = ClientState::Closing;
                }
                send_response(net, id, b"CLOSE_WAIT");
                Ok(())
            }
            // Not a consumer command: `dispatch` never routes one here.
            _ => Ok(()),
        }
    }
}

fn show_id(id: &proto::MessageId) -> String {
    String::from_utf8_lossy(id).into_owned()
}
