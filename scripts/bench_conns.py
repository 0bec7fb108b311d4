#!/usr/bin/env python3
"""Connection and shutdown measurements of a release nsqd, for `make bench`.

    python3 scripts/bench_conns.py [--nsqd PATH] [--conns N] [--burst N] [--queues N]

Three measurements, each against a fresh nsqd on free loopback ports with a temporary
--data-path (every nsqd started here is killed by PID on exit):

  idle    RSS (VmRSS) of nsqd, then N TCP connections (default 10,000) that each send
          the V2 magic "  V2" and stay idle; once nsqd holds them all (its open fds,
          from /proc/PID/fd) and its RSS has not changed for 1 s, RSS again:
          (after - before) / N is the memory of one idle V2 connection. Then all are
          closed and RSS is read once more.
  burst   N non-blocking connects issued at once (default 2,500): the time from each
          connect() until the socket is writable (handshake done); p50, p99 and max.
          They come from one process per core (at least 2), each issuing its share
          back to back. A lost SYN (full accept queue) shows as ~1 s, the SYN
          retransmit timeout.
  stop    N topics (default 10,000), each with one channel (HTTP /topic/create and
          /channel/create over 4 keep-alive connections) and one message (PUB over
          one pipelined TCP connection); then SIGTERM and the seconds until the
          process has exited (a clean stop persists every queue). Run on a fresh
          ext4 when root (see fresh_fs), else under the temp dir. Deleting the 3N
          files it leaves takes seconds on an idle disk, far longer on a busy one.

Progress goes to stderr as "# " lines; stdout gets a markdown table (what bench.sh
prints). Needs an open-file limit above N: this script raises its soft limit to the
hard limit, and starts nsqd with that limit.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def die_with_parent():
    """In a child: SIGKILL when the process that started it dies (PR_SET_PDEATHSIG),
    so no nsqd or worker outlives this script, even if it is killed with SIGKILL."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


T0 = time.monotonic()


