//! nsqd's side of discovery: one thread per `--lookupd-tcp-address`, speaking the V1
//! protocol exactly as Go nsqd does — magic, IDENTIFY with our broadcast address and
//! ports, then `REGISTER` for every topic and channel; `REGISTER`/`UNREGISTER` as they
//! come and go; `PING` every 15 s. A lost connection is re-dialled with backoff and the
//! whole registration replayed, so nothing queued while it was down matters.
//!
//! The registry tells us of changes through its listener, with its lock held, so the
//! listener only queues onto each peer's channel. Peer threads take the registry lock
//! only to snapshot registrations, never while holding their own.

use super::v2::{lock, SharedRegistry};
use crate::registry::Change;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often nsqd pings each lookupd.
pub const PING_INTERVAL: Duration = Duration::from_secs(15);
/// Dial timeout and the deadline of every read and write, as in nsqd.
const IO_TIMEOUT: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(15);
/// Largest reply accepted from a lookupd.
const MAX_REPLY: usize = 5 * 1024 * 1024;

/// What this nsqd says about itself in IDENTIFY.
#[derive(Debug, Clone)]
pub struct Identity {
    /// `--broadcast-address`.
    pub broadcast_address: String,
    /// The OS hostname.
    pub hostname: String,
    /// The TCP port consumers should use.
    pub tcp_port: u16,
    /// The HTTP port tools should use.
    pub http_port: u16,
}

enum Msg {
    Change(Change),
    Stop,
}

struct Peer {
    address: String,
    tx: Sender<Msg>,
    connected: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// The set of lookupd peers.
pub struct LookupPeers {
    registry: SharedRegistry,
    identity: Identity,
    peers: Mutex<Vec<Peer>>,
}

/// One peer's state, for `/info` and `/stats`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerStatus {
    /// The configured address.
    pub address: String,
    /// Whether the connection is up (identified and registered).
    pub connected: bool,
}

impl LookupPeers {
    /// Starts a thread per address and listens to the registry for changes.
    pub fn start(
        registry: SharedRegistry,
        identity: Identity,
        addresses: &[String],
    ) -> Arc<LookupPeers> {
        let peers = Arc::new(LookupPeers {
            registry: registry.clone(),
            identity,
            peers: Mutex::new(Vec::new()),
        });
        let weak: Weak<LookupPeers> = Arc::downgrade(&peers);
        lock(&registry).set_listener(Arc::new(move |change: &Change| {
            if let Some(peers) = weak.upgrade() {
                peers.broadcast(change);
            }
        }));
        peers.set_addresses(addresses);
        peers
    }

    fn list(&self) -> std::sync::MutexGuard<'_, Vec<Peer>> {
        self.peers.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn broadcast(&self, change: &Change) {
        for peer in self.list().iter() {
            let _ = peer.tx.send(Msg::Change(change.clone()));
        }
    }

    /// Connects to new addresses and drops the peers no longer listed
    /// (`PUT /config/nsqlookupd_tcp_addresses`).
    pub fn set_addresses(&self, addresses: &[String]) {
        let mut stopped = Vec::new();
        {
            let mut list = self.list();
            list.retain_mut(|peer| {
                let keep = addresses.contains(&peer.address);
                if !keep {
                    let _ = peer.tx.send(Msg::Stop);
                    stopped.extend(peer.thread.take());
                }
                keep
            });
            for address in addresses {
                if list.iter().any(|p| &p.address == address) {
                    continue;
                }
                let (tx, rx) = channel();
                let connected = Arc::new(AtomicBool::new(false));
                let worker = Worker {
                    address: address.clone(),
                    registry: self.registry.clone(),
                    identity: self.identity.clone(),
                    connected: connected.clone(),
                };
                let thread = std::thread::Builder::new()
                    .name(format!("lookupd-{address}"))
                    .spawn(move || worker.run(&rx));
                match thread {
                    Ok(thread) => list.push(Peer {
                        address: address.clone(),
                        tx,
                        connected,
                        thread: Some(thread),
                    }),
                    Err(e) => log::error!("LOOKUP({address}): cannot start thread: {e}"),
                }
            }
        }
        for thread in stopped {
            let _ = thread.join();
        }
    }

