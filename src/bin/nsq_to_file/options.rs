//! nsq_to_file's command line: Go's flags with Go's defaults (plus the client TLS
//! flags, `--tls` and `--tls-*`), and the checks Go's `main` makes, in the same order
//! and with the same messages.
//!
//! The checked values live in [`crate::settings`]; this file turns flags into them.

use crate::filename;
use crate::pattern::Pattern;
use nsq::flags::{FlagKind, FlagSpec, Parsed};
use std::path::PathBuf;
use std::time::Duration;

pub use crate::settings::Options;

/// The flag table, with Go's names, defaults and help texts.
pub fn specs() -> Vec<FlagSpec> {
    use FlagKind as K;
    vec![
        FlagSpec::new("version", K::Bool, false, "print version string"),
        FlagSpec::new("log-level", K::String, "info", "set log verbosity: debug, info, warn, error, or fatal"),
        FlagSpec::new("log-prefix", K::String, "[nsq_to_file] ", "log message prefix"),
        FlagSpec::new("channel", K::String, "nsq_to_file", "nsq channel"),
        FlagSpec::new("max-in-flight", K::Int, 200, "max number of messages to allow in flight"),
        FlagSpec::new("output-dir", K::String, "/tmp", "directory to write output files to"),
        FlagSpec::new("work-dir", K::String, "", "directory for in-progress files before moving to output-dir"),
        FlagSpec::new("datetime-format", K::String, "%Y-%m-%d_%H", "strftime compatible format for <DATETIME> in filename format (UTC)"),
        FlagSpec::new("filename-format", K::String, "<TOPIC>.<HOST><REV>.<DATETIME>.log", "output filename format (<TOPIC>, <HOST>, <PID>, <DATETIME>, <REV> are replaced. <REV> is increased when file already exists)"),
        FlagSpec::new("host-identifier", K::String, "", "value to output in log filename in place of hostname. <SHORT_HOST> and <HOSTNAME> are valid replacement tokens"),
        FlagSpec::new("gzip-level", K::Int, 6, "gzip compression level (1-9, 1=BestSpeed, 9=BestCompression)"),
        FlagSpec::new("gzip", K::Bool, false, "gzip output files (needs a build with --features gzip)"),
        FlagSpec::new("skip-empty-files", K::Bool, false, "skip writing empty files"),
        FlagSpec::new("topic-refresh", K::Duration, "1m0s", "how frequently the topic list should be refreshed"),
        FlagSpec::new("topic-pattern", K::String, "", "only log topics matching the following pattern"),
        FlagSpec::new("rotate-size", K::Int, 0, "rotate the file when it grows bigger than rotate-size bytes"),
        FlagSpec::new("rotate-interval", K::Duration, "0s", "rotate the file every duration"),
        FlagSpec::new("sync-interval", K::Duration, "30s", "sync file to disk every duration"),
        FlagSpec::new("http-client-connect-timeout", K::Duration, "2s", "timeout for HTTP connect"),
        FlagSpec::new("http-client-request-timeout", K::Duration, "5s", "timeout for HTTP request"),
        FlagSpec::new("nsqd-tcp-address", K::List, "", "nsqd TCP address (may be given multiple times)"),
        FlagSpec::new("lookupd-http-address", K::List, "", "lookupd HTTP address (may be given multiple times)"),
        FlagSpec::new("topic", K::List, "", "nsq topic (may be given multiple times)"),
        FlagSpec::new("consumer-opt", K::List, "", "option to passthrough to nsq.Consumer (may be given multiple times, http://godoc.org/github.com/nsqio/go-nsq#Config)"),
    ]
    .into_iter()
    .chain(nsq::client::tls_flags::specs())
    .collect()
}

fn positive(p: &Parsed, name: &str) -> Result<Duration, String> {
    let d = p.get_duration(name).map_err(|e| e.to_string())?;
    if d.is_zero() {
        return Err(format!("--{name} should be positive"));
    }
    Ok(d)
}

