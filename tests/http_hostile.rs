//! Hostile HTTP clients cannot starve the HTTP API or hold up a stop: 1,000 slowloris
//! connections (part of a request head, a byte now and then) and 100 clients that ask
//! for `/stats` and never read it, while `/ping` and `/pub` keep answering and SIGTERM
//! still exits. Deadlines here only turn a hang into a failure; `make bench` measures.
mod common;

use common::{http, Nsqd, WAIT};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

/// Opens `n` connections that each send the start of a request head.
fn slowloris(nsqd: &Nsqd, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let mut s = TcpStream::connect(nsqd.http).expect("connect");
            s.write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .expect("write");
            s
        })
        .collect()
}

/// Opens `n` connections that each ask for `/stats` and never read the answer.
fn non_readers(nsqd: &Nsqd, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let mut s = TcpStream::connect(nsqd.http).expect("connect");
            s.write_all(
                b"GET /stats?format=json HTTP/1.1\r\nHost: x\r\n\r\n"
                    .repeat(4)
                    .as_slice(),
            )
            .expect("write");
            s
        })
        .collect()
}

#[test]
fn slow_and_non_reading_clients_do_not_block_ping_pub_or_stop() {
    let mut nsqd = Nsqd::start(&[]);
    // A /stats answer worth not reading: 2,000 topics.
    let mut c = nsqd.client();
    for i in 0..2000 {
        c.publish(&format!("topic-{i:04}"), b"x");
    }
    let mut slow = slowloris(&nsqd, 1000);
    let stuck = non_readers(&nsqd, 100);
    for round in 0..20 {
        assert_eq!(
            http(nsqd.http, "GET", "/ping", b"").text(),
            "OK",
            "round {round}"
        );
        let resp = http(nsqd.http, "POST", "/pub?topic=live", b"m");
        assert_eq!((resp.status, resp.text()), (200, "OK".to_string()));
        // The slow ones trickle on.
        for s in slow.iter_mut().step_by(7) {
            let _ = s.write_all(b"a");
        }
    }
    let stats = http(nsqd.http, "GET", "/stats?format=json&topic=live", b"").json();
    assert_eq!(stats["topics"][0]["message_count"], 20);

    let started = Instant::now();
    nsqd.signal("TERM");
    assert_eq!(nsqd.wait_exit(), Some(0), "{}", nsqd.log_text());
    eprintln!(
        "SIGTERM with 1,100 hostile HTTP clients: exited in {:?}",
        started.elapsed()
    );
    drop((slow, stuck));
}

#[test]
fn a_request_head_that_never_ends_is_cut_off_and_its_slot_freed() {
    let nsqd = Nsqd::start(&[]);
    let mut s = TcpStream::connect(nsqd.http).unwrap();
    s.write_all(b"GET /ping HTTP/1.1\r\nX-Slow: ").unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408 "), "{text}");
}

#[test]
fn two_different_content_lengths_are_refused() {
    let nsqd = Nsqd::start(&[]);
    let mut s = TcpStream::connect(nsqd.http).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(
        b"POST /pub?topic=t HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 5\r\n\r\nhello",
    )
    .unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 400 "), "{text}");
    let stats = http(nsqd.http, "GET", "/stats?format=json", b"").json();
    assert_eq!(
        stats["topics"],
        serde_json::json!([]),
        "nothing was published"
    );
}

#[test]
fn connections_past_the_cap_close_the_longest_waiting_first() {
    let nsqd = Nsqd::start(&[]);
    // More idle connections than the server keeps (1,024).
    let mut idle: Vec<TcpStream> = (0..1100)
        .map(|_| TcpStream::connect(nsqd.http).unwrap())
        .collect();
    // Everyone new is still answered...
    assert_eq!(http(nsqd.http, "GET", "/ping", b"").text(), "OK");
    // ...because the oldest waiting ones were closed.
    let first = &mut idle[0];
    first.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 1];
    let n = first.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the oldest idle connection was closed");
}
