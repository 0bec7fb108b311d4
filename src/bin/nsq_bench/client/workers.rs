//! The worker threads: a writer sends MPUBs, or PUBs with `--batch-size=1` (paced by
//! --rate and --max-backlog in pubsub, stamped with the send time) and records each
//! one's publish latency (its write to its OK); a reader FINs every message it gets
//! and, in pubsub, records the end-to-end latency. Each returns what it counted. A worker
//! shakes hands ([`open`]), then runs its loop over whichever stream that gave it:
//! the loops are generic, so plain TCP and TLS run the same code.

use super::gate::{Arrival, Gate};
use super::tls::TlsClient;
use super::wire::{now_ns, open, other, publish_cmd, Conn, FrameReader, FLUSH_AT};
use crate::hist::Histogram;
use crate::Options;
use nsq::proto::{self, FRAME_ERROR, FRAME_MESSAGE, FRAME_RESPONSE, HEARTBEAT};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// What writers share.
pub(super) struct PubShared {
    opts: Options,
    /// Messages handed out to writers so far (for --count).
    reserved: AtomicU64,
    /// Pubsub: messages sent (acknowledged or not) and messages consumed.
    sent: AtomicU64,
    consumed: Arc<AtomicU64>,
    /// Pubsub: stamp each body with the send time.
    stamp: bool,
    /// `--tls-root-ca-file`: connect with TLS.
    pub(super) tls: Option<TlsClient>,
}

impl PubShared {
    /// Reserves the next batch: how many messages to send, 0 when --count is reached.
    pub(super) fn reserve(&self) -> usize {
        let batch = self.opts.batch_size as u64;
        if self.opts.count == 0 {
            return batch as usize;
        }
        let got = self.reserved.fetch_add(batch, Ordering::Relaxed);
        self.opts.count.saturating_sub(got).min(batch) as usize
    }
}

/// What one writer did: messages and body bytes acknowledged, and the latency of
/// each acknowledged command (nanoseconds from writing it to reading its OK).
pub(super) struct PubResult {
    pub(super) msgs: u64,
    pub(super) bytes: u64,
    pub(super) latency: Histogram,
}

/// One writer connection: handshake, barrier, then publishes until the deadline.
pub(super) fn pub_worker(shared: &PubShared, start: &Gate) -> io::Result<PubResult> {
    let mut start = Arrival::new(start);
    let (conn, mut reader) = open(&shared.opts, shared.tls.as_ref(), "writer", None)?;
    match conn {
        Conn::Plain(mut s) => pub_loop(shared, &mut start, &mut s, &mut reader),
        #[cfg(feature = "tls")]
        Conn::Tls(mut s) => pub_loop(shared, &mut start, &mut *s, &mut reader),
    }
}

/// A writer's barrier and publishes over its connected `stream`.
fn pub_loop<S: Read + Write>(
    shared: &PubShared,
    start: &mut Arrival<'_>,
    stream: &mut S,
    reader: &mut FrameReader,
) -> io::Result<PubResult> {
    let opts = &shared.opts;
    // --batch-size=1: each message is its own PUB.
    let single = opts.batch_size == 1;
    let mut full = publish_cmd(&opts.topic, opts.batch_size, opts.size, single);
    let mut partial;
    let mut latency = Histogram::default();
    let per_worker_rate = opts.rate as f64 / opts.workers as f64;
    // Messages sent so far, for --rate.
    let mut scheduled = 0u64;
    start.arrive_and_wait();
    let began = Instant::now();
    let end = began + opts.runfor;
    // Each command sent and not yet acknowledged: (messages, when it was written).
    let mut in_flight: VecDeque<(usize, Instant)> = VecDeque::with_capacity(opts.pipeline);
    let (mut msgs, mut stop) = (0u64, false);
    loop {
        while !stop && in_flight.len() < opts.pipeline {
            if shared.stamp && (opts.max_backlog > 0 || per_worker_rate > 0.0) {
                if Instant::now() >= end {
                    stop = true;
                    break;
                }
                if opts.max_backlog > 0 {
                    let backlog = shared
                        .sent
                        .load(Ordering::Relaxed)
                        .saturating_sub(shared.consumed.load(Ordering::Relaxed));
                    if backlog + opts.batch_size as u64 > opts.max_backlog {
                        if in_flight.is_empty() {
                            thread::sleep(Duration::from_micros(50));
                            continue;
                        }
                        break;
                    }
                }
                if per_worker_rate > 0.0 {
                    let due = began + Duration::from_secs_f64(scheduled as f64 / per_worker_rate);
                    let now = Instant::now();
                    if due > now {
                        if in_flight.is_empty() {
                            thread::sleep(due - now);
                            continue;
                        }
                        break;
                    }
                }
            }
            let n = shared.reserve();
            if n == 0 {
                stop = true;
                break;
            }
            let cmd = if n == opts.batch_size {
                &mut full
            } else {
                partial = publish_cmd(&opts.topic, n, opts.size, single);
                &mut partial
            };
            if shared.stamp {
                let ts = now_ns().to_be_bytes();
                for i in 0..n {
                    let at = cmd.first_body + i * cmd.stride;
                    cmd.bytes[at..at + 8].copy_from_slice(&ts);
                }
                shared.sent.fetch_add(n as u64, Ordering::Relaxed);
            }
            let sent_at = Instant::now();
            stream.write_all(&cmd.bytes)?;
            scheduled += n as u64;
            in_flight.push_back((n, sent_at));
        }
        let Some((n, sent_at)) = in_flight.front().copied() else {
            break;
        };
        let resp = reader.response(stream)?;
        if resp != b"OK" {
            return Err(other(format!(
                "{}: expected OK, got {:?}",
                full.verb,
                String::from_utf8_lossy(&resp)
            )));
        }
        latency.record(sent_at.elapsed().as_nanos() as u64);
        in_flight.pop_front();
        msgs += n as u64;
        if Instant::now() >= end {
            stop = true;
        }
    }
    Ok(PubResult {
        msgs,
        bytes: msgs * opts.size as u64,
        latency,
    })
}

