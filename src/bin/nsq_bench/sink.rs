//! `sink`: a V2 endpoint that does nothing, to measure what the machine allows the
//! client modes to reach. One std thread per connection, each with its own small
//! mio poll over one non-blocking socket.
//!
//! It checks the magic, answers IDENTIFY, AUTH, SUB, PUB, DPUB and MPUB with `OK`
//! (bodies are skipped unread, never buffered whole), CLS with `CLOSE_WAIT`, and
//! ignores NOP and TOUCH. After SUB it streams canned message frames — `--size`
//! zero bytes each, built once at start — keeping at most RDY unfinished: each FIN
//! or REQ makes room for one more. Anything else closes the connection.

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use nsq::proto::{self, MAGIC_V2, MAX_LINE};
use std::io::{self, ErrorKind, Read, Write};
use std::sync::Arc;
use std::thread;

/// Largest body a command may carry here.
const MAX_BODY: usize = 64 << 20;
/// Bytes read per call.
const READ_CHUNK: usize = 256 * 1024;
/// Reads per turn before the connection gets to write.
const READS_PER_TURN: usize = 16;
/// Size of the canned frame buffer (at least one frame).
const CANNED_BYTES: usize = 1 << 20;

/// Runs the sink on `addr` until killed.
pub fn run(addr: &str, size: usize) -> io::Result<()> {
    let listener = nsq::listen::bind_flag(addr).map_err(io::Error::other)?;
    let canned = Arc::new(Canned::new(size));
    eprintln!(
        "sink: listening on {} ({size}-byte messages)",
        listener.local_addr()?
    );
    for conn in listener.incoming() {
        let conn = match conn {
            Ok(c) => c,
            Err(e) => {
                eprintln!("sink: accept: {e}");
                continue;
            }
        };
        let canned = canned.clone();
        thread::spawn(move || {
            let peer = conn
                .peer_addr()
                .map_or_else(|_| "?".to_string(), |a| a.to_string());
            match serve(conn, &canned) {
                // Clients (bench_reader among them) may just close with data unread.
                Err(e)
                    if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {}
                Err(e) => eprintln!("sink: {peer}: {e}"),
                Ok(()) => {}
            }
        });
    }
    Ok(())
}

/// Pre-encoded message frames, all the same length.
struct Canned {
    bytes: Vec<u8>,
    frame_len: usize,
    frames: usize,
}

impl Canned {
    fn new(size: usize) -> Self {
        let frame_len = 4 + 4 + proto::MESSAGE_HEADER_LEN + size;
        let frames = (CANNED_BYTES / frame_len).max(1);
        let body = vec![0u8; size];
        let mut bytes = Vec::with_capacity(frames * frame_len);
        for i in 0..frames {
            let mut id = [0u8; 16];
            id.copy_from_slice(format!("{i:016x}").as_bytes());
            proto::write_message(&mut bytes, 0, 1, &id, &body);
        }
        Canned {
            bytes,
            frame_len,
            frames,
        }
    }
}

/// One parsed command, as far as the sink cares.
#[derive(Debug, PartialEq, Eq)]
enum Cmd {
    /// A command with a body of this many bytes, answered OK once skipped.
    Body(usize),
    Sub,
    Rdy(u64),
    Fin,
    Cls,
    Nothing,
}

