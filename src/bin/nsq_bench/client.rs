//! The client modes: `writer` (NSQ's bench_writer), `reader` (bench_reader) and
//! `pubsub` (both at once, with send timestamps in the bodies).
//!
//! Every worker is one thread with one blocking TCP connection (`TCP_NODELAY`, as
//! Go's net.Dial sets). Workers connect and finish their handshake first, then meet
//! at a barrier; the clock starts when the last one arrives and stops when the last
//! one is done. Only acknowledged messages (writer: OK'd MPUBs) or received ones
//! (reader) count.

use crate::hist::Histogram;
use crate::Options;
use nsq::common::gotime::format_duration;
use nsq::proto::{self, FRAME_ERROR, FRAME_MESSAGE, FRAME_RESPONSE, HEARTBEAT, MAGIC_V2};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Bytes the tools ask from the socket per read.
const READ_CHUNK: usize = 256 * 1024;
/// FINs are written once this many bytes wait (Go's bufio.Writer size), or when
/// the received bytes are used up.
const FLUSH_AT: usize = 4096;

fn other(msg: impl Into<String>) -> io::Error {
    io::Error::other(msg.into())
}

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

fn connect(addr: &str) -> io::Result<TcpStream> {
    let mut last = other(format!("{addr}: no address"));
    for sa in addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&sa, Duration::from_secs(1)) {
            Ok(s) => {
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn identify_cmd(role: &str) -> Vec<u8> {
    let body = serde_json::json!({
        "client_id": role,
        "hostname": role,
        "user_agent": format!("nsq_bench/{}", env!("CARGO_PKG_VERSION")),
    })
    .to_string();
    let mut cmd = b"IDENTIFY\n".to_vec();
    cmd.extend_from_slice(&(body.len() as u32).to_be_bytes());
    cmd.extend_from_slice(body.as_bytes());
    cmd
}

/// Buffered frames read from one connection.
struct FrameReader {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    max_frame: usize,
}

impl FrameReader {
    fn new(max_body: usize) -> Self {
        FrameReader {
            buf: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
            max_frame: max_body.max(1 << 20) + 64,
        }
    }

    /// The next complete frame as (type, range of its data in [`Self::data`]).
    fn next_frame(&mut self) -> io::Result<Option<(i32, Range<usize>)>> {
        match proto::parse_frame(&self.buf[self.start..self.end], self.max_frame) {
            Ok(Some((frame, used))) => {
                let data = self.start + 8..self.start + used;
                self.start += used;
                Ok(Some((frame.frame_type, data)))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(io::Error::new(io::ErrorKind::InvalidData, e)),
        }
    }

    fn data(&self, range: Range<usize>) -> &[u8] {
        &self.buf[range]
    }

    /// Reads more bytes; frames returned earlier are invalidated. EOF is an error.
    fn fill(&mut self, stream: &mut TcpStream) -> io::Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < READ_CHUNK / 4 {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = stream.read(&mut self.buf[self.end..])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed by peer",
            ));
        }
        self.end += n;
        Ok(())
    }

    /// Waits for the next response frame, answering heartbeats; error frames fail.
    fn response(&mut self, stream: &mut TcpStream) -> io::Result<Vec<u8>> {
        loop {
            while let Some((kind, range)) = self.next_frame()? {
                let data = self.data(range);
                match kind {
                    FRAME_RESPONSE if data == HEARTBEAT => stream.write_all(b"NOP\n")?,
                    FRAME_RESPONSE => return Ok(data.to_vec()),
                    FRAME_ERROR => return Err(other(String::from_utf8_lossy(data))),
                    k => return Err(other(format!("unexpected frame type {k}"))),
                }
            }
            self.fill(stream)?;
        }
    }
}

fn expect_ok(r: &mut FrameReader, stream: &mut TcpStream, what: &str) -> io::Result<()> {
    let resp = r.response(stream)?;
    if resp != b"OK" {
        return Err(other(format!(
            "{what}: expected OK, got {:?}",
            String::from_utf8_lossy(&resp)
        )));
    }
    Ok(())
}

/// An encoded `MPUB <topic>` of `n` bodies of `size` zero bytes.
fn mpub_cmd(topic: &str, n: usize, size: usize) -> Vec<u8> {
    let mut cmd = format!("MPUB {topic}\n").into_bytes();
    let body_len = 4 + n * (4 + size);
    cmd.reserve(4 + body_len);
    cmd.extend_from_slice(&(body_len as u32).to_be_bytes());
    cmd.extend_from_slice(&(n as u32).to_be_bytes());
    for _ in 0..n {
        cmd.extend_from_slice(&(size as u32).to_be_bytes());
        cmd.resize(cmd.len() + size, 0);
    }
    cmd
}

