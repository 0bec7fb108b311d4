#!/usr/bin/env bash
# `make bench`: nsq-rs throughput, memory, binary size and startup, next to the ceiling
# of a do-nothing V2 endpoint (`nsq_bench sink`). Assumes `cargo build --release --bins`.
#
# Phases (writer and pubsub run RUNFOR, default 5s; readers READER_RUNFOR, default 3s,
# so that they cannot empty the backlog the writer left; the script takes about two minutes):
#   mem    fresh nsqd --mem-queue-size=100000000 (all in memory): writer, then reader
#   spill  fresh nsqd --mem-queue-size=1000000:  writer, then reader (disk backlog)
#   tls    the mem phase with every connection upgraded to TLS after IDENTIFY: nsqd
#          --tls-cert/--tls-key, nsq_bench --tls-root-ca-file; certificates made here
#          by openssl (a P-256 CA and a server certificate for IP:127.0.0.1 and
#          DNS:localhost), in the temp dir; skipped with one line without openssl
#   pubsub fresh nsqd --mem-queue-size=10000000: writers and readers at once; then
#          the same over TLS (pubsub tls, when the tls phase is selected too)
#   durable an OK that means fsynced: each row a fresh nsqd --mem-queue-size=0
#          --sync-every=1 with sub_bench/ch created, for RUNFOR:
#            DURABLE_CONNS (default 64) writers, one PUB at a time (--batch-size=1
#              --pipeline=1: send, wait for OK, repeat);
#            WORKERS writers, MPUB batches of 200, 4 in flight (the writer phases' load);
#            DURABLE_CONNS writers, MPUB batches of 200, one at a time;
#            pubsub: DURABLE_CONNS one-PUB-at-a-time writers and WORKERS readers at
#              once (delivery rate and end-to-end latency while writers wait on fsyncs).
#          Prints msgs/s, publish latency p50/p99 (a PUB/MPUB's write to its OK) and,
#          from nsqd's /metrics before and after, group commits/s
#          (nsqd_sync_commits_total), msgs per commit, fsyncs/s (nsqd_fsyncs_total)
#          and msgs per fsync: n/a when nsqd has no such counter. Go nsqd's figure for
#          64 one-at-a-time producers is printed as a reference, not measured here
#   sink   the same writer, reader and pubsub against `nsq_bench sink`
#   memory idle RSS of a fresh nsqd; RSS holding 1M queued 100-byte messages
#   accept spawn nsqd, poll-connect until its TCP port accepts (median of 5)
#   static scripts/static.sh (musl if installed, else glibc +crt-static): the stripped
#          binary's size and its idle RSS
#   conns  scripts/bench_conns.py (alone: python3 scripts/bench_conns.py): RSS per
#          idle V2 connection (10,000 of them), a burst of 2,500 connects (p99/max
#          ms), and the time from SIGTERM to exit holding 10,000 queues; printed as a
#          second table. About 15 s, plus deleting the 30,000 files the stop leaves
#          (seconds on an idle disk, a minute or more on a busy one)
# Messages are 100 bytes, MPUB batches of 200, 2 workers, RDY 2500.
# PHASES selects phases, space- or comma-separated (default: all of them), e.g.
# PHASES=durable scripts/bench.sh; the table then shows only their rows.
# Binaries come from $CARGO_TARGET_DIR/release (default target/release).
# Every process started here is killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNFOR="${RUNFOR:-5s}"
READER_RUNFOR="${READER_RUNFOR:-3s}"
WORKERS="${WORKERS:-2}"
DURABLE_CONNS="${DURABLE_CONNS:-64}"
ALL_PHASES="mem spill tls pubsub durable sink memory accept static conns"
PHASES="${PHASES:-$ALL_PHASES}"
PHASES="${PHASES//,/ }"
for p in $PHASES; do
    if [[ " $ALL_PHASES " != *" $p "* ]]; then
        echo "bench: unknown phase $p in PHASES (known: $ALL_PHASES)" >&2
        exit 2
    fi
