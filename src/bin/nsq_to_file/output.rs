//! One open output file, plain or gzip.
//!
//! A plain file is buffered and flushed on every sync. A gzip file is a series of
//! concatenated gzip members: each sync ends the current member (its trailer holds a
//! checksum, so a reader can tell which messages were acknowledged) and starts the
//! next, as Go's nsq_to_file does. Every sync and close ends with an fsync.

use std::fs::File;
use std::io::{self, BufWriter, Write};

/// An output file being written.
pub enum Output {
    /// Uncompressed.
    Plain(BufWriter<File>),
    /// Gzip members at `level`; `None` only after a failed sync (the tool then exits).
    #[cfg(feature = "gzip")]
    Gzip(Option<flate2::write::GzEncoder<File>>, u32),
}

#[cfg(feature = "gzip")]
fn gzip_member(file: File, level: u32) -> flate2::write::GzEncoder<File> {
    flate2::write::GzEncoder::new(file, flate2::Compression::new(level))
}

#[cfg(feature = "gzip")]
fn lost() -> io::Error {
    io::Error::other("gzip stream lost after a failed sync")
}

impl Output {
    /// Writes to `file`, compressing at `gzip_level` if given (options only allow a
    /// level when the `gzip` feature is built in).
    pub fn new(file: File, gzip_level: Option<u32>) -> Output {
        #[cfg(feature = "gzip")]
        if let Some(level) = gzip_level {
            return Output::Gzip(Some(gzip_member(file, level)), level);
        }
        #[cfg(not(feature = "gzip"))]
        debug_assert!(
            gzip_level.is_none(),
            "--gzip is refused without the feature"
        );
        Output::Plain(BufWriter::with_capacity(64 << 10, file))
    }

    /// Writes all of `buf` (uncompressed bytes).
    pub fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Output::Plain(w) => w.write_all(buf),
            #[cfg(feature = "gzip")]
            Output::Gzip(enc, _) => enc.as_mut().ok_or_else(lost)?.write_all(buf),
        }
    }

    /// Makes everything written so far durable.
    pub fn sync(&mut self) -> io::Result<()> {
        match self {
            Output::Plain(w) => {
                w.flush()?;
                w.get_ref().sync_all()
            }
            #[cfg(feature = "gzip")]
            Output::Gzip(enc, level) => {
                let file = enc.take().ok_or_else(lost)?.finish()?;
                file.sync_all()?;
                *enc = Some(gzip_member(file, *level));
                Ok(())
            }
        }
    }

    /// Ends the file (the last gzip member), fsyncs and closes it.
    pub fn close(self) -> io::Result<()> {
        let file = match self {
            Output::Plain(w) => w.into_inner().map_err(|e| e.into_error())?,
            #[cfg(feature = "gzip")]
            Output::Gzip(enc, _) => enc.ok_or_else(lost)?.finish()?,
        };
        file.sync_all()
    }
}
