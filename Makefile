# nsq-rs: the README's commands. `make run` starts the programs on the default ports
# with ./data; `make test` runs every check CI runs.

CARGO ?= cargo
DATA ?= ./data
PREFIX ?= /usr/local
DESTDIR ?=
TARGET_DIR = $(or $(CARGO_TARGET_DIR),target)

.PHONY: build release install run test test-all-features test-minimal test-stress lint fmt venv static bench clean

build:
	$(CARGO) build --bins

release:
	$(CARGO) build --release --bins

## install: a release build's nsqd, nsqlookupd, nsqadmin, to_nsq, nsq_tail, nsq_stat,
## nsq_to_file, nsq_to_nsq and nsq_to_http (not nsq_bench) into $(DESTDIR)$(PREFIX)/bin; PREFIX defaults to
## /usr/local, the build directory follows CARGO_TARGET_DIR.
install: release
	bash scripts/install.sh "$(TARGET_DIR)/release" "$(DESTDIR)$(PREFIX)"

## run: nsqlookupd on :4160/:4161, nsqd on :4150/:4151 registered with it (data in
## ./data), nsqadmin on :4171; Ctrl-C stops all cleanly. If one fails to start (a port
## taken) or dies, the others are stopped and `make run` fails. Addresses: LOOKUPD_TCP,
## LOOKUPD_HTTP, NSQD_TCP, NSQD_HTTP, ADMIN_HTTP (see scripts/run.sh).
run: build
	DATA=$(DATA) bash scripts/run.sh

## test: formatting, clippy with warnings as errors, then every unit and black-box test,
## twice: with all optional features, and with none (the minimal build, which compiles
## the tests of what a build without a feature does).
test: venv lint test-all-features test-minimal

test-all-features: venv
	$(CARGO) test --all-targets --all-features
	$(CARGO) test --doc --all-features

test-minimal: venv
	$(CARGO) test --all-targets --no-default-features

## test-stress: the all-features tests 5 times in a row (RUNS=n) while two busy loops
## (BUSY=n) keep both cores of a small CI machine busy; each run's result and time, and
## a summary; fails if any run failed.
test-stress: venv
	bash scripts/test-stress.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --all-features -- -D warnings
	$(CARGO) clippy --all-targets --no-default-features -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --all-features

fmt:
	$(CARGO) fmt --all

## venv: the Python environment with pynsq, for the interoperability tests.
venv:
	bash scripts/venv.sh

## static: a stripped, statically linked nsqd (musl when its target is installed,
## else glibc); prints its path and size.
static:
	@bin=$$(bash scripts/static.sh) && ls -l $$bin | awk '{ printf "%s: %s bytes (%.2f MiB)\n", $$9, $$5, $$5 / 1048576 }'

## bench: throughput, latency, RSS, binary size and time to accept, as one table
## (BENCHMARKS.md); about three minutes; PHASES="durable" (say) runs only those.
## Micro-benchmarks: cargo bench --bench micro.
bench: release
	bash scripts/bench.sh

clean:
	$(CARGO) clean
	rm -rf .venv
