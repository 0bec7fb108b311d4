//! nsq_to_nsq: consumes one or more topics and republishes every message over TCP
//! to one or more destination nsqds — Go's `nsq_to_nsq` (v1.3.0), with the same
//! flags, checks and behaviour.
//!
//! ```text
//! nsq_to_nsq --nsqd-tcp-address=127.0.0.1:4150 --topic=src \
//!     --destination-nsqd-tcp-address=127.0.0.2:4250 --destination-topic=dst
//! nsq_to_nsq --lookupd-http-address=127.0.0.1:4161 --topic=t1 --topic=t2 --channel=copy \
//!     --destination-nsqd-tcp-address=127.0.0.1:4150 \
//!     --destination-nsqd-tcp-address=127.0.0.2:4250 --mode=round-robin
//! ```
//!
//! One consumer per `--topic` (all on `--channel`), each with one handler thread per
//! destination; one producer per destination, shared. A message is FIN'd at its
//! source only after its destination answered the PUB with `OK`; a failed PUB is
//! REQ'd with backoff, so nothing is lost (a PUB whose `OK` was lost with its
//! connection is sent again: at least once, not exactly once). Optional JSON filter:
//! `--require-json-field`, `--require-json-value`, `--whitelist-json-field`.
//!
//! SIGINT/SIGTERM: the consumers close (CLS) and wait for every delivered message to
//! be answered (its PUB's outcome: FIN or REQ), then the producers stop; exit 0.
//! Logs go to stderr; a bad flag exits 2, a refused option or a failed start 1.
//!
//! Modules: [`options`] (flags and Go's checks), [`filter`] (the JSON filter),
//! [`publish`] (producers, destination choice, responders, status lines).

mod filter;
mod options;
mod publish;

use nsq::client::Consumer;
use options::Options;
use publish::Publisher;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::process::ExitCode;
use std::sync::Arc;

/// Runs until SIGINT/SIGTERM; `Err` when the start fails (after a clean stop of
/// whatever had started).
fn run(opts: Options) -> Result<(), String> {
    let mut signals = Signals::new([SIGINT, SIGTERM]).map_err(|e| e.to_string())?;
    let publisher = Publisher::start(&opts)?;
    let mut consumers = Vec::new();
    let started = start_consumers(&opts, &publisher, &mut consumers);
    if started.is_ok() {
        // A second signal has no further effect: the handler stays installed.
        signals.forever().next();
    }
    stop(&consumers, &publisher);
    started
}

/// One consumer per topic, connected to the sources; stops at the first error.
fn start_consumers(
    opts: &Options,
    publisher: &Arc<Publisher>,
    consumers: &mut Vec<Consumer>,
) -> Result<(), String> {
    let nsqd: Vec<&str> = opts.nsqd.iter().map(String::as_str).collect();
    let lookupd: Vec<&str> = opts.lookupd.iter().map(String::as_str).collect();
    for topic in &opts.topics {
        let consumer = Consumer::new(topic, &opts.channel, opts.consumer.clone())
            .map_err(|e| e.to_string())?;
        let destination = match opts.destination_topic.as_str() {
            "" => topic.clone(),
            other => other.to_string(),
        };
        let p = Arc::clone(publisher);
        consumer.add_concurrent_handlers(
            move |msg| p.handle(msg, &destination),
            publisher.concurrency(),
        );
        consumers.push(consumer);
        let consumer = consumers.last().expect("just pushed");
        consumer
            .connect_to_nsqds(&nsqd)
            .map_err(|e| e.to_string())?;
        consumer
            .connect_to_nsqlookupds(&lookupd)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The clean stop: CLS everywhere, wait until every delivered message was answered
/// (responders keep running meanwhile), then stop the producers and responders.
fn stop(consumers: &[Consumer], publisher: &Publisher) {
    for consumer in consumers {
        consumer.stop();
    }
    for consumer in consumers {
        consumer.wait();
    }
    publisher.stop();
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let specs = options::specs();
    // Go's flag package refuses a bad option value while parsing: exit 2.
    if let Ok(parsed) = nsq::flags::parse(&specs, &args) {
        if let Err(e) = options::check_flag_values(&parsed) {
            eprintln!("nsq_to_nsq: {e}");
            return ExitCode::from(2);
        }
    }
    let parsed = match nsq::flags::parse_tool("nsq_to_nsq", &specs, &args) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nsq_to_nsq: {e}");
            return ExitCode::from(2);
        }
    };
    let _ = nsq::logging::init("[nsq_to_nsq] ", "info");
    let opts = match options::options(&parsed) {
        Ok(opts) => opts,
        Err(e) => {
            eprintln!("nsq_to_nsq: {e}");
            return ExitCode::FAILURE;
        }
    };
    match run(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nsq_to_nsq: {e}");
            ExitCode::FAILURE
        }
    }
}
