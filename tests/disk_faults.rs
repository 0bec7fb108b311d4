//! A full disk, for real: nsqd runs on a small tmpfs mounted in a mount namespace of
//! its own (`unshare`, `nsenter`; needs root, else each test says why and skips).
//! Every publish the disk refuses is answered `E_PUB_FAILED` (HTTP 503), `/ping` and
//! `/stats` report `NOK - <error>` until a write succeeds again, memory stays bounded,
//! and every message that got OK is delivered — also with `--sync-every=1` across a
//! kill -9 while the disk is full.
mod common;

use common::{http, Client, Frame, Nsqd};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A tmpfs of `size` mounted at a temp dir in a new mount namespace, held by a
/// sleeping process; nsqd is started inside it, its data in `<mount>/data`.
struct Tmpfs {
    holder: Child,
    mount: PathBuf,
}

impl Tmpfs {
    /// `None` (with the reason printed) where mount namespaces are not available.
    fn mount(size: &str) -> Option<Tmpfs> {
        let mount = common::temp_dir("tmpfs");
        let script = "mount -t tmpfs -o size=$1 tmpfs \"$0\" && mkdir \"$0/data\" && echo ready && exec sleep 3600";
        let spawned = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c", script])
            .arg(&mount)
            .arg(size)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut holder = match spawned {
            Ok(child) => child,
            Err(e) => {
                eprintln!("SKIPPED: cannot run unshare: {e}");
                return None;
            }
        };
        let mut line = String::new();
        let stdout = holder.stdout.take().expect("stdout");
        let _ = BufReader::new(stdout).read_line(&mut line);
        if line.trim() != "ready" {
            let _ = holder.kill();
            let _ = holder.wait();
            eprintln!("SKIPPED: no tmpfs in a mount namespace here (needs root)");
            return None;
        }
        Some(Tmpfs { holder, mount })
    }

    /// `path` inside the mount, as this process can reach it.
    fn inside(&self, path: &str) -> PathBuf {
        let root = PathBuf::from(format!("/proc/{}/root", self.holder.id()));
        root.join(self.mount.strip_prefix("/").expect("absolute"))
            .join(path)
    }

    /// Starts nsqd in the namespace with its data on the tmpfs.
    fn nsqd(&self, args: &[&str]) -> Nsqd {
        let pid = self.holder.id().to_string();
        let prefix = ["nsenter", "-t", &pid, "-m", "--"];
        Nsqd::start_via(&prefix, self.mount.join("data"), args)
    }

    /// Fills the free space with a file.
    fn fill(&self) {
        let mut f = std::fs::File::create(self.inside("filler")).expect("filler");
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let mut small = [0u8; 512];
        while f.write_all(&small[..]).is_ok() {}
        small[0] = 1;
        while f.write_all(&small[..1]).is_ok() {}
    }

    /// Gives the space back.
    fn free(&self) {
        std::fs::remove_file(self.inside("filler")).expect("remove filler");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
        let _ = std::fs::remove_dir_all(&self.mount);
    }
}

/// A 1 KiB body numbered `i`.
fn body(i: usize) -> Vec<u8> {
    let mut b = format!("m{i:06}-").into_bytes();
    b.resize(1024, b'x');
    b
}

/// PUBs numbered bodies from `from` on a fresh connection until one is refused;
/// returns the numbers that got OK and the refusal.
fn publish_until_refused(nsqd: &Nsqd, topic: &str, from: usize) -> (Vec<usize>, Frame) {
    let mut c = nsqd.client();
    let mut ok = Vec::new();
    for i in from..from + 10_000 {
        c.command(&format!("PUB {topic}"), Some(&body(i)));
        let f = c.next_frame();
        if f.frame_type != 0 {
            c.expect_closed();
            return (ok, f);
        }
        assert_eq!(f.text(), "OK");
        ok.push(i);
    }
    panic!("10,000 PUBs of 1 KiB accepted on a full disk");
}

