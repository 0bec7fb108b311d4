//! A fake nsqlookupd for tests that must see (or control) exactly what nsqd sends:
//! the V1 side records every command and answers as nsqlookupd does, and
//! [`HeldHttp`] is an HTTP listener that holds requests unanswered until released.

use super::WAIT;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the fake lookupd saw, in order.
#[derive(Debug)]
pub enum Seen {
    /// The first 4 bytes.
    Magic(Vec<u8>),
    /// `IDENTIFY\n`, its 4-byte size and its body.
    Identify([u8; 4], Vec<u8>),
    /// Any other command line, with its `\n`.
    Line(Vec<u8>),
    /// The connection ended (or failed).
    Closed(String),
}

/// Accepts one connection on `listener` and records what comes over it, replying as
/// nsqlookupd does: `identify_reply` to IDENTIFY, `OK` to the rest.
pub fn fake_lookupd(listener: TcpListener, identify_reply: Vec<u8>) -> Receiver<Seen> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        listener.set_nonblocking(true).unwrap();
        let deadline = Instant::now() + WAIT;
        let mut s = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => {
                    let _ = tx.send(Seen::Closed(format!("accept: {e}")));
                    return;
                }
            }
        };
        s.set_nonblocking(false).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let result = (|| -> std::io::Result<()> {
            let mut magic = [0u8; 4];
            s.read_exact(&mut magic)?;
            let _ = tx.send(Seen::Magic(magic.to_vec()));
            loop {
                let mut line = Vec::new();
                let mut byte = [0u8; 1];
                while line.last() != Some(&b'\n') {
                    s.read_exact(&mut byte)?;
                    line.push(byte[0]);
                    if line.len() > 1024 {
                        return Err(std::io::Error::other("line too long"));
                    }
                }
                if line == b"IDENTIFY\n" {
                    let mut size = [0u8; 4];
                    s.read_exact(&mut size)?;
                    let n = i32::from_be_bytes(size);
                    if !(0..=65536).contains(&n) {
                        return Err(std::io::Error::other(format!("IDENTIFY size {n}")));
                    }
                    let mut body = vec![0u8; n as usize];
                    s.read_exact(&mut body)?;
                    let _ = tx.send(Seen::Identify(size, body));
                    s.write_all(&(identify_reply.len() as i32).to_be_bytes())?;
                    s.write_all(&identify_reply)?;
                } else {
                    let _ = tx.send(Seen::Line(line));
                    s.write_all(&[0, 0, 0, 2, b'O', b'K'])?;
                }
            }
        })();
        let _ = tx.send(Seen::Closed(format!("{result:?}")));
    });
    rx
}

pub fn next_seen(rx: &Receiver<Seen>) -> Seen {
    rx.recv_timeout(WAIT)
        .unwrap_or_else(|e| panic!("fake lookupd saw nothing within {WAIT:?}: {e}"))
}

pub fn expect_line(rx: &Receiver<Seen>, want: &str) {
    match next_seen(rx) {
        Seen::Line(line) => assert_eq!(String::from_utf8_lossy(&line), want),
        Seen::Closed(why) => panic!("expected {want:?}, but the connection ended: {why}"),
        other => panic!("expected {want:?}, got {other:?}"),
    }
}

/// The IDENTIFY reply of a lookupd at `tcp` whose HTTP API is at `http`.
pub fn identify_reply(tcp: SocketAddr, http: SocketAddr) -> Vec<u8> {
    serde_json::json!({
        "broadcast_address": "127.0.0.1",
        "hostname": "fake-lookupd",
        "http_port": http.port(),
        "tcp_port": tcp.port(),
        "version": "1.3.0",
    })
    .to_string()
    .into_bytes()
}

/// An HTTP listener that accepts requests and answers none of them while holding;
/// once released it closes what it held and every later connection at once (so a
/// client sees an error, never a hang). Stops with the value.
pub struct HeldHttp {
    /// Where it listens.
    pub addr: SocketAddr,
    held: Arc<Mutex<Option<Vec<TcpStream>>>>,
    stop: Arc<AtomicBool>,
}

impl HeldHttp {
    /// Starts holding on a free loopback port.
    pub fn start() -> HeldHttp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let held = Arc::new(Mutex::new(Some(Vec::new())));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (held.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        if let Some(list) = h.lock().unwrap().as_mut() {
                            list.push(stream);
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => return,
                }
            }
        });
        HeldHttp { addr, held, stop }
    }

    /// How many requests it holds now.
    pub fn holding(&self) -> usize {
        self.held.lock().unwrap().as_ref().map_or(0, Vec::len)
    }

    /// Holds new requests again (after [`HeldHttp::release`]).
    pub fn hold(&self) {
        self.held.lock().unwrap().get_or_insert_with(Vec::new);
    }

    /// Closes every held connection, and from now on every new one.
    pub fn release(&self) {
        self.held.lock().unwrap().take();
    }
}

impl Drop for HeldHttp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}
