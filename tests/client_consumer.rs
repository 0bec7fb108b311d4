//! The client library's `Consumer` against real `nsqd` and `nsqlookupd` processes:
//! bulk delivery with nothing lost, lookupd discovery, requeue and backoff, max
//! attempts, re-dialing a lost nsqd, TOUCH, and a graceful stop. Messages are
//! published with the raw V2 client from `common`.

mod common;

use common::{eventually, http, Lookupd, Nsqd, WAIT};
use nsq::client::consumer::HandlerError;
use nsq::client::{Config, Consumer, Error, Message};
use serde_json::Value;
use std::collections::HashSet;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);

/// A config that keeps tests fast: short polls, requeue delays and backoff.
fn fast_config(max_in_flight: u64) -> Config {
    Config {
        max_in_flight,
        lookupd_poll_interval: 100 * MS,
        default_requeue_delay: 100 * MS,
        backoff_multiplier: 10 * MS,
        ..Config::default()
    }
}

/// What a handler saw: attempts, body, delivering nsqd, and when.
#[derive(Debug, Clone)]
struct Seen {
    attempts: u16,
    body: Vec<u8>,
    nsqd: String,
    at: Instant,
}

/// A handler that reports every delivery on the returned receiver and fails while
/// `fail(msg)` says so.
fn reporting(
    fail: impl Fn(&Message) -> bool + Send + Sync + 'static,
) -> (
    impl Fn(&Message) -> Result<(), HandlerError> + Send + Sync + 'static,
    Receiver<Seen>,
) {
    let (tx, rx) = mpsc::channel();
    let handler = move |msg: &Message| {
        let _ = tx.send(Seen {
            attempts: msg.attempts,
            body: msg.body.clone(),
            nsqd: msg.nsqd_address.clone(),
            at: Instant::now(),
        });
        if fail(msg) {
            Err("deliberate failure".into())
        } else {
            Ok(())
        }
    };
    (handler, rx)
}

fn next(rx: &Receiver<Seen>) -> Seen {
    rx.recv_timeout(WAIT).expect("a delivery within WAIT")
}

/// The channel's entry in nsqd's `/stats?format=json`.
fn channel_stats(nsqd: &Nsqd, topic: &str, channel: &str) -> Value {
    let resp = http(
        nsqd.http,
        "GET",
        &format!("/stats?format=json&topic={topic}"),
        b"",
    );
    let stats = resp.json();
    stats["topics"][0]["channels"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["channel_name"] == channel))
        .cloned()
        .unwrap_or(Value::Null)
}

/// Polls until `ok` holds for the channel's stats, failing after [`WAIT`].
fn wait_channel(nsqd: &Nsqd, topic: &str, channel: &str, ok: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        let stats = channel_stats(nsqd, topic, channel);
        if ok(&stats) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "channel stats never settled: {stats}"
        );
        std::thread::sleep(20 * MS);
    }
}

/// A TCP proxy the test owns. Its listener stays bound for the whole test, so the
/// address a client dials never changes hands, while the nsqd behind it is killed and
/// replaced (each on a port of its own). With no backend, a connection is accepted
/// and closed at once.
struct Proxy {
    addr: SocketAddr,
    backend: Arc<Mutex<Option<SocketAddr>>>,
}

impl Proxy {
    fn start(backend: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().unwrap();
        let backend = Arc::new(Mutex::new(Some(backend)));
        let current = backend.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let target = *current.lock().unwrap();
                if let Some(server) = target.and_then(|t| TcpStream::connect(t).ok()) {
                    splice(client, server);
                }
            }
        });
        Proxy { addr, backend }
    }

    fn set_backend(&self, backend: Option<SocketAddr>) {
        *self.backend.lock().unwrap() = backend;
    }
}

/// Copies both ways; when either side ends, closes both.
fn splice(a: TcpStream, b: TcpStream) {
    for (mut from, mut to) in [(a.try_clone().unwrap(), b.try_clone().unwrap()), (b, a)] {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
        });
    }
}

/// The RDY nsqd holds for the only client of `topic`/c.
fn ready_count(nsqd: &Nsqd, topic: &str) -> u64 {
    let stats = channel_stats(nsqd, topic, "c");
    stats["clients"][0]["ready_count"]
        .as_u64()
        .unwrap_or_else(|| panic!("no client in {stats}"))
}

fn drained(stats: &Value) -> bool {
    stats["depth"] == 0 && stats["in_flight_count"] == 0 && stats["deferred_count"] == 0
}

fn stop(consumer: &Consumer) {
    consumer.stop();
    assert!(consumer.wait_timeout(WAIT), "consumer did not stop");
    consumer.wait();
}

