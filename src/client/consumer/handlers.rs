//! The handler side: a work queue that connection readers fill and handler threads
//! drain, and what a handler thread does with each message — give up on one past
//! `max_attempts`, call the handler, and answer for it (FIN on `Ok`, REQ on `Err`)
//! unless it answered itself or disabled auto response. It never reads sockets.

use super::{HandlerError, Inner};
use crate::client::Message;
use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// A message handler as the consumer stores it.
pub(super) type Handler = Arc<dyn Fn(&Message) -> Result<(), HandlerError> + Send + Sync>;

/// go-nsq's `LogFailedMessage`: told about a message before it is given up.
pub(super) type GiveUpHook = Arc<dyn Fn(&Message) + Send + Sync>;

/// Messages waiting for a handler thread. Unbounded in type, bounded in practice by
/// the RDY the consumer hands out (`max_in_flight`).
#[derive(Debug, Default)]
pub(super) struct WorkQueue {
    state: Mutex<QueueState>,
    ready: Condvar,
}

#[derive(Debug, Default)]
struct QueueState {
    messages: VecDeque<Message>,
    closed: bool,
}

impl WorkQueue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `msg`; gives it back when the queue is closed.
    pub(super) fn push(&self, msg: Message) -> Result<(), Message> {
        let mut state = self.lock();
        if state.closed {
            return Err(msg);
        }
        state.messages.push_back(msg);
        drop(state);
        self.ready.notify_one();
        Ok(())
    }

    /// The next message, waiting for one; `None` once closed and drained.
    pub(super) fn pop(&self) -> Option<Message> {
        let mut state = self.lock();
        loop {
            if let Some(msg) = state.messages.pop_front() {
                return Some(msg);
            }
            if state.closed {
                return None;
            }
            state = self.ready.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// No more messages will come; handler threads finish what is queued and exit.
    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }

    /// Closes and drops what is queued (the stop deadline passed).
    pub(super) fn abandon(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.messages.clear();
        drop(state);
        self.ready.notify_all();
    }
}

/// A handler thread's life: handle messages until the queue is closed and drained.
pub(super) fn run(inner: &Inner, handler: &Handler) {
    while let Some(msg) = inner.queue.pop() {
        handle(inner, handler, &msg);
    }
}

/// One message: give up, or call the handler and answer for it.
fn handle(inner: &Inner, handler: &Handler, msg: &Message) {
    let max_attempts = inner.config.max_attempts;
    if max_attempts > 0 && msg.attempts > max_attempts {
        log::warn!(
            "msg {} attempted {} times, giving up",
            msg.id_str(),
            msg.attempts
        );
        let hook = inner
            .give_up_hook
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(hook) = hook {
            if panic::catch_unwind(AssertUnwindSafe(|| hook(msg))).is_err() {
                log::error!("give-up hook panicked on msg {}", msg.id_str());
            }
        }
        msg.finish();
        return;
    }
    // A panicking handler must not take its thread (and the message) with it.
    let failure = match panic::catch_unwind(AssertUnwindSafe(|| handler(msg))) {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some("handler panicked".to_string()),
    };
    if msg.is_auto_response_disabled() {
        return;
    }
    match failure {
        None => msg.finish(),
        Some(why) => {
            log::error!("handler returned error ({why}) for msg {}", msg.id_str());
            msg.requeue(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> Message {
        let mut data = vec![0u8; 10];
        data.extend_from_slice(b"0123456789abcdef");
        data.extend_from_slice(body.as_bytes());
        Message::decode(&data, "h:1").unwrap()
    }

    #[test]
    fn queue_drains_in_order_after_close() {
        let q = WorkQueue::default();
        q.push(message("a")).unwrap();
        q.push(message("b")).unwrap();
        q.close();
        assert!(q.push(message("c")).is_err());
        assert_eq!(q.pop().unwrap().body, b"a");
        assert_eq!(q.pop().unwrap().body, b"b");
        assert!(q.pop().is_none());
    }

    #[test]
    fn abandon_drops_queued_messages_and_wakes_waiters() {
        let q = Arc::new(WorkQueue::default());
        let waiter = {
            let q = q.clone();
            std::thread::spawn(move || q.pop().is_none())
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        q.abandon();
        assert!(waiter.join().unwrap());
        let q = WorkQueue::default();
        q.push(message("a")).unwrap();
        q.abandon();
        assert!(q.pop().is_none());
    }
}
