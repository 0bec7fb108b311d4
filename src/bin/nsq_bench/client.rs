//! The client modes: `writer` (NSQ's bench_writer), `reader` (bench_reader) and
//! `pubsub` (both at once, with send timestamps in the bodies).
//!
//! Every worker is one thread with one blocking TCP connection (`TCP_NODELAY`, as
//! Go's net.Dial sets). Workers connect and finish their handshake first, then meet
//! at a barrier; the clock starts when the last one arrives and stops when the last
//! one is done. Only acknowledged messages (writer: OK'd MPUBs) or received ones
//! (reader) count. Writers time every command from its write to its OK: the
//! `publish latency` line under the writer's and pubsub's results.
//!
//! With `--tls-root-ca-file` every connection upgrades to TLS after IDENTIFY (§9)
//! and the same loops run inside it.
//!
//! Here: the three modes and their result lines. The connection and frames are in
//! `wire`, the TLS client in `tls`, the start line in `gate`, the worker loops in
//! `workers`.

mod gate;
mod tls;
mod wire;
mod workers;

use crate::hist::Histogram;
use crate::Options;
use gate::Gate;
use nsq::common::gotime::format_duration;
use std::io;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use wire::other;
use workers::{pub_shared, pub_worker, sub_worker, PubResult};

/// NSQ's result line for `msgs` messages carrying `bytes` body bytes in `d`.
pub fn result_line(d: Duration, msgs: u64, bytes: u64) -> String {
    let secs = d.as_secs_f64().max(f64::MIN_POSITIVE);
    let us_per_op = if msgs == 0 {
        "+Inf".to_string()
    } else {
        format!("{:.3}", d.as_micros() as f64 / msgs as f64)
    };
    format!(
        "duration: {} - {:.3} mb/s - {:.3} ops/s - {} us/op",
        format_duration(d),
        bytes as f64 / secs / 1024.0 / 1024.0,
        msgs as f64 / secs,
        us_per_op
    )
}

