//! Which topics are consumed: the `--topic` list, or every topic lookupd knows
//! (refreshed every `--topic-refresh`), filtered by `--topic-pattern`; and the
//! signals: SIGHUP closes every topic's file, SIGINT/SIGTERM stops every topic and
//! returns once all have synced and closed their files.
//!
//! Unlike Go, which first asks lookupd one `--topic-refresh` after starting, the
//! topic list is read at once and then on every refresh.

use crate::options::Options;
use crate::router::Topic;
use nsq::http::client;
use std::collections::{BTreeSet, HashMap};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Instant;

/// A signal the tool acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT or SIGTERM: stop.
    Term,
    /// SIGHUP: close the current files.
    Hup,
}

/// The running topics.
pub struct Discoverer {
    opts: Arc<Options>,
    topics: HashMap<String, Topic>,
}

/// The sorted union of the topics every lookupd in `addrs` lists (Go's
/// `GetLookupdTopics`): an error if any query fails.
fn lookupd_topics(opts: &Options) -> Result<Vec<String>, String> {
    let mut topics = BTreeSet::new();
    let mut errors = Vec::new();
    for addr in &opts.lookupd_http_addrs {
        match query_topics(addr, opts) {
            Ok(list) => topics.extend(list),
            Err(e) => errors.push(e),
        }
    }
    match errors.len() {
        0 => Ok(topics.into_iter().collect()),
        n if n == opts.lookupd_http_addrs.len() => Err(format!(
            "Failed to query any nsqlookupd: {}",
            errors.join("; ")
        )),
        _ => Err(errors.join("; ")),
    }
}

/// `GET /topics` on one lookupd.
fn query_topics(addr: &str, opts: &Options) -> Result<Vec<String>, String> {
    let target = client::parse_url(addr, "/topics")?;
    let (scheme, tls) = match target.https {
        // The consumer's TLS options serve an https:// lookupd too.
        true => (
            "https",
            Some(opts.config.client_tls().map_err(|e| e.to_string())?),
        ),
        false => ("http", None),
    };
    let url = format!("{scheme}://{}{}", target.host_port, target.path);
    let response = client::get_with(&url, opts.http_timeouts, tls.as_ref())
        .map_err(|e| format!("GET {url}: {e}"))?;
    if response.status != 200 {
        let body = String::from_utf8_lossy(&response.body);
        return Err(format!("GET {url}: status {} {body}", response.status));
    }
    #[derive(serde::Deserialize)]
    struct Topics {
        topics: Vec<String>,
    }
    let reply: Topics =
        serde_json::from_slice(&response.body).map_err(|e| format!("GET {url}: bad JSON: {e}"))?;
    Ok(reply.topics)
}

impl Discoverer {
    /// No topics yet; [`Discoverer::run`] starts them.
    pub fn new(opts: Arc<Options>) -> Discoverer {
        Discoverer {
            opts,
            topics: HashMap::new(),
        }
    }

    /// Starts a consumer for every new topic in `names` that the pattern allows;
    /// a topic that cannot start is logged (and, when discovering, tried again on
    /// the next refresh).
    fn update_topics(&mut self, names: &[String]) {
        for name in names {
            if self.topics.contains_key(name) {
                continue;
            }
            if let Some(pattern) = &self.opts.topic_pattern {
                if !pattern.is_match(name) {
                    log::warn!(
                        "skipping topic {name} (doesn't match pattern {})",
                        pattern.as_str()
                    );
                    continue;
                }
            }
            match Topic::start(&self.opts, name) {
                Ok(topic) => {
                    self.topics.insert(name.clone(), topic);
                }
                Err(e) => log::error!("couldn't create logger for new topic {name}: {e}"),
            }
        }
    }

    /// Runs until SIGINT/SIGTERM (or `signals` closing), then stops every topic and
    /// waits for each to finish.
    pub fn run(mut self, signals: &Receiver<Signal>) {
        let opts = self.opts.clone();
        self.update_topics(&opts.topics);
        let discover = opts.topics.is_empty();
        let mut next_refresh = Instant::now();
        loop {
            let event = if discover {
                let wait = next_refresh.saturating_duration_since(Instant::now());
                signals.recv_timeout(wait)
            } else {
                signals.recv().map_err(|_| RecvTimeoutError::Disconnected)
            };
            match event {
                Ok(Signal::Hup) => self.topics.values().for_each(Topic::hup),
                Ok(Signal::Term) | Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    next_refresh = Instant::now() + opts.topic_refresh;
                    match lookupd_topics(&opts) {
                        Ok(names) => self.update_topics(&names),
                        Err(e) => log::error!("could not retrieve topic list: {e}"),
                    }
                }
            }
        }
        self.topics.values().for_each(Topic::term);
        for (_, topic) in self.topics.drain() {
            topic.join();
        }
    }
}