/// Checks the parsed flags as Go's `main` does and builds the options.
pub fn options(p: &Parsed) -> Result<Options, String> {
    let s = |name: &str| p.get_string(name).map_err(|e| e.to_string());
    let list = |name: &str| p.get_list(name).map_err(|e| e.to_string());
    let int = |name: &str| p.get_i64(name).map_err(|e| e.to_string());
    let log_level = s("log-level")?;
    if nsq::logging::parse_level(&log_level).is_none() {
        return Err("--log-level is invalid".into());
    }
    let channel = s("channel")?;
    if channel.is_empty() {
        return Err("--channel is required".into());
    }
    if nsq::proto::valid_name(channel.as_bytes()).is_none() {
        return Err(format!("invalid --channel {channel:?}"));
    }
    let http_timeouts = nsq::http::client::Timeouts {
        connect: positive(p, "http-client-connect-timeout")?,
        total: positive(p, "http-client-request-timeout")?,
    };
    let nsqd_tcp_addrs = list("nsqd-tcp-address")?;
    let lookupd_http_addrs = list("lookupd-http-address")?;
    if nsqd_tcp_addrs.is_empty() && lookupd_http_addrs.is_empty() {
        return Err("--nsqd-tcp-address or --lookupd-http-address required.".into());
    }
    if !nsqd_tcp_addrs.is_empty() && !lookupd_http_addrs.is_empty() {
        return Err("use --nsqd-tcp-address or --lookupd-http-address not both".into());
    }
    let level = int("gzip-level")?;
    if !(1..=9).contains(&level) {
        return Err(format!(
            "invalid --gzip-level value ({level}), should be 1-9"
        ));
    }
    let topics = list("topic")?;
    let pattern = s("topic-pattern")?;
    if topics.is_empty() && pattern.is_empty() {
        return Err("--topic or --topic-pattern required".into());
    }
    if topics.is_empty() && lookupd_http_addrs.is_empty() {
        return Err("--lookupd-http-address must be specified when no --topic specified".into());
    }
    let topic_pattern = match pattern.as_str() {
        "" => None,
        source => Some(Pattern::new(source).map_err(|e| format!("invalid --topic-pattern: {e}"))?),
    };
    let output_dir = PathBuf::from(s("output-dir")?);
    let work_dir = match s("work-dir")? {
        dir if dir.is_empty() => output_dir.clone(),
        dir => PathBuf::from(dir),
    };
    let max_in_flight = int("max-in-flight")?;
    if max_in_flight < 1 {
        return Err(format!(
            "invalid --max-in-flight value ({max_in_flight}), should be at least 1"
        ));
    }
    let gzip = p.get_bool("gzip").map_err(|e| e.to_string())?;
    if gzip && !cfg!(feature = "gzip") {
        return Err(
            "--gzip needs nsq_to_file built with gzip support: cargo build --features gzip".into(),
        );
    }
    let opts = Options {
        topics,
        topic_pattern,
        topic_refresh: if lookupd_http_addrs.is_empty() {
            p.get_duration("topic-refresh").map_err(|e| e.to_string())?
        } else {
            positive(p, "topic-refresh")?
        },
        channel,
        nsqd_tcp_addrs,
        lookupd_http_addrs,
        max_in_flight: max_in_flight as usize,
        http_timeouts,
        log_prefix: s("log-prefix")?,
        log_level,
        output_dir,
        work_dir,
        datetime_format: s("datetime-format")?,
        filename_format: s("filename-format")?,
        host_identifier: s("host-identifier")?,
        gzip_level: gzip.then_some(level as u32),
        skip_empty_files: p.get_bool("skip-empty-files").map_err(|e| e.to_string())?,
        rotate_size: int("rotate-size")?.max(0) as u64,
        rotate_interval: p
            .get_duration("rotate-interval")
            .map_err(|e| e.to_string())?,
        sync_interval: positive(p, "sync-interval")?,
        config: nsq::client::tls_flags::tool_config(
            p,
            "consumer-opt",
            &list("consumer-opt")?,
            max_in_flight as u64,
            "nsq_to_file",
        )?,
    };
    // Go finds a missing <REV> only when each topic starts; it is the same for all.
    filename::template(&opts, "topic")?;
    Ok(opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let parsed = nsq::flags::parse(&specs(), &args).map_err(|e| e.to_string())?;
        options(&parsed)
    }

    const NSQD: &str = "--nsqd-tcp-address=127.0.0.1:4150";

    #[test]
    fn go_defaults() {
        let o = parse(&[NSQD, "--topic=t"]).unwrap();
        assert_eq!(o.channel, "nsq_to_file");
        assert_eq!(o.max_in_flight, 200);
        assert_eq!(o.config.max_in_flight, 200);
        assert_eq!(o.output_dir, PathBuf::from("/tmp"));
        assert_eq!(o.work_dir, o.output_dir);
        assert_eq!(o.datetime_format, "%Y-%m-%d_%H");
        assert_eq!(o.filename_format, "<TOPIC>.<HOST><REV>.<DATETIME>.log");
        assert_eq!(o.gzip_level, None);
        assert_eq!(o.sync_interval, Duration::from_secs(30));
        assert_eq!(o.topic_refresh, Duration::from_secs(60));
        assert_eq!(o.http_timeouts.total, Duration::from_secs(5));
        assert_eq!(o.http_timeouts.connect, Duration::from_secs(2));
        assert_eq!((o.rotate_size, o.rotate_interval), (0, Duration::ZERO));
        assert!(o.config.user_agent.starts_with("nsq_to_file/"));
    }

    #[test]
    fn repeatable_flags_and_consumer_opts() {
        let o = parse(&[
            NSQD,
            "--nsqd-tcp-address=127.0.0.1:4250",
            "--topic=a",
            "--topic=b",
            "--consumer-opt=heartbeat_interval,5s",
            "--consumer-opt=max_in_flight,7",
            "--max-in-flight=9",
            "--work-dir=/w",
        ])
        .unwrap();
        assert_eq!(o.topics, ["a", "b"]);
        assert_eq!(o.nsqd_tcp_addrs.len(), 2);
        assert_eq!(o.config.heartbeat_interval, Some(Duration::from_secs(5)));
        assert_eq!(o.config.max_in_flight, 9, "--max-in-flight wins, as in Go");
        assert_eq!(o.work_dir, PathBuf::from("/w"));
    }

    #[test]
    fn gos_checks_and_messages() {
        let err = |args: &[&str]| parse(args).unwrap_err();
        assert_eq!(err(&[NSQD]), "--topic or --topic-pattern required");
        assert_eq!(
            err(&["--topic=t"]),
            "--nsqd-tcp-address or --lookupd-http-address required."
        );
        assert_eq!(
            err(&[NSQD, "--lookupd-http-address=127.0.0.1:4161", "--topic=t"]),
            "use --nsqd-tcp-address or --lookupd-http-address not both"
        );
        assert_eq!(
            err(&[NSQD, "--topic-pattern=.*"]),
            "--lookupd-http-address must be specified when no --topic specified"
        );
        assert_eq!(
            err(&[NSQD, "--topic=t", "--channel="]),
            "--channel is required"
        );
        assert_eq!(
            err(&[NSQD, "--topic=t", "--gzip-level=10"]),
            "invalid --gzip-level value (10), should be 1-9"
        );
        assert_eq!(
            err(&[NSQD, "--topic=t", "--log-level=loud"]),
            "--log-level is invalid"
        );
        assert_eq!(
            err(&[NSQD, "--topic=t", "--http-client-request-timeout=0"]),
            "--http-client-request-timeout should be positive"
        );
        assert_eq!(
            err(&[NSQD, "--topic=t", "--sync-interval=0"]),
            "--sync-interval should be positive"
        );
        assert_eq!(
            err(&[
                NSQD,
                "--topic=t",
                "--rotate-size=10",
                "--filename-format=<TOPIC>.log"
            ]),
            "missing <REV> in --filename-format when gzip, rotation, or work dir enabled"
        );
        assert!(err(&[NSQD, "--topic=t", "--consumer-opt=nope,1"]).contains("nope"));
        let bad_pattern = err(&["--lookupd-http-address=h:1", "--topic-pattern=("]);
        assert!(
            bad_pattern.starts_with("invalid --topic-pattern: "),
            "{bad_pattern}"
        );
    }

    #[test]
    fn tls_flags_and_consumer_opts_set_the_config() {
        let o = parse(&[NSQD, "--topic=t", "--consumer-opt=tls_root_ca_file,/ca.pem"]).unwrap();
        assert_eq!(o.config.tls_root_ca_file, "/ca.pem");
        assert!(!o.config.tls_v1);
        let r = parse(&[NSQD, "--topic=t", "--tls-min-version=tls1.3"]);
        if nsq::tls::ENABLED {
            let o = r.unwrap();
            assert!(o.config.tls_v1, "implied by --tls-min-version");
            assert_eq!(o.config.tls_min_version, nsq::tls::MinVersion::Tls13);
        } else {
            assert!(r.unwrap_err().contains("--features tls"));
        }
    }

    #[test]
    fn gzip_needs_the_feature() {
        let result = parse(&[NSQD, "--topic=t", "--gzip"]);
        if cfg!(feature = "gzip") {
            assert_eq!(result.unwrap().gzip_level, Some(6));
        } else {
            assert!(result.unwrap_err().contains("--features gzip"));
        }
    }
}
