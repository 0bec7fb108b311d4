//! What each V1 command does to the registration DB, with nsqlookupd's log lines,
//! and the decoding of an nsqd's IDENTIFY body. The DB lock is held for one DB call.

use super::handler::{lock, V1Conn, V1Handler};
use crate::lookupd::db::PeerInfo;
use crate::proto::v1::Command;
use crate::proto::ProtoError;
use serde_json::{Map, Value};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

fn unix_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

impl V1Handler {
    /// Runs one parsed command against the DB; the bytes to answer, or the fatal error.
    pub(super) fn execute(
        &self,
        conn: &mut V1Conn,
        command: Command<'_>,
    ) -> Result<&[u8], ProtoError> {
        let peer = &conn.peer_id;
        match command {
            Command::Ping => {
                if conn.identified {
                    log::debug!("CLIENT({peer}): pinged");
                    lock(&self.db).touch_peer(peer, Instant::now(), unix_nanos());
                }
                Ok(b"OK")
            }
            Command::Identify(body) => {
                let info = decode_identify(body, peer)?;
                log::info!(
                    "CLIENT({peer}): IDENTIFY Address:{} TCP:{} HTTP:{} Version:{}",
                    info.broadcast_address,
                    info.tcp_port,
                    info.http_port,
                    info.version
                );
                lock(&self.db).add_peer(info);
                conn.identified = true;
                log::info!("DB: client({peer}) REGISTER category:client key: subkey:");
                Ok(&self.reply)
            }
            Command::Register { topic, channel } => {
                lock(&self.db).register(peer, topic, channel);
                if let Some(channel) = channel {
                    log::info!(
                        "DB: client({peer}) REGISTER category:channel key:{topic} subkey:{channel}"
                    );
                }
                log::info!("DB: client({peer}) REGISTER category:topic key:{topic} subkey:");
                Ok(b"OK")
            }
            Command::Unregister { topic, channel } => {
                let unexpected = lock(&self.db).unregister(peer, topic, channel);
                match channel {
                    Some(channel) => log::info!(
                        "DB: client({peer}) UNREGISTER category:channel key:{topic} subkey:{channel}"
                    ),
                    None => {
                        if unexpected > 0 {
                            log::warn!(
                                "client({peer}) unexpected UNREGISTER category:channel key:{topic} ({unexpected} channels)"
                            );
                        }
                        log::info!(
                            "DB: client({peer}) UNREGISTER category:topic key:{topic} subkey:"
                        );
                    }
                }
                Ok(b"OK")
            }
        }
    }
}

/// Decodes an IDENTIFY body as Go's `json.Unmarshal` into `PeerInfo` would: unknown
/// keys ignored, `null` leaves a field empty, a key matches its field case-insensitively
/// when no exact match exists, a wrong type is a decode error. Ports must fit a `u16`
/// (Go would take any `int`).
fn decode_identify(body: &[u8], peer: &str) -> Result<PeerInfo, ProtoError> {
    let decode_err = || ProtoError::fatal("E_BAD_BODY", "IDENTIFY failed to decode JSON body");
    let value: Value = serde_json::from_slice(body).map_err(|_| decode_err())?;
    let empty = Map::new();
    let obj = match &value {
        Value::Object(obj) => obj,
        Value::Null => &empty,
        _ => return Err(decode_err()),
    };
    let field = |name: &str| {
        obj.get(name)
            .or_else(|| {
                obj.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
            })
            .filter(|v| !v.is_null())
    };
    let string = |name: &str| match field(name) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(decode_err()),
    };
    let port = |name: &str| match field(name) {
        None => Ok(0),
        Some(v) => v
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(decode_err),
    };
    string("remote_address")?; // decoded (so type-checked) by Go, then overwritten
    let info = PeerInfo {
        id: peer.to_string(),
        remote_address: peer.to_string(),
        hostname: string("hostname")?,
        broadcast_address: string("broadcast_address")?,
        tcp_port: port("tcp_port")?,
        http_port: port("http_port")?,
        version: string("version")?,
        topology_zone: string("topology_zone")?,
        topology_region: string("topology_region")?,
        last_update: Instant::now(),
        last_update_unix_ns: unix_nanos(),
    };
    if info.broadcast_address.is_empty()
        || info.tcp_port == 0
        || info.http_port == 0
        || info.version.is_empty()
    {
        return Err(ProtoError::fatal("E_BAD_BODY", "IDENTIFY missing fields"));
    }
    Ok(info)
}
