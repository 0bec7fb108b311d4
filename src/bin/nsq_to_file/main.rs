//! nsq_to_file: consumes topics and writes every message body, one per line, to
//! files in `--output-dir` — Go's `nsq_to_file`, with the same flags and behaviour.
//!
//! ```text
//! nsq_to_file --nsqd-tcp-address=127.0.0.1:4150 --topic=events --output-dir=/data
//! nsq_to_file --lookupd-http-address=127.0.0.1:4161 --topic-pattern='^app_'
//! ```
//!
//! A message is FIN'd only after the file holding it has been fsynced, so a crash
//! loses nothing that nsqd thinks was delivered (it may write a message twice).
//! Files rotate on the `<DATETIME>` in their name (UTC here, local time in Go), on
//! `--rotate-size` and on `--rotate-interval`; `--gzip` needs the `gzip` cargo
//! feature. SIGINT/SIGTERM stop the consumers, sync and close the files, exit 0.
//!
//! Modules: [`options`] (flags), [`discoverer`] (topics and signals), [`router`]
//! (one topic's consumer and writer thread), [`file_logger`] (rotation, moves),
//! [`output`] (plain or gzip file), [`filename`], [`strftime`], [`pattern`]
//! (`--topic-pattern` regular expressions).

mod discoverer;
mod file_logger;
mod filename;
mod options;
mod output;
mod pattern;
mod router;
mod settings;
mod strftime;

use discoverer::{Discoverer, Signal};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::process::ExitCode;
use std::sync::{mpsc, Arc};

/// Forwards SIGINT/SIGTERM/SIGHUP to a channel from a thread of their own.
fn signals() -> std::io::Result<mpsc::Receiver<Signal>> {
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                let kind = if signal == SIGHUP {
                    Signal::Hup
                } else {
                    Signal::Term
                };
                if tx.send(kind).is_err() {
                    return;
                }
            }
        })?;
    Ok(rx)
}

/// Creates `dir` if missing and checks that a file can be written in it, so a bad
/// directory stops the start instead of the first message: the problem, else `Ok`.
fn writable_dir(dir: &std::path::Path) -> Result<(), String> {
    let reason = |e: &std::io::Error| nsq::common::net::reason(e);
    if dir.exists() && !dir.is_dir() {
        return Err("is not a directory".into());
    }
    std::fs::create_dir_all(dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::NotADirectory => {
            "is not a directory".to_string()
        }
        _ => format!("cannot be created - {}", reason(&e)),
    })?;
    let probe = dir.join(format!(".nsq_to_file-probe-{}.tmp", std::process::id()));
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| format!("is not writable - {}", reason(&e)))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match nsq::flags::parse_tool("nsq_to_file", &options::specs(), &args) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nsq_to_file: {e}");
            return ExitCode::from(2);
        }
    };
    let opts = match options::options(&parsed) {
        Ok(opts) => Arc::new(opts),
        Err(e) => {
            eprintln!("nsq_to_file: {e}");
            return ExitCode::FAILURE;
        }
    };
    for (flag, dir) in [
        ("output-dir", &opts.output_dir),
        ("work-dir", &opts.work_dir),
    ] {
        if let Err(problem) = writable_dir(dir) {
            eprintln!("nsq_to_file: --{flag}={} {problem}", dir.display());
            return ExitCode::FAILURE;
        }
    }
    if let Err(e) = nsq::logging::init(&opts.log_prefix, &opts.log_level) {
        eprintln!("nsq_to_file: {e}");
        return ExitCode::FAILURE;
    }
    let signals = match signals() {
        Ok(rx) => rx,
        Err(e) => {
            log::error!("cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    log::info!("{}", nsq::version_line("nsq_to_file"));
    Discoverer::new(opts).run(&signals);
    ExitCode::SUCCESS
}
