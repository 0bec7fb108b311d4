//! Where a V2 connection's frames go, and the negotiated compression around them:
//! frames are written to the output buffer, or staged plain and encoded just before
//! the flush; compressed input is decoded before parsing. Never parses a command.

use super::conn::V2Conn;
use crate::proto::{self, ProtoError};
use crate::reactor::{ConnId, Connection, Net};

/// Where frames for `id` go: its output buffer, or the plain staging buffer that is
/// compressed before the flush. Marks the connection for flushing; `None` once closing.
pub(super) fn out(net: &mut Net<V2Conn>, id: ConnId) -> Option<&mut Vec<u8>> {
    net.output(id)?;
    let conn = net.conn(id)?;
    Some(match conn.state.codec {
        Some(_) => &mut conn.state.plain_out,
        None => &mut conn.output,
    })
}

pub(super) fn send_response(net: &mut Net<V2Conn>, id: ConnId, data: &[u8]) {
    if let Some(out) = out(net, id) {
        proto::write_response(out, data);
    }
}

pub(super) fn send_error(net: &mut Net<V2Conn>, id: ConnId, err: &ProtoError) {
    if let Some(out) = out(net, id) {
        proto::write_error(out, err);
    }
}

/// Takes the connection's unparsed input, decoded when compression is on; `None` (the
/// reason logged) when the compressed stream is corrupt.
pub(super) fn take_input(conn: &mut Connection<V2Conn>) -> Option<Vec<u8>> {
    if conn.state.codec.is_none() {
        return Some(std::mem::take(&mut conn.input));
    }
    let raw = std::mem::take(&mut conn.input);
    let state = &mut conn.state;
    if let Some(Err(e)) = state
        .codec
        .as_mut()
        .map(|d| d.decode(&raw, &mut state.plain_in))
    {
        log::info!("client({}) bad compressed stream: {e}", state.client);
        return None;
    }
    Some(std::mem::take(&mut conn.state.plain_in))
}

/// The input left when the peer closed, decoded when compression is on (a corrupt
/// tail is ignored).
pub(super) fn input_at_eof(conn: &mut Connection<V2Conn>) -> &[u8] {
    let state = &mut conn.state;
    if let Some(d) = state.codec.as_mut() {
        let _ = d.decode(&conn.input, &mut state.plain_in);
    }
    match &state.codec {
        Some(_) => &state.plain_in,
        None => &conn.input,
    }
}

/// Encodes the staged plain frames into the output buffer (compression on).
pub(super) fn encode_output(conn: &mut Connection<V2Conn>) {
    let state = &mut conn.state;
    if let Some(d) = state.codec.as_mut() {
        if !state.plain_out.is_empty() {
            d.encode(&state.plain_out, &mut conn.output);
            state.plain_out.clear();
        }
    }
}
