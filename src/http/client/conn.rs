//! One client connection: connecting to the first address that answers, the TLS
//! handshake for `https://`, the single deadline every write and read runs against,
//! raw reads into a buffer, and the `io::Error` kinds the client reports. It knows
//! sockets, not HTTP.

use crate::tls::{ClientReader, ClientTls, ClientWriter};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

pub(super) fn invalid_input(message: String) -> io::Error {
    io::Error::new(ErrorKind::InvalidInput, message)
}

pub(super) fn invalid_data(message: impl Into<String>) -> io::Error {
    io::Error::new(ErrorKind::InvalidData, message.into())
}

/// Connects to the first address of `host_port` that answers before `deadline`.
pub(super) fn connect(host_port: &str, deadline: Instant) -> io::Result<TcpStream> {
    let mut last = io::Error::new(
        ErrorKind::NotFound,
        format!("{host_port}: no address found"),
    );
    for addr in host_port.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, remaining(deadline)?) {
            Ok(stream) => {
                // Only a latency nicety; a failure changes nothing that matters.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The time left before `deadline`, or `TimedOut` when none is.
fn remaining(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::Error::new(ErrorKind::TimedOut, "request timed out"));
    }
    Ok(left)
}

/// The socket, and the TLS connection over it for `https://`.
pub(super) struct Stream {
    sock: TcpStream,
    tls: Option<(ClientReader, ClientWriter)>,
}

impl Stream {
    /// The plain socket.
    pub(super) fn plain(sock: TcpStream) -> Stream {
        Stream { sock, tls: None }
    }

    /// Runs the TLS handshake with the server `host_port` names, before `deadline`.
    pub(super) fn tls(
        sock: TcpStream,
        tls: &ClientTls,
        host_port: &str,
        deadline: Instant,
    ) -> io::Result<Stream> {
        // Each step of the handshake gets what is left of the deadline.
        sock.set_read_timeout(Some(remaining(deadline)?))?;
        sock.set_write_timeout(Some(remaining(deadline)?))?;
        let halves = tls.handshake(host_port, &sock, &[])?;
        Ok(Stream {
            sock,
            tls: Some(halves),
        })
    }
}

/// One connection: the stream, bytes read but not consumed yet, the deadline of the
/// request on it, and whether the last response left it usable for another.
pub(super) struct Conn {
    pub(super) stream: Stream,
    pub(super) buf: Vec<u8>,
    pub(super) deadline: Instant,
    pub(super) reusable: bool,
}

impl Conn {
    /// True if the idle connection is still open with nothing unread: the peer has
    /// neither closed it nor sent anything (Go's transport notices the same while
    /// the connection waits in its pool).
    pub(super) fn idle_and_open(&self) -> bool {
        if !self.buf.is_empty() || self.stream.sock.set_nonblocking(true).is_err() {
            return false;
        }
        let mut byte = [0u8; 1];
        let open =
            matches!(self.stream.sock.peek(&mut byte), Err(e) if e.kind() == ErrorKind::WouldBlock);
        open && self.stream.sock.set_nonblocking(false).is_ok()
    }

    pub(super) fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let stream = &mut self.stream;
        stream
            .sock
            .set_write_timeout(Some(remaining(self.deadline)?))?;
        match &stream.tls {
            Some((_, writer)) => writer.write_all(bytes),
            None => stream.sock.write_all(bytes),
        }
        .map_err(timed_out)
    }

    /// Reads more bytes into `buf`; 0 means the peer closed.
    pub(super) fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let stream = &mut self.stream;
            stream
                .sock
                .set_read_timeout(Some(remaining(self.deadline)?))?;
            let read = match &mut stream.tls {
                Some((reader, _)) => reader.read(&mut chunk),
                None => stream.sock.read(&mut chunk),
            };
            match read {
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(timed_out(e)),
            }
        }
    }

    /// Like [`Conn::fill`], but the peer closing is an error.
    pub(super) fn fill_or_eof(&mut self, what: &str) -> io::Result<()> {
        if self.fill()? == 0 {
            return Err(io::Error::new(
                ErrorKind::UnexpectedEof,
                format!("connection closed in the middle of the {what}"),
            ));
        }
        Ok(())
    }
}

/// A socket timeout (`WouldBlock` on Unix) reported as `TimedOut`.
fn timed_out(e: io::Error) -> io::Error {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => {
            io::Error::new(ErrorKind::TimedOut, "request timed out")
        }
        _ => e,
    }
}