/// Nanoseconds since the Unix epoch (shared by processes on one machine).
fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// A start line: workers arrive when connected, the main thread waits for all of
/// them and then opens it. Unlike a `Barrier`, a worker that fails still arrives
/// (see [`Arrival`]), so nobody waits forever.
#[derive(Default)]
struct Gate {
    state: Mutex<(usize, bool)>,
    cv: Condvar,
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, (usize, bool)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn arrive(&self) {
        self.lock().0 += 1;
        self.cv.notify_all();
    }

    fn wait_open(&self) {
        let mut st = self.lock();
        while !st.1 {
            st = self.cv.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Waits until `n` workers arrived.
    fn wait_arrived(&self, n: usize) {
        let mut st = self.lock();
        while st.0 < n {
            st = self.cv.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn open(&self) {
        self.lock().1 = true;
        self.cv.notify_all();
    }
}

/// One worker's arrival at a [`Gate`]; arrives on drop if the worker never did.
struct Arrival<'a> {
    gate: &'a Gate,
    arrived: bool,
}

impl<'a> Arrival<'a> {
    fn new(gate: &'a Gate) -> Self {
        Arrival {
            gate,
            arrived: false,
        }
    }

    fn arrive(&mut self) {
        if !self.arrived {
            self.arrived = true;
            self.gate.arrive();
        }
    }

    fn arrive_and_wait(&mut self) {
        self.arrive();
        self.gate.wait_open();
    }
}

impl Drop for Arrival<'_> {
    fn drop(&mut self) {
        self.arrive();
    }
}

/// What writers share.
struct PubShared {
    opts: Options,
    /// Messages handed out to writers so far (for --count).
    reserved: AtomicU64,
    /// Pubsub: messages sent (acknowledged or not) and messages consumed.
    sent: AtomicU64,
    consumed: Arc<AtomicU64>,
    /// Pubsub: stamp each body with the send time.
    stamp: bool,
}

impl PubShared {
    /// Reserves the next batch: how many messages to send, 0 when --count is reached.
    fn reserve(&self) -> usize {
        let batch = self.opts.batch_size as u64;
        if self.opts.count == 0 {
            return batch as usize;
        }
        let got = self.reserved.fetch_add(batch, Ordering::Relaxed);
        self.opts.count.saturating_sub(got).min(batch) as usize
    }
}

/// One writer connection: handshake, barrier, then MPUBs until the deadline.
/// Returns (messages acknowledged, body bytes acknowledged).
fn pub_worker(shared: &PubShared, start: &Gate) -> io::Result<(u64, u64)> {
    let opts = &shared.opts;
    let mut start = Arrival::new(start);
    let mut stream = connect(&opts.nsqd_tcp_address)?;
    let mut reader = FrameReader::new(opts.size);
    let mut hello = MAGIC_V2.to_vec();
    hello.extend_from_slice(&identify_cmd("writer"));
    stream.write_all(&hello)?;
    expect_ok(&mut reader, &mut stream, "IDENTIFY")?;
    let mut full = mpub_cmd(&opts.topic, opts.batch_size, opts.size);
    let mut partial;
    let header = format!("MPUB {}\n", opts.topic).len() + 8;
    let per_worker_rate = opts.rate as f64 / opts.workers as f64;
    // Messages sent so far, for --rate.
    let mut scheduled = 0u64;
    start.arrive_and_wait();
    let began = Instant::now();
    let end = began + opts.runfor;
    let mut in_flight: VecDeque<usize> = VecDeque::with_capacity(opts.pipeline);
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
            let cmd: &mut Vec<u8> = if n == opts.batch_size {
                &mut full
            } else {
                partial = mpub_cmd(&opts.topic, n, opts.size);
                &mut partial
            };
            if shared.stamp {
                let ts = now_ns().to_be_bytes();
                for i in 0..n {
                    let at = header + i * (4 + opts.size) + 4;
                    cmd[at..at + 8].copy_from_slice(&ts);
                }
                shared.sent.fetch_add(n as u64, Ordering::Relaxed);
            }
            stream.write_all(cmd)?;
            scheduled += n as u64;
            in_flight.push_back(n);
        }
        let Some(n) = in_flight.front().copied() else {
            break;
        };
        let resp = reader.response(&mut stream)?;
        if resp != b"OK" {
            return Err(other(format!(
                "MPUB: expected OK, got {:?}",
                String::from_utf8_lossy(&resp)
            )));
        }
        in_flight.pop_front();
        msgs += n as u64;
        if Instant::now() >= end {
            stop = true;
        }
    }
    Ok((msgs, msgs * opts.size as u64))
}