/// Reads `topic`/`c` until every number of `want` came (FINing each); returns all
/// the numbers seen.
fn consume(nsqd: &Nsqd, topic: &str, want: &BTreeSet<usize>) -> BTreeSet<usize> {
    let mut c: Client = common::consumer(nsqd, "{}", topic, "c", 100);
    let mut got = BTreeSet::new();
    while !want.is_subset(&got) {
        let m = c.read_message();
        let n: usize = std::str::from_utf8(&m.body[1..7]).unwrap().parse().unwrap();
        got.insert(n);
        c.fin(&m.id);
    }
    got
}

#[test]
fn a_full_disk_refuses_publishes_reports_it_and_recovers() {
    let Some(fs) = Tmpfs::mount("4m") else { return };
    let nsqd = fs.nsqd(&["--mem-queue-size=0"]);
    let mut acked: BTreeSet<usize> = BTreeSet::new();
    let mut c = nsqd.client();
    c.publish("full", &body(0));
    acked.insert(0);
    assert_eq!(http(nsqd.http, "GET", "/ping", b"").text(), "OK");

    fs.fill();
    let (ok, refusal) = publish_until_refused(&nsqd, "full", 1);
    acked.extend(ok);
    assert_eq!(refusal.frame_type, 1, "{refusal:?}");
    let text = refusal.text();
    assert!(
        text.starts_with("E_PUB_FAILED PUB failed ") && text.contains("No space left"),
        "{text}"
    );

    let ping = http(nsqd.http, "GET", "/ping", b"");
    assert_eq!(ping.status, 500);
    assert!(ping.text().starts_with("NOK - "), "{}", ping.text());
    let stats = http(nsqd.http, "GET", "/stats?format=json", b"").json();
    assert_eq!(stats["health"].as_str(), Some(ping.text().as_str()));
    let resp = http(nsqd.http, "POST", "/pub?topic=full", &body(99_999));
    assert_eq!((resp.status, resp.text().contains("EXITING")), (503, true));
    let mpub = format!("{}\n{}\n", "y".repeat(500), "z".repeat(500));
    let mut c = nsqd.client();
    c.command("MPUB full", Some(&common::mpub_body(&[mpub.as_bytes()])));
    let f = c.next_frame();
    assert!(f.text().starts_with("E_MPUB_FAILED MPUB failed "), "{f:?}");

    fs.free();
    let mut c = nsqd.client();
    c.publish("full", &body(50_000));
    acked.insert(50_000);
    assert_eq!(http(nsqd.http, "GET", "/ping", b"").text(), "OK");
    let got = consume(&nsqd, "full", &acked);
    assert_eq!(got, acked, "every acknowledged message, and only those");
    common::eventually("the last FIN", || {
        let s = http(nsqd.http, "GET", "/stats?format=json&topic=full", b"").json();
        s["topics"][0]["channels"][0]["in_flight_count"] == 0
    });
    common::assert_drained(&nsqd, "full");
    common::wait_log(|| nsqd.log_text(), "write failed");
}

#[test]
fn with_sync_every_1_a_kill_9_on_a_full_disk_loses_no_acknowledged_message() {
    let Some(fs) = Tmpfs::mount("4m") else { return };
    let args = ["--mem-queue-size=0", "--sync-every=1"];
    let nsqd = fs.nsqd(&args);
    let resp = http(nsqd.http, "POST", "/topic/create?topic=d", b"");
    assert_eq!(resp.status, 200);
    let resp = http(nsqd.http, "POST", "/channel/create?topic=d&channel=c", b"");
    assert_eq!(resp.status, 200);
    let mut acked: BTreeSet<usize> = BTreeSet::new();
    let mut c = nsqd.client();
    for i in 0..20 {
        c.publish("d", &body(i));
        acked.insert(i);
    }
    fs.fill();
    let (ok, refusal) = publish_until_refused(&nsqd, "d", 20);
    acked.extend(ok);
    assert!(refusal.text().starts_with("E_PUB_FAILED"), "{refusal:?}");

    nsqd.signal("KILL");
    let mut nsqd = nsqd;
    nsqd.wait_exit();
    drop(nsqd);
    fs.free();

    let nsqd = fs.nsqd(&args);
    // Returns only once every acknowledged message came back (or fails at WAIT).
    consume(&nsqd, "d", &acked);
}
