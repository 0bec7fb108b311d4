//! nsqlookupd's options: every command-line flag Go nsqlookupd accepts and its
//! default (NSQ-PROTOCOL.md §7.2).
//!
//! [`parse_args`] turns `argv[1..]` into a [`Command`]: run with [`Options`],
//! print help, or print the version. A rejected command line comes back as the
//! one-line message the binary prints to stderr before exiting with status 2.
//! `--config=FILE` gives the same flags from a TOML file, each key the flag name
//! with `-` → `_` (`inactive_producer_timeout = "10s"`); the command line wins.

use std::time::Duration;

use crate::flags::{self, FlagKind, FlagSpec, Parsed};
use crate::logging;

/// Settings for one nsqlookupd process; `Default` gives Go nsqlookupd's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `<addr>:<port>` to listen on for nsqd registrations (V1 TCP).
    pub tcp_address: String,
    /// `<addr>:<port>` to listen on for HTTP clients.
    pub http_address: String,
    /// Address of this lookupd, returned in IDENTIFY replies (defaults to the OS hostname).
    pub broadcast_address: String,
    /// How long a producer stays active after its last IDENTIFY or PING.
    pub inactive_producer_timeout: Duration,
    /// How long a tombstone hides a producer for a topic.
    pub tombstone_lifetime: Duration,
    /// Log verbosity, lower-case: debug, info, warn, error or fatal.
    pub log_level: String,
    /// Text printed before every log line, e.g. `"[nsqlookupd] "`.
    pub log_prefix: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tcp_address: "0.0.0.0:4160".to_string(),
            http_address: "0.0.0.0:4161".to_string(),
            broadcast_address: crate::common::net::hostname(),
            inactive_producer_timeout: Duration::from_secs(300),
            tombstone_lifetime: Duration::from_secs(45),
            log_level: "info".to_string(),
            log_prefix: "[nsqlookupd] ".to_string(),
        }
    }
}

/// What the command line asks nsqlookupd to do.
pub type Command = flags::Invocation<Options>;

/// Parses nsqlookupd's command line (and the `--config` file it names). `args` excludes the program name (`argv[1..]`).
pub fn parse_args(args: &[String]) -> Result<Command, String> {
    let specs = flag_specs(&Options::default());
    flags::parse_program("nsqlookupd", &specs, args, options_from)
}

fn flag_specs(d: &Options) -> Vec<FlagSpec> {
    use FlagKind as K;
    let dur = crate::common::gotime::format_duration;
    vec![
        FlagSpec::new("config", K::String, "", "path to config file"),
        FlagSpec::new("version", K::Bool, false, "print version string"),
        FlagSpec::new(
            "log-level",
            K::String,
            &d.log_level,
            "set log verbosity: debug, info, warn, error, or fatal",
        ),
        FlagSpec::new("log-prefix", K::String, &d.log_prefix, "log message prefix"),
        FlagSpec::new(
            "verbose",
            K::Bool,
            false,
            "[deprecated] has no effect, use --log-level",
        ),
        FlagSpec::new(
            "tcp-address",
            K::String,
            &d.tcp_address,
            "<addr>:<port> to listen on for TCP clients",
        ),
        FlagSpec::new(
            "http-address",
            K::String,
            &d.http_address,
            "<addr>:<port> to listen on for HTTP clients",
        ),
        FlagSpec::new(
            "broadcast-address",
            K::String,
            &d.broadcast_address,
            "address of this lookupd node, (default to the OS hostname)",
        ),
        FlagSpec::new(
            "inactive-producer-timeout",
            K::Duration,
            dur(d.inactive_producer_timeout),
            "duration of time a producer will remain in the active list since its last ping",
        ),
        FlagSpec::new(
            "tombstone-lifetime",
            K::Duration,
            dur(d.tombstone_lifetime),
            "duration of time a producer will remain tombstoned if registration remains",
        ),
    ]
}

