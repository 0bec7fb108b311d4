//! nsqadmin's options: every flag Go nsqadmin 1.3 accepts, with its default
//! (NSQADMIN.md §2), plus nsq-rs's own rate sampling (`--sample-interval`,
//! `--sample-window`). [`parse_args`] turns `argv[1..]` into a [`Command`]; a rejected
//! command line is the one line the binary prints before exiting 2. `--config=FILE`
//! takes the same flags from TOML (`nsqlookupd_http_addresses`,
//! `nsqd_http_addresses`, `admin_users` for the repeatable ones).
//!
//! The Graphite and statsd flags are accepted at their defaults only: nsq-rs draws
//! rates itself, so a Graphite server is never asked, and a value that would do
//! nothing is refused.

use crate::flags::{self, FlagError, FlagKind, FlagSpec, Parsed};
use crate::logging;
use std::time::Duration;

/// Settings for one nsqadmin process; `Default` gives Go's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `--http-address`: where the UI and API listen.
    pub http_address: String,
    /// `--base-path`, cleaned: a leading `/`, no trailing one (`/` alone for none).
    pub base_path: String,
    /// `--dev-static-dir`: serve the UI files from this directory instead.
    pub dev_static_dir: String,
    /// `--lookupd-http-address` (repeatable): lookupd mode.
    pub lookupd_http_addresses: Vec<String>,
    /// `--nsqd-http-address` (repeatable): nsqd mode.
    pub nsqd_http_addresses: Vec<String>,
    /// `--http-client-connect-timeout`.
    pub http_client_connect_timeout: Duration,
    /// `--http-client-request-timeout`.
    pub http_client_request_timeout: Duration,
    /// `--http-client-tls-insecure-skip-verify` (HTTPS to nsqd and lookupd).
    pub http_client_tls_insecure_skip_verify: bool,
    /// `--http-client-tls-root-ca-file`.
    pub http_client_tls_root_ca_file: String,
    /// `--http-client-tls-cert`.
    pub http_client_tls_cert: String,
    /// `--http-client-tls-key`.
    pub http_client_tls_key: String,
    /// `--allow-config-from-cidr`: who may use `/config` ("" = anyone).
    pub allow_config_from_cidr: String,
    /// `--notification-http-endpoint`: where admin actions are POSTed.
    pub notification_http_endpoint: String,
    /// `--acl-http-header`: the header naming the authenticated user.
    pub acl_http_header: String,
    /// `--admin-user` (repeatable): only these may act (none: everyone).
    pub admin_users: Vec<String>,
    /// `--sample-interval`: how often rates are sampled from every nsqd (nsq-rs).
    pub sample_interval: Duration,
    /// `--sample-window`: how much rate history is kept (nsq-rs).
    pub sample_window: Duration,
    /// `--log-level`, lower-case.
    pub log_level: String,
    /// `--log-prefix`.
    pub log_prefix: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            http_address: "0.0.0.0:4171".into(),
            base_path: "/".into(),
            dev_static_dir: String::new(),
            lookupd_http_addresses: Vec::new(),
            nsqd_http_addresses: Vec::new(),
            http_client_connect_timeout: Duration::from_secs(2),
            http_client_request_timeout: Duration::from_secs(5),
            http_client_tls_insecure_skip_verify: false,
            http_client_tls_root_ca_file: String::new(),
            http_client_tls_cert: String::new(),
            http_client_tls_key: String::new(),
            allow_config_from_cidr: "127.0.0.1/8".into(),
            notification_http_endpoint: String::new(),
            acl_http_header: "X-Forwarded-User".into(),
            admin_users: Vec::new(),
            sample_interval: Duration::from_secs(5),
            sample_window: Duration::from_secs(3600),
            log_level: "info".into(),
            log_prefix: "[nsqadmin] ".into(),
        }
    }
}

/// What the command line asks nsqadmin to do.
pub type Command = flags::Invocation<Options>;

/// The Graphite/statsd flags and their defaults: accepted only at these.
const GRAPHITE_FLAGS: [(&str, &str); 6] = [
    ("graphite-url", ""),
    ("proxy-graphite", "false"),
    ("statsd-prefix", "nsq.%s"),
    ("statsd-interval", "1m0s"),
    ("statsd-counter-format", "stats.counters.%s.count"),
    ("statsd-gauge-format", "stats.gauges.%s"),
];

