//! nsqadmin: the web UI over a whole NSQ cluster. Parses Go-compatible flags, starts
//! the server, and stops it cleanly on SIGINT or SIGTERM.

use nsq::nsqadmin::options::{parse_args, Options};
use nsq::nsqadmin::server::{Server, StartError};
use nsq::program::{run, Program};
use std::process::ExitCode;

fn start(opts: &Options) -> Result<Server, StartError> {
    Server::start(opts)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let program = Program {
        name: "nsqadmin",
        logging: |o: &Options| (o.log_prefix.clone(), o.log_level.clone()),
        start,
        stop: Server::stop,
    };
    run(program, parse_args(&args))
}
