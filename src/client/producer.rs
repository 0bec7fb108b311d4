//! A go-nsq style [`Producer`]: publishes to one nsqd over one lazily made connection.
//!
//! The producer owns that connection and one reader thread per connection. It never
//! retries a command on its own: a command whose connection is lost fails with
//! [`Error::NotConnected`], and the next command dials again.
//!
//! Commands are pipelined. nsqd answers the commands of one connection strictly in
//! order, one frame each, so a FIFO of pending completions is all the bookkeeping
//! needed: a command is queued, then written, while the producer's lock is held (so
//! FIFO order is wire order), and the reader thread hands each response (`OK`) or
//! error frame to the oldest pending completion. Heartbeats are answered inside
//! [`Reader::read_frame`] and never reach the FIFO.
//!
//! ```text
//!   publish ──lock──> queue completion ─> write PUB ─┐
//!                                                     v
//!   caller <── completion(result) <── reader thread <── OK / E_* frame
//!   E_* frame: nsqd closes after it, so the producer closes too
//!   lost connection, stray frame, stop: every queued completion gets NotConnected
//! ```
//!
//! ```no_run
//! use nsq::client::{Config, Producer};
//! use std::sync::mpsc;
//! use std::time::Duration;
//!
//! let producer = Producer::new("127.0.0.1:4150", Config::default())?;
//! producer.publish("events", b"hello")?;
//! producer.multi_publish("events", &[&b"one"[..], b"two"])?;
//! producer.deferred_publish("events", Duration::from_secs(5), b"later")?;
//!
//! let (done, results) = mpsc::channel();
//! for i in 0..10 {
//!     producer.publish_async("events", format!("msg {i}").as_bytes(), done.clone(), i)?;
//! }
//! for _ in 0..10 {
//!     let t = results.recv().expect("one transaction per call");
//!     println!("message {} -> {:?}", t.args, t.result);
//! }
//! producer.stop();
//! # Ok::<(), nsq::client::Error>(())
//! ```

use super::{Config, Conn, Error, Frame, Reader, Writer};
use crate::proto::{self, commands};
use std::collections::VecDeque;
use std::fmt;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

#[cfg(test)]
mod tests;

/// The outcome of an asynchronous publish with the value the caller attached to it
/// (go-nsq's `ProducerTransaction`).
#[derive(Debug)]
pub struct Transaction<T> {
    /// `Ok` when nsqd answered `OK`; [`Error::Protocol`] for an error frame;
    /// [`Error::NotConnected`] when the connection was lost or the producer stopped
    /// before the answer came.
    pub result: Result<(), Error>,
    /// What was passed as `args` to the `*_async` call.
    pub args: T,
}

/// Called once with the answer to one command. Completions only send on unbounded
/// channels, so they never block and may run under the pending lock.
type Completion = Box<dyn FnOnce(Result<(), Error>) + Send>;

/// One connection as the producer and its reader thread share it.
struct Link {
    writer: Writer,
    pending: Mutex<Pending>,
}

/// Completions waiting for a frame, oldest first.
#[derive(Default)]
struct Pending {
    queue: VecDeque<Completion>,
    /// Set once when the connection is given up; nothing is queued after that.
    closed: bool,
}

impl Link {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Queues `done`, then writes `cmd`. Called with the producer's lock held, so
    /// commands reach the wire in queue order.
    fn send(&self, cmd: &[u8], done: Completion) {
        {
            let mut pending = self.lock();
            if pending.closed {
                // Lost between the liveness check and now: as if lost just after.
                done(Err(Error::NotConnected));
                return;
            }
            pending.queue.push_back(done);
        }
        if let Err(e) = self.writer.send(cmd) {
            log::warn!("producer: write failed: {e}; closing the connection");
            self.close(None);
        }
    }

    /// Hands `result` to the oldest pending completion; false when none is waiting.
    fn complete_oldest(&self, result: Result<(), Error>) -> bool {
        let mut pending = self.lock();
        match pending.queue.pop_front() {
            Some(done) => {
                done(result);
                true
            }
            None => false,
        }
    }

    /// Gives the connection up: closes the socket (waking the reader thread), hands
    /// `first` (if any) to the oldest pending completion and fails the rest with
    /// [`Error::NotConnected`], in order, all under one lock so no command can slip
    /// in between. Idempotent.
    fn close(&self, first: Option<Error>) {
        let mut pending = self.lock();
        pending.closed = true;
        self.writer.shutdown();
        if let Some(e) = first {
            if let Some(done) = pending.queue.pop_front() {
                done(Err(e));
            }
        }
        while let Some(done) = pending.queue.pop_front() {
            done(Err(Error::NotConnected));
        }
    }
}