done
# want PHASE: true when PHASE is selected.
want() { [[ " $PHASES " == *" $1 "* ]]; }
SIZE=100
BATCH=200
RDY=2500
BIN="${CARGO_TARGET_DIR:-target}/release"

for b in nsqd nsq_bench; do
    if [[ ! -x "$BIN/$b" ]]; then
        echo "bench: $BIN/$b missing; run cargo build --release --bins" >&2
        exit 1
    fi
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/nsq-bench.XXXXXX")"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "# $*" >&2; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_tcp PORT: until something accepts on 127.0.0.1:PORT (10 s at most).
wait_tcp() {
    python3 - "$1" <<'EOF'
import socket, sys, time
deadline = time.monotonic() + 10
while True:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("port %s never accepted" % sys.argv[1])
        time.sleep(0.002)
EOF
}

# start_nsqd NAME MEM_QUEUE_SIZE [FLAGS...]: sets NSQD_PID, TCP, HTTP.
start_nsqd() {
    local name=$1 mem=$2
    shift 2
    TCP=$(free_port)
    HTTP=$(free_port)
    mkdir -p "$tmp/$name"
    "$BIN/nsqd" --tcp-address="127.0.0.1:$TCP" --http-address="127.0.0.1:$HTTP" \
        --data-path="$tmp/$name" --mem-queue-size="$mem" --log-level=warn "$@" \
        >"$tmp/$name.log" 2>&1 &
    NSQD_PID=$!
    pids+=("$NSQD_PID")
    wait_tcp "$TCP"
}

stop() {
    kill -9 "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# create TOPIC CHANNEL on the current nsqd, so published messages queue in the channel.
create() {
    curl -sf -X POST "http://127.0.0.1:$HTTP/topic/create?topic=$1" >/dev/null
    curl -sf -X POST "http://127.0.0.1:$HTTP/channel/create?topic=$1&channel=$2" >/dev/null
}

# queued TOPIC CHANNEL: messages in the channel (queued plus in flight).
queued() {
    curl -sf "http://127.0.0.1:$HTTP/stats?format=json&topic=$1&channel=$2" |
        python3 -c 'import json, sys
d = json.load(sys.stdin)
print(sum(c["depth"] + c["in_flight_count"] for t in d["topics"] for c in t["channels"]))' ||
        echo "?"
}

kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

# bench MODE ADDR [FLAGS...]: runs nsq_bench, echoes its output to stderr, and
# stores the ops/s in OPS (and the whole output in OUT).
bench() {
    local mode=$1 addr=$2 runfor=$RUNFOR
    shift 2
    # nsq_bench refuses a flag its mode does not read: only the mode's own.
    local own=(--batch-size=$BATCH --rdy=$RDY)
    [[ $mode == writer ]] && own=(--batch-size=$BATCH)
    [[ $mode == reader ]] && own=(--rdy=$RDY) && runfor=$READER_RUNFOR
    OUT=$("$BIN/nsq_bench" "$mode" --nsqd-tcp-address="$addr" --size=$SIZE \
        "${own[@]}" --workers="$WORKERS" --runfor="$runfor" "$@")
    sed 's/^/#   /' <<<"$OUT" >&2
    OPS=$(sed -n 's/^duration: .* - \([0-9.]*\) ops\/s - .*/\1/p' <<<"$OUT" | head -1)
}

# metric_sum NAME TEXT: the sum of NAME's samples (any labels) in the Prometheus TEXT;
# empty when it has none.
metric_sum() {
    awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $NF; f = 1 }
        END { if (f) printf "%.0f\n", s }' <<<"$2"
}

# metric_delta NAME: NAME's growth from $before to $after (durable), empty if absent.
metric_delta() {
    local a b
    a=$(metric_sum "$1" "$before")
    b=$(metric_sum "$1" "$after")
    [[ -n $a && -n $b ]] && echo $((b - a))
    return 0
}

