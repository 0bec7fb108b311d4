//! The nsqd process as a user runs it: flags, help, version, log lines, and a clean
//! stop on SIGTERM and SIGINT.
mod common;

use common::held::Held;
use common::{consumer, eventually, http, mpub_body, Client, Lookupd, Nsqd};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;
use std::process::Command;

fn run_nsqd(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nsqd"))
        .args(args)
        .output()
        .expect("run nsqd");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn unknown_flag_and_bad_value_print_one_line_and_exit_2() {
    for args in [
        &["--no-such-flag"][..],
        &["-mem-queue-size=abc"],
        &["--node-id", "5000"],
        &["--msg-timeout=10"],
        &["--deflate", "false"],
    ] {
        let (code, _, stderr) = run_nsqd(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    }
    let (_, _, stderr) = run_nsqd(&["--no-such-flag"]);
    assert_eq!(
        stderr.trim_end(),
        "nsqd: flag provided but not defined: -no-such-flag"
    );
}

/// A Go-style usage text as `flag → its lines` (`  -name [type]` and the description
/// lines under it).
#[cfg(not(feature = "tls"))]
#[test]
fn tls_flags_are_refused_by_a_build_without_tls() {
    let data = common::temp_dir("no-tls");
    let data_flag = format!("--data-path={}", data.display());
    let (code, _, err) = run_nsqd(&[
        "--tcp-address=127.0.0.1:0",
        "--http-address=127.0.0.1:0",
        &data_flag,
        "--tls-cert=cert.pem",
        "--tls-key=key.pem",
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("failed to build TLS config - this build has no TLS"),
        "{err}"
    );
    assert_eq!(
        err.lines().filter(|l| l.contains("TLS")).count(),
        1,
        "one line: {err}"
    );
    let _ = std::fs::remove_dir_all(data);
}

fn flags_in_help(help: &str) -> BTreeMap<String, String> {
    let mut flags = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in help.lines() {
        if let Some(rest) = line.strip_prefix("  -") {
            let name = rest.split(' ').next().unwrap().to_string();
            flags.insert(name.clone(), format!("{line}\n"));
            current = Some(name);
        } else if let Some(name) = &current {
            flags.get_mut(name).unwrap().push_str(&format!("{line}\n"));
        }
    }
    flags
}

#[test]
fn help_lists_every_flag_and_version_prints_the_nsq_version() {
    let (code, stdout, stderr) = run_nsqd(&["--help"]);
    assert_eq!(code, Some(0));
    let help = stdout + &stderr;
    let flags = flags_in_help(&help);
    for flag in [
        "tcp-address",
        "http-address",
        "broadcast-address",
        "data-path",
        "node-id",
        "mem-queue-size",
        "max-msg-size",
        "max-body-size",
        "msg-timeout",
        "max-msg-timeout",
        "max-req-timeout",
        "max-rdy-count",
        "max-heartbeat-interval",
        "max-output-buffer-size",
        "max-output-buffer-timeout",
        "min-output-buffer-timeout",
        "output-buffer-timeout",
        "max-channel-consumers",
        "log-level",
        "log-prefix",
        "lookupd-tcp-address",
        "version",
    ] {
        assert!(flags.contains_key(flag), "help lacks -{flag}: {help}");
    }
    let mem = &flags["mem-queue-size"];
    assert!(mem.trim_end().ends_with("(default 10000)"), "{mem}");
    let (code, stdout, _) = run_nsqd(&["-version"]);
    assert_eq!(code, Some(0));
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("nsqd v1.3.0 "), "{stdout}");
}

#[test]
fn flags_take_both_dash_forms_and_both_value_forms() {
    let nsqd = Nsqd::start(&["-max-rdy-count", "7", "--msg-timeout=2s", "--node-id=3"]);
    let mut c = nsqd.client();
    let reply = c.identify("{\"feature_negotiation\":true}");
    assert_eq!(reply.frame_type, 0, "{}", reply.text());
    let reply: Value = serde_json::from_slice(&reply.data).expect("IDENTIFY JSON");
    assert_eq!(reply["max_rdy_count"], 7, "{reply}");
    assert_eq!(reply["msg_timeout"], 2000, "{reply}");
    c.sub("flags", "ch");
    c.command("RDY 8", None);
    c.expect_fatal("E_INVALID RDY count 8 out of range 0-7");
    let mut p = nsqd.client();
    p.publish("flags", b"x");
    let mut c = consumer(&nsqd, "{}", "flags", "ch", 1);
    let id = c.read_message().id_str();
    // --node-id=3 sits in bits 12..22 of the hex ID.
    let n = u64::from_str_radix(&id, 16).unwrap();
    assert_eq!((n >> 12) & 0x3ff, 3);
}

/// `<prefix><2026/11/24 10:00:00.000000> <LEVEL>: <message>` split into
/// `(timestamp, "LEVEL: message")`; `None` if the line has another shape.
fn split_log_line<'a>(line: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
    let rest = line.strip_prefix(prefix)?;
    let (date, rest) = (rest.get(..26)?, rest.get(26..)?);
    let b = date.as_bytes();
    let shape = date.len() == 26
        && [4, 7].iter().all(|&i| b[i] == b'/')
        && b[10] == b' '
        && [13, 16].iter().all(|&i| b[i] == b':')
        && b[19] == b'.'
        && date
            .bytes()
            .enumerate()
            .all(|(i, c)| [4, 7, 10, 13, 16, 19].contains(&i) || c.is_ascii_digit());
    Some((date, rest.strip_prefix(' ')?)).filter(|_| shape)
}

#[test]
fn log_lines_look_like_nsqds() {
    let nsqd = Nsqd::start(&["--log-level=debug"]);
    let log = nsqd.log_text();
    let want = format!("INFO: TCP: listening on {}", nsqd.tcp);
    // [nsqd] 2026/11/24 10:00:00.000000 INFO: TCP: listening on 127.0.0.1:port
    let found = log
        .lines()
        .filter_map(|l| split_log_line(l, "[nsqd] "))
        .any(|(_, rest)| rest == want);
    assert!(found, "no line {want:?} shaped like nsqd's in {log}");
}

#[test]
fn log_level_warn_shows_warnings_and_hides_info_lines() {
    // With INFO hidden nsqd does not log where it listens: it tells a lookupd instead.
    let lookupd = Lookupd::start(&[]);
    let data = common::temp_dir("quiet");
    let args: Vec<String> = [
        "--tcp-address=127.0.0.1:0",
        "--http-address=127.0.0.1:0",
        "--broadcast-address=127.0.0.1",
        "--log-level=warn",
        "--log-prefix=[x] ",
    ]
    .iter()
    .map(|a| a.to_string())
    .chain([
        format!("--data-path={}", data.display()),
        format!("--lookupd-tcp-address={}", lookupd.tcp),
    ])
    .collect();
    let (mut child, log) = common::spawn_logged(env!("CARGO_BIN_EXE_nsqd"), &args);
    let mut node = Value::Null;
    eventually("nsqd to register with lookupd", || {
        let nodes = http(lookupd.http, "GET", "/nodes", b"").json();
        node = nodes["producers"][0].clone();
        !node.is_null()
    });
    let port = |key: &str| node[key].as_u64().expect("port") as u16;
    let tcp = SocketAddr::from(([127, 0, 0, 1], port("tcp_port")));
    let http_addr = SocketAddr::from(([127, 0, 0, 1], port("http_port")));
    // INFO-level events: a client connects and publishes.
    let mut c = Client::connect(tcp);
    c.publish("t", b"m");
    // A WARNING-level one: "yes" is a deprecated spelling of binary=true.
    let r = http(
        http_addr,
        "POST",
        "/mpub?topic=t&binary=yes",
        &mpub_body(&[b"w"]),
    );
    assert_eq!((r.status, r.text()), (200, "OK".to_string()));
    let warning = "WARNING: deprecated value 'yes' used for /mpub binary param";
    let lines = || -> Vec<String> { log.lock().unwrap().lines().map(str::to_string).collect() };
    eventually("the warning in the log", || {
        lines()
            .iter()
            .any(|l| split_log_line(l, "[x] ").is_some_and(|(_, rest)| rest == warning))
    });
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&data);
    // stderr is one ordered stream: everything logged before the warning is read.
    for line in lines() {
        let (_, rest) = split_log_line(&line, "[x] ")
            .unwrap_or_else(|| panic!("not an nsqd log line: {line:?}"));
        assert!(
            rest.starts_with("WARNING: ") || rest.starts_with("ERROR: "),
            "{line:?}"
        );
    }
}

