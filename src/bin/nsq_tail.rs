//! nsq_tail: prints the messages of one or more topics to stdout, one per line —
//! Go's `nsq_tail` with the same flags, plus the client TLS flags (`--tls`,
//! `--tls-*`). Without `--channel` it reads a fresh
//! ephemeral channel, so it sees new messages without taking them from anyone.
//!
//! Stdout carries only the data (`body\n`, or `topic | body\n` with `--print-topic`),
//! so `nsq_tail ... > file` holds exactly the messages; every log line (including
//! `Adding consumer for topic: ...`) and error goes to stderr, as in Go. A bad flag
//! exits 2 (Go's `flag` package), a rejected option 1 (Go's `log.Fatal`).

use nsq::client::{Config, Consumer};
use nsq::flags::{self, FlagKind, FlagSpec, Parsed};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

fn specs() -> Vec<FlagSpec> {
    use FlagKind as K;
    vec![
        FlagSpec::new("topic", K::List, "", "NSQ topic (may be given multiple times)"),
        FlagSpec::new("channel", K::String, "", "NSQ channel"),
        FlagSpec::new("max-in-flight", K::Int, 200, "max number of messages to allow in flight"),
        FlagSpec::new("n", K::Int, 0, "total messages to show (will wait if starved)"),
        FlagSpec::new("print-topic", K::Bool, false, "print topic name where message was received"),
        FlagSpec::new("nsqd-tcp-address", K::List, "", "nsqd TCP address (may be given multiple times)"),
        FlagSpec::new("lookupd-http-address", K::List, "", "lookupd HTTP address (may be given multiple times)"),
        FlagSpec::new("consumer-opt", K::List, "", "option to passthrough to nsq.Consumer (may be given multiple times, http://godoc.org/github.com/nsqio/go-nsq#Config)"),
        FlagSpec::new("version", K::Bool, false, "print version string"),
    ]
    .into_iter()
    .chain(nsq::client::tls_flags::specs())
    .collect()
}

/// Everything nsq_tail needs from its command line.
struct Options {
    topics: Vec<String>,
    channel: String,
    total: u64,
    print_topic: bool,
    nsqd: Vec<String>,
    lookupd: Vec<String>,
    config: Config,
}

/// A channel name like Go's `tail%06d#ephemeral`.
fn ephemeral_channel() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let n =
        (u64::from(nanos) ^ u64::from(std::process::id()).wrapping_mul(2_654_435_761)) % 999_999;
    format!("tail{n:06}#ephemeral")
}

fn options(parsed: &Parsed) -> Result<Options, String> {
    let get = |name| parsed.get_list(name).map_err(|e| e.to_string());
    let (topics, nsqd, lookupd) = (
        get("topic")?,
        get("nsqd-tcp-address")?,
        get("lookupd-http-address")?,
    );
    let mut channel = parsed.get_string("channel").map_err(|e| e.to_string())?;
    if channel.is_empty() {
        channel = ephemeral_channel();
    }
    if nsqd.is_empty() && lookupd.is_empty() {
        return Err("--nsqd-tcp-address or --lookupd-http-address required".into());
    }
    if !nsqd.is_empty() && !lookupd.is_empty() {
        return Err("use --nsqd-tcp-address or --lookupd-http-address not both".into());
    }
    if topics.is_empty() {
        return Err("--topic required".into());
    }
    let total = parsed.get_i64("n").map_err(|e| e.to_string())?.max(0) as u64;
    let mut max_in_flight = parsed
        .get_i64("max-in-flight")
        .map_err(|e| e.to_string())?
        .max(0) as u64;
    // Don't ask for more messages than we want.
    if total > 0 && total < max_in_flight {
        max_in_flight = total;
    }
    let mut config = Config::default();
    nsq::client::tls_flags::apply(parsed, &mut config)?;
    for opt in get("consumer-opt")? {
        config.set_flag(&opt).map_err(|e| e.to_string())?;
    }
    config.user_agent = format!(
        "nsq_tail/{} nsq-rs/{}",
        nsq::NSQ_VERSION,
        env!("CARGO_PKG_VERSION")
    );
    config.max_in_flight = max_in_flight;
    Ok(Options {
        topics,
        channel,
        total,
        print_topic: parsed.get_bool("print-topic").map_err(|e| e.to_string())?,
        nsqd,
        lookupd,
        config,
    })
}

/// Prints a message; exits the process once `total` (> 0) messages are shown.
fn show(
    topic: &str,
    body: &[u8],
    print_topic: bool,
    shown: &AtomicU64,
    total: u64,
) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if print_topic {
        out.write_all(topic.as_bytes())?;
        out.write_all(b" | ")?;
    }
    out.write_all(body)?;
    out.write_all(b"\n")?;
    out.flush()?;
    if total > 0 && shown.fetch_add(1, Ordering::SeqCst) + 1 >= total {
        std::process::exit(0);
    }
    Ok(())
}

fn run(opts: Options) -> Result<(), String> {
    let mut signals = Signals::new([SIGINT, SIGTERM]).map_err(|e| e.to_string())?;
    let shown = Arc::new(AtomicU64::new(0));
    let mut consumers = Vec::new();
    for topic in &opts.topics {
        // A log line, on stderr like Go's `log.Printf`: stdout is for messages only.
        log::info!("Adding consumer for topic: {topic}");
        let consumer =
            Consumer::new(topic, &opts.channel, opts.config.clone()).map_err(|e| e.to_string())?;
        let (topic, shown, total, print_topic) =
            (topic.clone(), shown.clone(), opts.total, opts.print_topic);
        consumer.add_handler(move |msg| {
            show(&topic, &msg.body, print_topic, &shown, total).map_err(|e| {
                log::error!("failed to write to os.Stdout - {e}");
                std::process::exit(1)
            })
        });
        let nsqd: Vec<&str> = opts.nsqd.iter().map(String::as_str).collect();
        let lookupd: Vec<&str> = opts.lookupd.iter().map(String::as_str).collect();
        consumer
            .connect_to_nsqds(&nsqd)
            .map_err(|e| e.to_string())?;
        consumer
            .connect_to_nsqlookupds(&lookupd)
            .map_err(|e| e.to_string())?;
        consumers.push(consumer);
    }
    signals.forever().next();
    for consumer in &consumers {
        consumer.stop();
    }
    for consumer in &consumers {
        consumer.wait();
    }
    Ok(())
}

fn main() -> ExitCode {
    let _ = nsq::logging::init("[nsq_tail] ", "info");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match flags::parse_tool("nsq_tail", &specs(), &args) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            // Go's flag package: a bad flag exits 2.
            eprintln!("nsq_tail: {e}");
            return ExitCode::from(2);
        }
    };
    match options(&parsed).and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nsq_tail: {e}");
            ExitCode::FAILURE
        }
    }
}