/// Parses nsqadmin's command line (and the `--config` file it names).
pub fn parse_args(args: &[String]) -> Result<Command, String> {
    let specs = flag_specs(&Options::default());
    flags::parse_program_with_keys("nsqadmin", &specs, &config_key, args, options_from)
}

/// A flag's key in a `--config` file (Go's names for the repeatable ones).
fn config_key(flag: &str) -> Option<String> {
    match flag {
        "lookupd-http-address" => Some("nsqlookupd_http_addresses".into()),
        "nsqd-http-address" => Some("nsqd_http_addresses".into()),
        "admin-user" => Some("admin_users".into()),
        _ => flags::config_file::default_config_key(flag),
    }
}

fn flag_specs(d: &Options) -> Vec<FlagSpec> {
    use FlagKind as K;
    let dur = crate::common::gotime::format_duration;
    vec![
        FlagSpec::new("config", K::String, "", "path to config file"),
        FlagSpec::new("version", K::Bool, false, "print version string"),
        FlagSpec::new("log-level", K::String, &d.log_level, "set log verbosity: debug, info, warn, error, or fatal"),
        FlagSpec::new("log-prefix", K::String, &d.log_prefix, "log message prefix"),
        FlagSpec::new("verbose", K::Bool, false, "[deprecated] has no effect, use --log-level"),
        FlagSpec::new("http-address", K::String, &d.http_address, "<addr>:<port> to listen on for HTTP clients"),
        FlagSpec::new("base-path", K::String, &d.base_path, "URL base path"),
        FlagSpec::new("dev-static-dir", K::String, "", "(development use only)"),
        FlagSpec::new("graphite-url", K::String, "", "not supported: nsq-rs nsqadmin draws rates itself (see -sample-interval)"),
        FlagSpec::new("proxy-graphite", K::Bool, false, "not supported (no Graphite)"),
        FlagSpec::new("statsd-counter-format", K::String, "stats.counters.%s.count", "not supported (no Graphite)"),
        FlagSpec::new("statsd-gauge-format", K::String, "stats.gauges.%s", "not supported (no Graphite)"),
        FlagSpec::new("statsd-prefix", K::String, "nsq.%s", "not supported (no Graphite)"),
        FlagSpec::new("statsd-interval", K::Duration, "1m0s", "not supported (no Graphite)"),
        FlagSpec::new("lookupd-http-address", K::List, "", "lookupd HTTP address (may be given multiple times)"),
        FlagSpec::new("nsqd-http-address", K::List, "", "nsqd HTTP address (may be given multiple times)"),
        FlagSpec::new("http-client-connect-timeout", K::Duration, dur(d.http_client_connect_timeout), "timeout for HTTP connect"),
        FlagSpec::new("http-client-request-timeout", K::Duration, dur(d.http_client_request_timeout), "timeout for HTTP request"),
        FlagSpec::new("http-client-tls-insecure-skip-verify", K::Bool, false, "configure the HTTP client to skip verification of TLS certificates"),
        FlagSpec::new("http-client-tls-root-ca-file", K::String, "", "path to CA file for the HTTP client"),
        FlagSpec::new("http-client-tls-cert", K::String, "", "path to certificate file for the HTTP client"),
        FlagSpec::new("http-client-tls-key", K::String, "", "path to key file for the HTTP client"),
        FlagSpec::new("allow-config-from-cidr", K::String, &d.allow_config_from_cidr, "A CIDR from which to allow HTTP requests to the /config endpoint"),
        FlagSpec::new("notification-http-endpoint", K::String, "", "HTTP endpoint (fully qualified) to which POST notifications of admin actions will be sent"),
        FlagSpec::new("acl-http-header", K::String, &d.acl_http_header, "HTTP header to check for authenticated admin users"),
        FlagSpec::new("admin-user", K::List, "", "admin user (may be given multiple times; if specified, only these users will be able to perform privileged actions)"),
        FlagSpec::new("sample-interval", K::Duration, dur(d.sample_interval), "nsq-rs: how often topic and channel counts are sampled from every nsqd for the rate sparklines"),
        FlagSpec::new("sample-window", K::Duration, dur(d.sample_window), "nsq-rs: how much rate history is kept in memory"),
    ]
}

