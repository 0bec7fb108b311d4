//! Deflate on a V2 connection (IDENTIFY `deflate: true`): raw DEFLATE (RFC 1951, no
//! zlib header) both ways, the server's output sync-flushed at each flush point, as
//! Go's nsqd does. The codec is `flate2`.

/// One connection's deflate streams.
pub struct Deflate {
    inflate: flate2::Decompress,
    deflate: flate2::Compress,
}

impl std::fmt::Debug for Deflate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Deflate")
    }
}

impl Deflate {
    /// Streams compressing at `level` (1..=9).
    pub fn new(level: u32) -> Deflate {
        Deflate {
            inflate: flate2::Decompress::new(false),
            deflate: flate2::Compress::new(flate2::Compression::new(level.clamp(1, 9)), false),
        }
    }

    /// Inflates `input` (what the client sent) onto the end of `out`. Fails on a
    /// stream that is not valid deflate (the connection is then closed).
    pub fn decode(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        while !input.is_empty() {
            out.reserve(input.len().max(4096) * 2);
            let before = self.inflate.total_in();
            let produced = self.inflate.total_out();
            let status = self
                .inflate
                .decompress_vec(input, out, flate2::FlushDecompress::None)
                .map_err(|e| e.to_string())?;
            let used = (self.inflate.total_in() - before) as usize;
            input = &input[used..];
            if status == flate2::Status::StreamEnd {
                return Err("the client ended its deflate stream".into());
            }
            if used == 0 && self.inflate.total_out() == produced {
                return Err("deflate stream made no progress".into());
            }
        }
        Ok(())
    }

    /// Deflates `input` onto the end of `out`, sync-flushed so that the client can
    /// decode everything so far.
    pub fn encode(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        loop {
            out.reserve(input.len() / 2 + 64);
            let before = self.deflate.total_in();
            let result = self
                .deflate
                .compress_vec(input, out, flate2::FlushCompress::Sync);
            if let Err(e) = result {
                log::error!("deflate: {e}");
                return;
            }
            input = &input[(self.deflate.total_in() - before) as usize..];
            // Done once all input is taken and the flush fit in the spare capacity.
            if input.is_empty() && out.len() < out.capacity() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn what_we_encode_a_plain_raw_inflater_reads_at_each_flush() {
        let mut d = Deflate::new(6);
        let mut wire = Vec::new();
        d.encode(b"first frame", &mut wire);
        let at_flush = wire.len();
        d.encode(&vec![b'x'; 100_000], &mut wire);
        let mut first = Vec::new();
        let mut reader = flate2::read::DeflateDecoder::new(&wire[..at_flush]);
        let _ = reader.read_to_end(&mut first);
        assert_eq!(first, b"first frame", "readable without waiting for more");
        let mut all = Vec::new();
        let _ = flate2::read::DeflateDecoder::new(&wire[..]).read_to_end(&mut all);
        assert_eq!(all.len(), 11 + 100_000);
    }

    #[test]
    fn what_a_raw_deflater_sends_we_decode_in_any_pieces() {
        let mut w = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(3));
        let text: Vec<u8> = (0..50_000u32).flat_map(|i| i.to_be_bytes()).collect();
        w.write_all(&text).unwrap();
        w.flush().unwrap();
        let wire = w.get_ref().clone();
        let mut d = Deflate::new(6);
        let mut out = Vec::new();
        for piece in wire.chunks(7) {
            d.decode(piece, &mut out).unwrap();
        }
        assert_eq!(out, text);
        assert!(
            d.decode(b"\xff\xff\xff\xff", &mut Vec::new()).is_err(),
            "garbage fails"
        );
    }
}
