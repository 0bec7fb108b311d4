#!/usr/bin/env bash
# `make run`: nsqlookupd on :4160/:4161, nsqd on :4150/:4151 registered with it (data
# in ${DATA:-./data}), and nsqadmin on :4171 pointed at that nsqlookupd. Ctrl-C (or
# SIGTERM) stops all three cleanly (exit 0). If any program fails to start or dies,
# the others are stopped too and the exit code is not 0.
# Addresses may be overridden: LOOKUPD_TCP, LOOKUPD_HTTP, NSQD_TCP, NSQD_HTTP,
# ADMIN_HTTP (host:port); nsqd registers with 127.0.0.1 at LOOKUPD_TCP's port and
# nsqadmin asks 127.0.0.1 at LOOKUPD_HTTP's port. BIN: the binaries.
set -uo pipefail
bin="${BIN:-./target/debug}"
data="${DATA:-./data}"
lookupd_tcp="${LOOKUPD_TCP:-0.0.0.0:4160}"
lookupd_http="${LOOKUPD_HTTP:-0.0.0.0:4161}"
nsqd_tcp="${NSQD_TCP:-0.0.0.0:4150}"
nsqd_http="${NSQD_HTTP:-0.0.0.0:4151}"
admin_http="${ADMIN_HTTP:-0.0.0.0:4171}"
mkdir -p "$data" || exit 1

stopping=0
stop() {
    stopping=1
    kill -TERM "${admin:-}" "${nsqd:-}" "${lookupd:-}" 2>/dev/null || true
}
trap stop INT TERM

"$bin/nsqlookupd" --broadcast-address=127.0.0.1 \
    --tcp-address="$lookupd_tcp" --http-address="$lookupd_http" &
lookupd=$!
"$bin/nsqd" --data-path="$data" --broadcast-address=127.0.0.1 \
    --tcp-address="$nsqd_tcp" --http-address="$nsqd_http" \
    --lookupd-tcp-address="127.0.0.1:${lookupd_tcp##*:}" &
nsqd=$!
"$bin/nsqadmin" --http-address="$admin_http" \
    --lookupd-http-address="127.0.0.1:${lookupd_http##*:}" &
admin=$!

# Returns when any program exits, or when a signal runs the trap.
wait -n "$admin" "$nsqd" "$lookupd"
first=$?
if [ "$stopping" -eq 0 ]; then
    name=nsqlookupd
    kill -0 "$lookupd" 2>/dev/null && name=nsqd
    kill -0 "$lookupd" 2>/dev/null && kill -0 "$nsqd" 2>/dev/null && name=nsqadmin
    echo "run.sh: $name exited (status $first); stopping the others" >&2
    stop
    stopping=2
fi
status=0
for pid in "$admin" "$nsqd" "$lookupd"; do
    wait "$pid" || status=1
done
if [ "$stopping" -eq 2 ]; then
    [ "$first" -ne 0 ] && exit "$first"
    exit 1
fi
exit "$status"