/// Reads until the peer closes: everything read, at a clean EOF.
fn read_to_eof(s: &mut std::net::TcpStream) -> Result<Vec<u8>, std::io::ErrorKind> {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Ok(all),
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) => return Err(e.kind()),
        }
    }
}

fn is_client_exit(line: &str) -> bool {
    line.strip_prefix("INFO: PROTOCOL(V2): client(")
        .and_then(|rest| rest.strip_suffix(") exiting ioloop"))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

/// On `signal`, nsqd closes a consumer holding a message in flight itself, while it
/// is still running, and then exits 0.
fn closes_clients_then_exits_0_on(signal: &str) {
    let data = common::temp_dir("held");
    let args = [
        "--tcp-address=127.0.0.1:0".to_string(),
        "--http-address=127.0.0.1:0".to_string(),
        format!("--data-path={}", data.display()),
    ];
    let mut n = Held::start(env!("CARGO_BIN_EXE_nsqd"), &args);
    let tcp = n.addr("TCP: listening on ");
    let http_addr = n.addr("HTTP: listening on ");
    // The only TCP client.
    let mut c = Client::connect(tcp);
    let f = c.identify("{}");
    assert_eq!((f.frame_type, f.text()), (0, "OK".to_string()));
    c.sub("sig", "ch");
    c.rdy(1);
    let r = http(http_addr, "POST", "/pub?topic=sig", b"before");
    assert_eq!((r.status, r.text()), (200, "OK".to_string()));
    assert_eq!(c.read_message().body, b"before");
    // nsqd shuts a connection down, then logs that it left; more lines follow before
    // it exits (at least the one saying it persisted its data). Hold it right there.
    n.stop_at(is_client_exit);
    n.signal(signal);
    n.wait_stopped();
    // Closed cleanly (EOF, no reset, nothing but heartbeats sent) by nsqd itself: the
    // process is blocked in its next log line, so the kernel has closed nothing on its
    // behalf.
    let read = read_to_eof(&mut c.stream);
    let alive = n.alive();
    let rest = read.unwrap_or_else(|e| panic!("client not closed cleanly by nsqd: {e:?}"));
    let heartbeat = [
        &15i32.to_be_bytes()[..],
        &0i32.to_be_bytes(),
        b"_heartbeat_",
    ]
    .concat();
    assert!(
        rest.len().is_multiple_of(heartbeat.len())
            && rest.chunks(heartbeat.len()).all(|f| f == heartbeat),
        "unexpected bytes before the close: {rest:?}"
    );
    assert!(alive, "nsqd exited while its log was held");
    n.release();
    assert_eq!(n.wait_exit(), Some(0), "{:#?}", n.lines());
    let lines = n.lines();
    let at = |ok: &dyn Fn(&str) -> bool, what: &str| {
        lines
            .iter()
            .position(|l| ok(l))
            .unwrap_or_else(|| panic!("no {what} line in {lines:#?}"))
    };
    let closing = at(&|l| l == "INFO: TCP: closing 1 clients", "closing");
    let exiting = at(&is_client_exit, "client exit");
    let persisted = format!(
        "INFO: persisted topics and channels to {} in ",
        data.display()
    );
    let persisted = at(&|l| l.starts_with(&persisted), "persisted");
    assert!(closing < exiting && exiting < persisted, "{lines:#?}");
    assert_eq!(
        lines.iter().filter(|l| is_client_exit(l)).count(),
        1,
        "{lines:#?}"
    );
    assert!(
        lines.iter().all(|l| !l.starts_with("UNPREFIXED")),
        "{lines:#?}"
    );
    drop(n);
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn sigterm_closes_clients_then_exits_0() {
    closes_clients_then_exits_0_on("TERM");
}

#[test]
fn sigint_closes_clients_then_exits_0() {
    closes_clients_then_exits_0_on("INT");
}
