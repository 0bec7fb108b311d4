//! Where a V2 connection's frames go, and the layers negotiated around them: frames
//! are written to the output buffer, or — once IDENTIFY turned on compression or TLS —
//! staged plain and passed through the compression, then TLS, just before the flush;
//! input goes the other way (TLS, then decompression) before parsing. Never parses a
//! command.

use super::conn::V2Conn;
use crate::proto::{self, ProtoError};
use crate::reactor::{ConnId, Connection, Net};

/// Where frames for `id` go: its output buffer, or the plain staging buffer that is
/// encoded before the flush. Marks the connection for flushing; `None` once closing.
pub(super) fn out(net: &mut Net<V2Conn>, id: ConnId) -> Option<&mut Vec<u8>> {
    net.output(id)?;
    let conn = net.conn(id)?;
    Some(match conn.state.layered() {
        true => &mut conn.state.plain_out,
        false => &mut conn.output,
    })
}

/// How many plain frame bytes `conn` has staged (where the next frame will start).
pub(super) fn out_len(conn: &Connection<V2Conn>) -> usize {
    match conn.state.layered() {
        true => conn.state.plain_out.len(),
        false => conn.output.len(),
    }
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

/// Takes the connection's unparsed input, decrypted and decompressed when those are
/// on; `None` (the reason logged) when the TLS or compressed stream is broken. What
/// TLS must answer (handshake, alerts) is put straight into the output buffer.
pub(super) fn take_input(conn: &mut Connection<V2Conn>) -> Option<Vec<u8>> {
    if !conn.state.layered() {
        return Some(std::mem::take(&mut conn.input));
    }
    let raw = std::mem::take(&mut conn.input);
    let state = &mut conn.state;
    let decrypted;
    let below: &[u8] = match state.tls.as_mut() {
        Some(tls) => {
            let mut plain = Vec::new();
            if let Err(e) = tls.read(&raw, &mut plain, &mut conn.output) {
                log::info!("client({}) IDENTIFY failed: TLS: {e}", state.client);
                return None;
            }
            decrypted = plain;
            &decrypted
        }
        None => &raw,
    };
    match state.codec.as_mut() {
        Some(codec) => {
            if let Err(e) = codec.decode(below, &mut state.plain_in) {
                log::info!("client({}) bad compressed stream: {e}", state.client);
                return None;
            }
        }
        None => state.plain_in.extend_from_slice(below),
    }
    Some(std::mem::take(&mut state.plain_in))
}

/// The input left when the peer closed, decoded through the layers that are on (a
/// broken tail is ignored).
pub(super) fn input_at_eof(conn: &mut Connection<V2Conn>) -> &[u8] {
    if conn.state.layered() {
        conn.state.plain_in = take_input(conn).unwrap_or_default();
        return &conn.state.plain_in;
    }
    &conn.input
}

/// Passes the staged plain frames through the compression and TLS into the output
/// buffer.
pub(super) fn encode_output(conn: &mut Connection<V2Conn>) {
    let state = &mut conn.state;
    if state.plain_out.is_empty() {
        return;
    }
    match (state.codec.as_mut(), state.tls.as_mut()) {
        (None, None) => return,
        (Some(codec), None) => codec.encode(&state.plain_out, &mut conn.output),
        (None, Some(tls)) => tls.write(&state.plain_out, &mut conn.output),
        (Some(codec), Some(tls)) => {
            let mut compressed = Vec::new();
            codec.encode(&state.plain_out, &mut compressed);
            tls.write(&compressed, &mut conn.output);
        }
    }
    state.plain_out.clear();
}
