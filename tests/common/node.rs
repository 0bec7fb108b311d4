//! Restart helpers for the durability tests: [`Node`] runs nsqd on a data directory
//! it leaves alone when it stops (unlike [`super::Nsqd`], which removes its own), so
//! the next `Node` can start on the same one; [`Dir`] removes that directory at the end
//! of the test. Also readers for the `/stats` JSON ([`topic`], [`channel`], [`num`]).

use super::{http, Client};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A temp data directory, removed on drop.
pub struct Dir(pub PathBuf);

impl Dir {
    /// A fresh, empty directory named after `tag`.
    pub fn new(tag: &str) -> Dir {
        Dir(super::temp_dir(tag))
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An nsqd process on a given data dir; killed on drop, its dir left in place.
pub struct Node {
    child: Child,
    /// The TCP address it listens on.
    pub tcp: SocketAddr,
    /// The HTTP address it listens on.
    pub http: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Node {
    /// Starts nsqd on free loopback ports with `--data-path=dir` and the extra `args`.
    pub fn start(dir: &Path, args: &[&str]) -> Node {
        let mut full = vec![
            "--tcp-address=127.0.0.1:0".to_string(),
            "--http-address=127.0.0.1:0".to_string(),
            format!("--data-path={}", dir.display()),
        ];
        full.extend(args.iter().map(|a| a.to_string()));
        let (mut child, log) = super::spawn_logged(env!("CARGO_BIN_EXE_nsqd"), &full);
        let tcp = super::wait_for_addr(&mut child, &log, "TCP: listening on ");
        let http = super::wait_for_addr(&mut child, &log, "HTTP: listening on ");
        Node {
            child,
            tcp,
            http,
            log,
        }
    }

    /// A connected client that has sent the magic.
    pub fn client(&self) -> Client {
        Client::connect(self.tcp)
    }

    /// A client subscribed to `topic`/`channel` with RDY `rdy`.
    pub fn consumer(&self, topic: &str, channel: &str, rdy: u64) -> Client {
        let mut c = self.client();
        c.sub(topic, channel);
        c.rdy(rdy);
        c
    }

    fn signal(&self, name: &str) {
        super::signal_child(&self.child, name);
    }

    fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("nsqd did not exit: {}", self.log_text());
    }

    /// SIGTERM and wait: must exit 0.
    pub fn stop(mut self) {
        self.signal("TERM");
        let code = self.wait_exit();
        assert_eq!(
            code,
            Some(0),
            "exit after SIGTERM; log:\n{}",
            self.log_text()
        );
    }

    /// SIGKILL and wait.
    pub fn kill9(mut self) {
        self.signal("KILL");
        let _ = self.wait_exit();
    }

    /// Its stderr so far.
    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// POSTs to `target` (no body); must answer 200.
    pub fn post(&self, target: &str) {
        let r = http(self.http, "POST", target, b"");
        assert_eq!(r.status, 200, "POST {target}: {}", r.text());
    }

    /// `/stats` as JSON.
    pub fn stats(&self) -> Value {
        let r = http(self.http, "GET", "/stats?format=json", b"");
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The topic `name` in a /stats JSON document.
pub fn topic<'a>(stats: &'a Value, name: &str) -> &'a Value {
    stats["topics"]
        .as_array()
        .unwrap_or_else(|| panic!("no topics in {stats}"))
        .iter()
        .find(|t| t["topic_name"] == name)
        .unwrap_or_else(|| panic!("no topic {name} in {stats}"))
}

/// The channel `name` of a /stats topic object.
pub fn channel<'a>(topic: &'a Value, name: &str) -> &'a Value {
    topic["channels"]
        .as_array()
        .unwrap_or_else(|| panic!("no channels in {topic}"))
        .iter()
        .find(|c| c["channel_name"] == name)
        .unwrap_or_else(|| panic!("no channel {name} in {topic}"))
}

/// A JSON number as u64.
pub fn num(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}
