//! A message as a client receives it, and the answers a handler can give it.
//!
//! This module owns the message's data and its "responded" bookkeeping: a message
//! handed out by a [`super::Consumer`] carries a private link back to the connection
//! it came from, so [`Message::finish`], [`Message::requeue`] and [`Message::touch`]
//! go out on that connection, at most one final answer per delivery. A message
//! decoded outside a consumer has no link and those calls do nothing. It never does
//! I/O itself.

use crate::proto::{self, MessageId};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Where a message's answers go: the consumer implements it per nsqd connection.
pub(super) trait Respond: Send + Sync {
    /// Sends `FIN` for `msg`.
    fn finish(&self, msg: &Message);
    /// Sends `REQ` for `msg`: `None` means the default delay for its attempts;
    /// `backoff` says whether this counts as a failure for the consumer's backoff.
    fn requeue(&self, msg: &Message, delay: Option<Duration>, backoff: bool);
    /// Sends `TOUCH` for `msg`.
    fn touch(&self, msg: &Message);
}

/// The per-delivery answer state shared by every clone of one message.
struct Answer {
    sink: Arc<dyn Respond>,
    responded: AtomicBool,
    auto_response_disabled: AtomicBool,
}

impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answer")
            .field("responded", &self.responded.load(Ordering::Relaxed))
            .field(
                "auto_response_disabled",
                &self.auto_response_disabled.load(Ordering::Relaxed),
            )
            .finish()
    }
}

/// One message delivered by nsqd. Clones share the delivery: answering one answers all.
///
/// ```no_run
/// use nsq::client::{Config, Consumer};
/// use std::time::Duration;
///
/// let consumer = Consumer::new("jobs", "workers", Config::default())?;
/// consumer.add_handler(|msg| {
///     if msg.attempts > 3 {
///         msg.requeue_without_backoff(Some(Duration::from_secs(60)));
///         return Ok(());
///     }
///     msg.touch(); // more time before nsqd's msg_timeout
///     println!("{} {:?}", msg.id_str(), msg.body);
///     Ok(()) // FIN (unless answered above)
/// });
/// # Ok::<(), nsq::client::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Message {
    /// The 16-character hex ID.
    pub id: MessageId,
    /// Publish time, Unix nanoseconds.
    pub timestamp: i64,
    /// Deliveries so far, this one included.
    pub attempts: u16,
    /// The body.
    pub body: Vec<u8>,
    /// The `host:port` of the nsqd that delivered it.
    pub nsqd_address: String,
    answer: Option<Arc<Answer>>,
}

/// Equality is on the delivered data; the answer state is not compared.
impl PartialEq for Message {
    fn eq(&self, other: &Message) -> bool {
        self.id == other.id
            && self.timestamp == other.timestamp
            && self.attempts == other.attempts
            && self.body == other.body
            && self.nsqd_address == other.nsqd_address
    }
}

impl Eq for Message {}

impl Message {
    /// Decodes the data of a message frame; `None` when it is too short.
    pub fn decode(data: &[u8], nsqd_address: &str) -> Option<Message> {
        let m = proto::decode_message(data)?;
        Some(Message {
            id: m.id,
            timestamp: m.timestamp,
            attempts: m.attempts,
            body: m.body.to_vec(),
            nsqd_address: nsqd_address.to_string(),
            answer: None,
        })
    }

    /// The ID as text.
    pub fn id_str(&self) -> &str {
        std::str::from_utf8(&self.id).unwrap_or("")
    }

    /// Links the message to the connection that delivered it.
    pub(super) fn attach(&mut self, sink: Arc<dyn Respond>) {
        self.answer = Some(Arc::new(Answer {
            sink,
            responded: AtomicBool::new(false),
            auto_response_disabled: AtomicBool::new(false),
        }));
    }

    /// The answer state, when this is the first final answer.
    fn first_answer(&self) -> Option<&Answer> {
        let answer = self.answer.as_deref()?;
        let first = answer
            .responded
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        first.then_some(answer)
    }

    /// Sends `FIN`: the message is done. Only the first final answer counts.
    pub fn finish(&self) {
        if let Some(answer) = self.first_answer() {
            answer.sink.finish(self);
        }
    }

