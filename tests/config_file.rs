//! `--config=FILE` of the real `nsqd` and `nsqlookupd`: a TOML file in the style of
//! Go's `nsqd.cfg.example` takes effect (seen through `GET /config/<name>`, `/info`
//! and a V1 IDENTIFY reply), the command line beats the file, and an unknown key, a
//! bad value or a missing file is one stderr line naming it, exit status 2.
mod common;

use common::{http, temp_dir, Lookupd, Nsqd, WAIT};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Writes `text` as `name` in a fresh temp dir; its path.
fn write_config(name: &str, text: &str) -> String {
    let path = temp_dir("config").join(name);
    std::fs::write(&path, text).expect("write config");
    path.display().to_string()
}

fn remove_config(path: &str) {
    let _ = std::fs::remove_dir_all(Path::new(path).parent().expect("dir"));
}

/// Runs `bin args` to its exit (killing it after [`WAIT`]); its status and stderr.
fn run(bin: &str, args: &[String]) -> (Option<i32>, String) {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{bin} {args:?} kept running");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stderr = String::new();
    let mut pipe = child.stderr.take().expect("stderr");
    pipe.read_to_string(&mut stderr).expect("read stderr");
    (status.code(), stderr)
}

/// `GET /config/<name>` of `nsqd`, as text.
fn config(nsqd: &Nsqd, name: &str) -> String {
    let resp = http(nsqd.http, "GET", &format!("/config/{name}"), b"");
    assert_eq!(resp.status, 200, "/config/{name}: {}", resp.text());
    resp.text()
}

#[test]
fn nsqd_reads_a_go_style_config_file_under_the_command_line() {
    let mut text = String::from(
        r#"## as in Go's contrib/nsqd.cfg.example
log_level = "info"
id = 77
## the test helper's --tcp-address=127.0.0.1:0 and --http-address=127.0.0.1:0 win
tcp_address = "0.0.0.0:4150"
http_address = "0.0.0.0:4151"
broadcast_address = "nsqd.example"
mem_queue_size = 5000
max_bytes_per_file = 104857600
sync_every = 2500
sync_timeout = "2s"
msg_timeout = "90s"
max_msg_timeout = "15m"
max_msg_size = 2048
max_req_timeout = "1h"
max_heartbeat_interval = "60s"
max_rdy_count = 2500
max_output_buffer_timeout = 500 # milliseconds, as go-options reads an integer
statsd_prefix = "nsq.%s"
statsd_interval = "60s"
statsd_mem_stats = true
e2e_processing_latency_percentiles = [
    0.5,
    1.0,
    0.99
]
e2e_processing_latency_window_time = "10m"
tls_cert = ""
tls_key = ""
tls_required = false
tls_min_version = ""
max_deflate_level = 6
"#,
    );
    if cfg!(feature = "deflate") {
        text.push_str("deflate = true\n");
    }
    if cfg!(feature = "snappy") {
        text.push_str("snappy = true\n");
    }
    let path = write_config("nsqd.cfg", &text);
    let nsqd = Nsqd::start(&[&format!("--config={path}"), "--max-msg-size=4096"]);
    assert_ne!(nsqd.tcp.port(), 4150);
    assert_eq!(nsqd.tcp.ip().to_string(), "127.0.0.1");
    assert_eq!(config(&nsqd, "tcp_address"), "127.0.0.1:0");
    assert_eq!(config(&nsqd, "id"), "77");
    assert_eq!(config(&nsqd, "mem_queue_size"), "5000");
    assert_eq!(config(&nsqd, "msg_timeout"), "90000000000");
    assert_eq!(config(&nsqd, "sync_timeout"), "2000000000");
    assert_eq!(config(&nsqd, "max_output_buffer_timeout"), "500000000");
    assert_eq!(
        config(&nsqd, "max_msg_size"),
        "4096",
        "the command line wins"
    );
    assert_eq!(config(&nsqd, "statsd_prefix"), "nsq.%s");
    assert_eq!(config(&nsqd, "tls_required"), "0");
    assert_eq!(
        config(&nsqd, "e2e_processing_latency_percentiles"),
        "[1.0,0.99,0.5]"
    );
    let info = http(nsqd.http, "GET", "/info", b"").json();
    assert_eq!(info["broadcast_address"], "nsqd.example", "{info}");
    remove_config(&path);
}

#[test]
fn nsqd_lookupd_addresses_come_from_the_file_unless_given() {
    let path = write_config(
        "nsqd.toml",
        "nsqlookupd_tcp_addresses = [\"127.0.0.1:1\", \"127.0.0.1:2\"]\n",
    );
    let nsqd = Nsqd::start(&[&format!("--config={path}")]);
    let got: serde_json::Value =
        serde_json::from_str(&config(&nsqd, "nsqlookupd_tcp_addresses")).unwrap();
    assert_eq!(got, serde_json::json!(["127.0.0.1:1", "127.0.0.1:2"]));
    drop(nsqd);
    let nsqd = Nsqd::start(&[
        &format!("--config={path}"),
        "--lookupd-tcp-address=127.0.0.1:3",
    ]);
    let got: serde_json::Value =
        serde_json::from_str(&config(&nsqd, "nsqlookupd_tcp_addresses")).unwrap();
    assert_eq!(got, serde_json::json!(["127.0.0.1:3"]));
    remove_config(&path);
}

