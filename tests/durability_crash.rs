//! Black-box crash test: with `--mem-queue-size=0 --sync-every=1` nsqd answers OK to a
//! PUB or MPUB only once the message is on disk, so a SIGKILL at any moment loses
//! nothing it acknowledged. Twenty rounds on one `--data-path`, each with 64 producers
//! (one connection each) and a consumer at work when nsqd is killed at a random moment;
//! then one last start drains the channel and accounts for every body.
//!
//! The accounting. A producer counts a body as *sent* just before writing it and as
//! *acknowledged* once its OK has been read; the consumer counts every body it receives
//! as *consumed*, and FINs it at once. After the last restart:
//! - every body acknowledged and never consumed comes back: its OK promised it was on
//!   disk, and no consumer took it;
//! - a consumed body may come back, at most once: its FIN, or the read position past
//!   it, may not have reached nsqd or its disk before the kill (and a message in flight
//!   at a crash may be lost, as in Go's nsqd);
//! - a body sent but never acknowledged may come back, at most once;
//! - the one exception: a message nsqd had read from disk and had in flight to the
//!   consumer when killed is lost once a meta write saved the read position past it,
//!   as in Go's nsqd; at most the consumer's in-flight window (RDY) per round;
//! - nothing comes back that was never sent, and nothing twice.
//!
//! A body acknowledged in one round and consumed in a later one came back after a crash.
//! In even rounds the consumer goes flat out (often FINning messages whose publishes are
//! still being acknowledged); in odd rounds it pauses after each message, so the kill
//! leaves a backlog on disk. Within one round (one nsqd process, no REQ, no
//! timeout) the consumer never receives a body twice; across rounds it may, for the
//! reasons above.

mod common;

use common::node::{channel, num, topic, Dir, Node};
use common::rng::Rng;
use common::{Client, WAIT};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const ROUNDS: usize = 20;
const PRODUCERS: usize = 64;
const TOPIC: &str = "crash";
const CHANNEL: &str = "c";
const ARGS: [&str; 2] = ["--mem-queue-size=0", "--sync-every=1"];

/// How long a producer or the consumer may run: nsqd is killed well before, so this
/// only turns a hang into a failure.
const THREAD_LIMIT: Duration = Duration::from_secs(60);
/// The consumer's RDY: the most messages nsqd has in flight to it.
const IN_FLIGHT: usize = 100;

/// What one producer did in one round.
#[derive(Default)]
struct Published {
    /// Bodies written to the socket (their OK may never have come).
    sent: Vec<String>,
    /// Bodies whose OK was read.
    acked: Vec<String>,
}

/// Producer `id` of `round`: connects (counted in `connected`), then publishes one
/// command at a time — a PUB, every seventh an MPUB of five — until the connection
/// breaks, counting each OK in `oks`.
fn produce_until_broken(
    addr: SocketAddr,
    round: usize,
    id: usize,
    connected: Arc<AtomicUsize>,
    oks: Arc<AtomicUsize>,
) -> Published {
    // nsqd is killed only once every producer has connected: this cannot fail.
    let mut c = Client::connect(addr);
    connected.fetch_add(1, Ordering::SeqCst);
    let mut out = Published::default();
    let deadline = Instant::now() + THREAD_LIMIT;
    for seq in 0.. {
        assert!(
            Instant::now() < deadline,
            "producer {id} still publishing after {THREAD_LIMIT:?}: nsqd never died?"
        );
        let name = format!("r{round:02}-p{id:02}-{seq:06}");
        let (bodies, bytes) = if seq % 7 == 6 {
            let bodies: Vec<String> = (0..5).map(|k| format!("{name}-{k}")).collect();
            let refs: Vec<&[u8]> = bodies.iter().map(|b| b.as_bytes()).collect();
            let bytes =
                common::command_bytes(&format!("MPUB {TOPIC}"), Some(&common::mpub_body(&refs)));
            (bodies, bytes)
        } else {
            let bytes = common::command_bytes(&format!("PUB {TOPIC}"), Some(name.as_bytes()));
            (vec![name], bytes)
        };
        out.sent.extend(bodies.iter().cloned());
        if c.stream.write_all(&bytes).is_err() {
            break;
        }
        match c.try_read_frame(WAIT) {
            Ok(f) if f.frame_type == 0 && f.data == b"OK" => {
                out.acked.extend(bodies);
                oks.fetch_add(1, Ordering::SeqCst);
            }
            Ok(f) => panic!("producer {id}: reply {} {:?}", f.frame_type, f.text()),
            Err(_) => break,
        }
    }
    out
}