# div A B FORMAT: A / B printed with FORMAT, "n/a" when either is missing or B is 0.
div() { awk -v a="$1" -v b="$2" -v f="$3" 'BEGIN { if (a == "" || b == "" || b + 0 <= 0) print "n/a"; else printf f "\n", a / b }'; }

# go_secs D: a Go duration (5.0012s, 1m5s, 850ms) in seconds.
go_secs() {
    awk -v d="$1" 'BEGIN {
        t = 0
        while (d != "" && match(d, /^[0-9.]+/)) {
            v = substr(d, 1, RLENGTH); d = substr(d, RLENGTH + 1)
            if (d ~ /^ms/) { t += v / 1e3; d = substr(d, 3) }
            else if (d ~ /^us/) { t += v / 1e6; d = substr(d, 3) }
            else if (d ~ /^ns/) { t += v / 1e9; d = substr(d, 3) }
            else if (d ~ /^h/) { t += v * 3600; d = substr(d, 2) }
            else if (d ~ /^m/) { t += v * 60; d = substr(d, 2) }
            else if (d ~ /^s/) { t += v; d = substr(d, 2) }
            else if (sub(/^µs/, "", d)) { t += v / 1e6 }
            else break
        }
        print t }'
}

# durable KEY LABEL MODE FLAGS...: one durable row. A fresh nsqd --mem-queue-size=0
# --sync-every=1 with sub_bench/ch created; nsq_bench MODE FLAGS for RUNFOR, its
# /metrics read before and after; appends the row to durable_rows.
durable() {
    local key=$1 label=$2 mode=$3
    shift 3
    start_nsqd "durable_$key" 0 --sync-every=1
    create sub_bench ch
    log "durable: $label (--mem-queue-size=0 --sync-every=1)"
    local own=()
    [[ $mode == pubsub ]] && own=(--readers="$WORKERS" --rdy=$RDY)
    before=$(curl -sf "http://127.0.0.1:$HTTP/metrics" || true)
    OUT=$("$BIN/nsq_bench" "$mode" --nsqd-tcp-address="127.0.0.1:$TCP" --size=$SIZE \
        --runfor="$RUNFOR" "${own[@]}" "$@")
    after=$(curl -sf "http://127.0.0.1:$HTTP/metrics" || true)
    sed 's/^/#   /' <<<"$OUT" >&2
    stop "$NSQD_PID"
    rm -rf "${tmp:?}/durable_$key"
    local secs msgs commits fsyncs rate p50 p99
    secs=$(go_secs "$(sed -n 's/^duration: \([^ ]*\) - .*/\1/p' <<<"$OUT" | head -1)")
    msgs=$(metric_delta nsq_topic_message_count)
    commits=$(metric_delta nsqd_sync_commits_total)
    fsyncs=$(metric_delta nsqd_fsyncs_total)
    log "durable: ${msgs:-n/a} messages in ${secs}s, ${commits:-n/a} commits, ${fsyncs:-n/a} fsyncs (from /metrics)"
    if [[ $mode == pubsub ]]; then
        rate=$(sed -n 's/^published: .* (\([0-9.]*\) ops\/s).*/\1/p' <<<"$OUT")
        durable_notes+=("durable pubsub: consumers $(div "$(sed -n 's/^duration: .* - \([0-9.]*\) ops\/s - .*/\1/p' <<<"$OUT" | head -1)" 1 %.0f) msgs/s; end-to-end latency $(sed -n 's/^latency: //p' <<<"$OUT")")
    else
        rate=$(sed -n 's/^duration: .* - \([0-9.]*\) ops\/s - .*/\1/p' <<<"$OUT" | head -1)
    fi
    read -r p50 p99 < <(sed -n 's/^publish latency: p50 \([^ ]*\) - p99 \([^ ]*\) - .*/\1 \2/p' <<<"$OUT") || true
    durable_rows+=("$(printf "| %-34s | %9s | %11s | %11s | %9s | %11s | %8s | %10s |" "$label" \
        "$(div "$rate" 1 %.0f)" "${p50:-n/a}" "${p99:-n/a}" "$(div "$commits" "$secs" %.0f)" \
        "$(div "$msgs" "$commits" %.1f)" "$(div "$fsyncs" "$secs" %.0f)" "$(div "$msgs" "$fsyncs" %.1f)")")
}