/// The reader thread: one frame answers one pending command until the connection
/// ends or nsqd sends something a producer never expects.
///
/// nsqd closes the connection after any error to PUB, MPUB or DPUB (only FIN, REQ
/// and TOUCH errors are not fatal), so an error frame ends the connection here at
/// once: the next command redials instead of racing nsqd's close, and the commands
/// behind the failed one, which nsqd will never run, get [`Error::NotConnected`].
fn read_loop(mut reader: Reader, link: Arc<Link>, addr: String) {
    let first = loop {
        match reader.read_frame() {
            Ok(Frame::Response(_)) if link.complete_oldest(Ok(())) => {}
            Ok(Frame::Response(data)) => {
                let text = String::from_utf8_lossy(&data);
                log::warn!("producer({addr}): response {text:?} with no command pending");
                break None;
            }
            Ok(Frame::Error(text)) => break Some(Error::Protocol(text)),
            Ok(Frame::Message(_)) => {
                log::warn!("producer({addr}): message frame on a producer connection");
                break None;
            }
            // A close of our own (stop, a failed write) ends the read too: not news.
            Err(e) if link.is_closed() => {
                log::debug!("producer({addr}): connection closed ({e})");
                break None;
            }
            Err(e) => {
                log::info!("producer({addr}): connection lost: {e}");
                break None;
            }
        }
    };
    link.close(first);
}

/// The live connection and the thread reading it.
struct Connection {
    link: Arc<Link>,
    reader: JoinHandle<()>,
}

impl Connection {
    /// Closes the link and waits for its reader thread to end.
    fn close(self) {
        self.link.close(None);
        let _ = self.reader.join();
    }
}

/// What the producer's lock guards.
#[derive(Default)]
struct State {
    stopped: bool,
    conn: Option<Connection>,
}

/// Publishes to one nsqd (go-nsq's `Producer`). It is `Send + Sync`: one
/// `Arc<Producer>` may serve many threads, whose commands are pipelined on its one
/// connection.
///
/// The connection is made on the first command (not by [`Producer::new`]) and made
/// again on the command after it is lost. Dropping the producer stops it.
///
/// ```no_run
/// use nsq::client::{Config, Producer};
/// use std::sync::Arc;
///
/// let producer = Arc::new(Producer::new("127.0.0.1:4150", Config::default())?);
/// let workers: Vec<_> = (0..4)
///     .map(|n| {
///         let producer = Arc::clone(&producer);
///         std::thread::spawn(move || producer.publish("jobs", format!("from {n}").as_bytes()))
///     })
///     .collect();
/// for w in workers {
///     w.join().expect("worker")?;
/// }
/// # Ok::<(), nsq::client::Error>(())
/// ```
pub struct Producer {
    addr: String,
    config: Config,
    state: Mutex<State>,
}

impl fmt::Debug for Producer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

fn check_topic(topic: &str) -> Result<(), Error> {
    if proto::is_valid_name(topic.as_bytes()) {
        Ok(())
    } else {
        Err(Error::InvalidName(format!("invalid topic name {topic:?}")))
    }
}

/// A completion that delivers a [`Transaction`] on `done`; a dropped receiver is
/// the caller's choice, not an error.
fn async_completion<T: Send + 'static>(done: Sender<Transaction<T>>, args: T) -> Completion {
    Box::new(move |result| {
        let _ = done.send(Transaction { result, args });
    })
}

impl Producer {
    /// A producer for the nsqd at `addr` (`host:port`). Checks `config` but does not
    /// connect: the first command does.
    pub fn new(addr: &str, config: Config) -> Result<Producer, Error> {
        let config = config.prepared()?;
        Ok(Producer {
            addr: addr.to_string(),
            config,
            state: Mutex::new(State::default()),
        })
    }

    /// The nsqd address this producer publishes to.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Publishes one message and waits for nsqd's answer.
    pub fn publish(&self, topic: &str, body: &[u8]) -> Result<(), Error> {
        check_topic(topic)?;
        let mut cmd = Vec::with_capacity(body.len() + topic.len() + 9);
        commands::publish(&mut cmd, topic, body);
        self.send_and_wait(&cmd)
    }

    /// Publishes several messages in one `MPUB` (all or none) and waits for the answer.
    pub fn multi_publish<B: AsRef<[u8]>>(&self, topic: &str, bodies: &[B]) -> Result<(), Error> {
        check_topic(topic)?;
        let mut cmd = Vec::new();
        commands::multi_publish(&mut cmd, topic, bodies);
        self.send_and_wait(&cmd)
    }

    /// Publishes one message that nsqd holds back for `delay` (`DPUB`, millisecond
    /// resolution) and waits for the answer.
    pub fn deferred_publish(&self, topic: &str, delay: Duration, body: &[u8]) -> Result<(), Error> {
        check_topic(topic)?;
        let mut cmd = Vec::new();
        commands::deferred_publish(&mut cmd, topic, delay_ms(delay), body);
        self.send_and_wait(&cmd)
    }