/// `bin` on loopback with `--config=<file holding text>`: its stderr must be
/// `<program>: --config=<path>: <want>` and its status 2.
fn assert_refused(bin: &str, program: &str, text: &str, want: &str) {
    let path = write_config("bad.toml", text);
    let data = temp_dir("config-data");
    let args: Vec<String> = vec![
        "--tcp-address=127.0.0.1:0".into(),
        "--http-address=127.0.0.1:0".into(),
        format!("--data-path={}", data.display()),
        format!("--config={path}"),
    ];
    let args = if program == "nsqd" {
        args
    } else {
        vec![args[0].clone(), args[1].clone(), args[3].clone()]
    };
    let (code, stderr) = run(bin, &args);
    assert_eq!(code, Some(2), "{text}: {stderr}");
    assert_eq!(
        stderr,
        format!("{program}: --config={path}: {want}\n"),
        "{text}"
    );
    remove_config(&path);
    let _ = std::fs::remove_dir_all(data);
}

#[test]
fn nsqd_refuses_unknown_keys_and_bad_values_naming_the_key() {
    let nsqd = env!("CARGO_BIN_EXE_nsqd");
    assert_refused(
        nsqd,
        "nsqd",
        "tcp_adress = \"127.0.0.1:0\"\n",
        "unknown key \"tcp_adress\"",
    );
    assert_refused(
        nsqd,
        "nsqd",
        "mem_queue_size = \"lots\"\n",
        "key \"mem_queue_size\": invalid value \"lots\" for flag -mem-queue-size: parse error",
    );
    assert_refused(
        nsqd,
        "nsqd",
        "max_msg_size = 0\n",
        "key \"max_msg_size\": --max-msg-size must be > 0",
    );
    assert_refused(
        nsqd,
        "nsqd",
        "msg_timeout = 1.5\n",
        "key \"msg_timeout\": invalid value 1.5: expected a duration string like \"60s\"",
    );
}

#[test]
fn a_missing_config_file_is_one_line_in_go_words() {
    for (bin, program) in [
        (env!("CARGO_BIN_EXE_nsqd"), "nsqd"),
        (env!("CARGO_BIN_EXE_nsqlookupd"), "nsqlookupd"),
    ] {
        let missing = "/nonexistent/nsq-rs/x.toml";
        let (code, stderr) = run(bin, &[format!("--config={missing}")]);
        assert_eq!(code, Some(2), "{stderr}");
        assert_eq!(
            stderr,
            format!("{program}: failed to load config file {missing} - open {missing}: no such file or directory\n")
        );
    }
}

/// The broadcast address nsqlookupd at `tcp` answers a V1 IDENTIFY with.
fn identify_broadcast_address(tcp: std::net::SocketAddr) -> String {
    let mut s = TcpStream::connect(tcp).expect("connect");
    s.set_read_timeout(Some(WAIT)).unwrap();
    let body = br#"{"broadcast_address":"127.0.0.1","tcp_port":1,"http_port":2,"version":"1.2.1"}"#;
    let mut out = b"  V1IDENTIFY\n".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    s.write_all(&out).unwrap();
    let mut head = [0u8; 4];
    s.read_exact(&mut head).unwrap();
    let mut reply = vec![0u8; u32::from_be_bytes(head) as usize];
    s.read_exact(&mut reply).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&reply).expect("identify JSON");
    json["broadcast_address"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn nsqlookupd_reads_its_config_file_under_the_command_line() {
    let path = write_config(
        "nsqlookupd.cfg",
        "tcp_address = \"0.0.0.0:4160\"\nhttp_address = \"0.0.0.0:4161\"\n\
         broadcast_address = \"lookupd.example\"\ninactive_producer_timeout = \"300s\"\n\
         tombstone_lifetime = \"45s\"\nlog_level = \"info\"\n",
    );
    // The helper's --broadcast-address=127.0.0.1 comes first on the command line.
    let lookupd = Lookupd::start(&[&format!("--config={path}")]);
    assert_ne!(lookupd.tcp.port(), 4160, "the command line's :0 wins");
    assert_eq!(identify_broadcast_address(lookupd.tcp), "127.0.0.1");
    drop(lookupd);
    // Without it on the command line, the file's broadcast address is used.
    let (mut child, log) = common::spawn_logged(
        env!("CARGO_BIN_EXE_nsqlookupd"),
        &[
            "--tcp-address=127.0.0.1:0".to_string(),
            "--http-address=127.0.0.1:0".to_string(),
            format!("--config={path}"),
        ],
    );
    let tcp = common::wait_for_addr(&mut child, &log, "TCP: listening on ");
    let got = identify_broadcast_address(tcp);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(got, "lookupd.example");
    remove_config(&path);
}

#[test]
fn nsqlookupd_refuses_unknown_keys_and_bad_values_naming_the_key() {
    let bin = env!("CARGO_BIN_EXE_nsqlookupd");
    assert_refused(
        bin,
        "nsqlookupd",
        "mem_queue_size = 1\n",
        "unknown key \"mem_queue_size\"",
    );
    assert_refused(
        bin,
        "nsqlookupd",
        "tombstone_lifetime = \"forever\"\n",
        "key \"tombstone_lifetime\": invalid value \"forever\" for flag -tombstone-lifetime: parse error",
    );
}
