//! What every program's `main` does, once: act on the parsed command line (help,
//! version, a bad flag → one line on stderr and exit 2), start logging, install the
//! SIGINT/SIGTERM handlers, start the server, wait for a signal and stop it cleanly.
//!
//! A failed start is one `FATAL` line on stderr, as Go's `logFatal` prints it
//! (`[nsqd] 2026/12/03 05:46:30.238268 FATAL: listen (0.0.0.0:4150) failed - address
//! already in use`), whatever `--log-level` says, and exit code 1; a bad flag is one
//! line and exit code 2.

use crate::flags::Invocation;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::fmt::Display;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

/// How a program starts and stops its server; `E` says why a start failed.
pub struct Program<O, S, E> {
    /// The program's name (`nsqd`), for messages.
    pub name: &'static str,
    /// The `--log-prefix` and `--log-level` of the options.
    pub logging: fn(&O) -> (String, String),
    /// Starts serving; a failure names its own cause in one line.
    pub start: fn(&O) -> Result<S, E>,
    /// Stops cleanly.
    pub stop: fn(S) -> std::io::Result<()>,
}

/// Runs `program` for the command line `parsed`; the process exit code.
pub fn run<O, S, E: Display>(
    program: Program<O, S, E>,
    parsed: Result<Invocation<O>, String>,
) -> ExitCode {
    let name = program.name;
    let opts = match parsed {
        Ok(Invocation::Run(opts)) => opts,
        Ok(Invocation::Help(text)) => {
            eprint!("{text}");
            return ExitCode::SUCCESS;
        }
        Ok(Invocation::Version) => {
            println!("{}", crate::version_line(name));
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("{name}: {message}");
            return ExitCode::from(2);
        }
    };
    let (prefix, level) = (program.logging)(&opts);
    if let Err(e) = crate::logging::init(&prefix, &level) {
        eprintln!("{name}: {e}");
        return ExitCode::from(2);
    }
    let mut signals = match Signals::new([SIGINT, SIGTERM]) {
        Ok(s) => s,
        Err(e) => {
            fatal(&prefix, &format!("cannot install signal handlers - {e}"));
            return ExitCode::FAILURE;
        }
    };
    log::info!("{}", crate::version_line(name));
    let server = match (program.start)(&opts) {
        Ok(s) => s,
        Err(e) => {
            fatal(&prefix, &e);
            return ExitCode::FAILURE;
        }
    };
    if let Some(signal) = signals.forever().next() {
        log::info!("received signal {signal}: shutting down");
    }
    match (program.stop)(server) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("shutdown: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints Go's `FATAL` log line for `message`: printed at any `--log-level`.
fn fatal(prefix: &str, message: &dyn Display) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let stamp = crate::logging::format_timestamp(now);
    eprintln!("{prefix}{stamp} FATAL: {message}");
}
