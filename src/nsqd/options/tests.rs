//! Tests of nsqd's command line: Go's defaults, every flag, Go's checks and messages.

use super::*;
use crate::nsqd::node_id;
use std::time::Duration;

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
    assert_eq!(opts.tcp_address, "0.0.0.0:4150");
    assert_eq!(opts.mem_queue_size, 10_000);
    assert_eq!(opts.max_bytes_per_file, 104_857_600);
    assert_eq!(opts.msg_timeout, Duration::from_secs(60));
    assert_eq!(opts.max_msg_timeout, Duration::from_secs(900));
    assert_eq!(opts.min_output_buffer_timeout, Duration::from_millis(25));
    assert_eq!(opts.max_msg_size, 1_048_576);
    assert_eq!(opts.max_body_size, 5_242_880);
    assert_eq!(opts.statsd_udp_packet_size, 508);
    assert_eq!(
        opts.e2e_processing_latency_window_time,
        Duration::from_secs(600)
    );
    assert_eq!(opts.broadcast_address, crate::common::net::hostname());
    assert_eq!(
        opts.node_id,
        node_id::default_node_id(&crate::common::net::hostname())
    );
    assert!(opts.deflate && opts.snappy && opts.statsd_mem_stats);
    assert_eq!(opts.tls_required, "false");
}

#[test]
fn flags_set_fields() {
    let opts = run(&[
        "--tcp-address=127.0.0.1:5150",
        "-http-address",
        "127.0.0.1:5151",
        "--node-id=1023",
        "--mem-queue-size=0",
        "--msg-timeout=1m30s",
        "--max-rdy-count=10",
        "--lookupd-tcp-address=a:4160",
        "--lookupd-tcp-address",
        "b:4160",
        "--deflate=false",
        "--max-deflate-level=9",
        "--log-level=WARN",
        "--data-path=/tmp/x",
        "--broadcast-tcp-port=4150",
        "--verbose",
        "--worker-id",
    ]);
    assert_eq!(opts.tcp_address, "127.0.0.1:5150");
    assert_eq!(opts.http_address, "127.0.0.1:5151");
    assert_eq!(opts.node_id, 1023);
    assert_eq!(opts.mem_queue_size, 0);
    assert_eq!(opts.msg_timeout, Duration::from_secs(90));
    assert_eq!(opts.max_rdy_count, 10);
    assert_eq!(opts.lookupd_tcp_addresses, vec!["a:4160", "b:4160"]);
    assert!(!opts.deflate);
    assert_eq!(opts.max_deflate_level, 9);
    assert_eq!(opts.log_level, "warn");
    assert_eq!(opts.data_path, "/tmp/x");
    assert_eq!(opts.broadcast_tcp_port, 4150);
}

#[test]
fn help_and_version() {
    for help in ["-h", "-help", "--help"] {
        let Ok(Command::Help(text)) = parse(&[help]) else {
            panic!("no help for {help}")
        };
        assert!(text.starts_with("Usage of nsqd:\n"));
        assert!(text.contains("  -mem-queue-size int\n    \tnumber of messages to keep in memory (per topic/channel) (default 10000)\n"));
        assert!(text.contains("(default 1m0s)"));
        assert!(text.contains("(default \"0.0.0.0:4150\")"));
        for spec in flag_specs(&Options::default()) {
            assert!(
                text.contains(&format!("  -{}", spec.name)),
                "help lacks {}",
                spec.name
            );
        }
    }
    assert_eq!(parse(&["--version"]), Ok(Command::Version));
}

#[test]
fn go_style_errors() {
    assert_eq!(err(&["--nope"]), "flag provided but not defined: -nope");
    assert_eq!(
        err(&["--tcp-address"]),
        "flag needs an argument: -tcp-address"
    );
    assert_eq!(
        err(&["--mem-queue-size=abc"]),
        "invalid value \"abc\" for flag -mem-queue-size: parse error"
    );
    assert_eq!(
        err(&["--msg-timeout=60"]),
        "invalid value \"60\" for flag -msg-timeout: parse error"
    );
    assert_eq!(
        err(&["--deflate=maybe"]),
        "invalid boolean value \"maybe\" for -deflate: parse error"
    );
    assert_eq!(
        err(&["--config=/nonexistent/nsqd.toml"]),
        "failed to load config file /nonexistent/nsqd.toml - open /nonexistent/nsqd.toml: no such file or directory"
    );
    assert!(err(&["--deflate", "false"]).contains("unexpected argument \"false\""));
}

