//! Snappy on a V2 connection (IDENTIFY `snappy: true`), in the snappy framing format
//! as Go's nsqd speaks it: a stream identifier chunk, then chunks of
//! `[type][3-byte LE length][masked CRC-32C of the data][data]`, type 0x00 compressed
//! (snappy block format, the `snap` codec) or 0x01 stored. Chunks carry at most
//! 64 KiB of data; skippable chunks (0x80..=0xfe) are skipped.

/// The stream identifier chunk that starts each direction.
const STREAM_ID: &[u8] = b"\xff\x06\x00\x00sNaPpY";
/// Most uncompressed bytes in one chunk.
const MAX_BLOCK: usize = 65536;
/// Largest chunk a client may send: a compressed 64 KiB block and its CRC.
const MAX_CHUNK: usize = 4 + 76_490;

/// One connection's snappy streams.
pub struct Snappy {
    /// Bytes of the client's stream not yet forming a whole chunk.
    pending: Vec<u8>,
    /// The client's stream identifier has been seen.
    started: bool,
    /// Our stream identifier has been sent.
    sent_id: bool,
    encoder: snap::raw::Encoder,
    decoder: snap::raw::Decoder,
}

impl std::fmt::Debug for Snappy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Snappy")
    }
}

impl Default for Snappy {
    fn default() -> Snappy {
        Snappy {
            pending: Vec::new(),
            started: false,
            sent_id: false,
            encoder: snap::raw::Encoder::new(),
            decoder: snap::raw::Decoder::new(),
        }
    }
}

impl Snappy {
    /// Decodes whole chunks of what the client sent onto `out`; a partial chunk waits
    /// for the rest. Fails on a bad identifier, CRC, block or chunk type.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        self.pending.extend_from_slice(input);
        let mut at = 0;
        while let Some(header) = self.pending.get(at..at + 4) {
            let kind = header[0];
            let len =
                usize::from(header[1]) | usize::from(header[2]) << 8 | usize::from(header[3]) << 16;
            if len > MAX_CHUNK && kind < 0x80 {
                return Err(format!("snappy chunk of {len} bytes"));
            }
            let Some(body) = self.pending.get(at + 4..at + 4 + len) else {
                break;
            };
            match kind {
                0xff if body == b"sNaPpY" => self.started = true,
                0xff => return Err("bad snappy stream identifier".into()),
                _ if !self.started => return Err("snappy data before the stream identifier".into()),
                0x00 | 0x01 if len < 4 => return Err("snappy chunk without a CRC".into()),
                0x00 => {
                    let data = self
                        .decoder
                        .decompress_vec(&body[4..])
                        .map_err(|e| format!("snappy block: {e}"))?;
                    check_crc(&body[..4], &data)?;
                    out.extend_from_slice(&data);
                }
                0x01 => {
                    check_crc(&body[..4], &body[4..])?;
                    out.extend_from_slice(&body[4..]);
                }
                0x80..=0xfe => {}
                other => return Err(format!("reserved snappy chunk type {other:#04x}")),
            }
            at += 4 + len;
        }
        self.pending.drain(..at);
        Ok(())
    }

    /// Encodes `input` as whole chunks onto `out` (the stream identifier first).
    pub fn encode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        if !self.sent_id {
            out.extend_from_slice(STREAM_ID);
            self.sent_id = true;
        }
        for block in input.chunks(MAX_BLOCK) {
            let crc = masked_crc32c(block).to_le_bytes();
            let compressed = self
                .encoder
                .compress_vec(block)
                .ok()
                .filter(|c| c.len() < block.len());
            let (kind, data) = match &compressed {
                Some(c) => (0x00, c.as_slice()),
                None => (0x01, block),
            };
            let len = (4 + data.len()) as u32;
            out.push(kind);
            out.extend_from_slice(&len.to_le_bytes()[..3]);
            out.extend_from_slice(&crc);
            out.extend_from_slice(data);
        }
    }
}

fn check_crc(stored: &[u8], data: &[u8]) -> Result<(), String> {
    let mut le = [0u8; 4];
    le.copy_from_slice(stored);
    if u32::from_le_bytes(le) == masked_crc32c(data) {
        Ok(())
    } else {
        Err("snappy chunk CRC mismatch".into())
    }
}

/// CRC-32C (Castagnoli), masked as the framing format asks.
fn masked_crc32c(data: &[u8]) -> u32 {
    let crc = !data.iter().fold(!0u32, |crc, &b| {
        CRC_TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8)
    });
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn crc32c_matches_the_standard_check_value() {
        let crc = !b"123456789".iter().fold(!0u32, |crc, &b| {
            CRC_TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8)
        });
        assert_eq!(crc, 0xe306_9283);
    }

    #[test]
    fn what_we_encode_snaps_own_frame_decoder_reads() {
        let mut s = Snappy::default();
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let mut wire = Vec::new();
        s.encode(b"OK", &mut wire);
        s.encode(&text, &mut wire);
        let mut plain = Vec::new();
        snap::read::FrameDecoder::new(&wire[..])
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(&plain[..2], b"OK");
        assert_eq!(&plain[2..], &text[..]);
    }

    #[test]
    fn what_snaps_frame_encoder_writes_we_decode_in_any_pieces() {
        let text: Vec<u8> = (0..100_000u32).flat_map(|i| i.to_be_bytes()).collect();
        let mut w = snap::write::FrameEncoder::new(Vec::new());
        w.write_all(&text).unwrap();
        let wire = w.into_inner().unwrap();
        let mut s = Snappy::default();
        let mut out = Vec::new();
        for piece in wire.chunks(1000) {
            s.decode(piece, &mut out).unwrap();
        }
        assert_eq!(out, text);
    }

    #[test]
    fn broken_streams_fail() {
        let mut s = Snappy::default();
        assert!(
            s.decode(b"\x01\x05\x00\x00\x00\x00\x00\x00x", &mut Vec::new())
                .is_err(),
            "no identifier"
        );
        let mut s = Snappy::default();
        let mut wire = STREAM_ID.to_vec();
        wire.extend_from_slice(b"\x01\x05\x00\x00\xde\xad\xbe\xefx");
        assert!(s
            .decode(&wire, &mut Vec::new())
            .unwrap_err()
            .contains("CRC"));
        let mut s = Snappy::default();
        let mut wire = STREAM_ID.to_vec();
        wire.extend_from_slice(b"\x02\x01\x00\x00x");
        assert!(s
            .decode(&wire, &mut Vec::new())
            .unwrap_err()
            .contains("reserved"));
    }
}