    /// Sends `REQ` after `delay` (`None`: `default_requeue_delay × attempts`, capped
    /// by `max_requeue_delay`); counts as a failure, so the consumer backs off.
    pub fn requeue(&self, delay: Option<Duration>) {
        if let Some(answer) = self.first_answer() {
            answer.sink.requeue(self, delay, true);
        }
    }

    /// Like [`Message::requeue`], without triggering the consumer's backoff.
    pub fn requeue_without_backoff(&self, delay: Option<Duration>) {
        if let Some(answer) = self.first_answer() {
            answer.sink.requeue(self, delay, false);
        }
    }

    /// Sends `TOUCH`: nsqd restarts this message's timeout. Nothing after an answer.
    pub fn touch(&self) {
        if let Some(answer) = self.answer.as_deref() {
            if !answer.responded.load(Ordering::Acquire) {
                answer.sink.touch(self);
            }
        }
    }

    /// Stops the consumer from answering for the handler: the handler (or whoever
    /// holds a clone) must call [`Message::finish`] or [`Message::requeue`] itself.
    pub fn disable_auto_response(&self) {
        if let Some(answer) = self.answer.as_deref() {
            answer.auto_response_disabled.store(true, Ordering::Release);
        }
    }

    /// True after [`Message::disable_auto_response`].
    pub fn is_auto_response_disabled(&self) -> bool {
        self.answer
            .as_deref()
            .is_some_and(|a| a.auto_response_disabled.load(Ordering::Acquire))
    }

    /// True once `FIN` or `REQ` has been sent for this delivery.
    pub fn has_responded(&self) -> bool {
        self.answer
            .as_deref()
            .is_some_and(|a| a.responded.load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Record(Mutex<Vec<String>>);

    impl Respond for Record {
        fn finish(&self, msg: &Message) {
            self.0.lock().unwrap().push(format!("FIN {}", msg.id_str()));
        }
        fn requeue(&self, msg: &Message, delay: Option<Duration>, backoff: bool) {
            let line = format!("REQ {} {delay:?} {backoff}", msg.id_str());
            self.0.lock().unwrap().push(line);
        }
        fn touch(&self, msg: &Message) {
            self.0
                .lock()
                .unwrap()
                .push(format!("TOUCH {}", msg.id_str()));
        }
    }

    fn message() -> Message {
        let mut data = Vec::new();
        data.extend_from_slice(&7i64.to_be_bytes());
        data.extend_from_slice(&2u16.to_be_bytes());
        data.extend_from_slice(b"0123456789abcdef");
        data.extend_from_slice(b"body");
        Message::decode(&data, "h:1").unwrap()
    }

    #[test]
    fn decode_reads_the_header() {
        let m = message();
        assert_eq!((m.timestamp, m.attempts), (7, 2));
        assert_eq!(
            (m.id_str(), m.body.as_slice()),
            ("0123456789abcdef", &b"body"[..])
        );
        assert_eq!(m.nsqd_address, "h:1");
        assert!(Message::decode(&[0; 25], "h:1").is_none());
    }

    #[test]
    fn only_the_first_answer_is_sent_and_clones_share_it() {
        let record = Arc::new(Record::default());
        let mut m = message();
        m.attach(record.clone());
        let copy = m.clone();
        assert_eq!(copy, m);
        m.touch();
        assert!(!m.has_responded());
        copy.requeue(Some(Duration::from_millis(5)));
        m.finish();
        m.touch();
        m.requeue_without_backoff(None);
        assert!(m.has_responded() && copy.has_responded());
        assert_eq!(
            *record.0.lock().unwrap(),
            [
                "TOUCH 0123456789abcdef",
                "REQ 0123456789abcdef Some(5ms) true"
            ]
        );
    }

    #[test]
    fn auto_response_flag_and_unattached_messages() {
        let m = message();
        m.disable_auto_response();
        m.finish();
        assert!(!m.is_auto_response_disabled() && !m.has_responded());
        let mut m = message();
        m.attach(Arc::new(Record::default()));
        m.disable_auto_response();
        assert!(m.is_auto_response_disabled());
    }
}