#[test]
fn range_checks() {
    assert_eq!(
        err(&["--node-id=1024"]),
        "--node-id must be >= 0 and < 1024"
    );
    assert_eq!(err(&["--node-id=-1"]), "--node-id must be >= 0 and < 1024");
    assert_eq!(
        err(&["--max-deflate-level=0"]),
        "--max-deflate-level must be [1,9]"
    );
    assert_eq!(
        err(&["--max-deflate-level=10"]),
        "--max-deflate-level must be [1,9]"
    );
    assert_eq!(
        err(&["--mem-queue-size=-1"]),
        "--mem-queue-size must be >= 0"
    );
    assert_eq!(err(&["--max-msg-size=0"]), "--max-msg-size must be > 0");
    assert_eq!(err(&["--sync-every=0"]), "--sync-every must be > 0");
    assert!(err(&["--broadcast-http-port=70000"]).starts_with("--broadcast-http-port must be"));
    assert_eq!(
        err(&["--log-level=loud"]),
        "invalid value \"loud\" for flag -log-level: invalid log-level 'loud'"
    );
    assert_eq!(run(&["--log-level=fatal"]).log_level, "fatal");
}

#[test]
fn percentiles_accept_repeats_and_commas() {
    let opts = run(&[
        "--e2e-processing-latency-percentile=0.5,1.0",
        "--e2e-processing-latency-percentile",
        "0.99",
    ]);
    assert_eq!(
        opts.e2e_processing_latency_percentiles,
        vec![1.0, 0.99, 0.5]
    );
    assert_eq!(
        err(&["--e2e-processing-latency-percentile=0"]),
        "invalid E2E processing latency percentile: 0"
    );
    assert_eq!(
        err(&["--e2e-processing-latency-percentile=0.5,1.5"]),
        "invalid E2E processing latency percentile: 1.5"
    );
    assert!(err(&["--e2e-processing-latency-percentile=x"]).contains("parse error"));
}

#[test]
fn tls_options() {
    assert_eq!(
        run(&["--tls-required=tcp-https", "--tls-cert=c", "--tls-key=k"]).tls_required,
        "tcp-https"
    );
    assert_eq!(
        run(&["--tls-required", "--tls-cert=c", "--tls-key=k"]).tls_required,
        "true"
    );
    assert_eq!(
        run(&[
            "--tls-client-auth-policy=require",
            "--tls-cert=c",
            "--tls-key=k"
        ])
        .tls_required,
        "true"
    );
    assert_eq!(run(&["--tls-min-version=TLS1.2"]).tls_min_version, "tls1.2");
    assert_eq!(
        err(&["--tls-min-version=tls9"]),
        "invalid value \"tls9\" for flag -tls-min-version: unknown tlsVersionOption \"tls9\""
    );
}

#[test]
fn flags_without_an_effect_are_refused_unless_default() {
    assert_eq!(
        err(&["--queue-scan-worker-pool-max=8"]),
        "--queue-scan-worker-pool-max is not supported by nsq-rs (in-flight and deferred \
         timeouts fire at their own deadlines; there is no scan worker pool)"
    );
    assert_eq!(
        err(&["--queue-scan-selection-count=5"]),
        "--queue-scan-selection-count is not supported by nsq-rs (in-flight and deferred \
         timeouts fire at their own deadlines; no channels are sampled)"
    );
    let opts = run(&[
        "--queue-scan-worker-pool-max=4",
        "--queue-scan-selection-count=20",
        "--auth-http-request-method=get",
        "--deflate=false",
        "--snappy=false",
    ]);
    assert_eq!(opts.queue_scan_worker_pool_max, 4);
    assert_eq!(opts.queue_scan_selection_count, 20);
}

#[test]
fn auth_http_request_method_is_get_or_post() {
    assert_eq!(
        err(&["--auth-http-request-method=put"]),
        "--auth-http-request-method must be post or get"
    );
    assert_eq!(
        run(&["--auth-http-request-method=GET"]).auth_http_request_method,
        "get"
    );
    let post = parse(&["--auth-http-request-method=post"]);
    if cfg!(feature = "auth") {
        assert!(post.is_ok(), "{post:?}");
    } else {
        assert_eq!(
            post.unwrap_err(),
            "--auth-http-request-method needs nsqd built with `cargo build --features auth`"
        );
    }
}

