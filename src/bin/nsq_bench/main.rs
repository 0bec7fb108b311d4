//! nsq_bench: NSQ's benchmark tools (`bench_writer`, `bench_reader`) in one binary,
//! plus a combined publish/consume mode with end-to-end latency and a do-nothing V2
//! endpoint that shows what the machine allows these tools to reach.
//!
//! ```text
//! nsq_bench writer [flags]   MPUB batches (PUBs with --batch-size=1) for --runfor
//! nsq_bench reader [flags]   SUB + RDY, FIN every message for --runfor
//! nsq_bench pubsub [flags]   writers and readers at once; latency percentiles
//! nsq_bench sink   [flags]   a V2 endpoint that answers OK and streams canned messages
//! ```
//!
//! Writer and reader print NSQ's result line:
//! `duration: <d> - <X> mb/s - <Y> ops/s - <Z> us/op`, where mb/s is MiB/s of
//! message bodies; writer and pubsub add a `publish latency: p50 .. - p99 .. -
//! p99.9 .. - max ..` line (each command's write to its OK). With `--tls-root-ca-file` (cargo feature `tls`) the client modes
//! talk TLS to nsqd. A flag given a value other than its default in a mode that does
//! not read it (`writer --rate=10`) is refused, never ignored. The modules: [`client`]
//! holds the three client modes, [`sink`] the endpoint, [`hist`] the latency
//! histogram.

mod client;
mod hist;
mod sink;

use nsq::flags::{self, FlagKind, FlagSpec, Parsed};
use std::process::ExitCode;
use std::time::Duration;

/// Everything the modes read from the command line.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--nsqd-tcp-address`: where the client modes connect.
    pub nsqd_tcp_address: String,
    /// `--tcp-address`: where `sink` listens.
    pub tcp_address: String,
    /// `--topic`.
    pub topic: String,
    /// `--channel`.
    pub channel: String,
    /// `--size`: bytes per message body.
    pub size: usize,
    /// `--batch-size`: messages per MPUB; 1 sends each message as a PUB.
    pub batch_size: usize,
    /// `--runfor`: how long the clients run.
    pub runfor: Duration,
    /// `--rdy`: RDY count of each reader.
    pub rdy: u64,
    /// `--workers`: connections per role (writers, readers).
    pub workers: usize,
    /// `--readers`: pubsub's reader connections (0: as many as `--workers`).
    pub readers: usize,
    /// `--pipeline`: MPUBs (or PUBs) each writer keeps unacknowledged.
    pub pipeline: usize,
    /// `--count`: total messages the writers publish (0: no limit, only --runfor).
    pub count: u64,
    /// `--rate`: pubsub publish rate in messages/s over all writers (0: unthrottled).
    pub rate: u64,
    /// `--max-backlog`: pubsub publishes only while published - consumed is below this.
    pub max_backlog: u64,
    /// `--tls-root-ca-file`: the client modes upgrade to TLS, trusting these CAs.
    pub tls_root_ca_file: String,
}

/// Why a build without the feature refuses `--tls-root-ca-file`.
pub const TLS_NOT_BUILT: &str = "--tls-root-ca-file: this build has no TLS (cargo feature \"tls\")";

