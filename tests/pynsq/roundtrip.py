"""Round trip through nsqd with the official Python client (pynsq).

Usage: roundtrip.py <nsqd tcp addr> <topic> <count> [timeout_s] [plain|deflate|snappy|tls <ca.pem>]

With "deflate" or "snappy" both clients ask for that compression; with "tls" both
ask for TLS (tls_v1=True), trusting the CA certificate in <ca.pem>.

Publishes <count> distinct bodies to <topic> with nsq.Writer (the first tenth one
by one with PUB, the rest with MPUB in batches of varied sizes), then consumes
them on channel "interop" with nsq.Reader (nsqd_tcp_addresses, FIN via a handler
returning True), stays connected long enough to see heartbeats and any duplicate
delivery, and prints one JSON line with everything it saw.  Exits 0 only when
every body arrived exactly once, >= 2 heartbeats were seen per client and no
connection reported an error or closed; 1 otherwise; 2 on timeout.
"""

import asyncio
import json
import logging
import struct
import sys
import time

import nsq

HEARTBEAT_S = 1  # pynsq takes seconds and sends 1000 ms in IDENTIFY
COMPRESSION = {}  # {"deflate": True}, {"snappy": True} or the TLS options, from argv
PUB_WINDOW = 32  # commands in flight at once on the Writer's connection


def body(i):
    # Distinct, and of varied length (including bytes > 0x7f).
    return ("%05d:" % i).encode() + bytes([0x61 + i % 26]) * (i % 97) + b"\xff" * (i % 3)


class Watch:
    """What a pynsq client saw on its connections while the test was live."""

    def __init__(self):
        self.errors = []
        self.closes = 0
        self.heartbeats = 0
        self.identify = None
        self.live = True

    def as_dict(self):
        return {
            "errors": self.errors,
            "closes": self.closes,
            "heartbeats": self.heartbeats,
            "identify": self.identify,
        }


class WatchedWriter(nsq.Writer):
    def __init__(self, watch, *args, **kwargs):
        self.watch = watch
        # What the connection actually handed to its socket (before any compression):
        # PUB and MPUB commands, and the messages the MPUBs carried.
        self.sent = {"pub": 0, "mpub": 0, "mpub_messages": 0}
        super().__init__(*args, **kwargs)

    def _on_connection_ready(self, conn, **kwargs):
        send, sent = conn.send, self.sent

        def counting_send(data):
            result = send(data)  # one whole command per call: "<WORD> ...\n[size][body]"
            nl = data.index(b"\n")
            word = bytes(data[:nl]).split(b" ")[0]
            if word == b"PUB":
                sent["pub"] += 1
            elif word == b"MPUB":
                sent["mpub"] += 1
                sent["mpub_messages"] += struct.unpack(">l", data[nl + 5 : nl + 9])[0]
            return result

        conn.send = counting_send
        return super()._on_connection_ready(conn, **kwargs)

    def _on_connection_identify_response(self, conn, data, **kwargs):
        self.watch.identify = data
        return super()._on_connection_identify_response(conn, data, **kwargs)

    def _on_connection_error(self, conn, error, **kwargs):
        if self.watch.live:
            self.watch.errors.append(repr(error))
        return super()._on_connection_error(conn, error, **kwargs)

    def _on_connection_close(self, conn, **kwargs):
        if self.watch.live:
            self.watch.closes += 1
        return super()._on_connection_close(conn, **kwargs)

    def heartbeat(self, conn):
        self.watch.heartbeats += 1


class WatchedReader(nsq.Reader):
    def __init__(self, watch, *args, **kwargs):
        self.watch = watch
        super().__init__(*args, **kwargs)

    def _on_connection_identify_response(self, conn, data, **kwargs):
        self.watch.identify = data
        return super()._on_connection_identify_response(conn, data, **kwargs)

    def _on_connection_error(self, conn, error, **kwargs):
        if self.watch.live:
            self.watch.errors.append(repr(error))
        return super()._on_connection_error(conn, error, **kwargs)

    def _on_connection_close(self, conn, **kwargs):
        if self.watch.live:
            self.watch.closes += 1
        return super()._on_connection_close(conn, **kwargs)

    def heartbeat(self, conn):
        self.watch.heartbeats += 1


async def wait_until(pred, what, deadline):
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.01)


async def close_quietly(watch, conns):
    """Closes our connections without pynsq logging the errors that causes."""
    watch.live = False
    nsq_logger = logging.getLogger("nsq")
    nsq_logger.setLevel(logging.CRITICAL)
    for conn in list(conns):
        conn.close()
    await asyncio.sleep(0.1)
    nsq_logger.setLevel(logging.NOTSET)


