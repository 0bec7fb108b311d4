//! The mio event loop shared by nsqd and nsqlookupd: one listener, its connections with
//! their read and write buffers, a timer heap that sets the poll timeout, and a
//! [`mio::Waker`] through which other threads ask for attention.
//!
//! It knows sockets, not NSQ: a [`Handler`] is told when bytes arrive, when timers fall
//! due, when the loop is woken and when a round of events ends; it answers by appending
//! to connections' write buffers and asking for connections to close. Writes are
//! flushed once per round, so frames written for many commands leave in one syscall.
//!
//! It must never block: sockets are non-blocking, reads and writes drain until
//! `WouldBlock`, and a connection whose unsent output passes [`MAX_PENDING_OUTPUT`]
//! is not read from until its peer catches up. A connection asked to close is given
//! [`CLOSE_LINGER`] to take what is still queued for it, then dropped, so a peer that
//! never reads cannot keep a closing connection (and its buffer) forever.

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Registry, Token, Waker};
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Index of a connection; stable for its life, reused after it closes.
pub type ConnId = usize;

/// A connection's unsent output above which the loop stops reading from it.
pub const MAX_PENDING_OUTPUT: usize = 16 * 1024 * 1024;
/// How long a closing connection may take to flush its output before it is dropped.
pub const CLOSE_LINGER: Duration = Duration::from_secs(5);
/// Bytes read from one socket before the handler is given them, so one fast sender
/// cannot grow a buffer without bound.
const READ_BATCH: usize = 1024 * 1024;
const READ_CHUNK: usize = 64 * 1024;
/// A buffer left empty keeps at most this much capacity (more is given back).
const IDLE_BUFFER: usize = 4096;
const LISTENER: Token = Token(usize::MAX);
const WAKER: Token = Token(usize::MAX - 1);

/// What a program plugs into the loop.
pub trait Handler {
    /// The program's own per-connection state.
    type Conn;

    /// A connection was accepted; return its state. Timers may be set for `id`.
    fn accepted(&mut self, timers: &mut Timers, id: ConnId, peer: SocketAddr) -> Self::Conn;
    /// New bytes are at the end of `net.conn(id).input`; consume what is complete.
    fn readable(&mut self, net: &mut Net<Self::Conn>, id: ConnId);
    /// The peer closed its sending side; `input` holds whatever was left unparsed.
    /// The handler closes the connection (`net.close`) once it has answered what is
    /// left: at once, or later, when a command it is waiting on completes.
    fn read_closed(&mut self, net: &mut Net<Self::Conn>, id: ConnId);
    /// The connection is gone (closed by either side); its state is handed back.
    fn closed(&mut self, net: &mut Net<Self::Conn>, id: ConnId, conn: Self::Conn);
    /// A timer set with `key` fell due.
    fn timer(&mut self, net: &mut Net<Self::Conn>, key: u64, now: Instant);
    /// Another thread called [`Wakeup::wake`].
    fn woken(&mut self, net: &mut Net<Self::Conn>);
    /// A round of events was handled; output is flushed right after.
    fn round_end(&mut self, net: &mut Net<Self::Conn>);
    /// The loop is stopping; connections are closed right after.
    fn stopping(&mut self, net: &mut Net<Self::Conn>);
    /// `conn`'s output is about to be written: the last chance to transform what
    /// the handler staged (nsqd compresses here). Does nothing by default.
    fn before_flush(&mut self, _conn: &mut Connection<Self::Conn>) {}
}

/// One connection: its socket, buffers and the program's state.
pub struct Connection<C> {
    stream: TcpStream,
    /// The peer's address.
    pub peer: SocketAddr,
    /// Bytes read and not yet consumed by the handler.
    pub input: Vec<u8>,
    /// Bytes waiting to be written, from `out_pos` on.
    pub output: Vec<u8>,
    out_pos: usize,
    /// The program's state for this connection.
    pub state: C,
    closing: bool,
    /// When a closing connection is dropped even with output unsent.
    close_by: Option<Instant>,
    read_blocked: bool,
    /// The handler asked for no more input ([`Net::hold_reads`]).
    reads_held: bool,
    writable_armed: bool,
    /// In `Net::dirty` already this round.
    marked: bool,
}

impl<C> Connection<C> {
    /// Bytes written by the handler and not yet sent.
    pub fn pending_output(&self) -> usize {
        self.output.len() - self.out_pos
    }
}

/// Timers: `(deadline, key)` pairs in a heap. Keys mean whatever the handler says;
/// stale ones are the handler's to ignore.
#[derive(Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
}

