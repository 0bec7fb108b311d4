//! nsqd's side of discovery: one thread per `--lookupd-tcp-address`, speaking the V1
//! protocol exactly as Go nsqd does — magic, IDENTIFY with our broadcast address and
//! ports, then `REGISTER` for every topic and channel; `REGISTER`/`UNREGISTER` as they
//! come and go; `PING` every 15 s. A lost connection is re-dialled with backoff and the
//! whole registration replayed, so nothing queued while it was down matters.
//! As in Go, each `REGISTER`/`UNREGISTER` sent is logged at INFO
//! (`LOOKUPD(<addr>): topic REGISTER t`) and each heartbeat at DEBUG; a lookupd that
//! stays down is logged once, then with a count of the failed retries
//! ([`Repeats`]), not once per retry.
//!
//! The registry tells us of changes through its listener, with its lock held, so the
//! listener only queues onto each peer's channel. Peer threads take the registry lock
//! only to snapshot registrations, never while holding their own.
//!
//! Channel pre-creation (as Go's nsqd does when it creates a topic): while any lookupd
//! is configured, a new topic holds its messages while a query thread asks every
//! identified lookupd `GET /channels?topic=` (on the `broadcast_address:http_port` its
//! IDENTIFY reply gave), then creates those channels and releases the topic, so no
//! channel known elsewhere in the cluster misses the topic's first messages. The call
//! that created the topic answers only after the release, as in Go: an HTTP worker
//! waits in [`LookupPeers::create_topic`], a V2 connection waits in the reactor
//! (`nsqd::v2`) without holding up any other connection.

use crate::http::client;
use crate::logging::Repeats;
use crate::reactor::Wakeup;
use crate::registry::Change;
use crate::registry::{lock, SharedRegistry};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often nsqd pings each lookupd.
pub const PING_INTERVAL: Duration = Duration::from_secs(15);
/// Dial timeout and the deadline of every read and write, as in nsqd.
const IO_TIMEOUT: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(15);
/// The same connection failure is logged at most this often (with a count).
const REPORT_EVERY: Duration = Duration::from_secs(60);
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

/// A lookupd's HTTP address from its IDENTIFY reply (`None` until identified, or
/// when it gave no broadcast address).
type HttpAddress = Arc<Mutex<Option<String>>>;

struct Peer {
    address: String,
    tx: Sender<Msg>,
    connected: Arc<AtomicBool>,
    http_address: HttpAddress,
    thread: Option<JoinHandle<()>>,
}

/// The set of lookupd peers.
pub struct LookupPeers {
    registry: SharedRegistry,
    identity: Identity,
    peers: Mutex<Vec<Peer>>,
    /// Set by `stop` for the pre-creation thread.
    stopping: AtomicBool,
    /// Where the registry announces new topics while any lookupd is configured.
    precreate: Sender<String>,
    precreator: Mutex<Option<JoinHandle<()>>>,
    /// Bounds each lookupd query, and so how long a creating call waits.
    http_timeouts: client::Timeouts,
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
    /// Starts a thread per address, listens to the registry for changes, and starts
    /// the pre-creation thread (lookupd queries bounded by `http_timeouts`; `wakeup`
    /// makes the reactor deliver what a released topic held).
    pub fn start(
        registry: SharedRegistry,
        identity: Identity,
        addresses: &[String],
        wakeup: Wakeup,
        http_timeouts: client::Timeouts,
    ) -> Arc<LookupPeers> {
        let (precreate, rx) = channel();
        let peers = Arc::new(LookupPeers {
            registry: registry.clone(),
            identity,
            peers: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
            precreate,
            precreator: Mutex::new(None),
            http_timeouts,
        });
        let weak: Weak<LookupPeers> = Arc::downgrade(&peers);
        lock(&registry).set_listener(Arc::new(move |change: &Change| {
            if let Some(peers) = weak.upgrade() {
                peers.broadcast(change);
            }
        }));
        let weak = Arc::downgrade(&peers);
        let thread = std::thread::Builder::new()
            .name("lookupd-precreate".into())
            .spawn(move || precreate_loop(&weak, &rx, &wakeup, http_timeouts));
        match thread {
            Ok(thread) => {
                *peers.precreator.lock().unwrap_or_else(|p| p.into_inner()) = Some(thread)
            }
            Err(e) => log::error!("LOOKUP: cannot start the pre-creation thread: {e}"),
        }
        peers.set_addresses(addresses);
        peers
    }

    /// Creates `topic` if missing and, when that starts a pre-creation hold, waits
    /// (on this thread only) until the channels lookupd knows exist, as Go's nsqd
    /// blocks the creating call — so whoever looks next sees the topic flowing. A
    /// backstop ends the wait should the release never come; the topic then goes on
    /// holding its messages until it does, so none is lost.
    pub fn create_topic(&self, topic: &str) {
        let signal = {
            let mut registry = lock(&self.registry);
            if !registry.create_topic(topic) {
                return;
            }
            registry.release_signal(topic)
        };
        let backstop = self.http_timeouts.total * 2 + Duration::from_secs(1);
        if let Some(Err(RecvTimeoutError::Timeout)) = signal.map(|rx| rx.recv_timeout(backstop)) {
            log::warn!("TOPIC({topic}): channel pre-creation still running after {backstop:?}");
        }
    }