#[test]
fn hundred_thousand_messages_arrive_and_none_is_lost() {
    const N: usize = 100_000;
    let nsqd = Nsqd::start(&[]);
    let mut publisher = nsqd.client();
    let bodies: Vec<Vec<u8>> = (0..N).map(|i| format!("m{i}").into_bytes()).collect();
    for batch in bodies.chunks(1000) {
        let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
        publisher.mpub("bulk", &refs);
    }

    let consumer = Consumer::new("bulk", "c", fast_config(200)).unwrap();
    let (handler, rx) = reporting(|_| false);
    consumer.add_concurrent_handlers(handler, 4);
    consumer.connect_to_nsqd(&nsqd.tcp.to_string()).unwrap();

    let mut seen = HashSet::with_capacity(N);
    while seen.len() < N {
        let s = rx
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("stalled after {} distinct messages", seen.len()));
        seen.insert(s.body);
    }
    assert!(bodies.iter().all(|b| seen.contains(b)));
    stop(&consumer);
    let stats = consumer.stats();
    assert_eq!(stats.messages_finished, stats.messages_received);
    assert!(stats.messages_received >= N as u64);
    assert_eq!(stats.connections, 0);
    wait_channel(&nsqd, "bulk", "c", drained);
}

#[test]
fn lookupd_discovery_finds_both_nsqds() {
    let lookupd = Lookupd::start(&[]);
    let register = format!("--lookupd-tcp-address={}", lookupd.tcp);
    let nsqds = [
        Nsqd::start(&["--broadcast-address=127.0.0.1", &register]),
        Nsqd::start(&["--broadcast-address=127.0.0.1", &register]),
    ];
    for (i, nsqd) in nsqds.iter().enumerate() {
        nsqd.client()
            .publish("disc", format!("from {i}").as_bytes());
    }
    eventually("both nsqds registered", || {
        let resp = http(lookupd.http, "GET", "/lookup?topic=disc", b"");
        resp.status == 200 && resp.json()["producers"].as_array().map(Vec::len) == Some(2)
    });

    let consumer = Consumer::new("disc", "c", fast_config(10)).unwrap();
    let (handler, rx) = reporting(|_| false);
    consumer.add_handler(handler);
    consumer
        .connect_to_nsqlookupd(&format!("http://{}", lookupd.http))
        .unwrap();
    let got: HashSet<(Vec<u8>, String)> = (0..2)
        .map(|_| {
            let s = next(&rx);
            (s.body, s.nsqd)
        })
        .collect();
    let want: HashSet<(Vec<u8>, String)> = nsqds
        .iter()
        .enumerate()
        .map(|(i, n)| (format!("from {i}").into_bytes(), n.tcp.to_string()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(consumer.stats().connections, 2);
    stop(&consumer);
}

#[test]
fn a_failed_message_is_requeued_and_held_back_by_rdy_0_while_backing_off() {
    let nsqd = Nsqd::start(&[]);
    nsqd.client().publish("retry0", b"flaky");
    let mut config = fast_config(5);
    // Backoff level 1 sleeps 10 min × 2: far beyond the test, so the state it sets
    // holds however long the checks below take.
    config.backoff_multiplier = Duration::from_secs(600);
    config.max_backoff_duration = Duration::from_secs(1800);
    let consumer = Consumer::new("retry0", "c", config).unwrap();
    let (handler, rx) = reporting(|_| true);
    consumer.add_handler(handler);
    consumer.connect_to_nsqd(&nsqd.tcp.to_string()).unwrap();

    assert_eq!(next(&rx).attempts, 1);
    // Requeued (100 ms REQ delay, then back in the queue) and ready to go, yet not
    // delivered: the consumer holds RDY 0.
    wait_channel(&nsqd, "retry0", "c", |s| {
        s["requeue_count"] == 1
            && s["depth"] == 1
            && s["in_flight_count"] == 0
            && s["deferred_count"] == 0
            && s["clients"][0]["ready_count"] == 0
    });
    stop(&consumer);
    assert!(rx.try_recv().is_err(), "delivered again while backing off");
    let stats = consumer.stats();
    assert_eq!((stats.messages_requeued, stats.messages_finished), (1, 0));
}

#[test]
fn a_failed_message_comes_back_with_one_more_attempt_after_the_backoff() {
    let nsqd = Nsqd::start(&[]);
    nsqd.client().publish("retry", b"flaky");
    let mut config = fast_config(5);
    // Backoff level 1 sleeps 250 ms × 2 = 500 ms, longer than the 100 ms REQ delay.
    config.backoff_multiplier = 250 * MS;
    let consumer = Consumer::new("retry", "c", config).unwrap();
    let (handler, rx) = reporting(|m| m.attempts == 1);
    consumer.add_handler(handler);
    consumer.connect_to_nsqd(&nsqd.tcp.to_string()).unwrap();

    let first = next(&rx);
    let second = next(&rx);
    assert_eq!((first.attempts, second.attempts), (1, 2));
    assert_eq!(second.body, b"flaky");
    // A lower bound: the backoff starts after the first handler call began.
    let gap = second.at - first.at;
    assert!(
        gap >= 500 * MS,
        "redelivered after {gap:?}, within the backoff"
    );
    wait_channel(&nsqd, "retry", "c", drained);
    // The success ends backoff: full RDY again.
    eventually("full RDY restored", || ready_count(&nsqd, "retry") == 5);
    let stats = consumer.stats();
    assert_eq!((stats.messages_requeued, stats.messages_finished), (1, 1));
    stop(&consumer);
}

#[test]
fn past_max_attempts_the_hook_is_called_and_the_message_finished() {
    let nsqd = Nsqd::start(&[]);
    nsqd.client().publish("doomed", b"poison");
    let mut config = fast_config(1);
    config.max_attempts = 2;
    config.default_requeue_delay = 50 * MS;
    let consumer = Consumer::new("doomed", "c", config).unwrap();
    let (handler, rx) = reporting(|_| true);
    consumer.add_handler(handler);
    let (hook_tx, hook_rx) = mpsc::channel();
    consumer.set_give_up_hook(move |m| {
        let _ = hook_tx.send((m.attempts, m.body.clone()));
    });
    consumer.connect_to_nsqd(&nsqd.tcp.to_string()).unwrap();

    assert_eq!(next(&rx).attempts, 1);
    assert_eq!(next(&rx).attempts, 2);
    let given_up = hook_rx.recv_timeout(WAIT).expect("give-up hook called");
    assert_eq!(given_up, (3, b"poison".to_vec()));
    wait_channel(&nsqd, "doomed", "c", drained);
    // Stopped, every handler and hook call has happened: nothing more is on its way.
    stop(&consumer);
    assert!(hook_rx.try_recv().is_err(), "hook called twice");
    assert!(rx.try_recv().is_err(), "handler called past max_attempts");
    let stats = consumer.stats();
    assert_eq!((stats.messages_requeued, stats.messages_finished), (2, 1));
}

#[test]
fn a_lost_nsqd_connection_is_redialed() {
    let first = Nsqd::start(&[]);
    // The consumer dials the proxy: one address for both nsqds.
    let proxy = Proxy::start(first.tcp);
    let addr = proxy.addr.to_string();
    first.client().publish("phoenix", b"before");

    let consumer = Consumer::new("phoenix", "c", fast_config(5)).unwrap();
    let (handler, rx) = reporting(|_| false);
    consumer.add_handler(handler);
    consumer.connect_to_nsqd(&addr).unwrap();
    assert_eq!(next(&rx).body, b"before");

    // Nothing behind the address, then the connection is lost (SIGKILL).
    proxy.set_backend(None);
    drop(first);
    let second = Nsqd::start(&[]);
    second.client().publish("phoenix", b"after");
    proxy.set_backend(Some(second.tcp));
    let s = next(&rx);
    assert_eq!(
        (s.body.as_slice(), s.nsqd.as_str()),
        (&b"after"[..], addr.as_str())
    );
    assert_eq!(consumer.stats().connections, 1);
    stop(&consumer);
}

#[test]
fn rdy_rotates_when_connections_outnumber_max_in_flight() {
    let nsqds = [Nsqd::start(&[]), Nsqd::start(&[])];
    for (i, nsqd) in nsqds.iter().enumerate() {
        nsqd.client()
            .publish("rotate", format!("on {i}").as_bytes());
    }
    let mut config = fast_config(1);
    config.low_rdy_idle_timeout = Duration::from_secs(1);
    config.rdy_redistribute_interval = 100 * MS;
    let consumer = Consumer::new("rotate", "c", config).unwrap();
    let (handler, rx) = reporting(|_| false);
    consumer.add_handler(handler);
    for nsqd in &nsqds {
        consumer.connect_to_nsqd(&nsqd.tcp.to_string()).unwrap();
    }
    let total_rdy = || nsqds.iter().map(|n| ready_count(n, "rotate")).sum::<u64>();
    eventually("RDY 1 in all for max_in_flight 1", || total_rdy() == 1);
    let got: HashSet<String> = (0..2).map(|_| next(&rx).nsqd).collect();
    let want: HashSet<String> = nsqds.iter().map(|n| n.tcp.to_string()).collect();
    assert_eq!(
        got, want,
        "the idle connection's RDY moved to the other one"
    );
    assert!(total_rdy() <= 1);
    stop(&consumer);
}

#[test]
fn touch_keeps_a_message_past_its_timeout() {
    let nsqd = Nsqd::start(&[]);
    nsqd.client().publish("slow", b"long job");
    let mut config = fast_config(1);
    config.msg_timeout = Duration::from_secs(2);
    let consumer = Consumer::new("slow", "c", config).unwrap();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let record = calls.clone();
    consumer.add_handler(move |msg| {
        record.lock().unwrap().push(msg.attempts);
        // A job that runs past the 2 s timeout (at least 3 s: a lower bound), touching
        // every 100 ms; each TOUCH leaves nsqd 1.9 s of slack to see the next.
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(3) {
            std::thread::sleep(100 * MS);
            msg.touch();
        }
        Ok(())
    });
    consumer.connect_to_nsqd(&nsqd.tcp.to_string()).unwrap();
    wait_channel(&nsqd, "slow", "c", |s| {
        s["message_count"] == 1 && drained(s)
    });
    let stats = channel_stats(&nsqd, "slow", "c");
    assert_eq!(stats["timeout_count"], 0, "{stats}");
    assert_eq!(*calls.lock().unwrap(), [1]);
    assert_eq!(consumer.stats().messages_finished, 1);
    stop(&consumer);
}

#[test]
fn stop_lets_running_handlers_finish_and_answer() {
    let nsqd = Nsqd::start(&[]);
    let mut publisher = nsqd.client();
    for i in 0..4 {
        publisher.publish("grace", format!("g{i}").as_bytes());
    }
    let consumer = Consumer::new("grace", "c", fast_config(4)).unwrap();
    let (started_tx, started_rx) = mpsc::channel();
    let started_tx = Mutex::new(started_tx);
    // Handlers run until the test opens the gate (or WAIT passes).
    let gate = Arc::new((Mutex::new(false), Condvar::new()));
    let held = gate.clone();
    consumer.add_concurrent_handlers(
        move |_msg: &Message| {
            let _ = started_tx.lock().unwrap().send(());
            let (open, cv) = &*held;
            let _ = cv
                .wait_timeout_while(open.lock().unwrap(), WAIT, |open| !*open)
                .unwrap();
            Ok(())
        },
        4,
    );
    consumer.connect_to_nsqd(&nsqd.tcp.to_string()).unwrap();
    for _ in 0..4 {
        started_rx.recv_timeout(WAIT).expect("handler started");
    }
    consumer.stop();
    // All four handlers are still running, so the consumer cannot be done.
    assert!(
        !consumer.wait_timeout(100 * MS),
        "stop did not wait for handlers"
    );
    *gate.0.lock().unwrap() = true;
    gate.1.notify_all();
    assert!(consumer.wait_timeout(WAIT));
    assert_eq!(consumer.stats().messages_finished, 4);
    wait_channel(&nsqd, "grace", "c", |s| {
        drained(s) && s["client_count"] == 0
    });
}

#[test]
fn misuse_is_reported() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Consumer>();
    let bad = Consumer::new("bad topic", "c", Config::default());
    assert!(matches!(bad, Err(Error::InvalidName(_))));
    let bad = Consumer::new("t", "", Config::default());
    assert!(matches!(bad, Err(Error::InvalidName(_))));
    let config = Config {
        sample_rate: 100,
        ..Config::default()
    };
    assert!(matches!(
        Consumer::new("t", "c", config),
        Err(Error::Config(_))
    ));

    let consumer = Consumer::new("t", "c", Config::default()).unwrap();
    let no_handler = consumer.connect_to_nsqd("127.0.0.1:1");
    assert!(
        matches!(no_handler, Err(Error::Config(_))),
        "{no_handler:?}"
    );
    consumer.add_handler(|_| Ok(()));
    // https:// is a lookupd address now (tests/client_tls.rs); ftp:// is not.
    assert!(consumer.connect_to_nsqlookupd("ftp://127.0.0.1:1").is_err());
    assert!(matches!(
        consumer.disconnect_from_nsqd("127.0.0.1:1"),
        Err(Error::NotConnected)
    ));
    stop(&consumer);
    assert!(matches!(
        consumer.connect_to_nsqd("127.0.0.1:1"),
        Err(Error::Stopped)
    ));
}