async def publish(report, addr, topic, count, deadline):
    watch = Watch()
    out = report["writer"] = {"acked": 0}
    writer = WatchedWriter(
        watch, [addr], heartbeat_interval=HEARTBEAT_S, reconnect_interval=3600, **COMPRESSION
    )
    await wait_until(
        lambda: any(c.connected() for c in writer.conns.values()),
        "writer connect",
        deadline,
    )
    started = time.monotonic()
    # Commands: PUB for the first tenth, then MPUB batches of 1..199 bodies.
    commands = [("pub", [i]) for i in range(count // 10)]
    i, size = count // 10, 1
    while i < count:
        n = min(size, count - i)
        commands.append(("mpub", list(range(i, i + n))))
        i += n
        size = size * 7 % 199 + 1
    loop = asyncio.get_running_loop()
    acked = []
    failures = []
    window = asyncio.Semaphore(PUB_WINDOW)

    async def send(kind, ids):
        async with window:
            fut = loop.create_future()

            def done(conn, data):
                if not fut.done():
                    fut.set_result(data)

            if kind == "pub":
                writer.pub(topic, body(ids[0]), callback=done)
            else:
                writer.mpub(topic, [body(j) for j in ids], callback=done)
            data = await fut
            if data == b"OK":
                acked.extend(ids)
                out["acked"] = len(acked)
            else:
                failures.append("%s of %d: %r" % (kind, len(ids), data))

    await asyncio.gather(*(send(k, ids) for k, ids in commands))
    elapsed = time.monotonic() - started
    out.update(failures=failures, **watch.as_dict())
    # Idle long enough for the server to heartbeat the Writer (and for us to NOP back).
    await wait_until(lambda: watch.heartbeats >= 2, "writer heartbeats", deadline)
    await close_quietly(watch, writer.conns.values())
    out.update({
        "sent": dict(writer.sent),
        "acked": len(acked),
        "failures": failures,
        "seconds": round(elapsed, 3),
        **watch.as_dict(),
    })


async def consume(report, addr, topic, count, deadline):
    watch = Watch()
    bodies = []
    first_seen = {}
    out = report["reader"] = {"bodies": bodies, "watch": watch}

    def handler(message):
        bodies.append(message.body)
        first_seen.setdefault(message.body, time.monotonic())
        return True

    reader = WatchedReader(
        watch,
        topic,
        "interop",
        message_handler=handler,
        nsqd_tcp_addresses=[addr],
        max_in_flight=250,
        heartbeat_interval=HEARTBEAT_S,
        **COMPRESSION,
    )
    started = time.monotonic()
    await wait_until(lambda: len(first_seen) >= count, "all messages", deadline)
    elapsed = time.monotonic() - started
    # Stay a while: duplicates would show up, and heartbeats must keep arriving
    # while we answer them (pynsq sends NOP) without the server complaining.
    seen = watch.heartbeats
    await wait_until(lambda: watch.heartbeats >= seen + 2, "reader heartbeats", deadline)
    await close_quietly(watch, reader.conns.values())
    out["seconds"] = round(elapsed, 3)


async def main(addr, topic, count, timeout):
    deadline = time.monotonic() + timeout
    report = {"count": count}
    try:
        await publish(report, addr, topic, count, deadline)
        await consume(report, addr, topic, count, deadline)
    except TimeoutError as e:
        report["timeout"] = str(e)
    if "reader" in report:
        r = report["reader"]
        bodies = r.pop("bodies")
        r.update(r.pop("watch").as_dict())
        r["bodies"] = [b.decode("latin-1") for b in bodies]
        r["deliveries"] = len(bodies)
        r["distinct"] = len(set(bodies))
    return report


def failed(report):
    if "timeout" in report:
        return True
    w, r = report["writer"], report["reader"]
    expected = {body(i).decode("latin-1") for i in range(report["count"])}
    return bool(
        w["acked"] != report["count"]
        or w["failures"]
        or w["errors"]
        or w["closes"]
        or r["errors"]
        or r["closes"]
        or r["deliveries"] != report["count"]
        or set(r["bodies"]) != expected
    )


if __name__ == "__main__":
    addr, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 45.0
    if len(sys.argv) > 5 and sys.argv[5] in ("deflate", "snappy"):
        COMPRESSION[sys.argv[5]] = True
    if len(sys.argv) > 6 and sys.argv[5] == "tls":
        COMPRESSION.update(tls_v1=True, tls_options={"ca_certs": sys.argv[6]})
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    report = asyncio.run(main(addr, topic, count, timeout))
    print(json.dumps(report), flush=True)
    if "timeout" in report:
        print("timed out waiting for: %s" % report["timeout"], file=sys.stderr)
        sys.exit(2)
    sys.exit(1 if failed(report) else 0)
