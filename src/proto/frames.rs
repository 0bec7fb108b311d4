//! V2 framing, with no I/O: the magic a client sends first, the frame types, and
//! `[int32 size][int32 type][data]` frames both ways — appended by the server, parsed
//! by a client. It must never panic on peer input: every size is checked.

use super::error::ProtoError;

/// The four bytes a V2 client sends first: two spaces, `V`, `2`.
pub const MAGIC_V2: &[u8; 4] = b"  V2";
/// Frame type of a response (`OK`, `CLOSE_WAIT`, `_heartbeat_`, JSON).
pub const FRAME_RESPONSE: i32 = 0;
/// Frame type of an error (`E_CODE text`).
pub const FRAME_ERROR: i32 = 1;
/// Frame type of a message.
pub const FRAME_MESSAGE: i32 = 2;
/// The heartbeat response body.
pub const HEARTBEAT: &[u8] = b"_heartbeat_";

/// Big-endian i32 at `pos`, if four bytes are there.
pub fn read_i32(buf: &[u8], pos: usize) -> Option<i32> {
    let b = buf.get(pos..pos.checked_add(4)?)?;
    Some(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Appends one frame: `[size][type][data]`, size counting type and data.
pub fn write_frame(out: &mut Vec<u8>, frame_type: i32, data: &[u8]) {
    let size = (4 + data.len()) as i32;
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(&frame_type.to_be_bytes());
    out.extend_from_slice(data);
}

/// Appends a response frame (`OK`, `CLOSE_WAIT`, JSON, ...).
pub fn write_response(out: &mut Vec<u8>, data: &[u8]) {
    write_frame(out, FRAME_RESPONSE, data);
}

/// Appends an error frame carrying `err`'s wire text.
pub fn write_error(out: &mut Vec<u8>, err: &ProtoError) {
    write_frame(out, FRAME_ERROR, err.to_string().as_bytes());
}

/// A frame read by a client: its type and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<'a> {
    /// 0 response, 1 error, 2 message.
    pub frame_type: i32,
    /// The data after the type.
    pub data: &'a [u8],
}

/// Parses one server frame from `buf`: `Ok(None)` for need more, `Err` for a size that
/// cannot be a frame (negative, below 4, or above `max`).
pub fn parse_frame(buf: &[u8], max: usize) -> Result<Option<(Frame<'_>, usize)>, String> {
    let Some(size) = read_i32(buf, 0) else {
        return Ok(None);
    };
    if size < 4 || size as usize > max {
        return Err(format!("invalid frame size {size}"));
    }
    let end = 4 + size as usize;
    let Some(frame_type) = read_i32(buf, 4) else {
        return Ok(None);
    };
    match buf.get(8..end) {
        Some(data) => Ok(Some((Frame { frame_type, data }, end))),
        None => Ok(None),
    }
}