const USAGE_HEAD: &str = "Usage: nsq_bench <writer|reader|pubsub|sink> [flags]\n\
  writer  each worker: IDENTIFY, then MPUB --batch-size messages of --size bytes,\n\
  \x20       --pipeline in flight, for --runfor (or until --count); with\n\
  \x20       --batch-size=1 each message is one PUB. Prints NSQ's result line and\n\
  \x20       publish latency p50/p99/p99.9/max (each PUB/MPUB's write to its OK)\n\
  reader  each worker: IDENTIFY, SUB, RDY --rdy, FIN every message, for --runfor\n\
  pubsub  --workers writers and --readers readers at once; bodies carry a send\n\
  \x20       timestamp; prints ops/s, end-to-end and publish latency p50/p99/p99.9\n\
  sink    do-nothing V2 endpoint on --tcp-address: OK to IDENTIFY/SUB/PUB/MPUB,\n\
  \x20       canned --size-byte messages up to each connection's RDY\n\
nsq_bench -version prints the version; -help this text.\n\n";

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn specs() -> Vec<FlagSpec> {
    use FlagKind as K;
    vec![
        FlagSpec::new("nsqd-tcp-address", K::String, "127.0.0.1:4150", "<addr>:<port> to connect to nsqd"),
        FlagSpec::new("tcp-address", K::String, "127.0.0.1:4150", "<addr>:<port> for sink to listen on"),
        FlagSpec::new("topic", K::String, "sub_bench", "topic to publish to / receive messages on"),
        FlagSpec::new("channel", K::String, "ch", "channel to receive messages on"),
        FlagSpec::new("size", K::Int, 200, "size of messages"),
        FlagSpec::new(
            "batch-size",
            K::Int,
            200,
            "batch size of messages (1 = each message its own PUB instead of an MPUB)",
        ),
        FlagSpec::new("runfor", K::Duration, "10s", "duration of time to run"),
        FlagSpec::new("rdy", K::Int, 2500, "RDY count to use"),
        FlagSpec::new("workers", K::Int, cores(), "connections per role (writers, readers); defaults to the number of cores"),
        FlagSpec::new("readers", K::Int, 0, "pubsub: reader connections (0 = as many as --workers)"),
        FlagSpec::new(
            "pipeline",
            K::Int,
            4,
            "MPUBs (PUBs with --batch-size=1) each writer keeps in flight before reading an OK (1 = lockstep, as NSQ's bench_writer)",
        ),
        FlagSpec::new("count", K::Int, 0, "writer: stop after publishing this many messages in total (0 = only --runfor)"),
        FlagSpec::new("rate", K::Int, 0, "pubsub: publish at most this many messages/s in total (0 = unthrottled)"),
        FlagSpec::new(
            "max-backlog",
            K::Int,
            20000,
            "pubsub: publish only while published - consumed is below this (0 = unbounded)",
        ),
        FlagSpec::new(
            "tls-root-ca-file",
            K::String,
            "",
            "writer/reader/pubsub: upgrade each connection to TLS (IDENTIFY tls_v1), trusting the CA certificates in this PEM file",
        ),
    ]
}

fn int(p: &Parsed, name: &str, min: i64) -> Result<i64, String> {
    let v = p.get_i64(name).map_err(|e| e.to_string())?;
    if v < min {
        return Err(format!("--{name} must be >= {min}"));
    }
    Ok(v)
}

fn options(p: &Parsed) -> Result<Options, String> {
    let s = |name: &str| p.get_string(name).map_err(|e| e.to_string());
    let opts = Options {
        nsqd_tcp_address: s("nsqd-tcp-address")?,
        tcp_address: s("tcp-address")?,
        topic: s("topic")?,
        channel: s("channel")?,
        size: int(p, "size", 0)? as usize,
        batch_size: int(p, "batch-size", 1)? as usize,
        runfor: p.get_duration("runfor").map_err(|e| e.to_string())?,
        rdy: int(p, "rdy", 1)? as u64,
        workers: int(p, "workers", 1)? as usize,
        readers: int(p, "readers", 0)? as usize,
        pipeline: int(p, "pipeline", 1)? as usize,
        count: int(p, "count", 0)? as u64,
        rate: int(p, "rate", 0)? as u64,
        max_backlog: int(p, "max-backlog", 0)? as u64,
        tls_root_ca_file: s("tls-root-ca-file")?,
    };
    if !opts.tls_root_ca_file.is_empty() && !cfg!(feature = "tls") {
        return Err(TLS_NOT_BUILT.to_string());
    }
    if nsq::proto::valid_name(opts.topic.as_bytes()).is_none() {
        return Err(format!("invalid --topic {:?}", opts.topic));
    }
    if nsq::proto::valid_name(opts.channel.as_bytes()).is_none() {
        return Err(format!("invalid --channel {:?}", opts.channel));
    }
    Ok(opts)
}

/// The modes, and for each flag the modes that read it.
const MODES: [&str; 4] = ["writer", "reader", "pubsub", "sink"];
const CLIENTS: &[&str] = &["writer", "reader", "pubsub"];
const READS: &[(&str, &[&str])] = &[
    ("nsqd-tcp-address", CLIENTS),
    ("tcp-address", &["sink"]),
    ("topic", CLIENTS),
    ("channel", &["reader", "pubsub"]),
    ("size", &["writer", "reader", "pubsub", "sink"]),
    ("batch-size", &["writer", "pubsub"]),
    ("runfor", CLIENTS),
    ("rdy", &["reader", "pubsub"]),
    ("workers", CLIENTS),
    ("readers", &["pubsub"]),
    ("pipeline", &["writer", "pubsub"]),
    ("count", &["writer", "pubsub"]),
    ("rate", &["pubsub"]),
    ("max-backlog", &["pubsub"]),
    ("tls-root-ca-file", CLIENTS),
];

