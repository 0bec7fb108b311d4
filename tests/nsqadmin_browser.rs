//! nsqadmin's web UI in a real browser: nsqlookupd, two nsqd and nsqadmin on loopback,
//! a subscribed consumer and queued messages, then tests/browser/nsqadmin_ui.py drives
//! headless Chromium through selenium (pinned in tests/pynsq/requirements.txt, in the
//! .venv scripts/venv.sh makes): the topic listed, the consumer's row, Pause and Empty
//! confirmed in the page's dialog and seen done on nsqd, a live messages/s rate, and
//! a screenshot of every page in `<target>/nsqadmin-screenshots/`.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium
//! chromium-driver`; .ci/run installs them). Without them the test says so and passes,
//! except under CI (`CI` set), where it fails.
mod common;

use common::admin::{lookupd_post, Cluster};
use common::pynsq::venv_python;
use common::{consumer, eventually, Client};

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const TOPIC: &str = "orders";
const CHANNEL: &str = "tail";
/// A topic nsqlookupd knows and no nsqd has: the Lookup page lists it as inactive.
const INACTIVE: &str = "inactive_orders";
const CLIENT_ID: &str = "ui-test-consumer";
const USER_AGENT: &str = "nsqadmin-ui-test/1.0";
/// Messages published to each nsqd before the browser starts.
const QUEUED: usize = 25;
/// The script gets this long (it waits on conditions, each for at most 30-60 s).
const SCRIPT_LIMIT: Duration = Duration::from_secs(240);

/// The first of `names` found on PATH.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// Chromium and chromedriver, or None when either is missing outside CI.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let chromium = on_path(&["chromium", "chromium-browser"]);
    let driver = on_path(&["chromedriver"]);
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        (c, d) => {
            let why = format!(
                "chromium ({}) and chromedriver ({}) are needed: apt-get install chromium chromium-driver",
                c.map_or("missing".into(), |p| p.display().to_string()),
                d.map_or("missing".into(), |p| p.display().to_string()),
            );
            assert!(std::env::var_os("CI").is_none(), "{why}");
            println!("skipped: {why}");
            None
        }
    }
}

/// Keeps `client` subscribed: answers its heartbeats with NOP (and leaves its one
/// message unfinished) until `stop` is set or nsqd closes the connection.
fn keep_alive(mut client: Client, stop: Arc<AtomicBool>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            match client.try_read_frame(Duration::from_millis(500)) {
                Ok(f) if f.frame_type == 0 && f.data == b"_heartbeat_" => client.send(b"NOP\n"),
                Ok(_) => {}
                Err(e) if e == "timeout" => {}
                Err(_) => return,
            }
        }
    })
}

/// The browser script as a process group (python, chromedriver, chromium), every
/// member of which is killed when it is dropped.
struct Script {
    child: Child,
}

impl Drop for Script {
    fn drop(&mut self) {
        // The group id is python's pid; a browser left behind is killed with it.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Runs the browser script with its JSON config; returns (success, stdout, stderr).
fn run_script(python: &Path, config: &Value) -> (bool, String, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/nsqadmin_ui.py");
    let mut script = Script {
        child: Command::new(python)
            .arg(script)
            .arg(config.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("spawn python"),
    };
    let stdout = drain(script.child.stdout.take().unwrap());
    let stderr = drain(script.child.stderr.take().unwrap());
    let deadline = Instant::now() + SCRIPT_LIMIT;
    let status = loop {
        if let Some(status) = script.child.try_wait().expect("wait python") {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(script); // kills what is left of the group, closing the pipes
    let (out, err) = (stdout.join().unwrap(), stderr.join().unwrap());
    match status {
        Some(status) => (status.success(), out, err),
        None => panic!("nsqadmin_ui.py ran over {SCRIPT_LIMIT:?} and was killed; stdout:\n{out}\nstderr:\n{err}"),
    }
}

#[test]
fn nsqadmin_ui_pauses_empties_and_charts_a_channel_in_headless_chromium() {
    let python = venv_python();
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };

    let cluster = Cluster::start(&["--sample-interval=1s"]);
    // The topic and its channel on both nsqd, so every action reaches two producers.
    for i in 0..2 {
        cluster.nsqd_post(i, &format!("/topic/create?topic={TOPIC}"), "");
        let channel = format!("/channel/create?topic={TOPIC}&channel={CHANNEL}");
        cluster.nsqd_post(i, &channel, "");
    }
    lookupd_post(&cluster.lookupd, &format!("/topic/create?topic={INACTIVE}"));
    // The consumer: RDY 1 and no FIN, so one message is in flight and the rest queue
    // up (there is something to empty).
    let identify = json!({
        "client_id": CLIENT_ID,
        "hostname": "ui-test-host",
        "user_agent": USER_AGENT,
        "feature_negotiation": true,
    });
    let client = consumer(&cluster.nsqd[0], &identify.to_string(), TOPIC, CHANNEL, 1);
    let stop = Arc::new(AtomicBool::new(false));
    let subscribed = keep_alive(client, stop.clone());
    for i in 0..2 {
        cluster.publish(i, TOPIC, QUEUED);
    }
    let depth = |i| {
        cluster
            .channel_on(i, TOPIC, CHANNEL)
            .map(|c| c["depth"].clone())
    };
    eventually("the messages to queue behind the one in flight", || {
        depth(0) == Some(json!(QUEUED - 1))
    });
    cluster.wait_producers(TOPIC, &[0, 1]);

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("nsqadmin-screenshots");
    let _ = std::fs::remove_dir_all(&shots); // only this run's pictures
    std::fs::create_dir_all(&shots).expect("create the screenshot dir");
    let config = json!({
        "admin": format!("http://{}/", cluster.admin.http),
        "nsqd": [cluster.node(0), cluster.node(1)],
        "topic": TOPIC,
        "channel": CHANNEL,
        "client_id": CLIENT_ID,
        "user_agent": USER_AGENT,
        "inactive": INACTIVE,
        "chromium": chromium,
        "chromedriver": chromedriver,
        "shots": shots,
    });
    let (ok, stdout, stderr) = run_script(&python, &config);
    let report: Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    assert!(
        ok && report["ok"] == true,
        "the browser script failed: {report:#}\nstderr:\n{stderr}\nnsqadmin log:\n{}",
        cluster.admin.log_text()
    );

    // What the clicks did, read from nsqd itself once more: the channel is still
    // paused on both (the script saw the depth go to 0; the messages it published
    // after that for the rate queue up in the paused channel).
    for i in 0..2 {
        let c = cluster.channel_on(i, TOPIC, CHANNEL).expect("the channel");
        assert_eq!(c["paused"], true, "{c}");
    }
    for page in [
        "streams", "topic", "channel", "nodes", "node", "counter", "lookup",
    ] {
        let png = shots.join(format!("{page}.png"));
        let size = std::fs::metadata(&png).map_or(0, |m| m.len());
        assert!(size > 1000, "{} missing or empty", png.display());
    }
    stop.store(true, Ordering::SeqCst);
    subscribed.join().expect("the consumer thread");
}
