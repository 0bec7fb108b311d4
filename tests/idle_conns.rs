//! Black-box tests of what connections cost: every listener of nsqd and nsqlookupd
//! has a listen backlog of 4096 (so a burst of connects loses no SYN), an idle V2
//! connection costs a few KiB of nsqd's memory, and that memory comes back once the
//! connections close. Memory is measured as nsqd's VmRSS; no timing is asserted.

mod common;

use common::{eventually, Lookupd, Nsqd};
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

/// The field `key` (in KiB, or a count) of /proc/<pid>/status.
fn status(pid: u32, key: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let line = text
        .lines()
        .find(|l| l.starts_with(key))
        .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/status"));
    line.split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("bad line {line:?}"))
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// VmRSS once it has stopped changing for half a second (at most 20 s of looking).
fn settled_rss(pid: u32) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = status(pid, "VmRSS:");
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = status(pid, "VmRSS:");
        if now == last || Instant::now() > deadline {
            return now;
        }
        last = now;
    }
}

/// This process's soft limit of open files, raised to the hard limit (or 20,000)
/// when `prlimit` can; nsqd, started afterwards, inherits it.
fn raise_open_files() -> u64 {
    let pid = std::process::id().to_string();
    let _ = Command::new("prlimit")
        .args(["--pid", &pid, "--nofile=20000:20000"])
        .status();
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

/// The backlog `ss` shows for the socket listening on `addr` (its Send-Q column).
fn listen_backlog(addr: SocketAddr) -> Option<u64> {
    let out = Command::new("ss")
        .args(["-ltnH", &format!("sport = :{}", addr.port())])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text.lines().next()?;
    line.split_whitespace().nth(2)?.parse().ok()
}

#[test]
fn every_listener_has_a_4096_backlog() {
    if Command::new("ss").arg("-V").output().is_err() {
        println!("skipped: no `ss` (iproute2) to read listen backlogs with");
        return;
    }
    // The kernel caps a backlog at somaxconn.
    let somaxconn: u64 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(4096);
    let want = somaxconn.min(4096);
    let nsqd = Nsqd::start(&[]);
    let lookupd = Lookupd::start(&[]);
    for (name, addr) in [
        ("nsqd TCP", nsqd.tcp),
        ("nsqd HTTP", nsqd.http),
        ("nsqlookupd TCP", lookupd.tcp),
        ("nsqlookupd HTTP", lookupd.http),
    ] {
        assert_eq!(listen_backlog(addr), Some(want), "{name} on {addr}");
    }
}

#[test]
fn idle_connections_are_cheap_and_their_memory_comes_back() {
    let limit = raise_open_files();
    let conns = 10_000usize.min(limit.saturating_sub(500) as usize);
    if conns < 1000 {
        println!("skipped: an open-file limit of {limit} allows too few connections");
        return;
    }
    let nsqd = Nsqd::start(&[]);
    let pid = nsqd.pid();
    let base_fds = open_fds(pid);
    let before = settled_rss(pid);
    let mut held = Vec::with_capacity(conns);
    for i in 0..conns {
        let mut s = TcpStream::connect(nsqd.tcp).unwrap_or_else(|e| panic!("connect {i}: {e}"));
        s.write_all(b"  V2").expect("magic");
        held.push(s);
    }
    eventually("nsqd holding every connection", || {
        open_fds(pid) >= base_fds + conns
    });
    let loaded = settled_rss(pid);
    let per_conn = loaded.saturating_sub(before) as f64 / conns as f64;
    println!("{conns} idle V2 connections: RSS {before} -> {loaded} KiB, {per_conn:.2} KiB each");
    assert!(
        per_conn <= 8.0,
        "{per_conn:.2} KiB per idle connection (RSS {before} -> {loaded} KiB)"
    );
    drop(held);
    eventually("nsqd closing every connection", || {
        open_fds(pid) <= base_fds
    });
    let after = settled_rss(pid);
    println!("after they closed: RSS {after} KiB");
    let grown = loaded.saturating_sub(before);
    assert!(
        after.saturating_sub(before) <= grown / 2,
        "less than half of the {grown} KiB came back: RSS {before} -> {loaded} -> {after} KiB"
    );
    // Still serving.
    let mut c = nsqd.client();
    c.publish("alive", b"x");
}
