//! One V2 connection to nsqd: dial with a timeout, the magic, IDENTIFY with feature
//! negotiation, AUTH when the server requires it, then frames in and commands out.
//!
//! A [`Conn`] splits into a [`Reader`] (one thread reads frames; heartbeats are
//! answered with `NOP` on the way) and a [`Writer`] that any thread may clone and use.
//! Upgrades follow go-nsq's order: TLS first (the handshake right after IDENTIFY's
//! JSON reply, then nsqd's `OK` inside TLS), then `deflate` or `snappy` on top of it,
//! each half carrying its own codec and its half of the TLS connection.

use super::{Config, Error, Message};
use crate::common::net::reason;
use crate::compress::Codec;
use crate::proto::{self, commands, FRAME_ERROR, FRAME_MESSAGE, FRAME_RESPONSE, HEARTBEAT};
use crate::tls::{ClientReader, ClientTls, ClientWriter};
use serde::Deserialize;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Largest frame accepted when `max_msg_size` is 0 (no client-side limit).
const MAX_FRAME: usize = i32::MAX as usize;

/// What nsqd answered to IDENTIFY (go-nsq's `IdentifyResponse`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ServerSettings {
    /// The largest RDY this nsqd accepts.
    pub max_rdy_count: u64,
    /// nsqd's version.
    pub version: String,
    /// The largest message timeout a client may ask for, in ms.
    pub max_msg_timeout: u64,
    /// This connection's message timeout, in ms.
    pub msg_timeout: u64,
    /// True when commands other than IDENTIFY need AUTH first.
    pub auth_required: bool,
    /// TLS granted.
    pub tls_v1: bool,
    /// Snappy granted.
    pub snappy: bool,
    /// Deflate granted.
    pub deflate: bool,
    /// The deflate level granted.
    pub deflate_level: u32,
}

/// One frame from nsqd (heartbeats never reach the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A response: `OK`, `CLOSE_WAIT`, JSON.
    Response(Vec<u8>),
    /// An error frame's text, e.g. `E_FIN_FAILED FIN ... failed ...`.
    Error(String),
    /// A message.
    Message(Message),
}

/// The sending half: commands already encoded by [`crate::proto::commands`].
#[derive(Debug, Clone)]
pub struct Writer {
    stream: Arc<Mutex<Sink>>,
}

/// The socket, the TLS half encrypting onto it and the codec compressing what goes
/// out, once negotiated.
#[derive(Debug)]
struct Sink {
    stream: TcpStream,
    tls: Option<ClientWriter>,
    codec: Option<Codec>,
}

impl Sink {
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match &self.tls {
            Some(tls) => tls.write_all(bytes),
            None => self.stream.write_all(bytes),
        }
    }
}

impl Writer {
    /// Writes `bytes` whole (within `write_timeout`). A failed write closes the
    /// socket: a half-written command must not be followed by the next one.
    pub fn send(&self, bytes: &[u8]) -> Result<(), Error> {
        let mut sink = self.stream.lock().unwrap_or_else(|p| p.into_inner());
        let sink = &mut *sink;
        let result = match &mut sink.codec {
            Some(codec) => {
                let mut wire = Vec::with_capacity(bytes.len() / 2 + 64);
                codec.encode(bytes, &mut wire);
                sink.write_all(&wire)
            }
            None => sink.write_all(bytes),
        };
        if let Err(e) = result {
            let _ = sink.stream.shutdown(Shutdown::Both);
            return Err(Error::Io(e));
        }
        Ok(())
    }

    /// Closes the socket both ways; a thread blocked in [`Reader::read_frame`] returns.
    pub fn shutdown(&self) {
        let sink = self.stream.lock().unwrap_or_else(|p| p.into_inner());
        let _ = sink.stream.shutdown(Shutdown::Both);
    }

    fn compress_with(&self, codec: Codec) {
        self.stream.lock().unwrap_or_else(|p| p.into_inner()).codec = Some(codec);
    }

    fn encrypt_with(&self, tls: ClientWriter) {
        self.stream.lock().unwrap_or_else(|p| p.into_inner()).tls = Some(tls);
    }
}

