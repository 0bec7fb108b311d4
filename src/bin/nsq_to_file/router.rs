//! One topic: its consumer, and the thread that writes what the consumer delivers.
//!
//! The consumer's handler only disables the automatic answer and queues the message
//! for this thread (the queue cannot outgrow `--max-in-flight`: nsqd sends no more
//! than that unanswered). The thread writes each body and a newline, and FINs the
//! written messages only after the file is synced — at `--max-in-flight` pending
//! messages, on every `--sync-interval` tick, when the consumer is starved, before a
//! rotation's close, and during shutdown. Disk errors end the process (exit 1), as in
//! Go: unacknowledged messages are then redelivered by nsqd.

use crate::file_logger::FileLogger;
use crate::options::Options;
use nsq::client::consumer::HandlerError;
use nsq::client::{Consumer, Message};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

/// How long a stopping consumer may take to close its connections (go-nsq's cap).
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// How often a stopping consumer is checked.
const STOP_POLL: Duration = Duration::from_millis(20);

/// What the topic's thread reacts to.
enum Event {
    /// A delivered message, auto-response disabled.
    Message(Message),
    /// SIGINT/SIGTERM: stop the consumer, then sync, close and exit.
    Term,
    /// SIGHUP: sync and close the file (the next message opens a new one).
    Hup,
}

/// A running topic: its consumer and its writing thread.
pub struct Topic {
    events: Sender<Event>,
    thread: JoinHandle<()>,
}

/// What one event asks of the loop.
#[derive(Default)]
struct Todo {
    sync: bool,
    close: bool,
}

struct Router {
    file: FileLogger,
    consumer: Consumer,
    events: Receiver<Event>,
    /// Written, not yet synced and FIN'd.
    pending: Vec<Message>,
    max_in_flight: usize,
    sync_interval: Duration,
    skip_empty_files: bool,
    /// Set once the consumer is asked to stop: when to give up waiting for it.
    stopping: Option<Instant>,
}

/// Logs and ends the process: the disk can no longer be trusted with messages.
fn fatal(label: &str, e: std::io::Error) -> ! {
    log::error!("{label} {e}");
    std::process::exit(1)
}

impl Topic {
    /// Creates the consumer for `topic`, connects it, and starts writing.
    pub fn start(opts: &Arc<Options>, topic: &str) -> Result<Topic, String> {
        let file = FileLogger::new(opts.clone(), topic)?;
        let consumer =
            Consumer::new(topic, &opts.channel, opts.config.clone()).map_err(|e| e.to_string())?;
        let (tx, events) = mpsc::channel();
        let handler_tx = tx.clone();
        consumer.add_handler(move |m: &Message| -> Result<(), HandlerError> {
            m.disable_auto_response();
            handler_tx
                .send(Event::Message(m.clone()))
                .map_err(|_| "nsq_to_file: topic is shutting down".into())
        });
        let nsqds: Vec<&str> = opts.nsqd_tcp_addrs.iter().map(String::as_str).collect();
        let lookupds: Vec<&str> = opts.lookupd_http_addrs.iter().map(String::as_str).collect();
        let connected = consumer
            .connect_to_nsqds(&nsqds)
            .and_then(|()| consumer.connect_to_nsqlookupds(&lookupds));
        if let Err(e) = connected {
            consumer.stop();
            return Err(e.to_string());
        }
        let router = Router {
            file,
            consumer,
            events,
            pending: Vec::with_capacity(opts.max_in_flight),
            max_in_flight: opts.max_in_flight,
            sync_interval: opts.sync_interval,
            skip_empty_files: opts.skip_empty_files,
            stopping: None,
        };
        let thread = thread::Builder::new()
            .name(format!("nsq_to_file {topic}"))
            .spawn(move || router.run())
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        Ok(Topic { events: tx, thread })
    }

