//! nsq_stat: polls `/stats` of every nsqd that has a topic and prints the channel's
//! figures, summed over all of them, every `--interval` — Go's `nsq_stat`, ported.
//!
//! ```text
//! nsq_stat --topic=T --channel=C (--nsqd-http-address=H:P ... | --lookupd-http-address=H:P ...)
//!          [--interval=2s] [--count=N] [--http-client-request-timeout=5s]
//! ```
//!
//! Each poll finds the topic's nsqd (through nsqlookupd's `/lookup`, or among the
//! given nsqd), reads the channel from each one's `/stats`, and prints a row of rates
//! since the previous poll (so the first poll prints only the header); `--count=N`
//! stops after N rows. Flag errors print Go's message and the usage and exit 2; a
//! rejected option or a failed poll prints a Go `log.Fatal` line and exits 1;
//! SIGINT, SIGTERM and SIGHUP exit 0. Stdout carries only the table (header lines
//! and rows, as Go prints them); every message goes to stderr. [`cluster`] talks to
//! the cluster, [`report`] formats the output.

mod cluster;
mod report;

use nsq::flags::{self, FlagKind, FlagSpec, Parsed};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::io::{ErrorKind, Write};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What the command line asks for.
#[derive(Debug)]
struct Options {
    topic: String,
    channel: String,
    interval: Duration,
    /// `--http-client-connect-timeout` and `--http-client-request-timeout`.
    timeouts: nsq::http::client::Timeouts,
    /// Rows to print before exiting; `None` polls until stopped.
    count: Option<u64>,
    nsqd_http_addrs: Vec<String>,
    lookupd_http_addrs: Vec<String>,
}

/// Why the program stops before polling.
enum Stop {
    /// `--version` was given.
    Version,
    /// `-h`, `-help` or `--help` was given: usage, exit 0.
    Help,
    /// A flag Go's `flag` package rejects: message and usage, exit 2.
    Usage(String),
    /// An option `main` rejects with `log.Fatal`: exit 1.
    Fatal(String),
}

fn specs() -> Vec<FlagSpec> {
    use FlagKind as K;
    vec![
        FlagSpec::new("version", K::Bool, false, "print version"),
        FlagSpec::new("topic", K::String, "", "NSQ topic"),
        FlagSpec::new("channel", K::String, "", "NSQ channel"),
        FlagSpec::new(
            "interval",
            K::Duration,
            "2s",
            "duration of time between polling/printing output",
        ),
        FlagSpec::new(
            "http-client-connect-timeout",
            K::Duration,
            "2s",
            "timeout for HTTP connect",
        ),
        FlagSpec::new(
            "http-client-request-timeout",
            K::Duration,
            "5s",
            "timeout for HTTP request",
        ),
        FlagSpec::new("count", K::Int, 0, "number of reports"),
        FlagSpec::new(
            "nsqd-http-address",
            K::List,
            "",
            "nsqd HTTP address (may be given multiple times)",
        ),
        FlagSpec::new(
            "lookupd-http-address",
            K::List,
            "",
            "lookupd HTTP address (may be given multiple times)",
        ),
    ]
}

/// The options `parsed` gives: every value is read first (Go's `flag` package rejects
/// a bad value before `main` runs), then checked in the order Go's `main` checks them.
fn options(parsed: &Parsed) -> Result<Options, Stop> {
    let usage = |e: flags::FlagError| Stop::Usage(e.to_string());
    if let Some(extra) = parsed.args().first() {
        return Err(Stop::Usage(format!(
            "unexpected argument {extra:?} (flags come as -name=value)"
        )));
    }
    let version = parsed.get_bool("version").map_err(usage)?;
    let topic = parsed.get_string("topic").map_err(usage)?;
    let channel = parsed.get_string("channel").map_err(usage)?;
    let interval = parsed.get_duration("interval").map_err(usage)?;
    let connect_timeout = parsed
        .get_duration("http-client-connect-timeout")
        .map_err(usage)?;
    let request_timeout = parsed
        .get_duration("http-client-request-timeout")
        .map_err(usage)?;
    let count = match parsed.is_set("count") {
        true => Some(parsed.get_i64("count").map_err(usage)?),
        false => None,
    };
    let nsqd_http_addrs = parsed.get_list("nsqd-http-address").map_err(usage)?;
    let lookupd_http_addrs = parsed.get_list("lookupd-http-address").map_err(usage)?;

    let fatal = |m: &str| Err(Stop::Fatal(m.to_string()));
    if version {
        return Err(Stop::Version);
    }
    if topic.is_empty() || channel.is_empty() {
        return fatal("--topic and --channel are required");
    }
    for (name, d) in [
        ("interval", interval),
        ("http-client-connect-timeout", connect_timeout),
        ("http-client-request-timeout", request_timeout),
    ] {
        if d.is_zero() {
            return fatal(&format!("--{name} should be positive"));
        }
    }
    if count.is_some_and(|n| n <= 0) {
        return fatal("--count should be positive");
    }
    match (nsqd_http_addrs.is_empty(), lookupd_http_addrs.is_empty()) {
        (true, true) => return fatal("--nsqd-http-address or --lookupd-http-address required"),
        (false, false) => {
            return fatal("use --nsqd-http-address or --lookupd-http-address not both")
        }
        _ => {}
    }
    for (flag, addrs) in [
        ("nsqd-http-address", &nsqd_http_addrs),
        ("lookupd-http-address", &lookupd_http_addrs),
    ] {
        if addrs.iter().any(|a| a.starts_with("http")) {
            return fatal(&format!(
                "--{flag} error - address should not contain scheme"
            ));
        }
    }
    Ok(Options {
        topic,
        channel,
        interval,
        timeouts: nsq::http::client::Timeouts {
            connect: connect_timeout,
            total: request_timeout,
        },
        count: count.map(i64::unsigned_abs),
        nsqd_http_addrs,
        lookupd_http_addrs,
    })
}