    /// Sends a `PUB` and returns; its [`Transaction`] (with `args`) arrives on `done`
    /// later. Transactions of one producer arrive in call order. An `Err` here (bad
    /// topic, stopped, cannot connect) means nothing was sent and no transaction follows.
    pub fn publish_async<T: Send + 'static>(
        &self,
        topic: &str,
        body: &[u8],
        done: Sender<Transaction<T>>,
        args: T,
    ) -> Result<(), Error> {
        check_topic(topic)?;
        let mut cmd = Vec::with_capacity(body.len() + topic.len() + 9);
        commands::publish(&mut cmd, topic, body);
        self.send(&cmd, async_completion(done, args))
    }

    /// [`Producer::multi_publish`] without waiting, as [`Producer::publish_async`].
    pub fn multi_publish_async<B: AsRef<[u8]>, T: Send + 'static>(
        &self,
        topic: &str,
        bodies: &[B],
        done: Sender<Transaction<T>>,
        args: T,
    ) -> Result<(), Error> {
        check_topic(topic)?;
        let mut cmd = Vec::new();
        commands::multi_publish(&mut cmd, topic, bodies);
        self.send(&cmd, async_completion(done, args))
    }

    /// [`Producer::deferred_publish`] without waiting, as [`Producer::publish_async`].
    pub fn deferred_publish_async<T: Send + 'static>(
        &self,
        topic: &str,
        delay: Duration,
        body: &[u8],
        done: Sender<Transaction<T>>,
        args: T,
    ) -> Result<(), Error> {
        check_topic(topic)?;
        let mut cmd = Vec::new();
        commands::deferred_publish(&mut cmd, topic, delay_ms(delay), body);
        self.send(&cmd, async_completion(done, args))
    }

    /// Connects if needed and sends `NOP`. nsqd never answers a `NOP`, so `Ok` means
    /// the connection is up and the write went out.
    pub fn ping(&self) -> Result<(), Error> {
        let mut state = self.lock();
        let link = self.connected(&mut state)?;
        let mut nop = Vec::new();
        commands::nop(&mut nop);
        link.writer.send(&nop).inspect_err(|_| link.close(None))
    }

    /// Stops the producer: the connection is closed, commands still waiting for an
    /// answer get [`Error::NotConnected`], the reader thread is joined, and every
    /// later call fails with [`Error::Stopped`]. Idempotent.
    pub fn stop(&self) {
        let conn = {
            let mut state = self.lock();
            state.stopped = true;
            state.conn.take()
        };
        if let Some(conn) = conn {
            conn.close();
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live link, dialing (and starting its reader thread) when there is none.
    fn connected(&self, state: &mut State) -> Result<Arc<Link>, Error> {
        if state.stopped {
            return Err(Error::Stopped);
        }
        if let Some(conn) = &state.conn {
            if !conn.link.is_closed() {
                return Ok(Arc::clone(&conn.link));
            }
        }
        if let Some(old) = state.conn.take() {
            old.close();
        }
        let Conn { reader, writer, .. } = Conn::connect(&self.addr, &self.config)?;
        let link = Arc::new(Link {
            writer,
            pending: Mutex::new(Pending::default()),
        });
        let (thread_link, addr) = (Arc::clone(&link), self.addr.clone());
        let spawned = thread::Builder::new()
            .name(format!("nsq-producer({})", self.addr))
            .spawn(move || read_loop(reader, thread_link, addr));
        let reader = spawned.inspect_err(|_| link.close(None))?;
        state.conn = Some(Connection {
            link: Arc::clone(&link),
            reader,
        });
        Ok(link)
    }

    /// Queues `done` and writes `cmd` on the live connection (dialing if needed).
    /// On `Err`, nothing was sent and `done` is never called.
    fn send(&self, cmd: &[u8], done: Completion) -> Result<(), Error> {
        let mut state = self.lock();
        let link = self.connected(&mut state)?;
        link.send(cmd, done);
        Ok(())
    }

    fn send_and_wait(&self, cmd: &[u8]) -> Result<(), Error> {
        let (tx, rx) = mpsc::channel();
        self.send(
            cmd,
            Box::new(move |result| {
                let _ = tx.send(result);
            }),
        )?;
        rx.recv().unwrap_or(Err(Error::NotConnected))
    }
}

fn delay_ms(delay: Duration) -> u64 {
    u64::try_from(delay.as_millis()).unwrap_or(u64::MAX)
}

impl Drop for Producer {
    fn drop(&mut self) {
        self.stop();
    }
}
