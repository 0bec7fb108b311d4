//! Deferred acknowledgements with `--mem-queue-size=0 --sync-every=1`: an OK never
//! precedes the fsync that covers it, while the reactor goes on serving everyone
//! else; a pipelined producer's replies keep its command order; a failed fsync
//! answers `E_PUB_FAILED` for the commands it covered, and nsqd goes on serving.
//!
//! nsqd's test hooks (environment variables read only by tests) delay every group
//! commit (`NSQ_RS_TEST_FSYNC_DELAY_MS`) or fail the first ones
//! (`NSQ_RS_TEST_FAIL_COMMITS`); nsqd is started through `env` to set them.

mod common;

use common::{http, Client, Nsqd};
use std::time::{Duration, Instant};

const DURABLE: [&str; 2] = ["--mem-queue-size=0", "--sync-every=1"];

/// nsqd with `--mem-queue-size=0 --sync-every=1` and the test hook `hook` set.
fn durable_nsqd(hook: &str) -> Nsqd {
    Nsqd::start_via(&["env", hook], common::temp_dir("commit"), &DURABLE)
}

fn create(nsqd: &Nsqd, topic: &str, channel: &str) {
    let target = format!("/topic/create?topic={topic}");
    assert_eq!(http(nsqd.http, "POST", &target, b"").status, 200);
    let target = format!("/channel/create?topic={topic}&channel={channel}");
    assert_eq!(http(nsqd.http, "POST", &target, b"").status, 200);
}