# make_certs DIR: a CA (ca.pem) and a server certificate (server.pem, server.key) for
# IP:127.0.0.1 and DNS:localhost signed by it, P-256 keys, valid two days.
make_certs() {
    local d=$1
    mkdir -p "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=nsq-rs bench CA" -keyout "$d/ca.key" -out "$d/ca.pem" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -subj "/CN=localhost" -keyout "$d/server.key" -out "$d/server.csr" &&
        printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
            "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
            "extendedKeyUsage=serverAuth" >"$d/server.ext" &&
        openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
            -set_serial 2 -days 2 -extfile "$d/server.ext" -out "$d/server.pem"
}

log "nsq-rs bench: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
log "runfor $RUNFOR (readers $READER_RUNFOR), $WORKERS workers, $SIZE-byte messages, MPUB batches of $BATCH, RDY $RDY"

# The tls phases' flags: nsqd's certificate, and the CA the clients trust.
tls_skip=""
tls_nsqd=()
tls_client=()
if ! want tls; then
    tls_skip="not selected (PHASES)"
elif ! command -v openssl >/dev/null; then
    tls_skip="no openssl on this machine"
elif ! make_certs "$tmp/certs" >"$tmp/openssl.log" 2>&1; then
    tls_skip="openssl could not make the certificates ($(tail -1 "$tmp/openssl.log"))"
else
    tls_nsqd=(--tls-cert="$tmp/certs/server.pem" --tls-key="$tmp/certs/server.key")
    tls_client=(--tls-root-ca-file="$tmp/certs/ca.pem")
fi
phases=()
want mem && phases+=(mem:100000000)
want spill && phases+=(spill:1000000)
if [[ -z $tls_skip ]]; then
    phases+=(tls:100000000)
elif want tls; then
    log "tls: skipped: $tls_skip"
fi

declare -A ops
drained=0
for phase in "${phases[@]}"; do
    name=${phase%%:*}
    nsqd_flags=()
    client_flags=()
    if [[ $name == tls ]]; then
        nsqd_flags=("${tls_nsqd[@]}")
        client_flags=("${tls_client[@]}")
    fi
    start_nsqd "$name" "${phase#*:}" "${nsqd_flags[@]}"
    create sub_bench ch
    log "$name (--mem-queue-size=${phase#*:}): writer"
    bench writer "127.0.0.1:$TCP" "${client_flags[@]}"
    ops[writer_$name]=$OPS
    log "$name: reader ($(queued sub_bench ch) messages queued)"
    bench reader "127.0.0.1:$TCP" "${client_flags[@]}"
    ops[reader_$name]=$OPS
    left=$(queued sub_bench ch)
    log "$name: $left messages left"
    # Left with no more than the readers held in flight: it ran dry, a lower bound.
    if [[ $left != "?" ]] && ((left <= WORKERS * RDY)); then
        ops[reader_$name]="${OPS}*"
        drained=1
    fi
    printf -v "hwm_$name" '%s' "$(kib "$NSQD_PID" VmHWM)"
    stop "$NSQD_PID"
    # Deleted files need no writeback: the next phase does not pay for this one's.
    rm -rf "${tmp:?}/$name"
done

latency=""
latency_tls=""
if want pubsub; then
    start_nsqd pubsub 10000000
    log "pubsub (--mem-queue-size=10000000)"
    bench pubsub "127.0.0.1:$TCP" --topic=pubsub_bench
    ops[pubsub]=$OPS
    latency=$(sed -n 's/^latency: //p' <<<"$OUT")
    hwm_pubsub=$(kib "$NSQD_PID" VmHWM)
    stop "$NSQD_PID"

    if [[ -z $tls_skip ]]; then
        start_nsqd pubsub_tls 10000000 "${tls_nsqd[@]}"
        log "pubsub tls (--mem-queue-size=10000000)"
        bench pubsub "127.0.0.1:$TCP" --topic=pubsub_bench "${tls_client[@]}"
        ops[pubsub_tls]=$OPS
        latency_tls=$(sed -n 's/^latency: //p' <<<"$OUT")
        stop "$NSQD_PID"
    fi