/// What one reader saw: messages, body bytes, and (pubsub) latencies.
pub(super) struct SubResult {
    pub(super) msgs: u64,
    pub(super) bytes: u64,
    pub(super) latency: Option<Histogram>,
}

/// One reader connection: IDENTIFY and SUB, barrier, RDY, then FIN every message
/// until the deadline; the connection is then dropped, as bench_reader closes it.
pub(super) fn sub_worker(
    opts: &Options,
    tls: Option<&TlsClient>,
    subscribed: Option<&Gate>,
    start: &Gate,
    consumed: &AtomicU64,
) -> io::Result<SubResult> {
    let timestamps = subscribed.is_some();
    let mut subscribed = subscribed.map(Arrival::new);
    let mut start = Arrival::new(start);
    let sub = format!("SUB {} {}\n", opts.topic, opts.channel);
    let (conn, mut reader) = open(opts, tls, "reader", Some(sub.as_bytes()))?;
    if let Some(s) = subscribed.as_mut() {
        s.arrive();
    }
    conn.tcp()
        .set_read_timeout(Some(Duration::from_millis(20)))?;
    match conn {
        Conn::Plain(mut s) => sub_loop(opts, timestamps, &mut start, &mut s, &mut reader, consumed),
        #[cfg(feature = "tls")]
        Conn::Tls(mut s) => sub_loop(opts, timestamps, &mut start, &mut *s, &mut reader, consumed),
    }
}

/// A reader's barrier, RDY and FINs over its subscribed `stream`.
fn sub_loop<S: Read + Write>(
    opts: &Options,
    timestamps: bool,
    start: &mut Arrival<'_>,
    stream: &mut S,
    reader: &mut FrameReader,
    consumed: &AtomicU64,
) -> io::Result<SubResult> {
    let mut out: Vec<u8> = Vec::with_capacity(2 * FLUSH_AT);
    let mut hist = timestamps.then(Histogram::default);
    let (mut msgs, mut bytes) = (0u64, 0u64);
    start.arrive_and_wait();
    let end = Instant::now() + opts.runfor;
    stream.write_all(format!("RDY {}\n", opts.rdy).as_bytes())?;
    loop {
        let before = msgs;
        while let Some((kind, range)) = reader.next_frame()? {
            let data = reader.data(range);
            match kind {
                FRAME_MESSAGE => {
                    let msg = proto::decode_message(data)
                        .ok_or_else(|| other("message frame too short"))?;
                    out.extend_from_slice(b"FIN ");
                    out.extend_from_slice(&msg.id);
                    out.push(b'\n');
                    msgs += 1;
                    bytes += msg.body.len() as u64;
                    if let (Some(h), Some(ts)) = (hist.as_mut(), msg.body.get(..8)) {
                        let mut b = [0u8; 8];
                        b.copy_from_slice(ts);
                        let sent = u64::from_be_bytes(b);
                        let now = now_ns();
                        // The sink's canned bodies carry no timestamp: skip them.
                        if sent != 0 && sent <= now {
                            h.record(now - sent);
                        }
                    }
                    if out.len() >= FLUSH_AT {
                        stream.write_all(&out)?;
                        out.clear();
                    }
                }
                FRAME_RESPONSE if data == HEARTBEAT => out.extend_from_slice(b"NOP\n"),
                FRAME_RESPONSE => {}
                FRAME_ERROR => return Err(other(String::from_utf8_lossy(data))),
                k => return Err(other(format!("unexpected frame type {k}"))),
            }
        }
        if !out.is_empty() {
            stream.write_all(&out)?;
            out.clear();
        }
        if timestamps && msgs > before {
            consumed.fetch_add(msgs - before, Ordering::Relaxed);
        }
        if Instant::now() >= end {
            break;
        }
        match reader.fill(stream) {
            Ok(()) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(SubResult {
        msgs,
        bytes,
        latency: hist,
    })
}

pub(super) fn pub_shared(
    opts: &Options,
    consumed: Arc<AtomicU64>,
    stamp: bool,
    tls: Option<TlsClient>,
) -> PubShared {
    PubShared {
        opts: opts.clone(),
        reserved: AtomicU64::new(0),
        sent: AtomicU64::new(0),
        consumed,
        stamp,
        tls,
    }
}
