//! One subscribed nsqd connection: open it (connect, IDENTIFY, SUB and its `OK`),
//! keep its RDY and in-flight count, read its frames on a dedicated thread, and send
//! the FIN/REQ/TOUCH a message's handler decides on.
//!
//! After `CLS` nsqd answers `CLOSE_WAIT` and sends nothing more; the link then closes
//! its socket as soon as no message it delivered is still unanswered. A link never
//! decides RDY itself: the flow controller tells it what to send.

use super::backoff::{self, Signal};
use super::rdy::{self, Slot};
use super::Inner;
use crate::client::message::Respond;
use crate::client::{Conn, Error, Frame, Message, Reader, Writer};
use crate::proto::commands;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The RDY limit go-nsq assumes when nsqd does not negotiate one.
const DEFAULT_MAX_RDY: u64 = 2500;

/// A subscribed connection to one nsqd.
#[derive(Debug)]
pub(super) struct Link {
    /// The `host:port` dialed.
    pub(super) addr: String,
    writer: Writer,
    max_rdy: u64,
    state: Mutex<LinkState>,
}

#[derive(Debug)]
struct LinkState {
    rdy: u64,
    rdy_changed: Instant,
    last_message: Instant,
    in_flight: u64,
    closing: bool,
}

/// Encodes one command.
fn command(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    f(&mut out);
    out
}

/// REQ takes whole milliseconds; nsqd clamps what is too large.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Connects to `addr`, subscribes and waits for the `OK`; no RDY is sent yet.
pub(super) fn open(inner: &Inner, addr: &str) -> Result<(Arc<Link>, Reader), Error> {
    let mut conn = Conn::connect(addr, &inner.config)?;
    let sub = command(|o| commands::sub(o, &inner.topic, &inner.channel));
    if let Err(e) = conn.command(&sub) {
        conn.close();
        return Err(e);
    }
    let Conn {
        reader,
        writer,
        settings,
        ..
    } = conn;
    let now = Instant::now();
    let link = Link {
        addr: addr.to_string(),
        writer,
        max_rdy: match settings.max_rdy_count {
            0 => DEFAULT_MAX_RDY,
            n => n,
        },
        state: Mutex::new(LinkState {
            rdy: 0,
            rdy_changed: now,
            last_message: now,
            in_flight: 0,
            closing: false,
        }),
    };
    Ok((Arc::new(link), reader))
}

impl Link {
    fn lock(&self) -> MutexGuard<'_, LinkState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends `bytes`, logging a failure (the reader notices a dead socket).
    fn send(&self, what: &str, bytes: &[u8]) {
        if let Err(e) = self.writer.send(bytes) {
            log::warn!("({}) error sending {what} - {e}", self.addr);
        }
    }

    /// Sends `RDY count` (capped by the server's `max_rdy_count`) unless it is
    /// already the count or the link is closing.
    pub(super) fn set_rdy(&self, count: u64) {
        let count = count.min(self.max_rdy);
        let mut state = self.lock();
        if state.closing || state.rdy == count {
            return;
        }
        // Sent under the lock so the RDY on the wire always matches `state.rdy`.
        self.send("RDY", &command(|o| commands::rdy(o, count)));
        state.rdy = count;
        state.rdy_changed = Instant::now();
    }

    /// The link as the RDY planner sees it.
    pub(super) fn slot(&self, now: Instant) -> Slot {
        let state = self.lock();
        Slot {
            rdy: state.rdy,
            max_rdy: self.max_rdy,
            idle: now.saturating_duration_since(state.last_message),
            held: now.saturating_duration_since(state.rdy_changed),
        }
    }

    /// True when messages in flight are near its RDY (go-nsq's `IsStarved`).
    pub(super) fn is_starved(&self) -> bool {
        let state = self.lock();
        !state.closing && rdy::is_starved(state.rdy, state.in_flight)
    }

    /// Sends `CLS`; nsqd answers `CLOSE_WAIT`. A failed send closes the socket.
    pub(super) fn start_close(&self) {
        if let Err(e) = self.writer.send(&command(commands::cls)) {
            log::warn!("({}) error sending CLS - {e}", self.addr);
            self.shutdown();
        }
    }

    /// Closes the socket; the reader thread ends.
    pub(super) fn shutdown(&self) {
        self.writer.shutdown();
    }

    fn received(&self) {
        let mut state = self.lock();
        state.in_flight += 1;
        state.last_message = Instant::now();
    }

    /// A delivered message was answered (or dropped): close once drained after CLS.
    fn answered(&self) {
        let mut state = self.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        if state.closing && state.in_flight == 0 {
            self.shutdown();
        }
    }

    fn close_wait(&self) {
        let mut state = self.lock();
        state.closing = true;
        if state.in_flight == 0 {
            self.shutdown();
        }
    }

    fn is_closing(&self) -> bool {
        self.lock().closing
    }
}

/// The reader thread: messages to the work queue, `CLOSE_WAIT` to closing, error
/// frames to the log; on a closed or broken socket the link is removed.
pub(super) fn read_loop(inner: &Arc<Inner>, link: &Arc<Link>, mut reader: Reader) {
    let answers: Arc<dyn Respond> = Arc::new(Answers {
        inner: inner.clone(),
        link: link.clone(),
    });
    loop {
        match reader.read_frame() {
            Ok(Frame::Message(mut msg)) => {
                link.received();
                inner.counters.received.fetch_add(1, Ordering::Relaxed);
                msg.attach(answers.clone());
                if inner.queue.push(msg).is_err() {
                    link.answered();
                }
            }
            Ok(Frame::Response(data)) if data == b"CLOSE_WAIT" => {
                log::info!("({}) received CLOSE_WAIT from nsqd", link.addr);
                link.close_wait();
            }
            Ok(Frame::Response(data)) => {
                let text = String::from_utf8_lossy(&data);
                log::debug!("({}) response {text}", link.addr);
            }
            Ok(Frame::Error(text)) => log::error!("({}) protocol error - {text}", link.addr),
            Err(e) => {
                if !link.is_closing() {
                    log::warn!("({}) connection closed - {e}", link.addr);
                }
                break;
            }
        }
    }
    link.shutdown();
    inner.remove_link(link);
}

/// Answers for the messages of one link, shared by all of them.
struct Answers {
    inner: Arc<Inner>,
    link: Arc<Link>,
}

impl Respond for Answers {
    fn finish(&self, msg: &Message) {
        self.inner.counters.finished.fetch_add(1, Ordering::Relaxed);
        self.inner.flow.signal(&self.inner, Signal::Resume);
        self.link
            .send("FIN", &command(|o| commands::fin(o, &msg.id)));
        self.link.answered();
    }

    fn requeue(&self, msg: &Message, delay: Option<Duration>, backoff: bool) {
        let config = &self.inner.config;
        let delay = delay.unwrap_or_else(|| {
            backoff::requeue_delay(
                config.default_requeue_delay,
                msg.attempts,
                config.max_requeue_delay,
            )
        });
        self.inner.counters.requeued.fetch_add(1, Ordering::Relaxed);
        let signal = if backoff {
            Signal::Backoff
        } else {
            Signal::Continue
        };
        self.inner.flow.signal(&self.inner, signal);
        let req = command(|o| commands::req(o, &msg.id, millis(delay)));
        self.link.send("REQ", &req);
        self.link.answered();
    }

    fn touch(&self, msg: &Message) {
        self.link
            .send("TOUCH", &command(|o| commands::touch(o, &msg.id)));
    }
}
