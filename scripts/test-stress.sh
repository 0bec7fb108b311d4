#!/usr/bin/env bash
# The whole test suite, several times in a row, on a machine kept busy: two spinning
# loops (one per core of a 2-core CI runner) run for the whole time, started here and
# always killed on exit. Builds once, then runs `cargo test --all-targets
# --all-features` RUNS times (default 5; with --no-fail-fast, so a run names every test
# that failed), printing each run's result and duration and a summary; exits non-zero
# if any run failed. Each run's output is kept in $CARGO_TARGET_DIR/test-stress/run-N.log
# (target/ by default).
#
#   bash scripts/test-stress.sh            # or: make test-stress
#   RUNS=10 BUSY=4 bash scripts/test-stress.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

cargo="${CARGO:-cargo}"
runs="${RUNS:-5}"
busy="${BUSY:-2}"
logs="${CARGO_TARGET_DIR:-$root/target}/test-stress"
test_cmd=("$cargo" test --all-targets --all-features --no-fail-fast)

for n in "$runs" "$busy"; do
    if ! [[ "$n" =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ]; then
        echo "test-stress: RUNS and BUSY must be positive integers" >&2
        exit 2
    fi
done

echo "test-stress: building once: ${test_cmd[*]} --no-run"
"${test_cmd[@]}" --no-run

# The busy loops. Each also stops by itself once this script is gone (even after a
# SIGKILL, which no trap sees): `kill -0` is a shell builtin, so the loop still spins.
spinners=()
stop_spinners() {
    local pid
    for pid in ${spinners[@]+"${spinners[@]}"}; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in ${spinners[@]+"${spinners[@]}"}; do
        wait "$pid" 2>/dev/null || true
    done
    spinners=()
}
# A run in progress is a process group of its own (cargo, the test binaries and the
# nsqd processes they start), ended as a whole when the script is interrupted.
run_group=""
cleanup() {
    if [ -n "$run_group" ]; then
        kill -TERM -- "-$run_group" 2>/dev/null || true
        wait "$run_group" 2>/dev/null || true
    fi
    stop_spinners
}
trap cleanup EXIT
trap 'echo "test-stress: interrupted" >&2; exit 130' INT
trap 'echo "test-stress: terminated" >&2; exit 143' TERM

for _ in $(seq "$busy"); do
    sh -c 'while kill -0 "$1" 2>/dev/null; do :; done' test-stress-busy "$$" &
    spinners+=("$!")
done
echo "test-stress: $busy busy loop(s) running (pids ${spinners[*]}); $runs run(s) of: ${test_cmd[*]}"

mkdir -p "$logs"
passed=0
failed=0
results=()
for i in $(seq "$runs"); do
    log="$logs/run-$i.log"
    start=$(date +%s.%N)
    # In the background so that a signal interrupts the `wait` at once.
    setsid -w "${test_cmd[@]}" >"$log" 2>&1 &
    run_group=$!
    if wait "$run_group"; then
        result=PASS
        passed=$((passed + 1))
    else
        result=FAIL
        failed=$((failed + 1))
    fi
    run_group=""
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    results+=("$secs")
    echo "run $i/$runs: $result in ${secs}s (log: $log)"
    if [ "$result" = FAIL ]; then
        # Which tests failed, and the binaries that did not pass.
        grep -a -E '^test .* FAILED$|^error: ' "$log" | sed 's/^/    /' || true
    fi
done

stop_spinners

summary=$(printf '%s\n' "${results[@]}" |
    awk '{ s += $1; if (NR == 1 || $1 < lo) lo = $1; if ($1 > hi) hi = $1 }
         END { printf "min %.1fs, mean %.1fs, max %.1fs", lo, s / NR, hi }')
echo "test-stress: $passed of $runs run(s) passed, $failed failed ($summary) with $busy busy loop(s)"
[ "$failed" -eq 0 ]