/// Where the reader's bytes come from: the socket, or the TLS connection over it.
#[derive(Debug)]
enum Source {
    Plain(TcpStream),
    Tls(ClientReader),
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Source::Plain(stream) => stream.read(buf),
            Source::Tls(tls) => tls.read(buf),
        }
    }
}

/// The receiving half.
#[derive(Debug)]
pub struct Reader {
    stream: Source,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    max_frame: usize,
    addr: String,
    writer: Writer,
    /// Once negotiated: decodes what is read before it is parsed.
    codec: Option<Codec>,
}

impl Reader {
    /// Reads the next frame, answering heartbeats with `NOP` on the way. Fails on a
    /// closed connection, a read timeout or a frame that cannot be one.
    pub fn read_frame(&mut self) -> Result<Frame, Error> {
        loop {
            let parsed = proto::parse_frame(&self.buf[self.start..self.end], self.max_frame)
                .map_err(Error::BadFrame)?;
            let Some((frame, used)) = parsed else {
                self.fill()?;
                continue;
            };
            let out = match frame.frame_type {
                FRAME_RESPONSE if frame.data == HEARTBEAT => None,
                FRAME_RESPONSE => Some(Frame::Response(frame.data.to_vec())),
                FRAME_ERROR => Some(Frame::Error(
                    String::from_utf8_lossy(frame.data).into_owned(),
                )),
                FRAME_MESSAGE => match Message::decode(frame.data, &self.addr) {
                    Some(msg) => Some(Frame::Message(msg)),
                    None => return Err(Error::BadFrame("message frame too short".into())),
                },
                other => return Err(Error::BadFrame(format!("unknown frame type {other}"))),
            };
            self.start += used;
            match out {
                Some(frame) => return Ok(frame),
                None => {
                    let mut nop = Vec::new();
                    commands::nop(&mut nop);
                    self.writer.send(&nop)?;
                }
            }
        }
    }

    /// Reads more bytes into the buffer, growing it for a large frame.
    fn fill(&mut self) -> Result<(), Error> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let grown = (self.buf.len() * 2).min(self.max_frame.saturating_add(8));
            if grown <= self.buf.len() {
                return Err(Error::BadFrame("frame larger than max_msg_size".into()));
            }
            self.buf.resize(grown, 0);
        }
        if self.codec.is_some() {
            return self.fill_decoded();
        }
        loop {
            return match self.stream.read(&mut self.buf[self.end..]) {
                Ok(0) => Err(Error::NotConnected),
                Ok(n) => {
                    self.end += n;
                    Ok(())
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => Err(Error::Io(e)),
            };
        }
    }

    /// Reads compressed bytes and appends what they decode to (at least one byte).
    fn fill_decoded(&mut self) -> Result<(), Error> {
        let mut raw = [0u8; 16 * 1024];
        loop {
            let n = match self.stream.read(&mut raw) {
                Ok(0) => return Err(Error::NotConnected),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::Io(e)),
            };
            if self.append_decoded(&raw[..n])? {
                return Ok(());
            }
        }
    }

    /// Decodes `raw` onto the end of the buffer; false when it held no whole chunk yet.
    fn append_decoded(&mut self, raw: &[u8]) -> Result<bool, Error> {
        let mut plain = Vec::new();
        if let Some(codec) = self.codec.as_mut() {
            codec.decode(raw, &mut plain).map_err(Error::BadFrame)?;
        }
        let end = self.end + plain.len();
        if end > self.buf.len() {
            self.buf.resize(end, 0);
        }
        self.buf[self.end..end].copy_from_slice(&plain);
        self.end = end;
        Ok(!plain.is_empty())
    }

    /// Runs the TLS handshake with the server at `addr`; from now on what is read is
    /// decrypted first. Bytes already read past the last frame are TLS bytes.
    fn decrypt_with(&mut self, tls: &ClientTls, addr: &str) -> Result<ClientWriter, Error> {
        let Source::Plain(sock) = &self.stream else {
            return Err(Error::Tls("TLS negotiated twice".into()));
        };
        let early = &self.buf[self.start..self.end];
        let (reader, writer) = tls
            .handshake(addr, sock, early)
            .map_err(|e| Error::Tls(e.to_string()))?;
        self.end = self.start;
        self.stream = Source::Tls(reader);
        Ok(writer)
    }

    /// From now on what is read is decoded by `codec`, including bytes already read
    /// past the last frame (they came after the switch).
    fn decompress_with(&mut self, codec: Codec) -> Result<(), Error> {
        let early = self.buf[self.start..self.end].to_vec();
        self.end = self.start;
        self.codec = Some(codec);
        self.append_decoded(&early).map(|_| ())
    }

    /// The frame that answers a command: the next response or error (a message
    /// frame here is a protocol violation for a producer-style exchange).
    pub fn read_reply(&mut self) -> Result<Vec<u8>, Error> {
        match self.read_frame()? {
            Frame::Response(data) => Ok(data),
            Frame::Error(text) => Err(Error::Protocol(text)),
            Frame::Message(_) => Err(Error::BadFrame("message frame before a reply".into())),
        }
    }
}