def log(msg):
    print("# [%5.1fs] %s" % (time.monotonic() - T0, msg), file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise RuntimeError("%s not in /proc/%d/status" % (key, pid))


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class Nsqd:
    """A release nsqd on free loopback ports with its own data dir under tmp."""

    def __init__(self, binary, tmp, name, *extra):
        self.tcp, self.http = free_port(), free_port()
        self.data = os.path.join(tmp, name)
        os.mkdir(self.data)
        self.logf = open(os.path.join(tmp, name + ".log"), "wb")
        self.proc = subprocess.Popen(
            [binary, "--tcp-address=127.0.0.1:%d" % self.tcp,
             "--http-address=127.0.0.1:%d" % self.http,
             "--data-path=" + self.data, "--log-level=warn", *extra],
            stdout=self.logf, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 10
        for port in (self.tcp, self.http):  # both listeners up
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or self.proc.poll() is not None:
                        self.kill()
                        raise RuntimeError("nsqd never accepted on %d" % port)
                    time.sleep(0.002)

    def rss(self):
        return status_kib(self.pid, "VmRSS")

    def settled_rss(self, quiet=1.0, bound=15.0):
        """VmRSS once it has not changed for `quiet` seconds (at most `bound` s)."""
        deadline = time.monotonic() + bound
        last, since = self.rss(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = self.rss()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
        return last

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.logf.close()


def wait_fds(pid, target, cmp, bound=30.0):
    """Polls the fd count of pid until cmp(count, target); returns the last count."""
    deadline = time.monotonic() + bound
    n = fd_count(pid)
    while not cmp(n, target) and time.monotonic() < deadline:
        time.sleep(0.05)
        n = fd_count(pid)
    return n


def measure_idle(binary, tmp, conns):
    nsqd = Nsqd(binary, tmp, "idle")
    try:
        before = nsqd.settled_rss()
        fds0 = fd_count(nsqd.pid)
        log("idle: nsqd RSS %d KiB, %d fds; opening %d idle V2 connections"
            % (before, fds0, conns))
        t0 = time.perf_counter()
        socks = []
        for _ in range(conns):
            s = socket.create_connection(("127.0.0.1", nsqd.tcp), timeout=10)
            s.sendall(b"  V2")
            socks.append(s)
        opened = time.perf_counter() - t0
        held = wait_fds(nsqd.pid, fds0 + conns, lambda n, t: n >= t)
        after = nsqd.settled_rss()
        if nsqd.proc.poll() is not None:
            raise RuntimeError("nsqd exited while holding connections")
        log("idle: opened in %.2f s; nsqd holds %d fds (+%d), RSS %d KiB"
            % (opened, held, held - fds0, after))
        for s in socks:
            s.close()
        socks.clear()
        left = wait_fds(nsqd.pid, fds0, lambda n, t: n <= t)
        closed = nsqd.settled_rss()
        log("idle: closed; nsqd holds %d fds, RSS %d KiB" % (left, closed))
        return {"before": before, "after": after, "closed": closed,
                "accepted": held - fds0, "conns": conns}
    finally:
        nsqd.kill()


def _burst_worker(port, n, barrier, out):
    """One burst process: n non-blocking connects in a tight loop once the barrier
    opens, each timed from its connect() until epoll reports it writable."""
    die_with_parent()
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.setblocking(False)
    by_fd = {s.fileno(): s for s in socks}
    ep = select.epoll()
    start, times, pending = {}, [], set()

    def harvest(timeout):
        for fd, _ in ep.poll(timeout):
            now = time.perf_counter()
            ep.unregister(fd)
            pending.discard(fd)
            if not by_fd[fd].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                times.append(now - start[fd])

    barrier.wait(timeout=60)
    for i, s in enumerate(socks):
        start[s.fileno()] = time.perf_counter()
        if s.connect_ex(("127.0.0.1", port)) in (0, 115):  # 115: EINPROGRESS
            ep.register(s.fileno(), select.EPOLLOUT)
            pending.add(s.fileno())
        if i % 8 == 7:
            harvest(0)
    deadline = time.monotonic() + 20  # unfinished by then: counted as failed
    while pending and time.monotonic() < deadline:
        harvest(0.05)
    out.put(times)
    barrier.wait(timeout=60)  # hold the connections until every process is done
    ep.close()
    for s in socks:
        s.close()


def measure_burst(binary, tmp, total, procs=None):
    """total connects at once from procs processes (default: one per core, at least
    2). Processes, not threads: Python threads would add GIL waits of milliseconds
    to the times measured."""
    procs = procs or max(2, os.cpu_count() or 1)
    nsqd = Nsqd(binary, tmp, "burst")
    try:
        nsqd.settled_rss(quiet=0.3)  # and the start-up probe's connection closed
        fds0 = fd_count(nsqd.pid)
        ctx = multiprocessing.get_context("fork")
        barrier, out = ctx.Barrier(procs + 1), ctx.Queue()
        per = [total // procs + (i < total % procs) for i in range(procs)]
        workers = [ctx.Process(target=_burst_worker, args=(nsqd.tcp, n, barrier, out),
                               daemon=True)
                   for n in per]
        for w in workers:
            w.start()
        barrier.wait(timeout=60)  # every worker has its sockets: go
        t0 = time.perf_counter()
        times = []
        for _ in workers:
            times.extend(out.get(timeout=60))
        wall = time.perf_counter() - t0
        accepted = wait_fds(nsqd.pid, fds0 + total, lambda n, t: n >= t, bound=5) - fds0
        barrier.wait(timeout=60)  # let the workers close their connections
        for w in workers:
            w.join()
        ms = sorted(t * 1000 for t in times)
        pct = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))] if ms else float("nan")
        res = {"n": total, "procs": procs, "ok": len(ms), "failed": total - len(ms),
               "p50": pct(0.50), "p99": pct(0.99), "max": ms[-1] if ms else float("nan"),
               "slow": sum(1 for t in ms if t >= 500), "wall": wall, "accepted": accepted}
        log("burst: %d connects from %d processes in %.3f s: %d ok, %d failed, "
            "p50 %.2f ms, p99 %.2f ms, max %.2f ms, %d >= 500 ms; nsqd fds +%d"
            % (total, procs, wall, res["ok"], res["failed"], res["p50"], res["p99"],
               res["max"], res["slow"], accepted))
        return res
    finally:
        nsqd.kill()


def measure_stop(binary, tmp, queues, http_conns=4):
    nsqd = Nsqd(binary, tmp, "stop")
    try:
        log("stop: creating %d topics with a channel each (HTTP, %d connections)"
            % (queues, http_conns))
        t0 = time.perf_counter()
        failures = []

        def create(part):
            try:
                c = http.client.HTTPConnection("127.0.0.1", nsqd.http, timeout=30)
                for i in part:
                    for path in ("/topic/create?topic=t%05d" % i,
                                 "/channel/create?topic=t%05d&channel=ch" % i):
                        c.request("POST", path)
                        r = c.getresponse()
                        r.read()
                        if r.status != 200:
                            failures.append((path, r.status))
                c.close()
            except Exception as e:  # noqa: BLE001 - reported below, fails the run
                failures.append(("connection", repr(e)))

        ts = [threading.Thread(target=create, args=(range(k, queues, http_conns),))
              for k in range(http_conns)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if failures:
            raise RuntimeError("channel/create failed: %r" % failures[:5])
        created = time.perf_counter() - t0

        t0 = time.perf_counter()
        s = socket.create_connection(("127.0.0.1", nsqd.tcp), timeout=30)
        body = b"x" * 100
        buf = bytearray(b"  V2")
        for i in range(queues):
            buf += b"PUB t%05d\n" % i + len(body).to_bytes(4, "big") + body
        sender = threading.Thread(target=s.sendall, args=(bytes(buf),))
        sender.start()
        want = queues * 10  # each answer: size(4) frame type(4) "OK"
        got = bytearray()
        while len(got) < want:
            chunk = s.recv(1 << 20)
            if not chunk:
                raise RuntimeError("nsqd closed the PUB connection")
            got += chunk
        sender.join()
        if bytes(got) != b"\x00\x00\x00\x06\x00\x00\x00\x00OK" * queues:
            raise RuntimeError("PUB: unexpected answer %r" % bytes(got[:64]))
        s.close()
        published = time.perf_counter() - t0

        c = http.client.HTTPConnection("127.0.0.1", nsqd.http, timeout=30)
        c.request("GET", "/stats?format=json&include_clients=false")
        stats = json.loads(c.getresponse().read())
        c.close()
        topics = stats.get("topics", [])
        depth = sum(ch["depth"] + ch["in_flight_count"]
                    for t in topics for ch in t["channels"])
        if len(topics) != queues or depth != queues:
            raise RuntimeError("expected %d topics and queued messages, /stats shows %d and %d"
                               % (queues, len(topics), depth))
        rss = nsqd.rss()
        log("stop: created in %.2f s, published in %.2f s; %d topics, %d messages "
            "queued in channels, RSS %d KiB" % (created, published, len(topics), depth, rss))

        t0 = time.perf_counter()
        nsqd.proc.send_signal(signal.SIGTERM)
        try:
            rc = nsqd.proc.wait(timeout=120)
            secs = time.perf_counter() - t0
        except subprocess.TimeoutExpired:
            rc, secs = None, None
        files = sum(len(f) for _, _, f in os.walk(nsqd.data))
        log("stop: SIGTERM -> exit (status %s) in %s; data dir holds %d files"
            % (rc, "%.3f s" % secs if secs is not None else "> 120 s (killed)", files))
        return {"queues": queues, "topics": len(topics), "depth": depth, "secs": secs,
                "rc": rc, "files": files, "created": created, "published": published}
    finally:
        nsqd.kill()


def fresh_fs(tmp):
    """A freshly made ext4 (1 GiB sparse image, loop-mounted under tmp) and its
    unmount function, or (tmp, None) when that cannot be done (not root, no
    mkfs.ext4). The stop is measured there because on a filesystem that just deleted
    tens of thousands of files, ext4 spends seconds in its inode allocator
    (recently_deleted): that measures the host's history, not nsqd."""
    if os.geteuid() != 0 or not shutil.which("mkfs.ext4"):
        return tmp, None
    image, mnt = os.path.join(tmp, "fs.img"), os.path.join(tmp, "fresh")
    try:
        with open(image, "wb") as f:
            f.truncate(1 << 30)
        subprocess.run(["mkfs.ext4", "-q", "-F", image], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.mkdir(mnt)
        subprocess.run(["mount", "-o", "loop", image, mnt], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError) as e:
        log("stop: no fresh ext4 (%s); using %s" % (e, tmp))
        return tmp, None
    return mnt, lambda: subprocess.run(["umount", mnt], check=False)


def main():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nsqd", default=os.path.join(target, "release", "nsqd"))
    ap.add_argument("--conns", type=int, default=10000)
    ap.add_argument("--burst", type=int, default=2500)
    ap.add_argument("--queues", type=int, default=10000)
    args = ap.parse_args()
    if not os.access(args.nsqd, os.X_OK):
        sys.exit("bench_conns: %s missing; run cargo build --release --bins" % args.nsqd)

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))  # nsqd inherits it
    if want < max(args.conns, args.burst) + 100:
        sys.exit("bench_conns: open-file limit %d is too low for %d connections"
                 % (want, max(args.conns, args.burst)))

    tmp = tempfile.mkdtemp(prefix="nsq-bench-conns.")
    t0 = time.monotonic()
    try:
        idle = measure_idle(args.nsqd, tmp, args.conns)
        burst = measure_burst(args.nsqd, tmp, args.burst)
        stop_dir, unmount = fresh_fs(tmp)
        try:
            stop = measure_stop(args.nsqd, stop_dir, args.queues)
            stop["fs"] = "fresh ext4" if unmount else "host fs"
        finally:
            if unmount:
                unmount()
    finally:
        t1 = time.monotonic()
        shutil.rmtree(tmp, ignore_errors=True)
        log("removed the data dirs in %.1f s" % (time.monotonic() - t1))
    log("connection and stop measurements took %.1f s" % (time.monotonic() - t0))

    per = (idle["after"] - idle["before"]) / idle["conns"]
    stop_s = "%.3f s" % stop["secs"] if stop["secs"] is not None else "> 120 s (killed)"
    rows = [
        ("RSS per idle V2 conn",
         "%.2f KiB" % per,
         "(%d - %d KiB) / %d; nsqd held %d"
         % (idle["after"], idle["before"], idle["conns"], idle["accepted"])),
        ("RSS idle / %dk conns / closed" % (idle["conns"] // 1000),
         "%.1f / %.1f / %.1f MiB"
         % (idle["before"] / 1024, idle["after"] / 1024, idle["closed"] / 1024),
         "VmRSS settled 1 s"),
        ("connect burst (%d)" % burst["n"],
         "p99 %.2f ms, max %.2f ms" % (burst["p99"], burst["max"]),
         "p50 %.2f ms; %d processes; %d failed, %d >= 500 ms"
         % (burst["p50"], burst["procs"], burst["failed"], burst["slow"])),
        ("clean stop, %dk queues" % (stop["queues"] // 1000),
         stop_s,
         "SIGTERM to exit (status %s); %d topics, %d msgs queued; %s"
         % (stop["rc"], stop["topics"], stop["depth"], stop["fs"])),
    ]
    w0 = max(len(r[0]) for r in rows + [("measurement",)])
    w1 = max(len(r[1]) for r in rows + [("", "value")])
    w2 = max(len(r[2]) for r in rows + [("", "", "detail")])
    print("| %-*s | %-*s | %-*s |" % (w0, "measurement", w1, "value", w2, "detail"))
    print("|%s|%s|%s|" % ("-" * (w0 + 2), "-" * (w1 + 2), "-" * (w2 + 2)))
    for r in rows:
        print("| %-*s | %-*s | %-*s |" % (w0, r[0], w1, r[1], w2, r[2]))


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
