//! nsqlookupd: the NSQ discovery service. Parses Go-compatible flags, starts the
//! server, and stops it cleanly on SIGINT or SIGTERM.

use nsq::lookupd::options::{parse_args, Command};
use nsq::lookupd::server::Server;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match parse_args(&args) {
        Ok(Command::Run(opts)) => opts,
        Ok(Command::Help(text)) => {
            eprint!("{text}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!(
                "nsqlookupd v{} (nsq-rs {})",
                nsq::NSQ_VERSION,
                env!("CARGO_PKG_VERSION")
            );
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("nsqlookupd: {message}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = nsq::logging::init(&opts.log_prefix, &opts.log_level) {
        eprintln!("nsqlookupd: {e}");
        return ExitCode::from(2);
    }
    let mut signals = match Signals::new([SIGINT, SIGTERM]) {
        Ok(s) => s,
        Err(e) => {
            log::error!("cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    log::info!("nsqlookupd v{} (nsq-rs)", nsq::NSQ_VERSION);
    let server = match Server::start(&opts) {
        Ok(s) => s,
        Err(e) => {
            log::error!(
                "failed to listen on {} / {}: {e}",
                opts.tcp_address,
                opts.http_address
            );
            return ExitCode::FAILURE;
        }
    };
    if let Some(signal) = signals.forever().next() {
        log::info!("received signal {signal}: shutting down");
    }
    match server.stop() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("shutdown: {e}");
            ExitCode::FAILURE
        }
    }
}