impl Timers {
    /// Fires `key` at `at` (or at the next round if `at` has passed).
    pub fn set(&mut self, at: Instant, key: u64) {
        self.heap.push(Reverse((at, key)));
    }

    fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    fn pop_due(&mut self, now: Instant) -> Option<u64> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => self.heap.pop().map(|Reverse((_, k))| k),
            _ => None,
        }
    }
}

/// The connections and timers, as the handler sees them.
pub struct Net<C> {
    conns: Vec<Option<Connection<C>>>,
    /// Free slots below `conns.len()`; the lowest is used first, so that slots at the
    /// end empty out and can be given back (see [`Net::release`]).
    free: BTreeSet<ConnId>,
    /// Connections with output to flush at the end of the round.
    dirty: Vec<ConnId>,
    /// Timers of the handler.
    pub timers: Timers,
    /// Closing connections and their `close_by`, oldest first.
    lingering: VecDeque<(Instant, ConnId)>,
    registry: Registry,
}

impl<C> Net<C> {
    /// The connection `id`, if it is open.
    pub fn conn(&mut self, id: ConnId) -> Option<&mut Connection<C>> {
        self.conns.get_mut(id).and_then(Option::as_mut)
    }

    /// The connection `id` and the timers, borrowed together.
    pub fn conn_and_timers(&mut self, id: ConnId) -> Option<(&mut Connection<C>, &mut Timers)> {
        let conn = self.conns.get_mut(id).and_then(Option::as_mut)?;
        Some((conn, &mut self.timers))
    }

    /// The output buffer of `id`, marked to be flushed when the round ends.
    pub fn output(&mut self, id: ConnId) -> Option<&mut Vec<u8>> {
        let conn = self.conns.get_mut(id).and_then(Option::as_mut)?;
        if conn.closing {
            return None;
        }
        if !conn.marked {
            conn.marked = true;
            self.dirty.push(id);
        }
        Some(&mut conn.output)
    }

    /// Stops reading from `id` (`hold`: the handler cannot take more input now, and
    /// what the socket holds stays in the kernel), or starts again; reading resumes
    /// at the end of the round, once its output is flushed.
    pub fn hold_reads(&mut self, id: ConnId, hold: bool) {
        let Some(conn) = self.conn(id) else {
            return;
        };
        conn.reads_held = hold;
        if !hold && conn.read_blocked {
            self.dirty.push(id);
        }
    }

    /// Closes `id` once what is already in its output buffer is sent, or after
    /// [`CLOSE_LINGER`] if the peer does not take it.
    pub fn close(&mut self, id: ConnId) {
        let Some(conn) = self.conn(id) else {
            return;
        };
        if !conn.closing {
            let at = Instant::now() + CLOSE_LINGER;
            conn.closing = true;
            conn.close_by = Some(at);
            self.lingering.push_back((at, id));
        }
        self.dirty.push(id);
    }

    /// The next closing connection whose linger ran out by `now`, if any.
    fn pop_overdue(&mut self, now: Instant) -> Option<ConnId> {
        while let Some(&(at, id)) = self.lingering.front() {
            if at > now {
                return None;
            }
            self.lingering.pop_front();
            // The slot may have been freed (flushed and closed) and reused since.
            if self.conn(id).is_some_and(|c| c.close_by == Some(at)) {
                return Some(id);
            }
        }
        None
    }

    /// Ids of every open connection.
    pub fn ids(&self) -> Vec<ConnId> {
        (0..self.conns.len())
            .filter(|&i| self.conns[i].is_some())
            .collect()
    }

    fn insert(&mut self, conn: Connection<C>) -> ConnId {
        match self.free.pop_first() {
            Some(id) => {
                self.conns[id] = Some(conn);
                id
            }
            None => {
                self.conns.push(Some(conn));
                self.conns.len() - 1
            }
        }
    }

    fn next_id(&self) -> ConnId {
        self.free.first().copied().unwrap_or(self.conns.len())
    }

    /// Frees slot `id`, and gives back the memory of the empty slots at the end, so a
    /// burst of connections costs nothing once they are gone.
    fn release(&mut self, id: ConnId) {
        self.free.insert(id);
        if id + 1 != self.conns.len() {
            return;
        }
        while self.conns.last().is_some_and(Option::is_none) {
            self.conns.pop();
        }
        let _ = self.free.split_off(&self.conns.len());
        if self.conns.capacity() > 2 * self.conns.len() + 64 {
            self.conns
                .shrink_to(self.conns.len() + self.conns.len() / 2);
        }
    }
}

