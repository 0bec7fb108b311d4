//! The client `Producer` against the real nsqd binary: every kind of publish arrives,
//! async results come back in call order with their values, a lost connection is
//! made again, nothing is lost under load, and a stopped producer stays stopped.

mod common;

use common::{Nsqd, WAIT};
use nsq::client::{Config, Error, Producer, Transaction};
use serde_json::Value;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

fn producer(nsqd: &Nsqd) -> Producer {
    Producer::new(&nsqd.tcp.to_string(), Config::default()).unwrap()
}

/// The topic's entry in nsqd's `/stats?format=json`.
fn topic_stats(nsqd: &Nsqd, topic: &str) -> Value {
    let target = format!("/stats?format=json&topic={topic}");
    let r = common::http(nsqd.http, "GET", &target, b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let stats = r.json();
    stats["topics"]
        .as_array()
        .and_then(|topics| topics.iter().find(|t| t["topic_name"] == topic))
        .cloned()
        .unwrap_or_else(|| panic!("no topic {topic} in {stats}"))
}

/// The `message_count` and `depth` of a topic that has no channels.
fn counts(nsqd: &Nsqd, topic: &str) -> (u64, u64) {
    let t = topic_stats(nsqd, topic);
    let count = |key: &str| t[key].as_u64().unwrap_or_else(|| panic!("{key} in {t}"));
    (count("message_count"), count("depth"))
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
        thread::spawn(move || {
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
        thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
        });
    }
}

#[test]
fn publish_multi_publish_and_deferred_publish_deliver() {
    let nsqd = Nsqd::start(&[]);
    let mut consumer = common::consumer(&nsqd, "{}", "kinds", "c", 10);
    let p = producer(&nsqd);
    p.publish("kinds", b"one").unwrap();
    p.multi_publish("kinds", &[&b"two"[..], b"three"]).unwrap();
    let mut bodies: Vec<Vec<u8>> = (0..3).map(|_| consumer.read_message().body).collect();
    bodies.sort();
    assert_eq!(bodies, [&b"one"[..], b"three", b"two"]);

    // A lower bound: the deferral starts after this instant.
    let sent = Instant::now();
    p.deferred_publish("kinds", Duration::from_millis(300), b"later")
        .unwrap();
    assert_eq!(consumer.read_message().body, b"later");
    assert!(
        sent.elapsed() >= Duration::from_millis(300),
        "{:?}",
        sent.elapsed()
    );
}

#[test]
fn bad_topic_names_are_refused_by_the_client() {
    let nsqd = Nsqd::start(&[]);
    let p = producer(&nsqd);
    for topic in ["", "bad topic", "bad/topic", &"x".repeat(65)] {
        let e = p.publish(topic, b"x").unwrap_err();
        assert!(matches!(e, Error::InvalidName(_)), "{topic:?}: {e}");
        let e = p.multi_publish(topic, &[b"x"]).unwrap_err();
        assert!(matches!(e, Error::InvalidName(_)), "{topic:?}: {e}");
    }
    p.publish("good.topic_1-x", b"x").unwrap();
}

#[test]
fn nsqd_errors_are_returned_and_the_next_publish_reconnects() {
    let nsqd = Nsqd::start(&[]);
    let p = producer(&nsqd);
    // Both are fatal in nsqd: it answers with an error frame and closes.
    let e = p.publish("errs", b"").unwrap_err();
    assert_eq!(e.code(), Some("E_BAD_MESSAGE"), "{e}");
    p.publish("errs", b"after").unwrap();
    let e = p
        .deferred_publish("errs", Duration::from_secs(2 * 3600), b"x")
        .unwrap_err();
    assert_eq!(e.code(), Some("E_INVALID"), "{e}");
    p.publish("errs", b"again").unwrap();
    assert_eq!(counts(&nsqd, "errs"), (2, 2));
}

