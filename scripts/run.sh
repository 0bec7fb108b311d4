#!/usr/bin/env bash
# `make run`: nsqlookupd on :4160/:4161 and nsqd on :4150/:4151 registered with it,
# data in ${DATA:-./data}. Ctrl-C (or SIGTERM) stops both cleanly.
set -euo pipefail
bin="${BIN:-./target/debug}"
data="${DATA:-./data}"
mkdir -p "$data"

"$bin/nsqlookupd" --broadcast-address=127.0.0.1 &
lookupd=$!
"$bin/nsqd" --data-path="$data" --broadcast-address=127.0.0.1 \
    --lookupd-tcp-address=127.0.0.1:4160 &
nsqd=$!

stop() {
    kill -TERM "$nsqd" "$lookupd" 2>/dev/null || true
}
trap stop INT TERM
wait "$nsqd" || true
stop
wait "$lookupd" || true