/// A handle other threads use to wake the loop or stop it.
#[derive(Clone)]
pub struct Wakeup {
    waker: Arc<Waker>,
    stop: Arc<AtomicBool>,
}

impl Wakeup {
    /// Makes the loop call [`Handler::woken`] soon.
    pub fn wake(&self) {
        if let Err(e) = self.waker.wake() {
            log::error!("reactor wake failed: {e}");
        }
    }

    /// Makes the loop stop accepting, close every connection and return.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake();
    }
}

/// The event loop, bound to a listener and ready to [`run`](Reactor::run).
pub struct Reactor<C> {
    poll: Poll,
    listener: TcpListener,
    net: Net<C>,
    wakeup: Wakeup,
    /// Every read lands here first; a connection's `input` holds only the bytes it
    /// has not consumed yet, so an idle connection owns no read buffer.
    scratch: Box<[u8]>,
}

impl<C> Reactor<C> {
    /// Binds `addr` (with a listen backlog of [`crate::listen::BACKLOG`]) and
    /// prepares the loop.
    pub fn bind(addr: SocketAddr) -> io::Result<Reactor<C>> {
        Reactor::from_listener(crate::listen::bind(addr)?)
    }

    /// Prepares the loop on a listener already bound.
    pub fn from_listener(listener: std::net::TcpListener) -> io::Result<Reactor<C>> {
        let poll = Poll::new()?;
        listener.set_nonblocking(true)?;
        let mut listener = TcpListener::from_std(listener);
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let registry = poll.registry().try_clone()?;
        Ok(Reactor {
            poll,
            listener,
            net: Net {
                conns: Vec::new(),
                free: BTreeSet::new(),
                dirty: Vec::new(),
                timers: Timers::default(),
                lingering: VecDeque::new(),
                registry,
            },
            wakeup: Wakeup {
                waker,
                stop: Arc::new(AtomicBool::new(false)),
            },
            scratch: vec![0; READ_CHUNK].into_boxed_slice(),
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// A handle for other threads.
    pub fn wakeup(&self) -> Wakeup {
        self.wakeup.clone()
    }

    /// The handler's timers, to set any before the loop starts.
    pub fn timers(&mut self) -> &mut Timers {
        &mut self.net.timers
    }

    /// Runs until [`Wakeup::stop`] is called.
    pub fn run<H: Handler<Conn = C>>(mut self, handler: &mut H) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        loop {
            let linger = self.net.lingering.front().map(|&(at, _)| at);
            let timeout = match (self.net.timers.next(), linger) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
            .map(|at| at.saturating_duration_since(Instant::now()));
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
            if self.wakeup.stop.load(Ordering::SeqCst) {
                break;
            }
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept(handler),
                    WAKER => handler.woken(&mut self.net),
                    Token(id) => {
                        if event.is_writable() {
                            self.net.dirty.push(id);
                        }
                        if event.is_readable() || event.is_read_closed() || event.is_error() {
                            self.read(handler, id);
                        }
                    }
                }
            }
            let now = Instant::now();
            while let Some(key) = self.net.timers.pop_due(now) {
                handler.timer(&mut self.net, key, now);
            }
            while let Some(id) = self.net.pop_overdue(now) {
                log::debug!("connection {id}: peer took no output for {CLOSE_LINGER:?}; dropped");
                self.remove(handler, id);
            }
            handler.round_end(&mut self.net);
            self.flush(handler);
        }
        handler.stopping(&mut self.net);
        for id in self.net.ids() {
            self.net.close(id);
        }
        self.flush(handler);
        for id in self.net.ids() {
            self.remove(handler, id);
        }
        Ok(())
    }

    fn accept<H: Handler<Conn = C>>(&mut self, handler: &mut H) {
        loop {
            match self.listener.accept() {
                Ok((mut stream, peer)) => {
                    if let Err(e) = stream.set_nodelay(true) {
                        log::debug!("set_nodelay({peer}): {e}");
                    }
                    let id = self.net.next_id();
                    let reg =
                        self.net
                            .registry
                            .register(&mut stream, Token(id), Interest::READABLE);
                    if let Err(e) = reg {
                        log::error!("register {peer}: {e}");
                        continue;
                    }
                    let state = handler.accepted(&mut self.net.timers, id, peer);
                    let inserted = self.net.insert(Connection {
                        stream,
                        peer,
                        input: Vec::new(),
                        output: Vec::new(),
                        out_pos: 0,
                        state,
                        closing: false,
                        close_by: None,
                        read_blocked: false,
                        reads_held: false,
                        writable_armed: false,
                        marked: false,
                    });
                    debug_assert_eq!(inserted, id);
                    // Bytes may already be waiting (edge-triggered: no event for them).
                    self.read(handler, id);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Out of file descriptors and the like: log, try again next event.
                    log::error!("accept: {e}");
                    return;
                }
            }
        }
    }