#[test]
fn async_results_arrive_with_their_args_in_call_order() {
    let nsqd = Nsqd::start(&[]);
    let p = producer(&nsqd);
    let (done, results) = mpsc::channel();
    for i in 0..1000u32 {
        let body = format!("async {i}");
        match i % 10 {
            0 => p.multi_publish_async("async", &[body.as_bytes(), b"extra"], done.clone(), i),
            5 => {
                p.deferred_publish_async("async", Duration::ZERO, body.as_bytes(), done.clone(), i)
            }
            _ => p.publish_async("async", body.as_bytes(), done.clone(), i),
        }
        .unwrap();
    }
    drop(done);
    let got: Vec<Transaction<u32>> = (0..1000)
        .map(|_| results.recv_timeout(WAIT).expect("a transaction per call"))
        .collect();
    for (i, t) in got.iter().enumerate() {
        assert_eq!(t.args, i as u32);
        assert!(t.result.is_ok(), "{i}: {:?}", t.result);
    }
    // Each call's sender is dropped once its result is sent: the channel then ends,
    // with nothing more in it.
    assert_eq!(
        results.recv_timeout(WAIT).map(|t| t.args),
        Err(RecvTimeoutError::Disconnected)
    );
    assert_eq!(counts(&nsqd, "async").0, 1100);
}

#[test]
fn a_connection_lost_with_an_nsqd_restart_is_made_again() {
    let first = Nsqd::start(&[]);
    // The producer dials the proxy: one address for both nsqds.
    let proxy = Proxy::start(first.tcp);
    let p = Producer::new(&proxy.addr.to_string(), Config::default()).unwrap();
    p.publish("restart", b"before").unwrap();
    proxy.set_backend(None);
    drop(first); // SIGKILL: the kernel closes the producer's connection

    // No nsqd now: either the loss is not yet seen (NotConnected) or the redial's
    // connection is closed at once; no success is possible.
    match p.publish("restart", b"down") {
        Err(Error::NotConnected | Error::Io(_)) => {}
        other => panic!("publish with nsqd down: {other:?}"),
    }

    let second = Nsqd::start(&[]);
    proxy.set_backend(Some(second.tcp));
    // go-nsq: a loss noticed before the call means a fresh dial; a loss noticed by
    // the call itself fails it with NotConnected. Either way the next call works.
    match p.publish("restart", b"first after") {
        Ok(()) | Err(Error::NotConnected) => {}
        Err(e) => panic!("first publish after restart: {e}"),
    }
    p.publish("restart", b"after").unwrap();
    let (count, _) = counts(&second, "restart");
    assert!((1..=2).contains(&count), "message_count {count}");
}

#[test]
fn a_hundred_thousand_messages_from_four_threads_all_arrive() {
    const THREADS: usize = 4;
    const BATCHES: usize = 24;
    const BATCH: usize = 1000;
    const SINGLES: usize = 1000;
    let nsqd = Nsqd::start(&[]);
    let p = Arc::new(producer(&nsqd));
    let workers: Vec<_> = (0..THREADS)
        .map(|w| {
            let p = Arc::clone(&p);
            thread::spawn(move || {
                for b in 0..BATCHES {
                    let bodies: Vec<String> = (0..BATCH).map(|i| format!("{w}-{b}-{i}")).collect();
                    p.multi_publish("load", &bodies).unwrap();
                }
                for i in 0..SINGLES {
                    p.publish("load", format!("{w}-single-{i}").as_bytes())
                        .unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let total = (THREADS * (BATCHES * BATCH + SINGLES)) as u64;
    assert_eq!(total, 100_000);
    assert_eq!(counts(&nsqd, "load"), (total, total));
}

#[test]
fn a_stopped_producer_refuses_everything() {
    let nsqd = Nsqd::start(&[]);
    let p = producer(&nsqd);
    p.ping().unwrap();
    p.publish("stop", b"x").unwrap();
    p.stop();
    assert!(matches!(p.publish("stop", b"x"), Err(Error::Stopped)));
    assert!(matches!(
        p.multi_publish("stop", &[b"x"]),
        Err(Error::Stopped)
    ));
    let (done, results) = mpsc::channel();
    assert!(matches!(
        p.publish_async("stop", b"x", done, ()),
        Err(Error::Stopped)
    ));
    // The refused call kept nothing: its sender is gone, the channel ends empty.
    assert_eq!(
        results.recv_timeout(WAIT).map(|t| t.args),
        Err(RecvTimeoutError::Disconnected)
    );
    assert!(matches!(p.ping(), Err(Error::Stopped)));
    p.stop();
    assert_eq!(counts(&nsqd, "stop").0, 1);
}