#[test]
fn compression_flags_need_their_feature() {
    for (flag, on) in [
        ("deflate", cfg!(feature = "deflate")),
        ("snappy", cfg!(feature = "snappy")),
    ] {
        for arg in [format!("--{flag}"), format!("--{flag}=true")] {
            let got = parse(&[&arg]);
            if on {
                assert!(got.is_ok(), "{arg}: {got:?}");
            } else {
                assert_eq!(
                    got.unwrap_err(),
                    format!("--{flag} needs nsqd built with `cargo build --features {flag}`"),
                    "{arg}"
                );
            }
        }
        assert!(parse(&[&format!("--{flag}=false")]).is_ok(), "{flag}=false");
    }
}

/// Writes `text` to a fresh temp file and returns its path.
fn config_file(tag: &str, text: &str) -> String {
    let path = std::env::temp_dir().join(format!("nsq-rs-unit-{}-{tag}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn config_file_in_go_style_sets_options() {
    let path = config_file(
        "go-style",
        r#"
## Go's nsqd.cfg.example style
log_level = "debug"
id = 42
tcp_address = "127.0.0.1:5150"
mem_queue_size = 500
max_msg_size = 2048
msg_timeout = "90s"
max_req_timeout = 7200000 # an integer duration is milliseconds, as in go-options
nsqlookupd_tcp_addresses = ["127.0.0.1:4160", "127.0.0.1:5160"]
e2e_processing_latency_percentiles = [0.5, 1.0, 0.99]
statsd_mem_stats = false
tls_required = false
tls_min_version = ""
verbose = false
"#,
    );
    let opts = run(&[&format!("--config={path}"), "--mem-queue-size=7"]);
    assert_eq!(opts.log_level, "debug");
    assert_eq!(opts.node_id, 42);
    assert_eq!(opts.tcp_address, "127.0.0.1:5150");
    assert_eq!(opts.mem_queue_size, 7, "the command line beats the file");
    assert_eq!(opts.max_msg_size, 2048);
    assert_eq!(opts.msg_timeout, Duration::from_secs(90));
    assert_eq!(opts.max_req_timeout, Duration::from_secs(7200));
    assert_eq!(
        opts.lookupd_tcp_addresses,
        ["127.0.0.1:4160", "127.0.0.1:5160"]
    );
    assert_eq!(opts.e2e_processing_latency_percentiles, [1.0, 0.99, 0.5]);
    assert!(!opts.statsd_mem_stats);
    assert_eq!(opts.tls_required, "false");
    assert_eq!(opts.tls_min_version, "tls1.0");
    assert_eq!(opts.http_address, Options::default().http_address);
    let _ = std::fs::remove_file(path);
}

#[test]
fn config_file_errors_name_the_key() {
    let cases = [
        ("tcp_adress = \"x\"", "unknown key \"tcp_adress\""),
        (
            "lookupd_tcp_address = [\"a:1\"]",
            "unknown key \"lookupd_tcp_address\"",
        ),
        ("worker_id = 3", "unknown key \"worker_id\""),
        (
            "mem_queue_size = \"abc\"",
            "key \"mem_queue_size\": invalid value \"abc\" for flag -mem-queue-size: parse error",
        ),
        (
            "mem_queue_size = -1",
            "key \"mem_queue_size\": --mem-queue-size must be >= 0",
        ),
        (
            "msg_timeout = true",
            "key \"msg_timeout\": invalid value true: expected a duration string like \"60s\"",
        ),
        (
            "max_msg_timeout = \"1x\"",
            "key \"max_msg_timeout\": invalid value \"1x\" for flag -max-msg-timeout: parse error",
        ),
        (
            "tls_required = \"maybe\"",
            "key \"tls_required\": invalid boolean value \"maybe\" for -tls-required: parse error",
        ),
    ];
    for (i, (text, want)) in cases.into_iter().enumerate() {
        let path = config_file(&format!("bad-{i}"), text);
        assert_eq!(
            err(&[&format!("--config={path}")]),
            format!("--config={path}: {want}")
        );
        let _ = std::fs::remove_file(path);
    }
    let path = config_file("syntax", "a = 1\nmem_queue_size = \n");
    assert_eq!(
        err(&[&format!("--config={path}")]),
        format!("failed to load config file {path} - line 2: string values must be quoted, expected literal string")
    );
    let _ = std::fs::remove_file(path);
}

#[test]
fn every_config_key_is_a_config_api_name() {
    let opts = Options::default();
    for key in config_keys() {
        if key != "verbose" {
            assert!(crate::nsqd::config_api::get(&opts, &key).is_some(), "{key}");
        }
    }
}