/// Joins worker threads, failing with the first error.
fn join_all<T>(handles: Vec<thread::ScopedJoinHandle<'_, io::Result<T>>>) -> io::Result<Vec<T>> {
    let mut results = Vec::with_capacity(handles.len());
    let mut first_err = None;
    for h in handles {
        match h.join() {
            Ok(Ok(r)) => results.push(r),
            Ok(Err(e)) => {
                first_err.get_or_insert(e);
            }
            Err(_) => {
                first_err.get_or_insert(other("worker panicked"));
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(results),
    }
}

/// `writer`: NSQ's bench_writer. Returns the result line, then the publish latency.
pub fn writer(opts: &Options) -> io::Result<String> {
    let shared = pub_shared(opts, Arc::default(), false, tls::from_options(opts)?);
    let start = Gate::default();
    let (elapsed, results) = thread::scope(|s| {
        let handles: Vec<_> = (0..opts.workers)
            .map(|_| {
                let (shared, start) = (&shared, &start);
                s.spawn(move || pub_worker(shared, start))
            })
            .collect();
        start.wait_arrived(opts.workers);
        start.open();
        let began = Instant::now();
        let results = join_all(handles);
        (began.elapsed(), results)
    });
    let results = results?;
    let msgs = results.iter().map(|r| r.msgs).sum();
    let bytes = results.iter().map(|r| r.bytes).sum();
    Ok(format!(
        "{}\n{}",
        result_line(elapsed, msgs, bytes),
        publish_latency(opts, &results)
    ))
}

/// `reader`: NSQ's bench_reader. Returns the result line.
pub fn reader(opts: &Options) -> io::Result<String> {
    let tls = tls::from_options(opts)?;
    let start = Gate::default();
    let consumed = AtomicU64::new(0);
    let (elapsed, results) = thread::scope(|s| {
        let handles: Vec<_> = (0..opts.workers)
            .map(|_| {
                let (tls, start, consumed) = (tls.as_ref(), &start, &consumed);
                s.spawn(move || sub_worker(opts, tls, None, start, consumed))
            })
            .collect();
        start.wait_arrived(opts.workers);
        start.open();
        let began = Instant::now();
        let results = join_all(handles);
        (began.elapsed(), results)
    });
    let results = results?;
    let msgs = results.iter().map(|r| r.msgs).sum();
    let bytes = results.iter().map(|r| r.bytes).sum();
    Ok(result_line(elapsed, msgs, bytes))
}

fn ms(ns: u64) -> String {
    format!("{:.3}ms", ns as f64 / 1e6)
}

/// `p50 .. - p99 .. - p99.9 .. - max ..` of a non-empty histogram.
fn percentiles(h: &Histogram) -> String {
    format!(
        "p50 {} - p99 {} - p99.9 {} - max {}",
        ms(h.quantile(0.5)),
        ms(h.quantile(0.99)),
        ms(h.quantile(0.999)),
        ms(h.max())
    )
}

/// `publish latency: p50 .. - p99 .. - p99.9 .. - max .. (N PUBs)`: from writing each
/// command to reading its OK, over all writers.
fn publish_latency(opts: &Options, results: &[PubResult]) -> String {
    let mut lat = Histogram::default();
    for r in results {
        lat.merge(&r.latency);
    }
    if lat.len() == 0 {
        return "publish latency: n/a (nothing acknowledged)".to_string();
    }
    let verb = if opts.batch_size == 1 {
        "PUBs".to_string()
    } else {
        format!("MPUBs of up to {}", opts.batch_size)
    };
    format!(
        "publish latency: {} ({} {verb})",
        percentiles(&lat),
        lat.len()
    )
}

/// Reader connections of `pubsub`: `--readers`, or `--workers` when that is 0.
fn readers(opts: &Options) -> usize {
    if opts.readers == 0 {
        opts.workers
    } else {
        opts.readers
    }
}

/// `pubsub`: --workers writers and --readers readers on one topic at once. Returns
/// the consumers' result line, the publish rate, end-to-end latency percentiles and
/// the publish latency.
pub fn pubsub(opts: &Options) -> io::Result<String> {
    if opts.size < 8 {
        return Err(other("pubsub needs --size >= 8 (bodies carry a timestamp)"));
    }
    let consumed = Arc::new(AtomicU64::new(0));
    let shared = pub_shared(opts, consumed.clone(), true, tls::from_options(opts)?);
    let (subscribed, start) = (Gate::default(), Gate::default());
    let n_readers = readers(opts);
    let (elapsed, subs, pubs) = thread::scope(|s| {
        let sub_handles: Vec<_> = (0..n_readers)
            .map(|_| {
                let (subscribed, start, consumed) = (&subscribed, &start, &*consumed);
                let tls = shared.tls.as_ref();
                s.spawn(move || sub_worker(opts, tls, Some(subscribed), start, consumed))
            })
            .collect();
        // Readers subscribe (creating topic and channel) before any writer connects.
        subscribed.wait_arrived(n_readers);
        let pub_handles: Vec<_> = (0..opts.workers)
            .map(|_| {
                let (shared, start) = (&shared, &start);
                s.spawn(move || pub_worker(shared, start))
            })
            .collect();
        start.wait_arrived(n_readers + opts.workers);
        start.open();
        let began = Instant::now();
        let pubs = join_all(pub_handles);
        let subs = join_all(sub_handles);
        (began.elapsed(), subs, pubs)
    });
    let (subs, pubs) = (subs?, pubs?);
    let published: u64 = pubs.iter().map(|r| r.msgs).sum();
    let msgs = subs.iter().map(|r| r.msgs).sum();
    let bytes = subs.iter().map(|r| r.bytes).sum();
    let mut lat = Histogram::default();
    for h in subs.iter().filter_map(|r| r.latency.as_ref()) {
        lat.merge(h);
    }
    let secs = elapsed.as_secs_f64().max(f64::MIN_POSITIVE);
    let mut text = result_line(elapsed, msgs, bytes);
    text.push_str(&format!(
        "\npublished: {published} msgs ({:.3} ops/s), consumed: {msgs} msgs",
        published as f64 / secs
    ));
    if lat.len() == 0 {
        text.push_str("\nlatency: n/a (no timestamped messages received)");
    } else {
        text.push_str(&format!(
            "\nlatency: {} ({} samples)",
            percentiles(&lat),
            lat.len()
        ));
    }
    text.push('\n');
    text.push_str(&publish_latency(opts, &pubs));
    Ok(text)
}
