//! Compression on a V2 connection, negotiated in IDENTIFY: deflate (feature `deflate`,
//! the `flate2` codec) or snappy (feature `snappy`, the `snap` codec, in the snappy
//! framing format). Without a feature nsqd never grants that compression, the client
//! never asks for it, and no [`Codec`] of it can be made.
//!
//! A codec keeps both directions' state; nsqd uses one per connection, the client one
//! for what it reads and another for what it writes (its two halves run on different
//! threads).

#[cfg(feature = "deflate")]
mod deflate;
#[cfg(feature = "snappy")]
mod snappy;

/// True when this build can grant deflate.
pub const DEFLATE: bool = cfg!(feature = "deflate");
/// True when this build can grant snappy.
pub const SNAPPY: bool = cfg!(feature = "snappy");

/// One connection's compression streams, both directions.
#[derive(Debug)]
pub enum Codec {
    /// Raw DEFLATE.
    #[cfg(feature = "deflate")]
    Deflate(deflate::Deflate),
    /// Snappy framing format.
    #[cfg(feature = "snappy")]
    Snappy(Box<snappy::Snappy>),
}

impl Codec {
    /// Deflate at `level`; `None` in a build without it.
    pub fn deflate(level: u32) -> Option<Codec> {
        #[cfg(feature = "deflate")]
        return Some(Codec::Deflate(deflate::Deflate::new(level)));
        #[cfg(not(feature = "deflate"))]
        {
            let _ = level;
            None
        }
    }

    /// Snappy; `None` in a build without it.
    pub fn snappy() -> Option<Codec> {
        #[cfg(feature = "snappy")]
        return Some(Codec::Snappy(Box::default()));
        #[cfg(not(feature = "snappy"))]
        None
    }

    /// Decodes what the client sent onto the end of `out`; an error means the stream
    /// is broken (the connection is then closed).
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        match self {
            #[cfg(feature = "deflate")]
            Codec::Deflate(d) => d.decode(input, out),
            #[cfg(feature = "snappy")]
            Codec::Snappy(s) => s.decode(input, out),
            #[cfg(not(any(feature = "deflate", feature = "snappy")))]
            _ => {
                let _ = (input, out);
                Ok(())
            }
        }
    }

    /// Encodes frames for the client onto the end of `out`, flushed so the client can
    /// decode everything so far.
    pub fn encode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        match self {
            #[cfg(feature = "deflate")]
            Codec::Deflate(d) => d.encode(input, out),
            #[cfg(feature = "snappy")]
            Codec::Snappy(s) => s.encode(input, out),
            #[cfg(not(any(feature = "deflate", feature = "snappy")))]
            _ => {
                let _ = (input, out);
            }
        }
    }
}