fn pub_bytes(topic: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("PUB {topic}\n").into_bytes();
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// The next frame as (type, text), heartbeats skipped.
fn frame(c: &mut Client) -> (i32, String) {
    let f = c.next_frame();
    (f.frame_type, f.text())
}

#[test]
fn an_ok_never_precedes_its_fsync_and_nobody_else_waits_for_it() {
    const DELAY: Duration = Duration::from_millis(3000);
    let nsqd = durable_nsqd("NSQ_RS_TEST_FSYNC_DELAY_MS=3000");
    create(&nsqd, "d", "c");
    let mut consumer = common::consumer(&nsqd, "{}", "d", "c", 10);

    // A durable PUB: its OK waits for the (delayed) group commit.
    let mut producer = nsqd.client();
    let sent = Instant::now();
    producer.send(&pub_bytes("d", b"durable"));
    // Meanwhile the consumer gets that very message (delivery needs no fsync) ...
    let m = consumer.read_message();
    assert_eq!(m.body, b"durable");
    consumer.fin(&m.id);
    // ... a producer to an ephemeral topic (never on disk) gets its OK ...
    let mut ephemeral = nsqd.client();
    ephemeral.publish("e#ephemeral", b"x");
    // ... and so does an HTTP publish to it.
    let resp = http(nsqd.http, "POST", "/pub?topic=e%23ephemeral", b"y");
    assert_eq!((resp.status, resp.text()), (200, "OK".to_string()));
    // All of that happened while the durable OK was still owed.
    let early = producer.try_read_frame(Duration::from_millis(1));
    assert!(
        sent.elapsed() >= DELAY || early.is_err(),
        "an OK arrived before its fsync: {early:?}"
    );
    assert_eq!(frame(&mut producer), (0, "OK".into()));
    assert!(
        sent.elapsed() >= DELAY,
        "the OK came {:?} after the PUB, before the {DELAY:?} fsync delay ended",
        sent.elapsed()
    );

    // HTTP publishes to a durable topic wait for the commit as well.
    let sent = Instant::now();
    let resp = http(nsqd.http, "POST", "/mpub?topic=d", b"h1\nh2\n");
    assert_eq!((resp.status, resp.text()), (200, "OK".to_string()));
    assert!(sent.elapsed() >= DELAY, "HTTP OK before its fsync");
}

#[test]
fn pipelined_replies_keep_command_order_behind_owed_oks() {
    let nsqd = durable_nsqd("NSQ_RS_TEST_FSYNC_DELAY_MS=300");
    create(&nsqd, "d", "c");
    let mut c = nsqd.client();
    // Durable, ephemeral (nothing to sync), durable MPUB, an IDENTIFY (which waits
    // for the owed OKs), a SUB, a non-fatal error, then a fatal one: in one write.
    // The first PUB alone: its OK is owed when the rest (another read) arrives.
    c.send(&pub_bytes("d", b"first"));
    std::thread::sleep(Duration::from_millis(50));
    let mut batch = Vec::new();
    for i in 0..20 {
        batch.extend(pub_bytes("d", format!("d{i}").as_bytes()));
        batch.extend(pub_bytes("e#ephemeral", b"e"));
    }
    let mpub = common::mpub_body(&[b"m1", b"m2"]);
    batch.extend(b"MPUB d\n");
    batch.extend(&(mpub.len() as u32).to_be_bytes());
    batch.extend(&mpub);
    let identify = br#"{"feature_negotiation":true}"#;
    batch.extend(b"IDENTIFY\n");
    batch.extend(&(identify.len() as u32).to_be_bytes());
    batch.extend(identify);
    batch.extend(b"SUB idle c\n");
    batch.extend(b"FIN 0123456789abcdef\n");
    batch.extend(pub_bytes("d", b"last"));
    batch.extend(pub_bytes("bad!topic", b"x"));
    batch.extend(pub_bytes("d", b"never"));
    c.send(&batch);
    for i in 0..42 {
        assert_eq!(frame(&mut c), (0, "OK".into()), "reply {i}");
    }
    let (kind, identify) = frame(&mut c);
    assert_eq!(kind, 0);
    assert!(identify.contains("max_rdy_count"), "{identify}");
    assert_eq!(frame(&mut c), (0, "OK".into()), "SUB");
    let (kind, fin) = frame(&mut c);
    assert_eq!((kind, fin.starts_with("E_FIN_FAILED")), (1, true), "{fin}");
    assert_eq!(frame(&mut c), (0, "OK".into()));
    let (kind, bad) = frame(&mut c);
    assert_eq!((kind, bad.starts_with("E_BAD_TOPIC")), (1, true), "{bad}");
    c.expect_closed();

    // Everything acknowledged is there; what followed the fatal error is not.
    let s = common::stats_json(&nsqd, "d");
    assert_eq!(s["topics"][0]["message_count"], 24, "{s}");
}

#[test]
fn a_failed_fsync_answers_exactly_its_commands_and_nsqd_goes_on() {
    let nsqd = durable_nsqd("NSQ_RS_TEST_FAIL_COMMITS=2");
    create(&nsqd, "d", "c");
    let mut a = nsqd.client();
    a.send(&pub_bytes("d", b"a"));
    let (kind, text) = frame(&mut a);
    assert_eq!(kind, 1);
    assert!(text.starts_with("E_PUB_FAILED PUB failed "), "{text}");
    assert!(text.contains("injected fsync failure"), "{text}");
    a.expect_closed();
    let resp = http(nsqd.http, "POST", "/pub?topic=d", b"h");
    assert_eq!((resp.status, resp.text().contains("EXITING")), (503, true));

    // The hook is spent: publishing works again, on a fresh connection.
    let mut b = nsqd.client();
    b.publish("d", b"b");
    let resp = http(nsqd.http, "POST", "/pub?topic=d", b"h2");
    assert_eq!(resp.status, 200);
    common::wait_log(|| nsqd.log_text(), "group commit of tickets");
}

#[test]
fn sixty_four_producers_one_message_at_a_time_all_get_their_oks() {
    let nsqd = Nsqd::start(&DURABLE);
    create(&nsqd, "d", "c");
    let producers: Vec<_> = (0..64)
        .map(|p| {
            let mut c = nsqd.client();
            std::thread::spawn(move || {
                for i in 0..50 {
                    c.publish("d", format!("{p}-{i}").as_bytes());
                }
            })
        })
        .collect();
    for p in producers {
        p.join().expect("producer");
    }
    let s = common::stats_json(&nsqd, "d");
    assert_eq!(s["topics"][0]["message_count"], 64 * 50, "{s}");
    let metrics = http(nsqd.http, "GET", "/metrics", b"").text();
    let commits: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("nsqd_sync_commits_total "))
        .and_then(|v| v.parse().ok())
        .expect("nsqd_sync_commits_total");
    assert!(
        (1..=64 * 50).contains(&commits),
        "{commits} group commits for 3,200 publishes"
    );
}

#[test]
fn identify_after_a_publish_that_needs_no_fsync_goes_on_at_once() {
    let identify = br#"{"feature_negotiation":true}"#;
    let mut pipelined = pub_bytes("e#ephemeral", b"x");
    pipelined.extend(b"IDENTIFY\n");
    pipelined.extend(&(identify.len() as u32).to_be_bytes());
    pipelined.extend(identify);
    pipelined.extend(b"NOP\n");
    pipelined.extend(pub_bytes("e#ephemeral", b"y"));
    // With --sync-every=1 (an ephemeral topic has nothing to sync), and without.
    for args in [&DURABLE[..], &["--mem-queue-size=0"][..]] {
        let nsqd = Nsqd::start(args);
        let mut c = nsqd.client();
        c.send(&pipelined);
        assert_eq!(frame(&mut c), (0, "OK".into()), "{args:?}");
        let (kind, reply) = frame(&mut c);
        assert_eq!(kind, 0, "{args:?}");
        assert!(reply.contains("max_rdy_count"), "{args:?}: {reply}");
        assert_eq!(frame(&mut c), (0, "OK".into()), "{args:?}");
    }
}