    /// Asks the topic to stop; [`Topic::join`] waits for it.
    pub fn term(&self) {
        let _ = self.events.send(Event::Term);
    }

    /// Asks the topic to close its file.
    pub fn hup(&self) {
        let _ = self.events.send(Event::Hup);
    }

    /// Waits until the topic has synced, closed its file and stopped.
    pub fn join(self) {
        if self.thread.join().is_err() {
            log::error!("a topic thread panicked");
        }
    }
}

impl Router {
    fn run(mut self) {
        let mut next_tick = Instant::now() + self.sync_interval;
        loop {
            let now = Instant::now();
            let wake = if self.stopping.is_some() {
                now + STOP_POLL
            } else {
                next_tick
            };
            let mut todo = match self
                .events
                .recv_timeout(wake.saturating_duration_since(now))
            {
                Ok(event) => self.handle(event),
                Err(RecvTimeoutError::Timeout) if self.stopping.is_none() => {
                    next_tick = (next_tick + self.sync_interval).max(Instant::now());
                    self.tick()
                }
                Err(RecvTimeoutError::Timeout) => Todo::default(),
                // Cannot happen while the Topic holds a sender; treat it as a stop.
                Err(RecvTimeoutError::Disconnected) => Todo {
                    sync: true,
                    close: true,
                },
            };
            // Take what else is already queued before deciding to sync: one fsync
            // then covers the whole batch.
            for _ in 0..self.max_in_flight {
                match self.events.try_recv() {
                    Ok(event) => {
                        let more = self.handle(event);
                        todo.sync |= more.sync;
                        todo.close |= more.close;
                    }
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
            let mut exit = false;
            if let Some(deadline) = self.stopping {
                // FIN at once so the stopping connections can drain.
                todo.sync = true;
                if self.consumer.wait_timeout(Duration::ZERO) {
                    exit = true;
                } else if Instant::now() >= deadline {
                    log::warn!("{} consumer did not stop in time", self.file.label());
                    exit = true;
                }
                todo.close |= exit;
            }
            if todo.sync || self.consumer.is_starved() {
                self.sync_and_finish();
            }
            if todo.close {
                if let Err(e) = self.file.close() {
                    fatal(self.file.label(), e);
                }
            }
            if exit {
                return;
            }
        }
    }

    fn handle(&mut self, event: Event) -> Todo {
        match event {
            Event::Message(m) => self.write(m),
            Event::Hup => Todo {
                sync: true,
                close: true,
            },
            Event::Term => {
                if self.stopping.is_none() {
                    self.consumer.stop();
                    self.stopping = Some(Instant::now() + STOP_TIMEOUT);
                }
                Todo {
                    sync: true,
                    close: false,
                }
            }
        }
    }

    fn write(&mut self, m: Message) -> Todo {
        let mut todo = Todo::default();
        if self.file.needs_rotation(SystemTime::now()) {
            if let Err(e) = self.file.update_file(SystemTime::now()) {
                fatal(self.file.label(), e);
            }
            todo.sync = true;
        }
        if let Err(e) = self.file.write_message(&m.body) {
            fatal(self.file.label(), e);
        }
        self.pending.push(m);
        todo.sync |= self.pending.len() >= self.max_in_flight;
        todo
    }

    fn tick(&mut self) -> Todo {
        let mut todo = Todo {
            sync: true,
            close: false,
        };
        if self.file.needs_rotation(SystemTime::now()) {
            if self.skip_empty_files {
                todo.close = true;
            } else if let Err(e) = self.file.update_file(SystemTime::now()) {
                fatal(self.file.label(), e);
            }
        }
        todo
    }

    fn sync_and_finish(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        log::debug!(
            "{} syncing {} records to disk",
            self.file.label(),
            self.pending.len()
        );
        if let Err(e) = self.file.sync() {
            fatal(self.file.label(), e);
        }
        for m in self.pending.drain(..) {
            m.finish();
        }
    }
}