/// True when flag `name` holds another value in `o` than in `d`.
fn differs(name: &str, o: &Options, d: &Options) -> bool {
    match name {
        "nsqd-tcp-address" => o.nsqd_tcp_address != d.nsqd_tcp_address,
        "tcp-address" => o.tcp_address != d.tcp_address,
        "topic" => o.topic != d.topic,
        "channel" => o.channel != d.channel,
        "size" => o.size != d.size,
        "batch-size" => o.batch_size != d.batch_size,
        "runfor" => o.runfor != d.runfor,
        "rdy" => o.rdy != d.rdy,
        "workers" => o.workers != d.workers,
        "readers" => o.readers != d.readers,
        "pipeline" => o.pipeline != d.pipeline,
        "count" => o.count != d.count,
        "rate" => o.rate != d.rate,
        "tls-root-ca-file" => o.tls_root_ca_file != d.tls_root_ca_file,
        "max-backlog" => o.max_backlog != d.max_backlog,
        _ => false,
    }
}

/// A flag set away from its default for a mode that does not read it: refused, so
/// no value is accepted and ignored.
fn unused_flag(mode: &str, o: &Options) -> Result<(), String> {
    let parsed = flags::parse(&specs(), &[]).map_err(|e| e.to_string())?;
    let defaults = options(&parsed)?;
    for (name, modes) in READS {
        if !modes.contains(&mode) && differs(name, o, &defaults) {
            return Err(format!(
                "--{name} is not supported by nsq_bench {mode} (used by {} only)",
                modes.join(", ")
            ));
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let specs = specs();
    let usage = || format!("{USAGE_HEAD}{}", flags::usage("nsq_bench", &specs));
    let Some(mode) = args.first() else {
        eprint!("{}", usage());
        return ExitCode::from(2);
    };
    if matches!(mode.as_str(), "-h" | "-help" | "--help" | "help") {
        eprint!("{}", usage());
        return ExitCode::SUCCESS;
    }
    if matches!(mode.as_str(), "-version" | "--version" | "version") {
        println!("{}", nsq::version_line("nsq_bench"));
        return ExitCode::SUCCESS;
    }
    let parsed = match flags::parse(&specs, &args[1..]) {
        Ok(p) => p,
        Err(flags::FlagError::Help) => {
            eprint!("{}", usage());
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("nsq_bench: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(extra) = parsed.args().first() {
        eprintln!("nsq_bench: unexpected argument {extra:?} (flags come as -name=value)");
        return ExitCode::from(2);
    }
    let opts = match options(&parsed) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("nsq_bench: {e}");
            return ExitCode::from(2);
        }
    };
    if MODES.contains(&mode.as_str()) {
        if let Err(e) = unused_flag(mode, &opts) {
            eprintln!("nsq_bench: {e}");
            return ExitCode::from(2);
        }
    }
    let result = match mode.as_str() {
        "writer" => client::writer(&opts).map(|r| println!("{r}")),
        "reader" => client::reader(&opts).map(|r| println!("{r}")),
        "pubsub" => client::pubsub(&opts).map(|r| println!("{r}")),
        "sink" => sink::run(&opts.tcp_address, opts.size),
        other => {
            eprintln!("nsq_bench: unknown mode {other:?}\n");
            eprint!("{}", usage());
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nsq_bench {mode}: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(args: &[&str]) -> Options {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        options(&flags::parse(&specs(), &args).unwrap()).unwrap()
    }

    #[test]
    fn every_flag_is_read_by_some_mode() {
        for spec in specs() {
            let entry = READS.iter().find(|(name, _)| *name == spec.name);
            let (_, modes) = entry.unwrap_or_else(|| panic!("--{} not in READS", spec.name));
            assert!(modes.iter().all(|m| MODES.contains(m)), "--{}", spec.name);
        }
    }

    #[test]
    fn a_flag_a_mode_does_not_read_is_refused_unless_default() {
        assert_eq!(
            unused_flag("writer", &opts(&["--rate=10"])).unwrap_err(),
            "--rate is not supported by nsq_bench writer (used by pubsub only)"
        );
        assert_eq!(
            unused_flag("sink", &opts(&["--batch-size=5"])).unwrap_err(),
            "--batch-size is not supported by nsq_bench sink (used by writer, pubsub only)"
        );
        assert!(unused_flag("pubsub", &opts(&["--rate=10", "--max-backlog=5"])).is_ok());
        assert_eq!(
            unused_flag("writer", &opts(&["--readers=2"])).unwrap_err(),
            "--readers is not supported by nsq_bench writer (used by pubsub only)"
        );
        assert!(unused_flag("pubsub", &opts(&["--readers=2", "--batch-size=1"])).is_ok());
        assert!(unused_flag("writer", &opts(&["--rate=0", "--rdy=2500", "--runfor=10s"])).is_ok());
        assert!(unused_flag("sink", &opts(&["--runfor=10000ms", "--topic=sub_bench"])).is_ok());
    }
}
