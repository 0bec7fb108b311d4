//! nsq_to_http: consumes one topic/channel and makes an HTTP POST (the body) or GET
//! (the body in a URL template) per message — Go's `nsq_to_http` with the same flags
//! and behaviour, plus the client TLS flags (`--tls`, `--tls-*`).
//!
//! ```text
//! nsq_to_http --nsqd-tcp-address=127.0.0.1:4150 --topic=events --post=http://127.0.0.1:8080/in
//! nsq_to_http --lookupd-http-address=127.0.0.1:4161 --topic=events --get='http://h/get?data=%s'
//! ```
//!
//! A message is finished once its request succeeded (POST: any 2xx, GET: exactly
//! 200) and requeued with backoff otherwise. SIGINT/SIGTERM stop the consumer: no
//! new messages, the ones delivered are still sent and answered, then exit 0. A bad
//! flag exits 2 (Go's `flag`), a refused start one Go `log.Fatal` line and exit 1.
//!
//! Modules: [`options`] (flags and Go's checks), [`handler`] (sampling, `--mode`,
//! status lines), [`publish`] (the requests), [`gofmt`] (Go's printf for `--get`).

mod gofmt;
mod handler;
mod options;
mod publish;
mod redirect;

use handler::Handler;
use nsq::client::Consumer;
use nsq::flags::{self, FlagError};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const PROGRAM: &str = "nsq_to_http";

/// Go's `log.Fatal`: the message after a `YYYY/MM/DD HH:MM:SS` stamp (UTC), then
/// exit 1 at once (nothing started is stopped politely, as in Go).
fn log_fatal(message: &str) -> ! {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let stamp = nsq::logging::format_timestamp(Duration::from_secs(now.as_secs()));
    let stamp = stamp.split_once('.').map_or(stamp.as_str(), |(s, _)| s);
    eprintln!("{stamp} {message}");
    std::process::exit(1)
}

/// Go's `flag` on a bad command line: the error, the usage, exit 2.
fn flag_error(message: &str, specs: &[flags::FlagSpec]) -> ExitCode {
    eprintln!("{message}");
    eprint!("{}", flags::usage(PROGRAM, specs));
    ExitCode::from(2)
}

/// Starts the consumer and forwards messages until SIGINT/SIGTERM.
fn run(opts: options::Options) -> ExitCode {
    let mut signals = match Signals::new([SIGINT, SIGTERM]) {
        Ok(signals) => signals,
        Err(e) => log_fatal(&format!("cannot install signal handlers - {e}")),
    };
    let publisher = publish::Publisher::new(&opts);
    let handler = Arc::new(Handler::new(
        publisher,
        &opts.mode,
        opts.sample,
        opts.status_every,
    ));
    let consumer = match Consumer::new(&opts.topic, &opts.channel, opts.config.clone()) {
        Ok(consumer) => consumer,
        Err(e) => log_fatal(&e.to_string()),
    };
    // go-nsq refuses to connect without handlers.
    let Some(n) = usize::try_from(opts.handlers).ok().filter(|&n| n > 0) else {
        log_fatal("no handlers");
    };
    consumer.add_concurrent_handlers(move |msg| handler.handle(msg), n);
    let nsqd: Vec<&str> = opts.nsqd_tcp_addrs.iter().map(String::as_str).collect();
    let lookupd: Vec<&str> = opts.lookupd_http_addrs.iter().map(String::as_str).collect();
    let connected = consumer
        .connect_to_nsqds(&nsqd)
        .and_then(|()| consumer.connect_to_nsqlookupds(&lookupd));
    if let Err(e) = connected {
        log_fatal(&e.to_string());
    }
    // A second signal changes nothing: the stop is already under way.
    signals.forever().next();
    consumer.stop();
    consumer.wait();
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let specs = options::specs();
    let parsed = match flags::parse(&specs, &args) {
        Ok(parsed) => parsed,
        Err(FlagError::Help) => {
            eprint!("{}", flags::usage(PROGRAM, &specs));
            return ExitCode::SUCCESS;
        }
        Err(e) => return flag_error(&e.to_string(), &specs),
    };
    if let Some(extra) = parsed.args().first() {
        return flag_error(
            &format!("unexpected argument {extra:?} (flags come as -name=value)"),
            &specs,
        );
    }
    let checked =
        options::check_values(&specs, &parsed).and_then(|()| options::check_consumer_opts(&parsed));
    if let Err(e) = checked {
        return flag_error(&e, &specs);
    }
    if parsed.get_bool("version") == Ok(true) {
        println!("{}", nsq::version_line(PROGRAM));
        return ExitCode::SUCCESS;
    }
    let opts = match options::options(&parsed) {
        Ok(opts) => opts,
        Err(e) => log_fatal(&e),
    };
    let _ = nsq::logging::init("[nsq_to_http] ", "info");
    run(opts)
}