/// What one reader saw: messages, body bytes, and (pubsub) latencies.
struct SubResult {
    msgs: u64,
    bytes: u64,
    latency: Option<Histogram>,
}

/// One reader connection: IDENTIFY and SUB, barrier, RDY, then FIN every message
/// until the deadline; the connection is then dropped, as bench_reader closes it.
fn sub_worker(
    opts: &Options,
    subscribed: Option<&Gate>,
    start: &Gate,
    consumed: &AtomicU64,
) -> io::Result<SubResult> {
    let timestamps = subscribed.is_some();
    let mut subscribed = subscribed.map(Arrival::new);
    let mut start = Arrival::new(start);
    let mut stream = connect(&opts.nsqd_tcp_address)?;
    let mut reader = FrameReader::new(opts.size);
    let mut hello = MAGIC_V2.to_vec();
    hello.extend_from_slice(&identify_cmd("reader"));
    hello.extend_from_slice(format!("SUB {} {}\n", opts.topic, opts.channel).as_bytes());
    stream.write_all(&hello)?;
    expect_ok(&mut reader, &mut stream, "IDENTIFY")?;
    expect_ok(&mut reader, &mut stream, "SUB")?;
    if let Some(s) = subscribed.as_mut() {
        s.arrive();
    }
    stream.set_read_timeout(Some(Duration::from_millis(20)))?;
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
        match reader.fill(&mut stream) {
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

fn pub_shared(opts: &Options, consumed: Arc<AtomicU64>, stamp: bool) -> PubShared {
    PubShared {
        opts: opts.clone(),
        reserved: AtomicU64::new(0),
        sent: AtomicU64::new(0),
        consumed,
        stamp,
    }
}

/// `writer`: NSQ's bench_writer. Returns the result line.
pub fn writer(opts: &Options) -> io::Result<String> {
    let shared = pub_shared(opts, Arc::default(), false);
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
    let msgs = results.iter().map(|r| r.0).sum();
    let bytes = results.iter().map(|r| r.1).sum();
    Ok(result_line(elapsed, msgs, bytes))
}

/// `reader`: NSQ's bench_reader. Returns the result line.
pub fn reader(opts: &Options) -> io::Result<String> {
    let start = Gate::default();
    let consumed = AtomicU64::new(0);
    let (elapsed, results) = thread::scope(|s| {
        let handles: Vec<_> = (0..opts.workers)
            .map(|_| {
                let (start, consumed) = (&start, &consumed);
                s.spawn(move || sub_worker(opts, None, start, consumed))
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

/// `pubsub`: --workers writers and --workers readers on one topic at once. Returns
/// the consumers' result line, the publish rate, and end-to-end latency percentiles.
pub fn pubsub(opts: &Options) -> io::Result<String> {
    if opts.size < 8 {
        return Err(other("pubsub needs --size >= 8 (bodies carry a timestamp)"));
    }
    let consumed = Arc::new(AtomicU64::new(0));
    let shared = pub_shared(opts, consumed.clone(), true);
    let (subscribed, start) = (Gate::default(), Gate::default());
    let (elapsed, subs, pubs) = thread::scope(|s| {
        let sub_handles: Vec<_> = (0..opts.workers)
            .map(|_| {
                let (subscribed, start, consumed) = (&subscribed, &start, &*consumed);
                s.spawn(move || sub_worker(opts, Some(subscribed), start, consumed))
            })
            .collect();
        // Readers subscribe (creating topic and channel) before any writer connects.
        subscribed.wait_arrived(opts.workers);
        let pub_handles: Vec<_> = (0..opts.workers)
            .map(|_| {
                let (shared, start) = (&shared, &start);
                s.spawn(move || pub_worker(shared, start))
            })
            .collect();
        start.wait_arrived(2 * opts.workers);
        start.open();
        let began = Instant::now();
        let pubs = join_all(pub_handles);
        let subs = join_all(sub_handles);
        (began.elapsed(), subs, pubs)
    });
    let (subs, pubs) = (subs?, pubs?);
    let published: u64 = pubs.iter().map(|r| r.0).sum();
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
            "\nlatency: p50 {} - p99 {} - p99.9 {} - max {} ({} samples)",
            ms(lat.quantile(0.5)),
            ms(lat.quantile(0.99)),
            ms(lat.quantile(0.999)),
            ms(lat.max()),
            lat.len()
        ));
    }
    Ok(text)
}
