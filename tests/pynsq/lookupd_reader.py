"""Consume through nsqlookupd discovery with the official Python client (pynsq).

Usage: lookupd_reader.py <lookupd http addr> <topic> <channel> <expected count> [timeout_s]

Runs an nsq.Reader with lookupd_http_addresses=[http://<lookupd http addr>] and
lookupd_poll_interval=1, so it finds every nsqd producing <topic> through /lookup
and connects to each. Its handler FINs every message (returns True). Once
<expected count> distinct bodies have arrived it stays one more second (a
duplicate delivery would show up), then closes and prints one JSON line:
received/distinct counts, per-source counts by body prefix (the text before the
first '-'), duplicates, the nsqd addresses it connected to, and connection
errors. Exits 0 only when every body arrived exactly once with no connection
error; 1 otherwise; 2 on timeout.
"""

import asyncio
import json
import logging
import sys
import time
from collections import Counter

import nsq


class WatchedReader(nsq.Reader):
    def __init__(self, errors, *args, **kwargs):
        self.errors = errors
        self.live = True
        self.connected_to = set()
        super().__init__(*args, **kwargs)

    def _on_connection_identify_response(self, conn, data, **kwargs):
        self.connected_to.add("%s:%s" % (conn.host, conn.port))
        return super()._on_connection_identify_response(conn, data, **kwargs)

    def _on_connection_error(self, conn, error, **kwargs):
        if self.live:
            self.errors.append(repr(error))
        return super()._on_connection_error(conn, error, **kwargs)


async def main(lookupd, topic, channel, expected, timeout):
    deadline = time.monotonic() + timeout
    bodies = []
    errors = []

    def handler(message):
        bodies.append(message.body.decode("latin-1"))
        return True

    reader = WatchedReader(
        errors,
        topic,
        channel,
        message_handler=handler,
        lookupd_http_addresses=["http://" + lookupd],
        lookupd_poll_interval=1,
        max_in_flight=50,
    )
    report = {}
    while len(set(bodies)) < expected:
        if time.monotonic() > deadline:
            report["timeout"] = "%d of %d distinct bodies" % (len(set(bodies)), expected)
            break
        await asyncio.sleep(0.02)
    else:
        # Linger: a message that was not FINed, or delivered twice, would show up.
        await asyncio.sleep(1.0)

    reader.live = False
    logging.getLogger("nsq").setLevel(logging.CRITICAL)
    reader.close()
    await asyncio.sleep(0.1)

    counts = Counter(bodies)
    report.update({
        "expected": expected,
        "received": len(bodies),
        "distinct": len(counts),
        "by_source": dict(Counter(b.split("-", 1)[0] for b in counts)),
        "duplicates": sorted(b for b, n in counts.items() if n > 1)[:20],
        "connected_to": sorted(reader.connected_to),
        "errors": errors,
        "bodies": sorted(counts),
    })
    return report


if __name__ == "__main__":
    lookupd, topic, channel, expected = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 45.0
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    report = asyncio.run(main(lookupd, topic, channel, expected, timeout))
    print(json.dumps(report), flush=True)
    if "timeout" in report:
        print("timed out: %s" % report["timeout"], file=sys.stderr)
        sys.exit(2)
    ok = (
        report["received"] == expected
        and report["distinct"] == expected
        and not report["errors"]
    )
    sys.exit(0 if ok else 1)
