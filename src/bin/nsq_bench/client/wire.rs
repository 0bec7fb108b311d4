//! One blocking V2 connection as the bench workers use it: connecting with
//! `TCP_NODELAY`, the handshake ([`open`]: IDENTIFY, the TLS upgrade when asked, SUB),
//! the PUB and MPUB commands, and a buffered frame reader that answers heartbeats. The frame
//! reader works on any `Read + Write`, so the worker loops run unchanged (and
//! monomorphized, the plain path as before) over TCP or TLS. No threads, no timing.

use super::tls::TlsClient;
#[cfg(feature = "tls")]
use super::tls::TlsStream;
use crate::Options;
use nsq::proto::{self, FRAME_ERROR, FRAME_RESPONSE, HEARTBEAT, MAGIC_V2};
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

/// IDENTIFY; with `tls` it negotiates features and asks for TLS (`tls_v1`), so nsqd
/// answers with its JSON instead of `OK`.
pub(super) fn identify_cmd(role: &str, tls: bool) -> Vec<u8> {
    let mut body = serde_json::json!({
        "client_id": role,
        "hostname": role,
        "user_agent": format!("nsq_bench/{}", env!("CARGO_PKG_VERSION")),
    });
    if tls {
        body["feature_negotiation"] = true.into();
        body["tls_v1"] = true.into();
    }
    let body = body.to_string();
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

    /// True when every byte read has been handed out as a frame.
    #[cfg(feature = "tls")]
    pub(super) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Reads more bytes; frames returned earlier are invalidated. EOF is an error.
    pub(super) fn fill<S: Read>(&mut self, stream: &mut S) -> io::Result<()> {
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
    pub(super) fn response<S: Read + Write>(&mut self, stream: &mut S) -> io::Result<Vec<u8>> {
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

pub(super) fn expect_ok<S: Read + Write>(
    r: &mut FrameReader,
    stream: &mut S,
    what: &str,
) -> io::Result<()> {
    let resp = r.response(stream)?;
    if resp != b"OK" {
        return Err(other(format!(
            "{what}: expected OK, got {:?}",
            String::from_utf8_lossy(&resp)
        )));
    }
    Ok(())
}

/// A worker's connection after the handshake: plain TCP, or TLS over it.
pub(super) enum Conn {
    Plain(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<TlsStream>),
}

impl Conn {
    /// The TCP socket underneath (for socket options).
    pub(super) fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(s) => s,
            #[cfg(feature = "tls")]
            Conn::Tls(s) => &s.sock,
        }
    }
}

/// Connects and shakes hands as `role`: the magic and IDENTIFY, then, with `tls`,
/// IDENTIFY's plain JSON reply, the TLS handshake and the `OK` inside TLS (§9); then
/// `sub` (a SUB command) and its `OK`. Plain connections send all of it at once.
pub(super) fn open(
    opts: &Options,
    tls: Option<&TlsClient>,
    role: &str,
    sub: Option<&[u8]>,
) -> io::Result<(Conn, FrameReader)> {
    let mut tcp = connect(&opts.nsqd_tcp_address)?;
    let mut reader = FrameReader::new(opts.size);
    let mut hello = MAGIC_V2.to_vec();
    hello.extend_from_slice(&identify_cmd(role, tls.is_some()));
    let Some(tls) = tls else {
        hello.extend_from_slice(sub.unwrap_or_default());
        tcp.write_all(&hello)?;
        expect_ok(&mut reader, &mut tcp, "IDENTIFY")?;
        if sub.is_some() {
            expect_ok(&mut reader, &mut tcp, "SUB")?;
        }
        return Ok((Conn::Plain(tcp), reader));
    };
    #[cfg(not(feature = "tls"))]
    match *tls {}
    #[cfg(feature = "tls")]
    {
        tcp.write_all(&hello)?;
        let reply = reader.response(&mut tcp)?;
        let json: serde_json::Value = serde_json::from_slice(&reply).map_err(|_| {
            other(format!(
                "IDENTIFY: expected JSON, got {:?}",
                String::from_utf8_lossy(&reply)
            ))
        })?;
        if json["tls_v1"] != true {
            return Err(other(
                "IDENTIFY: nsqd did not grant tls_v1 (started without --tls-cert/--tls-key?)",
            ));
        }
        if !reader.is_empty() {
            return Err(other("IDENTIFY: bytes after the reply, before TLS"));
        }
        let mut stream = tls.wrap(tcp)?;
        expect_ok(&mut reader, &mut stream, "TLS")?;
        if let Some(sub) = sub {
            stream.write_all(sub)?;
            expect_ok(&mut reader, &mut stream, "SUB")?;
        }
        Ok((Conn::Tls(Box::new(stream)), reader))
    }
}

/// One encoded publish command and where its bodies sit in it (for timestamps).
pub(super) struct PubCmd {
    /// The command's bytes.
    pub(super) bytes: Vec<u8>,
    /// Offset of the first body.
    pub(super) first_body: usize,
    /// Distance from one body to the next.
    pub(super) stride: usize,
    /// `PUB` or `MPUB`, for errors.
    pub(super) verb: &'static str,
}

/// `n` bodies of `size` zero bytes for `topic`: a `PUB` when `single` (then `n` must
/// be 1), else an `MPUB`.
pub(super) fn publish_cmd(topic: &str, n: usize, size: usize, single: bool) -> PubCmd {
    if single {
        debug_assert_eq!(n, 1);
        let mut bytes = format!("PUB {topic}\n").into_bytes();
        bytes.extend_from_slice(&(size as u32).to_be_bytes());
        let first_body = bytes.len();
        bytes.resize(first_body + size, 0);
        return PubCmd {
            bytes,
            first_body,
            stride: 4 + size,
            verb: "PUB",
        };
    }
    let mut bytes = format!("MPUB {topic}\n").into_bytes();
    let first_body = bytes.len() + 12;
    let body_len = 4 + n * (4 + size);
    bytes.reserve(4 + body_len);
    bytes.extend_from_slice(&(body_len as u32).to_be_bytes());
    bytes.extend_from_slice(&(n as u32).to_be_bytes());
    for _ in 0..n {
        bytes.extend_from_slice(&(size as u32).to_be_bytes());
        bytes.resize(bytes.len() + size, 0);
    }
    PubCmd {
        bytes,
        first_body,
        stride: 4 + size,
        verb: "MPUB",
    }
}

/// Nanoseconds since the Unix epoch (shared by processes on one machine).
pub(super) fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nsq::proto::{parse, ClientState, Command, Limits, ParseContext};

    /// Parses `bytes` as nsqd would: the command, and every byte used.
    fn parsed(bytes: &[u8], f: impl FnOnce(Command<'_>)) {
        let limits = Limits {
            max_msg_size: 1 << 20,
            max_body_size: 5 << 20,
            max_rdy_count: 2500,
            max_req_timeout_ms: 3_600_000,
        };
        let ctx = ParseContext {
            state: ClientState::Init,
            heartbeats_enabled: true,
            limits: &limits,
            tls_missing: false,
        };
        let (cmd, used) = parse(bytes, &ctx).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        f(cmd);
    }

    #[test]
    fn pub_and_mpub_parse_and_bodies_sit_where_said() {
        let mut one = publish_cmd("t", 1, 10, true);
        assert_eq!((one.verb, one.first_body), ("PUB", 6 + 4));
        one.bytes[one.first_body] = 7;
        parsed(&one.bytes, |c| match c {
            Command::Pub { topic, body } => {
                assert_eq!(topic, "t");
                assert_eq!(body.len(), 10);
                assert_eq!(body[0], 7);
            }
            other => panic!("{other:?}"),
        });
        let mut three = publish_cmd("t", 3, 10, false);
        assert_eq!(three.verb, "MPUB");
        for i in 0..3 {
            three.bytes[three.first_body + i * three.stride] = i as u8 + 1;
        }
        parsed(&three.bytes, |c| match c {
            Command::Mpub { topic, bodies } => {
                assert_eq!(topic, "t");
                let firsts: Vec<u8> = bodies.map(|b| b[0]).collect();
                assert_eq!(firsts, [1, 2, 3]);
            }
            other => panic!("{other:?}"),
        });
    }
}
