//! `make run` (`scripts/run.sh`), black-box: when any program cannot start (its port
//! taken by the test) the script stops the others and exits non-zero; SIGINT stops
//! all three (nsqlookupd, nsqd, nsqadmin) cleanly with exit 0. Addresses come from the
//! script's `LOOKUPD_TCP`, `LOOKUPD_HTTP`, `NSQD_TCP`, `NSQD_HTTP` and `ADMIN_HTTP`;
//! every program it started is checked gone by its unique data directory or address. Deadlines only turn a hang into a failure.
mod common;

use common::{temp_dir, WAIT};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A loopback address free when asked (bound, then closed).
fn free() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").to_string()
}

/// The script with `addrs` (LOOKUPD_TCP, LOOKUPD_HTTP, NSQD_TCP, NSQD_HTTP,
/// ADMIN_HTTP) and data in `data`, its output discarded.
fn start(data: &Path, addrs: [&str; 5]) -> Child {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_nsqd"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/run.sh");
    // SIGINT back to its default: a test run started in the background (as
    // `make test-stress` does) inherits SIGINT ignored, which bash cannot trap, while
    // a terminal's Ctrl-C always arrives.
    Command::new("env")
        .args(["--default-signal=INT", "bash"])
        .arg(script)
        .env("BIN", bin.parent().expect("bin dir"))
        .env("DATA", data)
        .env("LOOKUPD_TCP", addrs[0])
        .env("LOOKUPD_HTTP", addrs[1])
        .env("NSQD_TCP", addrs[2])
        .env("NSQD_HTTP", addrs[3])
        .env("ADMIN_HTTP", addrs[4])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run scripts/run.sh")
}

/// Waits for the script's exit code; killed (and the test failed) after [`WAIT`].
fn exit_code(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("scripts/run.sh still running");
}

/// Pids of the running processes whose command line names `needle`.
fn running_with(needle: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // A zombie (state Z) has already exited.
            String::from_utf8_lossy(&cmdline).contains(needle) && !state.contains(") Z ")
        })
        .collect()
}

/// Kills (and fails on) any program of the script still running.
fn assert_none_left(needles: &[&str]) {
    for needle in needles {
        let left = running_with(needle);
        for pid in &left {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        assert!(left.is_empty(), "left running with {needle}: {left:?}");
    }
}

/// Waits until `addr` accepts connections; false after [`WAIT`].
fn listening(addr: &str) -> bool {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(addr).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn nsqd_failing_to_start_stops_nsqlookupd_and_fails() {
    let data = temp_dir("run-nsqd-fails");
    let held = TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = held.local_addr().expect("addr").to_string();
    let (lookupd_tcp, lookupd_http) = (free(), free());
    let mut script = start(
        &data,
        [&lookupd_tcp, &lookupd_http, &free(), &taken, &free()],
    );
    let code = exit_code(&mut script);
    assert!(code.is_some_and(|c| c != 0), "exit {code:?}");
    let data_flag = format!("--data-path={}", data.display());
    let lookupd_flag = format!("--tcp-address={lookupd_tcp}");
    assert_none_left(&[&data_flag, &lookupd_flag]);
}

#[test]
fn nsqlookupd_failing_to_start_stops_nsqd_and_fails() {
    let data = temp_dir("run-lookupd-fails");
    let held = TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = held.local_addr().expect("addr").to_string();
    let mut script = start(&data, [&free(), &taken, &free(), &free(), &free()]);
    let code = exit_code(&mut script);
    assert!(code.is_some_and(|c| c != 0), "exit {code:?}");
    let data_flag = format!("--data-path={}", data.display());
    let lookupd_flag = format!("--http-address={taken}");
    assert_none_left(&[&data_flag, &lookupd_flag]);
}

#[test]
fn nsqadmin_failing_to_start_stops_the_others_and_fails() {
    let data = temp_dir("run-admin-fails");
    let held = TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = held.local_addr().expect("addr").to_string();
    let lookupd_tcp = free();
    let mut script = start(&data, [&lookupd_tcp, &free(), &free(), &free(), &taken]);
    let code = exit_code(&mut script);
    assert!(code.is_some_and(|c| c != 0), "exit {code:?}");
    let data_flag = format!("--data-path={}", data.display());
    let lookupd_flag = format!("--tcp-address={lookupd_tcp}");
    assert_none_left(&[&data_flag, &lookupd_flag]);
}

#[test]
fn sigint_stops_all_three_cleanly() {
    let data = temp_dir("run-sigint");
    let (lookupd_tcp, nsqd_http, admin_http) = (free(), free(), free());
    let mut script = start(
        &data,
        [&lookupd_tcp, &free(), &free(), &nsqd_http, &admin_http],
    );
    let up = listening(&nsqd_http) && listening(&lookupd_tcp) && listening(&admin_http);
    let pid = script.id().to_string();
    let _ = Command::new("kill").args(["-INT", &pid]).status();
    let code = exit_code(&mut script);
    let data_flag = format!("--data-path={}", data.display());
    let lookupd_flag = format!("--tcp-address={lookupd_tcp}");
    let admin_flag = format!("--http-address={admin_http}");
    assert_none_left(&[&data_flag, &lookupd_flag, &admin_flag]);
    assert!(up, "the programs did not start");
    assert_eq!(code, Some(0));
}