fi

durable_rows=()
durable_notes=()
if want durable; then
    for load in "pub:$DURABLE_CONNS x PUB, 1 in flight:writer:$DURABLE_CONNS:1:1" \
        "mpub:$WORKERS x MPUB $BATCH, 4 in flight:writer:$WORKERS:$BATCH:4" \
        "mpub_conns:$DURABLE_CONNS x MPUB $BATCH, 1 in flight:writer:$DURABLE_CONNS:$BATCH:1" \
        "pubsub:pubsub $DURABLE_CONNS x PUB + $WORKERS readers:pubsub:$DURABLE_CONNS:1:1"; do
        IFS=: read -r key label mode conns batch inflight <<<"$load"
        durable "$key" "$label" "$mode" --workers="$conns" --batch-size="$batch" --pipeline="$inflight"
    done
fi

if want sink; then
    SINK=$(free_port)
    "$BIN/nsq_bench" sink --tcp-address="127.0.0.1:$SINK" --size=$SIZE 2>"$tmp/sink.log" &
    sink_pid=$!
    pids+=("$sink_pid")
    wait_tcp "$SINK"
    for mode in writer reader pubsub; do
        log "sink: $mode"
        bench "$mode" "127.0.0.1:$SINK"
        ops[sink_$mode]=$OPS
    done
    stop "$sink_pid"
fi

if want memory; then
    log "memory: idle, then 1M queued $SIZE-byte messages"
    start_nsqd rss 10000000
    sleep 0.5
    idle_kib=$(kib "$NSQD_PID" VmRSS)
    create sub_bench ch
    "$BIN/nsq_bench" writer --nsqd-tcp-address="127.0.0.1:$TCP" --size=$SIZE --batch-size=$BATCH \
        --workers="$WORKERS" --count=1000000 --runfor=60s | sed 's/^/#   /' >&2
    depth=$(queued sub_bench ch)
    sleep 0.5
    queued_kib=$(kib "$NSQD_PID" VmRSS)
    stop "$NSQD_PID"
fi