    /// Every peer and whether it is connected.
    pub fn status(&self) -> Vec<PeerStatus> {
        self.list()
            .iter()
            .map(|p| PeerStatus {
                address: p.address.clone(),
                connected: p.connected.load(Ordering::SeqCst),
            })
            .collect()
    }

    /// Stops every peer thread.
    pub fn stop(&self) {
        self.set_addresses(&[]);
    }
}

struct Worker {
    address: String,
    registry: SharedRegistry,
    identity: Identity,
    connected: Arc<AtomicBool>,
}

impl Worker {
    fn run(self, rx: &std::sync::mpsc::Receiver<Msg>) {
        let mut conn: Option<TcpStream> = None;
        let mut backoff = Duration::from_millis(500);
        let mut retry_at = Instant::now();
        let mut next_ping = Instant::now() + PING_INTERVAL;
        loop {
            if conn.is_none() && Instant::now() >= retry_at {
                // The registration replayed on connect covers every queued change.
                while let Ok(msg) = rx.try_recv() {
                    if let Msg::Stop = msg {
                        return;
                    }
                }
                match self.connect() {
                    Ok(stream) => {
                        log::info!("LOOKUP({}): connected and registered", self.address);
                        conn = Some(stream);
                        self.connected.store(true, Ordering::SeqCst);
                        backoff = Duration::from_millis(500);
                        next_ping = Instant::now() + PING_INTERVAL;
                    }
                    Err(e) => {
                        log::warn!("LOOKUP({}): {e}; retrying in {backoff:?}", self.address);
                        retry_at = Instant::now() + backoff;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
            }
            let until = if conn.is_some() { next_ping } else { retry_at };
            let command = match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
                Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(Msg::Change(change)) => command_for(&change),
                Err(RecvTimeoutError::Timeout) => {
                    next_ping = Instant::now() + PING_INTERVAL;
                    "PING\n".to_string()
                }
            };
            if let Some(stream) = conn.as_mut() {
                if let Err(e) = send_command(stream, command.as_bytes()) {
                    log::warn!("LOOKUP({}): lost connection: {e}", self.address);
                    conn = None;
                    self.connected.store(false, Ordering::SeqCst);
                    retry_at = Instant::now();
                }
            }
        }
    }

    /// Dials, identifies and registers everything the registry has.
    fn connect(&self) -> io::Result<TcpStream> {
        let addr = super::server::resolve(&self.address)?;
        let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        stream.set_nodelay(true)?;
        stream.write_all(b"  V1")?;
        let id = &self.identity;
        let body = serde_json::json!({
            "broadcast_address": id.broadcast_address,
            "hostname": id.hostname,
            "http_port": id.http_port,
            "tcp_port": id.tcp_port,
            "topology_region": "",
            "topology_zone": "",
            "version": crate::NSQ_VERSION,
        })
        .to_string();
        let mut identify = b"IDENTIFY\n".to_vec();
        identify.extend_from_slice(&(body.len() as i32).to_be_bytes());
        identify.extend_from_slice(body.as_bytes());
        send_command(&mut stream, &identify)?;
        let registrations = lock(&self.registry).registrations();
        for (topic, channel) in registrations {
            send_command(
                &mut stream,
                command_for(&Change::Registered(topic, channel)).as_bytes(),
            )?;
        }
        Ok(stream)
    }
}

fn command_for(change: &Change) -> String {
    let (verb, topic, channel) = match change {
        Change::Registered(t, c) => ("REGISTER", t, c),
        Change::Unregistered(t, c) => ("UNREGISTER", t, c),
    };
    match channel {
        Some(c) => format!("{verb} {topic} {c}\n"),
        None => format!("{verb} {topic}\n"),
    }
}

/// Writes a command and reads its `[int32 size][data]` reply; an `E_` reply is an error.
fn send_command(stream: &mut TcpStream, command: &[u8]) -> io::Result<Vec<u8>> {
    stream.write_all(command)?;
    let mut size = [0u8; 4];
    stream.read_exact(&mut size)?;
    let size = i32::from_be_bytes(size);
    if size < 0 || size as usize > MAX_REPLY {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad reply size {size}"),
        ));
    }
    let mut data = vec![0u8; size as usize];
    stream.read_exact(&mut data)?;
    if data.starts_with(b"E_") {
        return Err(io::Error::other(
            String::from_utf8_lossy(&data).into_owned(),
        ));
    }
    Ok(data)
}