    /// Reads until `WouldBlock`, handing the handler each batch.
    fn read<H: Handler<Conn = C>>(&mut self, handler: &mut H, id: ConnId) {
        let mut peer_closed = false;
        let mut failed = false;
        loop {
            let Some(conn) = self.net.conn(id) else {
                return;
            };
            if conn.closing {
                return;
            }
            if conn.pending_output() > MAX_PENDING_OUTPUT || conn.reads_held {
                conn.read_blocked = true;
                break;
            }
            let result = conn.stream.read(&mut self.scratch);
            let n = *result.as_ref().unwrap_or(&0);
            conn.input.extend_from_slice(&self.scratch[..n]);
            match result {
                Ok(0) => {
                    peer_closed = true;
                    break;
                }
                Ok(_) => {
                    if conn.input.len() >= READ_BATCH {
                        handler.readable(&mut self.net, id);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::debug!("read from connection {id}: {e}");
                    failed = true;
                    break;
                }
            }
        }
        if self.net.conn(id).is_some_and(|c| !c.input.is_empty()) {
            handler.readable(&mut self.net, id);
        }
        if let Some(conn) = self.net.conn(id) {
            if conn.input.is_empty() && conn.input.capacity() > IDLE_BUFFER {
                conn.input = Vec::new();
            }
        }
        if failed {
            self.remove(handler, id);
        } else if peer_closed {
            handler.read_closed(&mut self.net, id);
        }
    }

    /// Writes every dirty connection's output; closes those that asked once flushed.
    fn flush<H: Handler<Conn = C>>(&mut self, handler: &mut H) {
        let mut dirty = std::mem::take(&mut self.net.dirty);
        dirty.sort_unstable();
        dirty.dedup();
        for &id in &dirty {
            if let Some(conn) = self.net.conn(id) {
                conn.marked = false;
                handler.before_flush(conn);
            }
            match self.write(id) {
                Ok(true) => {
                    if self.net.conn(id).is_some_and(|c| c.closing) {
                        self.remove(handler, id);
                    } else if self
                        .net
                        .conn(id)
                        .is_some_and(|c| c.read_blocked && !c.reads_held)
                    {
                        if let Some(conn) = self.net.conn(id) {
                            conn.read_blocked = false;
                        }
                        self.read(handler, id);
                    }
                }
                Ok(false) => {}
                Err(e) => {
                    log::debug!("write to connection {id}: {e}");
                    self.remove(handler, id);
                }
            }
        }
        dirty.clear();
        // Keep the allocation; handlers may have marked more while we flushed.
        dirty.append(&mut self.net.dirty);
        self.net.dirty = dirty;
    }

    /// Writes until empty (`Ok(true)`) or `WouldBlock` (`Ok(false)`, writable armed).
    fn write(&mut self, id: ConnId) -> io::Result<bool> {
        let registry = &self.net.registry;
        let Some(conn) = self.net.conns.get_mut(id).and_then(Option::as_mut) else {
            return Ok(false);
        };
        while conn.out_pos < conn.output.len() {
            match conn.stream.write(&conn.output[conn.out_pos..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => conn.out_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if !conn.writable_armed {
                        registry.reregister(
                            &mut conn.stream,
                            Token(id),
                            Interest::READABLE | Interest::WRITABLE,
                        )?;
                        conn.writable_armed = true;
                    }
                    if conn.out_pos > conn.output.len() / 2 {
                        conn.output.drain(..conn.out_pos);
                        conn.out_pos = 0;
                    }
                    return Ok(false);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        conn.output.clear();
        conn.out_pos = 0;
        if conn.output.capacity() > IDLE_BUFFER {
            conn.output = Vec::new();
        }
        if conn.writable_armed {
            registry.reregister(&mut conn.stream, Token(id), Interest::READABLE)?;
            conn.writable_armed = false;
        }
        Ok(true)
    }

    fn remove<H: Handler<Conn = C>>(&mut self, handler: &mut H, id: ConnId) {
        let Some(mut conn) = self.net.conns.get_mut(id).and_then(Option::take) else {
            return;
        };
        if let Err(e) = self.net.registry.deregister(&mut conn.stream) {
            log::debug!("deregister connection {id}: {e}");
        }
        let _ = conn.stream.shutdown(Shutdown::Both);
        self.net.release(id);
        handler.closed(&mut self.net, id, conn.state);
    }
}