/// The consumer: SUB, RDY 100 (counted in `connected` once both are sent), then every
/// message received is recorded and FINed at once, then it sleeps `pause` (a pause
/// keeps it slower than the producers: a backlog builds up). Reads until the connection
/// breaks, also after a FIN could not be written, so every frame that reached the
/// socket is counted. Returns the bodies in the order they arrived.
fn consume_until_broken(
    addr: SocketAddr,
    pause: Duration,
    connected: Arc<AtomicUsize>,
) -> Vec<String> {
    let mut c = Client::connect(addr);
    c.sub(TOPIC, CHANNEL);
    c.rdy(IN_FLIGHT as u64);
    connected.fetch_add(1, Ordering::SeqCst);
    let mut got = Vec::new();
    let mut writable = true;
    let deadline = Instant::now() + THREAD_LIMIT;
    loop {
        assert!(
            Instant::now() < deadline,
            "consumer still reading after {THREAD_LIMIT:?}: nsqd never died?"
        );
        let Ok(f) = c.try_read_frame(WAIT) else {
            break;
        };
        let reply = if f.frame_type == 0 && f.data == b"_heartbeat_" {
            b"NOP\n".to_vec()
        } else {
            assert_eq!(f.frame_type, 2, "consumer: frame {:?}", f.text());
            let m = common::decode_message(&f.data);
            got.push(String::from_utf8(m.body).expect("utf-8 body"));
            let mut fin = b"FIN ".to_vec();
            fin.extend_from_slice(&m.id);
            fin.push(b'\n');
            fin
        };
        writable = writable && c.stream.write_all(&reply).is_ok();
        std::thread::sleep(pause);
    }
    got
}

/// Everything the rounds did, summed.
#[derive(Default)]
struct Ledger {
    /// Bodies written by a producer.
    sent: HashSet<String>,
    /// Bodies whose OK a producer read.
    acked: HashSet<String>,
    /// Bodies the consumer received in the round that published them.
    consumed_same_round: HashSet<String>,
    /// Bodies the consumer received in a later round: they came back after a crash.
    consumed_later: HashSet<String>,
}

impl Ledger {
    fn consumed(&self, body: &String) -> bool {
        self.consumed_same_round.contains(body) || self.consumed_later.contains(body)
    }
}