/// Polls and prints until `--count` rows are out; `Err` is the fatal message.
fn stat_loop(o: &Options) -> Result<(), String> {
    let mut previous: Option<cluster::ChannelStats> = None;
    for i in 0u64.. {
        let producers = if o.lookupd_http_addrs.is_empty() {
            cluster::nsqd_topic_producers(&o.topic, &o.nsqd_http_addrs, o.timeouts)
        } else {
            cluster::lookupd_topic_producers(&o.topic, &o.lookupd_http_addrs, o.timeouts)
        }
        .map_err(|e| format!("ERROR: failed to get topic producers - {e}"))?;
        let stats = cluster::channel_stats(&producers, &o.topic, &o.channel, o.timeouts)
            .map_err(|e| format!("ERROR: failed to get nsqd stats - {e}"))?
            .ok_or_else(|| {
                format!(
                    "ERROR: failed to find channel({}) in stats metadata for topic({})",
                    o.channel, o.topic
                )
            })?;
        let mut out = String::new();
        if i % report::HEADER_EVERY == 0 {
            out.push_str(&report::header());
        }
        if let Some(before) = &previous {
            out.push_str(&report::row(before, &stats, o.interval));
            out.push('\n');
        }
        match std::io::stdout().lock().write_all(out.as_bytes()) {
            // The reader went away (`nsq_stat | head`): stop quietly, as Go dies of SIGPIPE.
            Err(e) if e.kind() == ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => return Err(format!("ERROR: failed to write output - {e}")),
            Ok(()) => {}
        }
        if o.count == Some(i) {
            break;
        }
        previous = Some(stats);
        std::thread::sleep(o.interval);
    }
    Ok(())
}

/// Go's `log.Fatal`: the message after a `YYYY/MM/DD HH:MM:SS` stamp (UTC here), exit 1.
fn log_fatal(message: &str) -> ExitCode {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let stamp = nsq::logging::format_timestamp(Duration::from_secs(now.as_secs()));
    let stamp = stamp.split_once('.').map_or(stamp.as_str(), |(s, _)| s);
    eprintln!("{stamp} {message}");
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let specs = specs();
    let usage = flags::usage("nsq_stat", &specs);
    let opts = match flags::parse(&specs, &args) {
        Ok(parsed) => options(&parsed),
        Err(flags::FlagError::Help) => Err(Stop::Help),
        Err(e) => Err(Stop::Usage(e.to_string())),
    };
    let opts = match opts {
        Ok(opts) => opts,
        Err(Stop::Version) => {
            println!("{}", nsq::version_line("nsq_stat"));
            return ExitCode::SUCCESS;
        }
        Err(Stop::Help) => {
            eprint!("{usage}");
            return ExitCode::SUCCESS;
        }
        Err(Stop::Usage(message)) => {
            eprint!("{message}\n{usage}");
            return ExitCode::from(2);
        }
        Err(Stop::Fatal(message)) => return log_fatal(&message),
    };
    // Like Go's main, which returns (status 0) on the first of these signals.
    match Signals::new([SIGHUP, SIGINT, SIGTERM]) {
        Ok(mut signals) => {
            std::thread::spawn(move || {
                if signals.forever().next().is_some() {
                    std::process::exit(0);
                }
            });
        }
        Err(e) => return log_fatal(&format!("cannot install signal handlers: {e}")),
    }
    match stat_loop(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => log_fatal(&message),
    }
}