/// A connected, identified (and, when required, authenticated) V2 connection.
///
/// ```no_run
/// use nsq::client::{Config, Conn, Frame};
/// use nsq::proto::commands;
///
/// let mut conn = Conn::connect("127.0.0.1:4150", &Config::default())?;
/// println!("nsqd {} allows RDY up to {}", conn.settings.version, conn.settings.max_rdy_count);
/// let mut out = Vec::new();
/// commands::sub(&mut out, "events", "audit");
/// conn.command(&out)?; // OK, or Err(Error::Protocol("E_BAD_TOPIC ..."))
/// out.clear();
/// commands::rdy(&mut out, 1);
/// conn.writer.send(&out)?;
/// if let Frame::Message(msg) = conn.reader.read_frame()? {
///     out.clear();
///     commands::fin(&mut out, &msg.id);
///     conn.writer.send(&out)?;
/// }
/// # Ok::<(), nsq::client::Error>(())
/// ```
#[derive(Debug)]
pub struct Conn {
    /// Frames in.
    pub reader: Reader,
    /// Commands out.
    pub writer: Writer,
    /// What nsqd answered to IDENTIFY.
    pub settings: ServerSettings,
    /// The `host:port` dialed.
    pub addr: String,
}

fn ms_or_off(d: Option<Duration>) -> i64 {
    d.map_or(-1, |d| d.as_millis() as i64)
}

/// The IDENTIFY body go-nsq sends, from `config`.
pub fn identify_body(config: &Config) -> Vec<u8> {
    let body = serde_json::json!({
        "client_id": config.client_id,
        "hostname": config.hostname,
        "user_agent": config.user_agent,
        "short_id": config.client_id,
        "long_id": config.hostname,
        "tls_v1": config.tls_v1,
        "deflate": config.deflate,
        "deflate_level": config.deflate_level,
        "snappy": config.snappy,
        "feature_negotiation": true,
        "heartbeat_interval": ms_or_off(config.heartbeat_interval),
        "sample_rate": config.sample_rate,
        "output_buffer_size": config.output_buffer_size,
        "output_buffer_timeout": ms_or_off(config.output_buffer_timeout),
        "msg_timeout": config.msg_timeout.as_millis() as i64,
        "topology_region": config.topology_region,
        "topology_zone": config.topology_zone,
    });
    body.to_string().into_bytes()
}

fn dial(addr: &str, timeout: Duration) -> Result<TcpStream, Error> {
    let mut last = None;
    for sock in addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&sock, timeout) {
            Ok(stream) => return Ok(stream),
            // go-nsq's (Go's net.Dial) words: "dial tcp ADDR: connect: connection refused".
            Err(e) => {
                let text = format!("dial tcp {sock}: connect: {}", reason(&e));
                last = Some(std::io::Error::new(e.kind(), text));
            }
        }
    }
    Err(Error::Io(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no address for {addr}"),
        )
    })))
}

/// Reads the `OK` that confirms an upgrade, as go-nsq checks it.
fn expect_ok(reader: &mut Reader, upgrade: &str) -> Result<(), Error> {
    let reply = reader.read_reply()?;
    if reply != b"OK" {
        let text = String::from_utf8_lossy(&reply);
        return Err(Error::BadFrame(format!(
            "{upgrade} upgrade answered {text:?}, not OK"
        )));
    }
    Ok(())
}