/// One round: nsqd on `dir`, the consumer and the producers at work, SIGKILL after
/// `delay` past the first OK; every thread joined and its record added to `ledger`.
fn crash_round(dir: &Dir, round: usize, delay: Duration, ledger: &mut Ledger) {
    let node = Node::start(&dir.0, &ARGS);
    node.post(&format!("/topic/create?topic={TOPIC}"));
    node.post(&format!("/channel/create?topic={TOPIC}&channel={CHANNEL}"));
    let addr = node.tcp;
    let connected = Arc::new(AtomicUsize::new(0));
    let oks = Arc::new(AtomicUsize::new(0));
    let consumer = {
        let connected = connected.clone();
        let pause = Duration::from_millis(round as u64 % 2);
        std::thread::spawn(move || consume_until_broken(addr, pause, connected))
    };
    let producers: Vec<JoinHandle<Published>> = (0..PRODUCERS)
        .map(|id| {
            let (connected, oks) = (connected.clone(), oks.clone());
            std::thread::spawn(move || produce_until_broken(addr, round, id, connected, oks))
        })
        .collect();
    common::eventually("the consumer and every producer connected", || {
        connected.load(Ordering::SeqCst) == PRODUCERS + 1
    });
    // The crash comes at a random point once publishing is under way: the sleep picks
    // that point, it synchronises nothing.
    common::eventually("a first acknowledged publish", || {
        oks.load(Ordering::SeqCst) > 0
    });
    std::thread::sleep(delay);
    node.kill9();

    let (mut sent, mut acked) = (0, 0);
    for p in producers {
        let p = p.join().expect("producer thread");
        sent += p.sent.len();
        acked += p.acked.len();
        ledger.sent.extend(p.sent);
        ledger.acked.extend(p.acked);
    }
    let got = consumer.join().expect("consumer thread");
    let own = format!("r{round:02}-");
    let mut this_round = HashSet::new();
    let mut earlier = 0;
    for body in got {
        assert!(
            ledger.sent.contains(&body),
            "consumed, never sent: {body:?}"
        );
        assert!(
            this_round.insert(body.clone()),
            "round {round}: {body:?} delivered twice by one nsqd"
        );
        if body.starts_with(&own) {
            ledger.consumed_same_round.insert(body);
        } else {
            earlier += 1;
            ledger.consumed_later.insert(body);
        }
    }
    eprintln!(
        "round {round:2}: killed {:3} ms after the first OK; {acked} acknowledged of {sent} \
         sent; {} consumed ({earlier} from earlier rounds)",
        delay.as_millis(),
        this_round.len()
    );
}

/// Reads channel `c` of a fresh nsqd with `cons` until it is empty, FINning every
/// message, and counts each body received; every one must have been sent. Over once
/// `/stats` shows the channel empty with nothing in flight (every FIN applied) twice in
/// a row after reads came back empty; one [`WAIT`] without a message only turns a hang
/// into a failure.
fn drain(node: &Node, cons: &mut Client, sent: &HashSet<String>) -> HashMap<String, usize> {
    let mut got: HashMap<String, usize> = HashMap::new();
    let mut fins = Vec::new();
    let mut received = 0usize;
    let mut progress = Instant::now();
    let mut empty_checks = 0;
    loop {
        match cons.try_read_message(Duration::from_millis(200)) {
            Some(m) => {
                progress = Instant::now();
                empty_checks = 0;
                received += 1;
                assert!(received <= sent.len(), "more messages than were ever sent");
                fins.extend_from_slice(b"FIN ");
                fins.extend_from_slice(&m.id);
                fins.push(b'\n');
                if received.is_multiple_of(100) {
                    cons.send(&fins);
                    fins.clear();
                }
                let body = String::from_utf8(m.body).expect("utf-8 body");
                assert!(sent.contains(&body), "recovered, never sent: {body:?}");
                *got.entry(body).or_default() += 1;
            }
            None => {
                cons.send(&fins);
                fins.clear();
                let s = node.stats();
                let c = channel(topic(&s, TOPIC), CHANNEL);
                if num(&c["depth"]) == 0 && num(&c["in_flight_count"]) == 0 {
                    empty_checks += 1;
                    if empty_checks == 2 {
                        break;
                    }
                } else {
                    empty_checks = 0;
                }
                if progress.elapsed() > WAIT {
                    break; // a hang: the assertions after the drain name what is left
                }
            }
        }
    }
    got
}

