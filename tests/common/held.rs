//! A program whose stderr the test reads itself, a line at a time, and can stop
//! reading after a chosen line. Every line carries [`long_prefix`], so once the reader
//! stops the process cannot finish writing its next line: it is alive, blocked in
//! that write, until [`Held::release`]. That makes "before it exits" observable:
//! whatever the test sees while the process is held happened while it still ran.

use super::{signal_child, wait_for_addr, WAIT};
use std::io::Read;
use std::net::SocketAddr;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// A log prefix longer than any pipe buffer (64 KiB on Linux): a process writing a log
/// line into a pipe that nobody reads cannot finish that line.
fn long_prefix() -> String {
    format!("[{}] ", "p".repeat(120_000))
}

type StopAt = Box<dyn Fn(&str) -> bool + Send>;

/// Where the reader of the process's stderr stands.
#[derive(Default)]
struct Gate {
    /// Stop reading right after the first line this accepts.
    stop_at: Option<StopAt>,
    /// The reader stopped there and reads nothing until `released`.
    stopped: bool,
    released: bool,
}

/// The held process (killed on drop).
pub struct Held {
    pub child: Child,
    /// Every line read so far as `LEVEL: message` (prefix and timestamp removed).
    lines: Arc<Mutex<Vec<String>>>,
    /// The same lines as one text, for [`wait_for_addr`].
    log: Arc<Mutex<String>>,
    gate: Arc<(Mutex<Gate>, Condvar)>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Held {
    /// Starts `bin` with `args` and the long `--log-prefix`.
    pub fn start(bin: &str, args: &[String]) -> Held {
        let prefix = long_prefix();
        let mut child = Command::new(bin)
            .args(args)
            .arg(format!("--log-prefix={prefix}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
        let stderr = child.stderr.take().expect("stderr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::new(Mutex::new(String::new()));
        let gate = Arc::new((Mutex::new(Gate::default()), Condvar::new()));
        let (l, g, t) = (lines.clone(), gate.clone(), log.clone());
        let reader = std::thread::spawn(move || read_lines(stderr, &prefix, &l, &t, &g));
        Held {
            child,
            lines,
            log,
            gate,
            reader: Some(reader),
        }
    }

    /// Waits for the log line `marker` followed by an address, and returns it.
    pub fn addr(&mut self, marker: &str) -> SocketAddr {
        wait_for_addr(&mut self.child, &self.log, marker)
    }

    /// From now on, stop reading right after the first line `stop_at` accepts.
    pub fn stop_at(&self, stop_at: impl Fn(&str) -> bool + Send + 'static) {
        self.gate.0.lock().unwrap().stop_at = Some(Box::new(stop_at));
    }

    /// Waits until the reader has stopped at its line.
    pub fn wait_stopped(&self) {
        let (m, cv) = &*self.gate;
        let (g, timeout) = cv
            .wait_timeout_while(m.lock().unwrap(), WAIT, |g| !g.stopped)
            .unwrap();
        assert!(
            !timeout.timed_out() && g.stopped,
            "the awaited log line never came: {:#?}",
            self.lines()
        );
    }

    /// Lets the reader go on to the end of the stream.
    pub fn release(&self) {
        let (m, cv) = &*self.gate;
        m.lock().unwrap().released = true;
        cv.notify_all();
    }

    /// The lines read so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// True while the process runs.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Sends signal `name` ("TERM", "INT", ...).
    pub fn signal(&self, name: &str) {
        signal_child(&self.child, name);
    }

    /// Waits for the process to exit and the reader to take the rest of its log.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                if let Some(reader) = self.reader.take() {
                    reader.join().expect("log reader");
                }
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the held process did not exit: {:#?}", self.lines());
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.release();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `stderr` line by line into `lines` and `log`, stopping after the gate's
/// line until released.
fn read_lines(
    mut stderr: ChildStderr,
    prefix: &str,
    lines: &Mutex<Vec<String>>,
    log: &Mutex<String>,
    gate: &(Mutex<Gate>, Condvar),
) {
    let mut pending = Vec::new();
    // Small reads: we never take much of the line after the one we stop at.
    let mut buf = [0u8; 4096];
    loop {
        let n = match stderr.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let raw: Vec<u8> = pending.drain(..=end).collect();
            let raw = String::from_utf8_lossy(&raw[..end]).into_owned();
            // `<prefix><26-character timestamp> <LEVEL>: <message>`
            let line = match raw.strip_prefix(prefix).and_then(|rest| rest.get(27..)) {
                Some(line) => line.to_string(),
                None => format!("UNPREFIXED: {raw}"),
            };
            log.lock().unwrap().push_str(&format!("{line}\n"));
            lines.lock().unwrap().push(line.clone());
            let (m, cv) = gate;
            let mut g = m.lock().unwrap();
            if g.stop_at.as_ref().is_some_and(|stop| stop(&line)) {
                g.stop_at = None;
                g.stopped = true;
                cv.notify_all();
                while !g.released {
                    g = cv.wait(g).unwrap();
                }
            }
        }
    }
}