impl Conn {
    /// Dials `addr` (`host:port`) within `dial_timeout`, sends the magic and IDENTIFY,
    /// upgrades to TLS (the server named by `addr`'s host; an [`Error::Tls`] when the
    /// handshake fails) and then compression as nsqd grants them, and sends AUTH when
    /// nsqd answers `auth_required` (an [`Error::Auth`] when no `auth_secret` is set).
    pub fn connect(addr: &str, config: &Config) -> Result<Conn, Error> {
        let stream = dial(addr, config.dial_timeout)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(config.read_timeout))?;
        stream.set_write_timeout(Some(config.write_timeout))?;
        let writer = Writer {
            stream: Arc::new(Mutex::new(Sink {
                stream: stream.try_clone()?,
                tls: None,
                codec: None,
            })),
        };
        let max_frame = match config.max_msg_size {
            0 => MAX_FRAME,
            n => (n as usize).saturating_add(proto::MESSAGE_HEADER_LEN + 4),
        };
        let mut reader = Reader {
            stream: Source::Plain(stream),
            buf: vec![0; 64 * 1024],
            start: 0,
            end: 0,
            max_frame,
            addr: addr.to_string(),
            writer: writer.clone(),
            codec: None,
        };
        let mut out = proto::MAGIC_V2.to_vec();
        commands::identify(&mut out, &identify_body(config));
        writer.send(&out)?;
        let reply = reader.read_reply()?;
        let settings = if reply == b"OK" {
            // An nsqd without feature negotiation: go-nsq assumes its defaults.
            ServerSettings {
                max_rdy_count: 2500,
                ..ServerSettings::default()
            }
        } else {
            serde_json::from_slice(&reply)
                .map_err(|e| Error::BadFrame(format!("IDENTIFY reply: {e}")))?
        };
        if settings.tls_v1 && !config.tls_v1
            || settings.snappy && !config.snappy
            || settings.deflate && !config.deflate
        {
            return Err(Error::BadFrame(
                "nsqd granted TLS or compression, which this client did not ask for".into(),
            ));
        }
        // Asked for and not granted: go-nsq goes on in plain text, and so does this.
        if settings.tls_v1 {
            let tls = config.client_tls()?;
            let tls_writer = reader.decrypt_with(&tls, addr)?;
            writer.encrypt_with(tls_writer);
            // The server's OK for the upgrade comes inside TLS.
            expect_ok(&mut reader, "TLS")?;
        }
        let codecs = if settings.deflate {
            Codec::deflate(settings.deflate_level).zip(Codec::deflate(settings.deflate_level))
        } else if settings.snappy {
            Codec::snappy().zip(Codec::snappy())
        } else {
            None
        };
        if settings.deflate || settings.snappy {
            let Some((for_reading, for_writing)) = codecs else {
                return Err(Error::BadFrame(
                    "compression granted but not built in".into(),
                ));
            };
            // The server's OK for the upgrade comes compressed.
            reader.decompress_with(for_reading)?;
            writer.compress_with(for_writing);
            expect_ok(&mut reader, "compression")?;
        }
        if settings.auth_required {
            if config.auth_secret.is_empty() {
                return Err(Error::Auth(format!(
                    "nsqd {addr} requires authorization and no auth_secret is configured"
                )));
            }
            let mut out = Vec::new();
            commands::auth(&mut out, config.auth_secret.as_bytes());
            writer.send(&out)?;
            reader
                .read_reply()
                .map_err(|e| Error::Auth(e.to_string()))?;
        }
        Ok(Conn {
            reader,
            writer,
            settings,
            addr: addr.to_string(),
        })
    }

    /// Sends one command and waits for its reply (`OK`, JSON, ...); an error frame
    /// becomes [`Error::Protocol`]. Only for exchanges where no message can arrive.
    pub fn command(&mut self, bytes: &[u8]) -> Result<Vec<u8>, Error> {
        self.writer.send(bytes)?;
        self.reader.read_reply()
    }

    /// Closes the socket.
    pub fn close(self) {
        self.writer.shutdown();
    }
}