# accept_ms PROGRAM ARGS...: spawn it (ports and data dir substituted for @TCP@,
# @HTTP@, @DATA@), poll-connect to @TCP@ until it accepts; median ms of 5 runs.
accept_ms() {
    python3 - "$tmp" "$@" <<'EOF'
import os, socket, subprocess, sys, time
tmp, argv = sys.argv[1], sys.argv[2:]
def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
runs = []
for i in range(5):
    tcp, http = free_port(), free_port()
    data = os.path.join(tmp, "accept-%d-%d" % (os.getpid(), i)); os.mkdir(data)
    args = [a.replace("@TCP@", str(tcp)).replace("@HTTP@", str(http)).replace("@DATA@", data)
            for a in argv]
    t0 = time.perf_counter()
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", tcp), timeout=1).close()
                break
            except OSError:
                if time.perf_counter() - t0 > 10 or p.poll() is not None:
                    sys.exit("%s never accepted" % argv[0])
        runs.append((time.perf_counter() - t0) * 1000)
    finally:
        p.kill(); p.wait()
print("%.2f" % sorted(runs)[len(runs) // 2])
EOF
}
accept_nsqd="n/a"
accept_sink="n/a"
if want accept; then
    log "time to accept (median of 5), nsqd and a bare listener (nsq_bench sink)"
    accept_nsqd=$(accept_ms "$BIN/nsqd" --tcp-address=127.0.0.1:@TCP@ --http-address=127.0.0.1:@HTTP@ \
        --data-path=@DATA@ --log-level=warn)
    accept_sink=$(accept_ms "$BIN/nsq_bench" sink --tcp-address=127.0.0.1:@TCP@)
fi

static_bytes="n/a"
static_idle_kib="n/a"
accept_static="n/a"
if want static; then
    log "static binary: scripts/static.sh (musl when installed, else glibc +crt-static)"
    if static_bin=$(bash scripts/static.sh); then
        static_bytes=$(stat -c %s "$static_bin")
        TCP=$(free_port)
        HTTP=$(free_port)
        mkdir -p "$tmp/static"
        "$static_bin" --tcp-address="127.0.0.1:$TCP" --http-address="127.0.0.1:$HTTP" \
            --data-path="$tmp/static" --log-level=warn >"$tmp/static.log" 2>&1 &
        static_pid=$!
        pids+=("$static_pid")
        wait_tcp "$TCP"
        sleep 0.5
        static_idle_kib=$(kib "$static_pid" VmRSS)
        stop "$static_pid"
        accept_static=$(accept_ms "$static_bin" --tcp-address=127.0.0.1:@TCP@ \
            --http-address=127.0.0.1:@HTTP@ --data-path=@DATA@ --log-level=warn)
    fi
fi

conns_table=""
if want conns; then
    log "conns: idle V2 connections, connect burst, clean stop with 10,000 queues (scripts/bench_conns.py)"
    # Its own subshell with the open-file limit raised (nsqd inherits it): 10,000
    # connections need 10,000 descriptors on each side. Run in the background so that
    # cleanup can kill it; it kills its nsqd by PID, they die with it, and its data
    # dirs are under $tmp.
    (
        ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
        TMPDIR="$tmp" exec python3 scripts/bench_conns.py --nsqd="$BIN/nsqd" >"$tmp/conns.md"
    ) &
    conns_pid=$!
    pids+=("$conns_pid")
    if wait "$conns_pid"; then
        conns_table=$(cat "$tmp/conns.md")
    else
        conns_table="connection measurements failed: see the # lines above"
    fi
fi

# row MODE OPS CEILING: one line of the table; OPS empty: skipped, CEILING empty: n/a
# (the sink phase not selected).
row() {
    awk -v m="$1" -v a="$2" -v c="${3:-}" 'BEGIN {
        mark = sub(/\*$/, "", a) ? "*" : " "
        as = (a == "") ? sprintf("%14s", "skipped") : sprintf("%13.0f%s", a, mark)
        cs = (c == "") ? sprintf("%14s", "n/a") : sprintf("%14.0f", c)
        r = (c > 0 && a != "") ? sprintf("%.2f", a / c) : "n/a"
        printf "| %-16s | %s | %s | %5s |\n", m, as, cs, r }'
}
echo
echo "nsq-rs $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, runfor $RUNFOR (readers $READER_RUNFOR), $WORKERS workers, $SIZE-byte msgs, batch $BATCH, RDY $RDY"
if want mem || want spill || want tls || want pubsub; then
    echo
    echo "| mode             | nsq-rs ops/s   | ceiling ops/s  | ratio |"
    echo "|------------------|----------------|----------------|-------|"
    want mem && row "writer (mem)" "${ops[writer_mem]}" "${ops[sink_writer]:-}"
    want tls && row "writer (tls)" "${ops[writer_tls]:-}" "${ops[sink_writer]:-}"
    want spill && row "writer (spill)" "${ops[writer_spill]}" "${ops[sink_writer]:-}"
    want mem && row "reader (mem)" "${ops[reader_mem]}" "${ops[sink_reader]:-}"
    want tls && row "reader (tls)" "${ops[reader_tls]:-}" "${ops[sink_reader]:-}"
    want spill && row "reader (spill)" "${ops[reader_spill]}" "${ops[sink_reader]:-}"
    want pubsub && row "pubsub" "${ops[pubsub]}" "${ops[sink_pubsub]:-}"
    want pubsub && want tls && row "pubsub (tls)" "${ops[pubsub_tls]:-}" "${ops[sink_pubsub]:-}"
    ((drained)) && echo "* the reader emptied the channel before its time was up: a lower bound"
    # ratio A B: A / B to two places, "n/a" when either is missing.
    ratio() { awk -v a="${1%"*"}" -v b="${2%"*"}" 'BEGIN { print (a != "" && b > 0) ? sprintf("%.2f", a / b) : "n/a" }'; }
    if ! want tls; then
        :
    elif [[ -n $tls_skip ]]; then
        echo "tls rows skipped: $tls_skip"
    else
        echo "tls rows: the mem and pubsub phases over TLS; their ceiling is the plain sink's (it speaks no TLS)"
        echo "TLS / plain: writer $(ratio "${ops[writer_tls]}" "${ops[writer_mem]:-}"), reader $(ratio "${ops[reader_tls]}" "${ops[reader_mem]:-}"), pubsub $(ratio "${ops[pubsub_tls]:-}" "${ops[pubsub]:-}")"
    fi
    echo
elif want sink; then
    echo
    echo "sink (the ceiling) ops/s: writer $(div "${ops[sink_writer]}" 1 %.0f), reader $(div "${ops[sink_reader]}" 1 %.0f), pubsub $(div "${ops[sink_pubsub]}" 1 %.0f)"
fi
[[ -n $latency ]] && echo "pubsub latency: $latency"
[[ -n $latency_tls ]] && echo "pubsub (tls) latency: $latency_tls"
hwm=()
[[ -n ${hwm_mem:-} ]] && hwm+=("mem $(mib "$hwm_mem")")
[[ -n ${hwm_tls:-} ]] && hwm+=("tls $(mib "$hwm_tls")")
[[ -n ${hwm_spill:-} ]] && hwm+=("spill $(mib "$hwm_spill")")
[[ -n ${hwm_pubsub:-} ]] && hwm+=("pubsub $(mib "$hwm_pubsub")")
if ((${#hwm[@]})); then
    hwm_text=$(printf ', %s' "${hwm[@]}")
    echo "nsqd peak RSS (VmHWM): ${hwm_text#, }"
fi
if want memory; then
    echo "nsqd RSS holding 1M queued $SIZE-byte msgs: $(mib "$queued_kib") (channel depth $depth)"
    echo "nsqd idle RSS: $(mib "$idle_kib")"
fi
if ! want static; then
    :
elif [[ "$static_bytes" == "n/a" ]]; then
    echo "static stripped nsqd: n/a (static build failed)"
else
    echo "static stripped nsqd ($static_bin): $static_bytes bytes ($(awk -v b="$static_bytes" 'BEGIN { printf "%.2f MiB", b / 1048576 }')), idle RSS $(mib "$static_idle_kib")"
fi
static_accept_text=""
want static && static_accept_text=", static $accept_static ms"
want accept && echo "time to accept: $accept_nsqd ms$static_accept_text (median of 5; a bare listener, nsq_bench sink: $accept_sink ms)"
if want durable; then
    echo
    echo "Durable writes: each row a fresh nsqd --mem-queue-size=0 --sync-every=1 (an OK means fsynced), $SIZE-byte msgs, runfor $RUNFOR"
    echo
    echo "| load                               | msgs/s    | publish p50 | publish p99 | commits/s | msgs/commit | fsyncs/s | msgs/fsync |"
    echo "|------------------------------------|-----------|-------------|-------------|-----------|-------------|----------|------------|"
    printf '%s\n' "${durable_rows[@]}"
    echo "msgs/s: acknowledged publishes (pubsub: published); publish latency: a PUB/MPUB's write to its OK;"
    echo "commits: nsqd_sync_commits_total, fsyncs: nsqd_fsyncs_total, msgs: nsq_topic_message_count, from /metrics (n/a: nsqd has no such counter)"
    ((${#durable_notes[@]})) && printf '%s\n' "${durable_notes[@]}"
    echo "Go nsqd, 64 one-at-a-time producers (Go's bench_writer, measured earlier): ~800-1,400 msgs/s; not measured in this run"
fi
if want conns; then
    echo
    echo "$conns_table"
fi
