//! What every program's `main` does, once: act on the parsed command line (help,
//! version, a bad flag → one line on stderr and exit 2), start logging, install the
//! SIGINT/SIGTERM handlers, start the server, wait for a signal and stop it cleanly.

use crate::flags::Invocation;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::process::ExitCode;

/// How a program starts and stops its server.
pub struct Program<O, S> {
    /// The program's name (`nsqd`), for messages.
    pub name: &'static str,
    /// The `--log-prefix` and `--log-level` of the options.
    pub logging: fn(&O) -> (String, String),
    /// Starts serving; a message describes a failure.
    pub start: fn(&O) -> Result<S, String>,
    /// Stops cleanly.
    pub stop: fn(S) -> std::io::Result<()>,
}

/// Runs `program` for the command line `parsed`; the process exit code.
pub fn run<O, S>(program: Program<O, S>, parsed: Result<Invocation<O>, String>) -> ExitCode {
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
            log::error!("cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    log::info!("{name} v{} (nsq-rs)", crate::NSQ_VERSION);
    let server = match (program.start)(&opts) {
        Ok(s) => s,
        Err(e) => {
            log::error!("{e}");
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