/// Reads every flag into typed options.
fn options_from(p: &Parsed) -> Result<Options, String> {
    let s = |name: &str| p.get_string(name).map_err(|e| e.to_string());
    let d = |name: &str| p.get_duration(name).map_err(|e| e.to_string());
    // The deprecated flag is accepted and ignored, but must still be well-formed.
    p.get_bool("verbose").map_err(|e| e.to_string())?;
    Ok(Options {
        tcp_address: s("tcp-address")?,
        http_address: s("http-address")?,
        broadcast_address: s("broadcast-address")?,
        inactive_producer_timeout: d("inactive-producer-timeout")?,
        tombstone_lifetime: d("tombstone-lifetime")?,
        log_level: logging::level_flag(&s("log-level")?)?,
        log_prefix: s("log-prefix")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        flags::program_tests::parse(parse_args, args)
    }

    fn run(args: &[&str]) -> Options {
        flags::program_tests::run(parse_args, args)
    }

    fn err(args: &[&str]) -> String {
        flags::program_tests::err(parse_args, args)
    }

    #[test]
    fn no_flags_gives_go_defaults() {
        let opts = run(&[]);
        assert_eq!(opts, Options::default());
        assert_eq!(opts.tcp_address, "0.0.0.0:4160");
        assert_eq!(opts.http_address, "0.0.0.0:4161");
        assert_eq!(opts.broadcast_address, crate::common::net::hostname());
        assert_eq!(opts.inactive_producer_timeout, Duration::from_secs(300));
        assert_eq!(opts.tombstone_lifetime, Duration::from_secs(45));
        assert_eq!(opts.log_level, "info");
        assert_eq!(opts.log_prefix, "[nsqlookupd] ");
    }

    #[test]
    fn flags_set_fields() {
        let opts = run(&[
            "--tcp-address=127.0.0.1:5160",
            "-http-address",
            "127.0.0.1:5161",
            "--broadcast-address=lookupd.example",
            "--inactive-producer-timeout=1m30s",
            "-tombstone-lifetime=1s",
            "--log-level=WARN",
            "--log-prefix=",
            "--verbose",
        ]);
        assert_eq!(opts.tcp_address, "127.0.0.1:5160");
        assert_eq!(opts.http_address, "127.0.0.1:5161");
        assert_eq!(opts.broadcast_address, "lookupd.example");
        assert_eq!(opts.inactive_producer_timeout, Duration::from_secs(90));
        assert_eq!(opts.tombstone_lifetime, Duration::from_secs(1));
        assert_eq!(opts.log_level, "warn");
        assert_eq!(opts.log_prefix, "");
    }

    #[test]
    fn help_and_version() {
        for help in ["-h", "-help", "--help"] {
            let Ok(Command::Help(text)) = parse(&[help]) else {
                panic!("no help for {help}")
            };
            assert!(text.starts_with("Usage of nsqlookupd:\n"), "{text}");
            assert!(text.contains("(default 5m0s)"), "{text}");
            assert!(text.contains("(default 45s)"), "{text}");
            assert!(text.contains("(default \"0.0.0.0:4160\")"), "{text}");
            for spec in flag_specs(&Options::default()) {
                assert!(
                    text.contains(&format!("  -{}", spec.name)),
                    "help lacks {}",
                    spec.name
                );
            }
        }
        assert_eq!(parse(&["--version"]), Ok(Command::Version));
        assert_eq!(parse(&["-version", "--config=x"]), Ok(Command::Version));
    }

    #[test]
    fn go_style_errors() {
        assert_eq!(err(&["--nope"]), "flag provided but not defined: -nope");
        assert_eq!(
            err(&["--tcp-address"]),
            "flag needs an argument: -tcp-address"
        );
        assert_eq!(
            err(&["--tombstone-lifetime=45"]),
            "invalid value \"45\" for flag -tombstone-lifetime: parse error"
        );
        assert_eq!(
            err(&["--verbose=maybe"]),
            "invalid boolean value \"maybe\" for -verbose: parse error"
        );
        assert_eq!(
            err(&["--config=/nonexistent/l.toml"]),
            "failed to load config file /nonexistent/l.toml - open /nonexistent/l.toml: no such file or directory"
        );
        assert_eq!(
            err(&["--log-level=loud"]),
            "invalid value \"loud\" for flag -log-level: invalid log-level 'loud'"
        );
        assert!(err(&["--verbose", "false"]).contains("unexpected argument \"false\""));
        // nsqd-only flags are not nsqlookupd's.
        assert_eq!(
            err(&["--node-id=1"]),
            "flag provided but not defined: -node-id"
        );
    }

    #[test]
    fn config_file_sets_options_under_the_command_line() {
        let path =
            std::env::temp_dir().join(format!("nsq-rs-unit-{}-lookupd.toml", std::process::id()));
        std::fs::write(
            &path,
            "tcp_address = \"127.0.0.1:5160\"\nbroadcast_address = \"lookupd.example\"\n\
             inactive_producer_timeout = \"1m\"\ntombstone_lifetime = 2000\nlog_level = \"warn\"\n",
        )
        .unwrap();
        let config = format!("--config={}", path.display());
        let opts = run(&[&config, "--tcp-address=127.0.0.1:0"]);
        assert_eq!(opts.tcp_address, "127.0.0.1:0");
        assert_eq!(opts.broadcast_address, "lookupd.example");
        assert_eq!(opts.inactive_producer_timeout, Duration::from_secs(60));
        assert_eq!(opts.tombstone_lifetime, Duration::from_secs(2));
        assert_eq!(opts.log_level, "warn");
        std::fs::write(&path, "tombstone_lifetime = \"soon\"\n").unwrap();
        assert_eq!(
            err(&[&config]),
            format!("{config}: key \"tombstone_lifetime\": invalid value \"soon\" for flag -tombstone-lifetime: parse error")
        );
        std::fs::write(&path, "nsqlookupd_tcp_addresses = []\n").unwrap();
        assert_eq!(
            err(&[&config]),
            format!("{config}: unknown key \"nsqlookupd_tcp_addresses\"")
        );
        let _ = std::fs::remove_file(path);
    }
}
