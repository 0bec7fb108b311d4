//! The publish commands of a V2 connection — PUB, MPUB and DPUB — and their errors.
//! With `--sync-every=1` their OKs wait for the group commit (`commit.rs`).

use super::codec::send_response;
use super::conn::V2Conn;
use crate::proto::{Command, ProtoError};
use crate::reactor::{ConnId, Net};
use crate::registry::{ClientId, Registry};
use std::time::Instant;

/// Executes a publish command (`dispatch` routes only those here).
pub(super) fn execute(
    registry: &mut Registry,
    net: &mut Net<V2Conn>,
    id: ConnId,
    client: ClientId,
    command: Command<'_>,
    now: Instant,
) -> Result<(), ProtoError> {
    match command {
        Command::Pub { topic, body } => {
            (registry.publish(topic, [body], 0, now)).map_err(pub_failed("PUB"))?;
            registry.count_publish(client, topic, 1);
            send_response(net, id, b"OK");
            Ok(())
        }
        Command::Mpub { topic, bodies } => {
            (registry.publish(topic, bodies, 0, now)).map_err(pub_failed("MPUB"))?;
            registry.count_publish(client, topic, bodies.len() as u64);
            send_response(net, id, b"OK");
            Ok(())
        }
        Command::Dpub {
            topic,
            defer_ms,
            body,
        } => {
            (registry.publish(topic, [body], defer_ms, now)).map_err(pub_failed("DPUB"))?;
            registry.count_publish(client, topic, 1);
            send_response(net, id, b"OK");
            Ok(())
        }
        // Not a publish: `dispatch` never routes one here.
        _ => Ok(()),
    }
}

/// The name of a publish command (`None` for the others).
pub(super) fn publish_name(command: &Command<'_>) -> Option<&'static str> {
    match command {
        Command::Pub { .. } => Some("PUB"),
        Command::Mpub { .. } => Some("MPUB"),
        Command::Dpub { .. } => Some("DPUB"),
        _ => None,
    }
}

/// The fatal error of a publish the disk refused: `E_PUB_FAILED PUB failed <err>`
/// (MPUB, DPUB likewise), as Go's nsqd answers.
pub(super) fn pub_failed(command: &'static str) -> impl FnOnce(std::io::Error) -> ProtoError {
    let code = match command {
        "MPUB" => "E_MPUB_FAILED",
        "DPUB" => "E_DPUB_FAILED",
        _ => "E_PUB_FAILED",
    };
    move |e| ProtoError::fatal(code, format!("{command} failed {e}"))
}
