//! One blocking V2 connection as the bench workers use it: connecting with
//! `TCP_NODELAY`, the IDENTIFY and MPUB commands, and a buffered frame reader that
//! answers heartbeats. No threads, no timing.

use nsq::proto::{self, FRAME_ERROR, FRAME_RESPONSE, HEARTBEAT};
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::ops::Range;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Bytes the tools ask from the socket per read.
pub(super) const READ_CHUNK: usize = 256 * 1024;
/// FINs are written once this many bytes wait (Go's bufio.Writer size), or when
/// the received bytes are used up.
pub(super) const FLUSH_AT: usize = 4096;

pub(super) fn other(msg: impl Into<String>) -> io::Error {
    io::Error::other(msg.into())
}

pub(super) fn connect(addr: &str) -> io::Result<TcpStream> {
    let mut last = other(format!("{addr}: no address"));
    for sa in addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&sa, Duration::from_secs(1)) {
            Ok(s) => {
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

pub(super) fn identify_cmd(role: &str) -> Vec<u8> {
    let body = serde_json::json!({
        "client_id": role,
        "hostname": role,
        "user_agent": format!("nsq_bench/{}", env!("CARGO_PKG_VERSION")),
    })
    .to_string();
    let mut cmd = b"IDENTIFY\n".to_vec();
    cmd.extend_from_slice(&(body.len() as u32).to_be_bytes());
    cmd.extend_from_slice(body.as_bytes());
    cmd
}

/// Buffered frames read from one connection.
pub(super) struct FrameReader {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    max_frame: usize,
}

impl FrameReader {
    pub(super) fn new(max_body: usize) -> Self {
        FrameReader {
            buf: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
            max_frame: max_body.max(1 << 20) + 64,
        }
    }

    /// The next complete frame as (type, range of its data in [`Self::data`]).
    pub(super) fn next_frame(&mut self) -> io::Result<Option<(i32, Range<usize>)>> {
        match proto::parse_frame(&self.buf[self.start..self.end], self.max_frame) {
            Ok(Some((frame, used))) => {
                let data = self.start + 8..self.start + used;
                self.start += used;
                Ok(Some((frame.frame_type, data)))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(io::Error::new(io::ErrorKind::InvalidData, e)),
        }
    }

    pub(super) fn data(&self, range: Range<usize>) -> &[u8] {
        &self.buf[range]
    }

    /// Reads more bytes; frames returned earlier are invalidated. EOF is an error.
    pub(super) fn fill(&mut self, stream: &mut TcpStream) -> io::Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < READ_CHUNK / 4 {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = stream.read(&mut self.buf[self.end..])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed by peer",
            ));
        }
        self.end += n;
        Ok(())
    }

    /// Waits for the next response frame, answering heartbeats; error frames fail.
    pub(super) fn response(&mut self, stream: &mut TcpStream) -> io::Result<Vec<u8>> {
        loop {
            while let Some((kind, range)) = self.next_frame()? {
                let data = self.data(range);
                match kind {
                    FRAME_RESPONSE if data == HEARTBEAT => stream.write_all(b"NOP\n")?,
                    FRAME_RESPONSE => return Ok(data.to_vec()),
                    FRAME_ERROR => return Err(other(String::from_utf8_lossy(data))),
                    k => return Err(other(format!("unexpected frame type {k}"))),
                }
            }
            self.fill(stream)?;
        }
    }
}

pub(super) fn expect_ok(r: &mut FrameReader, stream: &mut TcpStream, what: &str) -> io::Result<()> {
    let resp = r.response(stream)?;
    if resp != b"OK" {
        return Err(other(format!(
            "{what}: expected OK, got {:?}",
            String::from_utf8_lossy(&resp)
        )));
    }
    Ok(())
}

/// An encoded `MPUB <topic>` of `n` bodies of `size` zero bytes.
pub(super) fn mpub_cmd(topic: &str, n: usize, size: usize) -> Vec<u8> {
    let mut cmd = format!("MPUB {topic}\n").into_bytes();
    let body_len = 4 + n * (4 + size);
    cmd.reserve(4 + body_len);
    cmd.extend_from_slice(&(body_len as u32).to_be_bytes());
    cmd.extend_from_slice(&(n as u32).to_be_bytes());
    for _ in 0..n {
        cmd.extend_from_slice(&(size as u32).to_be_bytes());
        cmd.resize(cmd.len() + size, 0);
    }
    cmd
}

/// Nanoseconds since the Unix epoch (shared by processes on one machine).
pub(super) fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