/// Parses one command line (and a body's size) from `buf`: the command and the
/// bytes used, `Ok(None)` when incomplete, `Err` for anything the sink refuses.
fn parse(buf: &[u8]) -> Result<Option<(Cmd, usize)>, String> {
    let Some(nl) = buf.iter().take(MAX_LINE).position(|&b| b == b'\n') else {
        if buf.len() >= MAX_LINE {
            return Err("command line too long".to_string());
        }
        return Ok(None);
    };
    let line = buf[..nl].strip_suffix(b"\r").unwrap_or(&buf[..nl]);
    let mut words = line.split(|&b| b == b' ');
    let name = words.next().unwrap_or_default();
    let cmd = match name {
        b"IDENTIFY" | b"AUTH" | b"PUB" | b"DPUB" | b"MPUB" => {
            let Some(size) = proto::read_i32(buf, nl + 1) else {
                return Ok(None);
            };
            if size < 0 || size as usize > MAX_BODY {
                return Err(format!("bad body size {size}"));
            }
            return Ok(Some((Cmd::Body(size as usize), nl + 1 + 4)));
        }
        b"SUB" => Cmd::Sub,
        b"RDY" => {
            let n = words
                .next()
                .and_then(|w| std::str::from_utf8(w).ok())
                .and_then(|w| w.parse().ok())
                .ok_or("bad RDY")?;
            Cmd::Rdy(n)
        }
        b"FIN" | b"REQ" => Cmd::Fin,
        b"CLS" => Cmd::Cls,
        b"NOP" | b"TOUCH" => Cmd::Nothing,
        _ => return Err(format!("invalid command {:?}", proto::go_quote(name))),
    };
    Ok(Some((cmd, nl + 1)))
}

/// One connection's state.
struct Conn<'a> {
    canned: &'a Canned,
    rbuf: Vec<u8>,
    rstart: usize,
    rend: usize,
    magic: bool,
    /// Body bytes still to skip before answering OK.
    skip: Option<usize>,
    subscribed: bool,
    closing: bool,
    rdy: u64,
    in_flight: u64,
    /// Responses waiting to go out, written only between message runs.
    ctrl: Vec<u8>,
    ctrl_pos: usize,
    /// The run of canned bytes being written.
    run: std::ops::Range<usize>,
}

