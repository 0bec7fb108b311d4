//! nsqlookupd: the NSQ discovery service. Parses Go-compatible flags, starts the
//! server, and stops it cleanly on SIGINT or SIGTERM.

use nsq::lookupd::options::{parse_args, Options};
use nsq::lookupd::server::Server;
use nsq::program::{run, Program};
use std::process::ExitCode;

fn start(opts: &Options) -> Result<Server, String> {
    Server::start(opts).map_err(|e| {
        format!(
            "failed to listen on {} / {}: {e}",
            opts.tcp_address, opts.http_address
        )
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let program = Program {
        name: "nsqlookupd",
        logging: |o: &Options| (o.log_prefix.clone(), o.log_level.clone()),
        start,
        stop: Server::stop,
    };
    run(program, parse_args(&args))
}