/// With `--sync-every=1`, every acknowledged publish survives kill -9, with 64
/// producers and a consumer at work.
#[test]
fn kill9_rounds_keep_every_acknowledged_publish() {
    let dir = Dir::new("dur-crash");
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut ledger = Ledger::default();
    for round in 0..ROUNDS {
        let delay = Duration::from_millis(rng.range(0, 200));
        crash_round(&dir, round, delay, &mut ledger);
    }
    // Acknowledged and never consumed: each must come back now.
    let must: HashSet<&String> = ledger
        .acked
        .iter()
        .filter(|b| !ledger.consumed(b))
        .collect();

    let node = Node::start(&dir.0, &ARGS);
    node.post(&format!("/channel/create?topic={TOPIC}&channel={CHANNEL}"));
    let s = node.stats();
    let t = topic(&s, TOPIC);
    assert_eq!(num(&t["depth"]), 0, "the topic holds nothing: {t}");
    let depth = num(&channel(t, CHANNEL)["depth"]) as usize;
    let mut cons = node.consumer(TOPIC, CHANNEL, 500);
    let got = drain(&node, &mut cons, &ledger.sent);
    let recovered: usize = got.values().sum();
    // Acknowledged bodies nobody consumed before a crash, seen again after it.
    let survivors = ledger
        .acked
        .iter()
        .filter(|b| !ledger.consumed_same_round.contains(*b))
        .filter(|b| ledger.consumed_later.contains(*b) || got.contains_key(*b))
        .count();
    eprintln!(
        "{ROUNDS} rounds: {} bodies sent, {} acknowledged, {} consumed during the rounds \
         ({} after a crash); last restart: depth {depth}, {recovered} recovered ({} \
         acknowledged and unconsumed, {} consumed before, {} never acknowledged); {survivors} \
         acknowledged bodies unconsumed at a kill came back",
        ledger.sent.len(),
        ledger.acked.len(),
        ledger
            .consumed_same_round
            .union(&ledger.consumed_later)
            .count(),
        ledger.consumed_later.len(),
        must.iter().filter(|b| got.contains_key(**b)).count(),
        got.keys().filter(|b| ledger.consumed(b)).count(),
        got.keys().filter(|b| !ledger.acked.contains(*b)).count(),
    );
    let dups: Vec<_> = got.iter().filter(|(_, &n)| n > 1).collect();
    assert!(
        dups.is_empty(),
        "{} bodies recovered more than once, e.g. {:?}",
        dups.len(),
        &dups[..dups.len().min(10)]
    );
    let mut lost: Vec<_> = must.iter().filter(|b| !got.contains_key(**b)).collect();
    lost.sort();
    let s = node.stats();
    let c = channel(topic(&s, TOPIC), CHANNEL);
    // The one loss allowed, as in Go's nsqd: messages nsqd had read from disk and
    // had in flight to the consumer (RDY 100) when it was killed, once a meta write
    // saved a read position past them. At most the in-flight window per round.
    let mut per_round: HashMap<&str, usize> = HashMap::new();
    for body in &lost {
        *per_round.entry(&body[..3]).or_default() += 1;
    }
    assert!(
        per_round.values().all(|&n| n <= IN_FLIGHT),
        "{} of {} acknowledged, unconsumed bodies lost ({per_round:?} by round; at most \
         {IN_FLIGHT} in flight per round may be), e.g. {:?}; the channel after the drain \
         (depth {depth} at the start): {c}",
        lost.len(),
        must.len(),
        &lost[..lost.len().min(10)]
    );
    if !lost.is_empty() {
        eprintln!("in flight at a kill and lost (as in Go's nsqd): {per_round:?}");
    }
    // The test proves something only if kills left acknowledged, unconsumed messages.
    assert!(
        survivors > 0,
        "no kill left an acknowledged body unconsumed"
    );
    assert!(
        !(ledger.consumed_same_round.is_empty() && ledger.consumed_later.is_empty()),
        "the consumer received nothing in {ROUNDS} rounds"
    );
    // The depth read at the start counted every one of them; every FIN was applied:
    // the channel is empty, and its one client took and finished each message once.
    assert!(
        depth >= must.len(),
        "channel depth {depth} at the start < {} acknowledged and unconsumed",
        must.len()
    );
    for field in [
        "depth",
        "in_flight_count",
        "deferred_count",
        "requeue_count",
        "timeout_count",
    ] {
        assert_eq!(num(&c[field]), 0, "{field} after the drain: {c}");
    }
    let clients = c["clients"].as_array().expect("clients");
    assert_eq!(clients.len(), 1, "{c}");
    assert_eq!(num(&clients[0]["message_count"]), recovered as u64, "{c}");
    assert_eq!(num(&clients[0]["finish_count"]), recovered as u64, "{c}");
    drop(cons);
    node.stop();
}
