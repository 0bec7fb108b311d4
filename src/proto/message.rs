//! The message layout on the wire, with no I/O: the 16-byte ID, the 26-byte header
//! (timestamp, attempts, ID) and the message frame that carries header and body.

use super::frames::FRAME_MESSAGE;

/// A message ID as it travels: 16 ASCII bytes (nsqd makes lowercase hex).
pub type MessageId = [u8; 16];

/// Bytes of a message before its body: timestamp (8), attempts (2), id (16).
pub const MESSAGE_HEADER_LEN: usize = 26;

/// Appends a message frame: `[size][2][ts][attempts][id][body]`.
pub fn write_message(out: &mut Vec<u8>, ts: i64, attempts: u16, id: &MessageId, body: &[u8]) {
    let size = (4 + MESSAGE_HEADER_LEN + body.len()) as i32;
    out.reserve(8 + MESSAGE_HEADER_LEN + body.len());
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(&FRAME_MESSAGE.to_be_bytes());
    out.extend_from_slice(&ts.to_be_bytes());
    out.extend_from_slice(&attempts.to_be_bytes());
    out.extend_from_slice(id);
    out.extend_from_slice(body);
}

/// A message decoded from the data of a message frame (or a disk record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedMessage<'a> {
    /// Publish time, Unix nanoseconds.
    pub timestamp: i64,
    /// Delivery attempts so far.
    pub attempts: u16,
    /// The message ID.
    pub id: MessageId,
    /// The body.
    pub body: &'a [u8],
}

/// Decodes the 26-byte header and body of a message; `None` when too short.
pub fn decode_message(data: &[u8]) -> Option<DecodedMessage<'_>> {
    let header = data.get(..MESSAGE_HEADER_LEN)?;
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&header[..8]);
    let mut id = [0u8; 16];
    id.copy_from_slice(&header[10..26]);
    Some(DecodedMessage {
        timestamp: i64::from_be_bytes(ts),
        attempts: u16::from_be_bytes([header[8], header[9]]),
        id,
        body: &data[MESSAGE_HEADER_LEN..],
    })
}