    /// The HTTP addresses of every identified lookupd.
    fn http_addresses(&self) -> Vec<String> {
        self.list()
            .iter()
            .filter_map(|p| {
                p.http_address
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone()
            })
            .collect()
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
    /// (`PUT /config/nsqlookupd_tcp_addresses`); new topics wait for channel
    /// pre-creation only while some lookupd is configured.
    pub fn set_addresses(&self, addresses: &[String]) {
        let precreate = (!addresses.is_empty()).then(|| self.precreate.clone());
        lock(&self.registry).set_precreate(precreate);
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
                let http_address = HttpAddress::default();
                let worker = Worker {
                    address: address.clone(),
                    registry: self.registry.clone(),
                    identity: self.identity.clone(),
                    connected: connected.clone(),
                    http_address: http_address.clone(),
                };
                let thread = std::thread::Builder::new()
                    .name(format!("lookupd-{address}"))
                    .spawn(move || worker.run(&rx));
                match thread {
                    Ok(thread) => list.push(Peer {
                        address: address.clone(),
                        tx,
                        connected,
                        http_address,
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

    /// Stops every peer thread and the pre-creation thread.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let precreator = self
            .precreator
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(thread) = precreator {
            let _ = thread.join();
        }
        self.set_addresses(&[]);
    }
}

/// At most this many topics' lookupd queries run at once; more wait their turn.
const MAX_QUERIES: usize = 32;

/// Releases each new topic once the channels lookupd knows for it exist. Each topic's
/// query runs on a thread of its own (up to [`MAX_QUERIES`]), so one slow lookupd
/// delays a new topic by at most one request timeout, not by every topic before it.
fn precreate_loop(
    peers: &Weak<LookupPeers>,
    topics: &Receiver<String>,
    wakeup: &Wakeup,
    timeouts: client::Timeouts,
) {
    let running = Arc::new(AtomicUsize::new(0));
    loop {
        let topic = match topics.recv_timeout(Duration::from_millis(200)) {
            Ok(topic) => topic,
            Err(RecvTimeoutError::Timeout) => match peers.upgrade() {
                Some(p) if !p.stopping.load(Ordering::SeqCst) => continue,
                _ => return,
            },
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let Some(p) = peers.upgrade() else { return };
        let query = Precreation {
            registry: p.registry.clone(),
            addresses: p.http_addresses(),
            topic,
            wakeup: wakeup.clone(),
            timeouts,
        };
        drop(p);
        if running.load(Ordering::SeqCst) >= MAX_QUERIES {
            query.run();
            continue;
        }
        running.fetch_add(1, Ordering::SeqCst);
        let (count, registry, topic) =
            (running.clone(), query.registry.clone(), query.topic.clone());
        let spawned = std::thread::Builder::new()
            .name("lookupd-precreate-query".into())
            .spawn(move || {
                query.run();
                count.fetch_sub(1, Ordering::SeqCst);
            });
        if let Err(e) = spawned {
            running.fetch_sub(1, Ordering::SeqCst);
            log::error!("LOOKUP: cannot query lookupd for topic {topic}: {e}");
            lock(&registry).release_topic(&topic, &[], Instant::now());
            wakeup.wake();
        }
    }
}

/// One new topic's channel pre-creation: what it needs off the registry lock.
struct Precreation {
    registry: SharedRegistry,
    /// The HTTP addresses of the identified lookupds.
    addresses: Vec<String>,
    topic: String,
    wakeup: Wakeup,
    timeouts: client::Timeouts,
}

impl Precreation {
    /// Asks every lookupd for the topic's channels, creates them and releases the
    /// topic; wakes the reactor so waiting connections and held messages move on.
    fn run(self) {
        let topic = &self.topic;
        let channels = if self.addresses.is_empty() {
            log::error!(
                "no available nsqlookupd to query for channels to pre-create for topic {topic}"
            );
            Vec::new()
        } else {
            lookupd_channels(&self.addresses, topic, self.timeouts)
        };
        lock(&self.registry).release_topic(topic, &channels, Instant::now());
        self.wakeup.wake();
    }
}

/// Every channel of `topic` that any lookupd at `addresses` knows, asking them all at
/// once (failures logged).
fn lookupd_channels(addresses: &[String], topic: &str, timeouts: client::Timeouts) -> Vec<String> {
    let replies: Vec<Vec<String>> = std::thread::scope(|scope| {
        let asks: Vec<_> = addresses
            .iter()
            .map(|address| scope.spawn(move || lookupd_channels_of(address, topic, timeouts)))
            .collect();
        asks.into_iter().filter_map(|a| a.join().ok()).collect()
    });
    let mut all = Vec::new();
    for channel in replies.into_iter().flatten() {
        if !all.contains(&channel) {
            all.push(channel);
        }
    }
    all
}

/// The channels of `topic` the lookupd at `address` knows (none on failure, logged).
fn lookupd_channels_of(address: &str, topic: &str, timeouts: client::Timeouts) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Reply {
        #[serde(default)]
        channels: Option<Vec<String>>,
    }
    let url = format!(
        "http://{address}/channels?topic={}",
        client::query_escape(topic)
    );
    let reply = client::get(&url, timeouts).and_then(|r| match r.status {
        200 => serde_json::from_slice::<Reply>(&r.body).map_err(io::Error::other),
        status => Err(io::Error::other(format!("status {status}"))),
    });
    match reply {
        Ok(reply) => reply.channels.unwrap_or_default(),
        Err(e) => {
            log::warn!(
                "failed to query nsqlookupd {address} for channels to pre-create for topic {topic} - {e}"
            );
            Vec::new()
        }
    }
}

struct Worker {
    address: String,
    registry: SharedRegistry,
    identity: Identity,
    connected: Arc<AtomicBool>,
    http_address: HttpAddress,
}

impl Worker {
    fn run(self, rx: &std::sync::mpsc::Receiver<Msg>) {
        let address = &self.address;
        let failures = Repeats::new(REPORT_EVERY);
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
                log::debug!("LOOKUP connecting to {address}");
                match self.connect() {
                    Ok(stream) => {
                        failures.reset();
                        log::info!("LOOKUP({address}): connected and registered");
                        conn = Some(stream);
                        self.connected.store(true, Ordering::SeqCst);
                        backoff = Duration::from_millis(500);
                        next_ping = Instant::now() + PING_INTERVAL;
                    }
                    Err(e) => {
                        let text = format!("LOOKUP({address}): {e}; retrying");
                        failures.log(log::Level::Warn, text);
                        log::debug!("LOOKUP({address}): next try in {backoff:?}");
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
                log_command(address, &command);
                if let Err(e) = send_command(stream, command.as_bytes()) {
                    log::warn!("LOOKUP({address}): lost connection: {e}");
                    conn = None;
                    self.connected.store(false, Ordering::SeqCst);
                    retry_at = Instant::now();
                }
            }
        }
    }

    /// Dials, identifies and registers everything the registry has.
    fn connect(&self) -> io::Result<TcpStream> {
        let addr = crate::common::net::resolve(&self.address)?;
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
        log::debug!("LOOKUPD({}): sending IDENTIFY {body}", self.address);
        let reply = send_command(&mut stream, &identify)?;
        let info = String::from_utf8_lossy(&reply);
        log::info!("LOOKUPD({}): peer info {info}", self.address);
        self.remember_http_address(&reply);
        let registrations = lock(&self.registry).registrations();
        for (topic, channel) in registrations {
            let command = command_for(&Change::Registered(topic, channel));
            log_command(&self.address, &command);
            send_command(&mut stream, command.as_bytes())?;
        }
        Ok(stream)
    }
}

impl Worker {
    /// Notes the lookupd's `broadcast_address:http_port` from its IDENTIFY reply.
    fn remember_http_address(&self, reply: &[u8]) {
        #[derive(serde::Deserialize)]
        struct Info {
            #[serde(default)]
            broadcast_address: String,
            #[serde(default)]
            http_port: u16,
        }
        let address = match serde_json::from_slice::<Info>(reply) {
            Ok(info) if !info.broadcast_address.is_empty() && info.http_port != 0 => Some(
                client::join_host_port(&info.broadcast_address, info.http_port),
            ),
            _ => None,
        };
        *self.http_address.lock().unwrap_or_else(|p| p.into_inner()) = address;
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

/// Logs a command about to go to the lookupd at `address` as Go's nsqd does:
/// registrations at INFO (`LOOKUPD(addr): channel REGISTER t c`), heartbeats at DEBUG.
fn log_command(address: &str, command: &str) {
    let command = command.trim_end();
    if command == "PING" {
        log::debug!("LOOKUPD({address}): sending heartbeat");
        return;
    }
    let branch = match command.split(' ').count() {
        3 => "channel",
        _ => "topic",
    };
    log::info!("LOOKUPD({address}): {branch} {command}");
}

/// The error for a reply that cannot be V1's `[int32 size][data]`: said plainly, and
/// an HTTP answer (`HTTP/1.1 400 ...`, whose first bytes read as a size of 1213486160)
/// named as such.
fn not_v1(head: &[u8; 4]) -> io::Error {
    let hint = match head {
        b"HTTP" => " (an HTTP port?)",
        _ => "",
    };
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("lookupd answered something that is not NSQ's V1 protocol{hint}"),
    )
}

/// Writes a command and reads its `[int32 size][data]` reply; an `E_` reply is an error.
fn send_command(stream: &mut TcpStream, command: &[u8]) -> io::Result<Vec<u8>> {
    stream.write_all(command)?;
    let mut size = [0u8; 4];
    stream.read_exact(&mut size)?;
    let head = size;
    let size = i32::from_be_bytes(size);
    if size < 0 || size as usize > MAX_REPLY {
        return Err(not_v1(&head));
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
