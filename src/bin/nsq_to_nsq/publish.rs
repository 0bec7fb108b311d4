//! The republishing half of nsq_to_nsq, shared by every topic's consumer: one
//! [`Producer`] per destination, the destination [`Pool`] (`--mode`), the
//! `--status-every` timers, and the responder threads that answer for each message
//! once its destination has answered the PUB.
//!
//! A message is FIN'd only after its destination said `OK`: the handler filters it,
//! picks a destination, queues an asynchronous PUB and disables the consumer's
//! automatic answer; a responder thread later receives the PUB's outcome and sends
//! FIN (OK) or REQ with backoff (an error frame, a lost connection). A PUB that
//! cannot even be queued (the destination refuses the connection) fails the handler,
//! so the consumer sends REQ with backoff at once. Either failure marks the
//! destination failed in the pool.
//!
//! ```text
//! handler: filter -> pool.pick -> publish_async ──PUB──> destination nsqd
//!                                                             │ OK / E_* / lost
//! responder: FIN or REQ, pool.mark, status timers  <──────────┘
//! ```

use crate::filter::Verdict;
use crate::options::Options;
use nsq::client::pool::Pool;
use nsq::client::status::StatusTimer;
use nsq::client::{HandlerError, Message, Producer, Transaction};
use nsq::logging::Repeats;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One PUB on its way: the message it answers for, where it went, when it started.
#[derive(Debug)]
struct Sent {
    msg: Message,
    dest: usize,
    start: Instant,
}

/// One destination nsqd.
struct Destination {
    addr: String,
    producer: Producer,
    /// Its `[<addr>]:` status timer, only with two or more destinations.
    status: Option<StatusTimer>,
    /// Its failed PUBs, logged once per interval while they repeat.
    failures: Repeats,
}

/// The destinations and the answers to their PUBs. Shared (`Arc`) by the handlers
/// of every consumer.
pub struct Publisher {
    filter: crate::filter::Filter,
    destinations: Vec<Destination>,
    pool: Pool,
    aggregate: StatusTimer,
    /// Where PUB outcomes go; taken (closed) by [`Publisher::stop`].
    results: Mutex<Option<Sender<Transaction<Sent>>>>,
    responders: Mutex<Vec<JoinHandle<()>>>,
}

impl Publisher {
    /// Makes the producers (they connect on their first PUB, as go-nsq's do), the
    /// pool, the timers, and one responder thread per destination.
    pub fn start(opts: &Options) -> Result<Arc<Publisher>, String> {
        let several = opts.destinations.len() > 1;
        let mut destinations = Vec::new();
        for addr in &opts.destinations {
            let producer = Producer::new(addr, opts.producer.clone())
                .map_err(|e| format!("failed creating producer {e}"))?;
            destinations.push(Destination {
                addr: addr.clone(),
                producer,
                status: several.then(|| StatusTimer::new(&format!("[{addr}]:"), opts.status_every)),
                failures: Repeats::new(Duration::from_secs(5)),
            });
        }
        let (tx, rx) = mpsc::channel();
        let publisher = Arc::new(Publisher {
            filter: opts.filter.clone(),
            pool: Pool::new(destinations.len(), opts.mode),
            destinations,
            aggregate: StatusTimer::new("[aggregate]:", opts.status_every),
            results: Mutex::new(Some(tx)),
            responders: Mutex::new(Vec::new()),
        });
        let rx = Arc::new(Mutex::new(rx));
        let mut responders = Vec::new();
        for i in 0..publisher.destinations.len() {
            let (p, rx) = (Arc::clone(&publisher), Arc::clone(&rx));
            let thread = std::thread::Builder::new()
                .name(format!("nsq_to_nsq-responder-{i}"))
                .spawn(move || p.respond(&rx))
                .map_err(|e| format!("cannot start a responder thread - {e}"))?;
            responders.push(thread);
        }
        *lock(&publisher.responders) = responders;
        Ok(publisher)
    }

    /// How many handler threads each consumer gets: one per destination, as in Go.
    pub fn concurrency(&self) -> usize {
        self.destinations.len()
    }

    /// The handler: filter `msg`, then queue its PUB to `topic` on the chosen
    /// destination. `Ok` with auto response disabled: a responder answers later.
    pub fn handle(&self, msg: &Message, topic: &str) -> Result<(), HandlerError> {
        let body = match self.filter.apply(&msg.body) {
            Verdict::Pass(body) => body,
            Verdict::Drop => return Ok(()),
            Verdict::NotJson => {
                log::error!(
                    "Unable to decode json: {}",
                    String::from_utf8_lossy(&msg.body)
                );
                return Ok(());
            }
            Verdict::MissingField => {
                log::error!("missing field to check required value");
                return Err("backoff".into());
            }
        };
        let Some(results) = lock(&self.results).clone() else {
            return Err("stopping".into());
        };
        let dest = self.pool.pick().first().copied().unwrap_or(0);
        let start = Instant::now();
        let sent = Sent {
            msg: msg.clone(),
            dest,
            start,
        };
        let d = &self.destinations[dest];
        if let Err(e) = d.producer.publish_async(topic, &body, results, sent) {
            self.pool.mark(dest, false, start.elapsed());
            // Go's words: "Handler returned error (dial tcp ...: connection refused)".
            return Err(e.into());
        }
        msg.disable_auto_response();
        Ok(())
    }

    /// A responder thread: answers each message as its PUB's outcome arrives, until
    /// [`Publisher::stop`] closed the channel and every outcome was handled.
    fn respond(&self, rx: &Mutex<Receiver<Transaction<Sent>>>) {
        loop {
            // The lock is held while waiting only; a second responder waits for it.
            let next = lock(rx).recv();
            let Ok(Transaction { result, args: sent }) = next else {
                return;
            };
            let took = sent.start.elapsed();
            let d = &self.destinations[sent.dest];
            match result {
                Ok(()) => {
                    self.pool.mark(sent.dest, true, took);
                    d.failures.reset();
                    sent.msg.finish();
                }
                Err(e) => {
                    self.pool.mark(sent.dest, false, took);
                    let text = format!("({}) PUB failed, requeueing - {e}", d.addr);
                    d.failures.log(log::Level::Warn, text);
                    sent.msg.requeue(None);
                }
            }
            if let Some(status) = &d.status {
                status.record(took);
            }
            self.aggregate.record(took);
        }
    }

    /// After the consumers have stopped: stops every producer (a PUB still waiting
    /// gets "not connected", its message REQ — a no-op on a closed consumer), closes
    /// the outcome channel and waits for the responders to drain it.
    pub fn stop(&self) {
        for d in &self.destinations {
            d.producer.stop();
        }
        lock(&self.results).take();
        let responders = std::mem::take(&mut *lock(&self.responders));
        for thread in responders {
            let _ = thread.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