/// Reads every flag into typed options.
fn options_from(p: &Parsed) -> Result<Options, String> {
    let e = |e: FlagError| e.to_string();
    let s = |name: &str| p.get_string(name).map_err(e);
    let d = |name: &str| p.get_duration(name).map_err(e);
    let b = |name: &str| p.get_bool(name).map_err(e);
    let list = |name: &str| -> Result<Vec<String>, String> {
        let values = p.get_list(name).map_err(e)?;
        Ok(values.into_iter().filter(|v| !v.is_empty()).collect())
    };
    b("verbose")?;
    for (flag, default) in GRAPHITE_FLAGS {
        let value = s(flag)?;
        let same = match flag {
            "statsd-interval" => d(flag)? == Duration::from_secs(60),
            "proxy-graphite" => !b(flag)?,
            _ => value == default,
        };
        if !same {
            return Err(format!(
                "--{flag}: not supported by nsq-rs nsqadmin, which draws rates itself without Graphite (see --sample-interval)"
            ));
        }
    }
    let sample_interval = d("sample-interval")?;
    let sample_window = d("sample-window")?;
    if sample_interval.is_zero() || sample_window < sample_interval {
        return Err("--sample-interval must be positive and at most --sample-window".into());
    }
    Ok(Options {
        http_address: s("http-address")?,
        base_path: clean_base_path(&s("base-path")?),
        dev_static_dir: s("dev-static-dir")?,
        lookupd_http_addresses: list("lookupd-http-address")?,
        nsqd_http_addresses: list("nsqd-http-address")?,
        http_client_connect_timeout: d("http-client-connect-timeout")?,
        http_client_request_timeout: d("http-client-request-timeout")?,
        http_client_tls_insecure_skip_verify: b("http-client-tls-insecure-skip-verify")?,
        http_client_tls_root_ca_file: s("http-client-tls-root-ca-file")?,
        http_client_tls_cert: s("http-client-tls-cert")?,
        http_client_tls_key: s("http-client-tls-key")?,
        allow_config_from_cidr: s("allow-config-from-cidr")?,
        notification_http_endpoint: s("notification-http-endpoint")?,
        acl_http_header: s("acl-http-header")?,
        admin_users: list("admin-user")?,
        sample_interval,
        sample_window,
        log_level: logging::level_flag(&s("log-level")?)?,
        log_prefix: s("log-prefix")?,
    })
}

/// Go's cleaning of `--base-path`: a leading `/`, `.`/`..`/double slashes resolved,
/// no trailing `/` (`nsq/ui/` → `/nsq/ui`).
pub fn clean_base_path(raw: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Options {
        flags::program_tests::run(parse_args, args)
    }

    fn err(args: &[&str]) -> String {
        flags::program_tests::err(parse_args, args)
    }

    #[test]
    fn go_defaults_and_repeatable_flags() {
        assert_eq!(run(&[]), Options::default());
        let o = run(&[
            "--lookupd-http-address=127.0.0.1:4161",
            "--lookupd-http-address=127.0.0.2:4161",
            "--admin-user=alice",
            "--base-path=nsq/ui/",
            "--sample-interval=1s",
        ]);
        assert_eq!(o.lookupd_http_addresses.len(), 2);
        assert_eq!(o.admin_users, ["alice"]);
        assert_eq!(o.base_path, "/nsq/ui");
        assert_eq!(o.sample_interval, Duration::from_secs(1));
    }

    #[test]
    fn graphite_flags_are_refused_unless_at_their_defaults() {
        run(&[
            "--graphite-url=",
            "--statsd-prefix=nsq.%s",
            "--statsd-interval=60s",
        ]);
        assert!(err(&["--graphite-url=http://g:8080"]).starts_with("--graphite-url: not supported"));
        assert!(err(&["--proxy-graphite"]).starts_with("--proxy-graphite: not supported"));
        assert!(err(&["--statsd-interval=10s"]).starts_with("--statsd-interval: not supported"));
        assert!(err(&["--sample-interval=0s"]).contains("--sample-interval"));
    }

    #[test]
    fn base_paths_are_cleaned_as_go_does() {
        assert_eq!(clean_base_path("/"), "/");
        assert_eq!(clean_base_path(""), "/");
        assert_eq!(clean_base_path("nsq/ui/"), "/nsq/ui");
        assert_eq!(clean_base_path("//a/./b/../c"), "/a/c");
    }
}