impl Conn<'_> {
    /// Consumes every complete command in the read buffer.
    fn consume(&mut self) -> Result<(), String> {
        loop {
            let avail = &self.rbuf[self.rstart..self.rend];
            if !self.magic {
                if avail.len() < 4 {
                    return Ok(());
                }
                if &avail[..4] != MAGIC_V2 {
                    return Err("bad magic".to_string());
                }
                self.magic = true;
                self.rstart += 4;
                continue;
            }
            if let Some(left) = self.skip {
                let n = left.min(avail.len());
                self.rstart += n;
                if n < left {
                    self.skip = Some(left - n);
                    return Ok(());
                }
                self.skip = None;
                proto::write_response(&mut self.ctrl, b"OK");
                continue;
            }
            let Some((cmd, used)) = parse(avail)? else {
                return Ok(());
            };
            self.rstart += used;
            match cmd {
                Cmd::Body(n) => self.skip = Some(n),
                Cmd::Sub => {
                    self.subscribed = true;
                    proto::write_response(&mut self.ctrl, b"OK");
                }
                Cmd::Rdy(n) => self.rdy = n,
                Cmd::Fin => self.in_flight = self.in_flight.saturating_sub(1),
                Cmd::Cls => {
                    self.closing = true;
                    proto::write_response(&mut self.ctrl, b"CLOSE_WAIT");
                }
                Cmd::Nothing => {}
            }
        }
    }

    /// Reads until the socket is drained (true) or the turn is over (false).
    fn read(&mut self, stream: &mut TcpStream) -> io::Result<bool> {
        for _ in 0..READS_PER_TURN {
            if self.rstart == self.rend {
                self.rstart = 0;
                self.rend = 0;
            } else if self.rbuf.len() - self.rend < READ_CHUNK / 4 {
                self.rbuf.copy_within(self.rstart..self.rend, 0);
                self.rend -= self.rstart;
                self.rstart = 0;
                if self.rbuf.len() - self.rend < READ_CHUNK / 4 {
                    self.rbuf.resize(self.rbuf.len() * 2, 0);
                }
            }
            match stream.read(&mut self.rbuf[self.rend..]) {
                Ok(0) => return Err(io::Error::new(ErrorKind::UnexpectedEof, "closed")),
                Ok(n) => {
                    self.rend += n;
                    self.consume().map_err(io::Error::other)?;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(true),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }

    /// Writes what may be written: true when blocked by the socket.
    fn write(&mut self, stream: &mut TcpStream) -> io::Result<bool> {
        loop {
            let pending: &[u8] = if !self.run.is_empty() {
                &self.canned.bytes[self.run.clone()]
            } else if self.ctrl_pos < self.ctrl.len() {
                &self.ctrl[self.ctrl_pos..]
            } else {
                self.ctrl.clear();
                self.ctrl_pos = 0;
                let room = self.rdy.saturating_sub(self.in_flight);
                if !self.subscribed || self.closing || room == 0 {
                    return Ok(false);
                }
                let n = room.min(self.canned.frames as u64);
                self.in_flight += n;
                self.run = 0..n as usize * self.canned.frame_len;
                continue;
            };
            match stream.write(pending) {
                Ok(0) => return Err(io::Error::new(ErrorKind::WriteZero, "write zero")),
                Ok(n) => {
                    if !self.run.is_empty() {
                        self.run.start += n;
                    } else {
                        self.ctrl_pos += n;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(true),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

fn serve(conn: std::net::TcpStream, canned: &Canned) -> io::Result<()> {
    conn.set_nodelay(true)?;
    conn.set_nonblocking(true)?;
    let mut stream = TcpStream::from_std(conn);
    let mut poll = Poll::new()?;
    poll.registry().register(
        &mut stream,
        Token(0),
        Interest::READABLE | Interest::WRITABLE,
    )?;
    let mut events = Events::with_capacity(8);
    let mut c = Conn {
        canned,
        rbuf: vec![0; READ_CHUNK],
        rstart: 0,
        rend: 0,
        magic: false,
        skip: None,
        subscribed: false,
        closing: false,
        rdy: 0,
        in_flight: 0,
        ctrl: Vec::new(),
        ctrl_pos: 0,
        run: 0..0,
    };
    // Edge-triggered: remember what the socket allows until it says WouldBlock.
    let (mut readable, mut writable) = (true, true);
    loop {
        if readable {
            let drained = match c.read(&mut stream) {
                Ok(d) => d,
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e),
            };
            readable = !drained;
        }
        if writable {
            writable = !c.write(&mut stream)?;
        }
        if readable {
            continue;
        }
        poll.poll(&mut events, None)?;
        for ev in events.iter() {
            if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                readable = true;
            }
            if ev.is_writable() || ev.is_write_closed() {
                writable = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_tools_send() {
        assert_eq!(
            parse(b"IDENTIFY\n\0\0\0\x02{}"),
            Ok(Some((Cmd::Body(2), 13)))
        );
        assert_eq!(parse(b"MPUB t\n\0\0"), Ok(None));
        assert_eq!(parse(b"SUB t c\n"), Ok(Some((Cmd::Sub, 8))));
        assert_eq!(parse(b"RDY 2500\r\n"), Ok(Some((Cmd::Rdy(2500), 10))));
        assert_eq!(parse(b"FIN 0123456789abcdef\n"), Ok(Some((Cmd::Fin, 21))));
        assert_eq!(parse(b"NOP"), Ok(None));
        assert!(parse(b"RDY x\n").is_err());
        assert!(parse(b"PUB t\n\xff\xff\xff\xff").is_err());
        assert!(parse(b"HELLO\n").is_err());
    }

    #[test]
    fn streams_within_rdy_and_skips_bodies() {
        let canned = Canned::new(10);
        let mut c = Conn {
            canned: &canned,
            rbuf: Vec::new(),
            rstart: 0,
            rend: 0,
            magic: false,
            skip: None,
            subscribed: false,
            closing: false,
            rdy: 0,
            in_flight: 0,
            ctrl: Vec::new(),
            ctrl_pos: 0,
            run: 0..0,
        };
        c.rbuf = b"  V2PUB t\n\0\0\0\x03abcSUB t c\nRDY 3\nFIN x\n".to_vec();
        c.rend = c.rbuf.len();
        assert_eq!(c.consume(), Ok(()));
        assert_eq!(c.rstart, c.rend);
        assert_eq!(c.ctrl.len(), 2 * 10);
        assert!(c.subscribed);
        assert_eq!((c.rdy, c.in_flight), (3, 0));
    }
}
