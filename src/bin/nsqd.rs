//! nsqd: the NSQ broker. Parses Go-compatible flags, starts the server, and stops it
//! cleanly on SIGINT or SIGTERM.

use nsq::nsqd::options::{parse_args, Options};
use nsq::nsqd::server::Server;
use nsq::program::{run, Program};
use std::process::ExitCode;

fn start(opts: &Options) -> Result<Server, String> {
    if !opts.data_path.is_empty() {
        std::fs::create_dir_all(&opts.data_path)
            .map_err(|e| format!("data path {}: {e}", opts.data_path))?;
    }
    log::info!("node-id {}", opts.node_id);
    Server::start(opts).map_err(|e| format!("failed to start on {}: {e}", opts.tcp_address))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let program = Program {
        name: "nsqd",
        logging: |o: &Options| (o.log_prefix.clone(), o.log_level.clone()),
        start,
        stop: Server::stop,
    };
    run(program, parse_args(&args))
}
