//! to_nsq: publishes stdin, split on a delimiter, to a topic on every given nsqd —
//! Go's `to_nsq` with the same flags (`--topic`, `--delimiter`, `--nsqd-tcp-address`,
//! `--producer-opt`, `--rate`), plus the client TLS flags (`--tls`, `--tls-*`).
//!
//! Nothing is written to stdout: logs and errors go to stderr, as in Go. A bad flag
//! exits 2 (Go's `flag` package), a rejected option or a failed publish 1.

use nsq::client::{Config, Producer};
use nsq::flags::{self, FlagKind, FlagSpec, Parsed};
use std::io::{BufRead, BufReader, Read};
use std::process::ExitCode;
use std::time::{Duration, Instant};

fn specs() -> Vec<FlagSpec> {
    use FlagKind as K;
    vec![
        FlagSpec::new("topic", K::String, "", "NSQ topic to publish to"),
        FlagSpec::new("delimiter", K::String, "\n", "character to split input from stdin"),
        FlagSpec::new("nsqd-tcp-address", K::List, "", "destination nsqd TCP address (may be given multiple times)"),
        FlagSpec::new("producer-opt", K::List, "", "option to passthrough to nsq.Producer (may be given multiple times, http://godoc.org/github.com/nsqio/go-nsq#Config)"),
        FlagSpec::new("rate", K::Int, 0, "Throttle messages to n/second. 0 to disable"),
        FlagSpec::new("version", K::Bool, false, "print version string"),
    ]
    .into_iter()
    .chain(nsq::client::tls_flags::specs())
    .collect()
}

/// Everything to_nsq needs from its command line.
struct Options {
    topic: String,
    delimiter: u8,
    producers: Vec<Producer>,
    rate: u64,
}

fn options(parsed: &Parsed) -> Result<Options, String> {
    let topic = parsed.get_string("topic").map_err(|e| e.to_string())?;
    if topic.is_empty() {
        return Err("--topic required".into());
    }
    let delimiter = parsed.get_string("delimiter").map_err(|e| e.to_string())?;
    let &[delimiter] = delimiter.as_bytes() else {
        return Err("--delimiter must be a single byte".into());
    };
    let mut config = Config {
        user_agent: format!(
            "to_nsq/{} nsq-rs/{}",
            nsq::NSQ_VERSION,
            env!("CARGO_PKG_VERSION")
        ),
        ..Config::default()
    };
    nsq::client::tls_flags::apply(parsed, &mut config)?;
    for opt in parsed.get_list("producer-opt").map_err(|e| e.to_string())? {
        config.set_flag(&opt).map_err(|e| e.to_string())?;
    }
    let mut producers = Vec::new();
    for addr in parsed
        .get_list("nsqd-tcp-address")
        .map_err(|e| e.to_string())?
    {
        let producer = Producer::new(&addr, config.clone())
            .map_err(|e| format!("failed to create nsq.Producer - {e}"))?;
        producers.push(producer);
    }
    if producers.is_empty() {
        return Err("--nsqd-tcp-address required".into());
    }
    let rate = parsed.get_i64("rate").map_err(|e| e.to_string())?.max(0) as u64;
    Ok(Options {
        topic,
        delimiter,
        producers,
        rate,
    })
}

/// Paces publishes to `rate` per second (0: unthrottled), allowing a burst of at
/// most one second's worth, as Go's to_nsq does.
struct Throttle {
    rate: u64,
    start: Instant,
    sent: u64,
}

impl Throttle {
    fn wait(&mut self) {
        if self.rate == 0 {
            return;
        }
        let due = self.start + Duration::from_secs_f64(self.sent as f64 / self.rate as f64);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        } else if now - due > Duration::from_secs(1) {
            // Idle for a while: restart the schedule rather than burst.
            self.start = now - Duration::from_secs(1);
            self.sent = self.rate;
        }
        self.sent += 1;
    }
}

/// Reads `input` to its end, publishing each non-empty record to every producer.
fn run(opts: &Options, input: impl Read) -> Result<(), String> {
    let mut reader = BufReader::new(input);
    let mut throttle = Throttle {
        rate: opts.rate,
        start: Instant::now(),
        sent: 0,
    };
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(opts.delimiter, &mut line)
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Ok(());
        }
        if line.last() == Some(&opts.delimiter) {
            line.pop();
        }
        if line.is_empty() {
            continue;
        }
        throttle.wait();
        for producer in &opts.producers {
            producer
                .publish(&opts.topic, &line)
                .map_err(|e| e.to_string())?;
        }
    }
}

fn main() -> ExitCode {
    let _ = nsq::logging::init("[to_nsq] ", "info");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match flags::parse_tool("to_nsq", &specs(), &args) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            // Go's flag package: a bad flag exits 2.
            eprintln!("to_nsq: {e}");
            return ExitCode::from(2);
        }
    };
    let result = options(&parsed).and_then(|opts| {
        if opts.rate > 0 {
            log::info!("Throttling messages rate to max:{}/second", opts.rate);
        }
        let result = run(&opts, std::io::stdin().lock());
        for producer in &opts.producers {
            producer.stop();
        }
        result
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("to_nsq: {e}");
            ExitCode::FAILURE
        }
    }
}
