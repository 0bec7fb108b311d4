#!/usr/bin/env bash
# `make install`: copies the programs and tools (not nsq_bench, a benchmark driver)
# from a build directory into <prefix>/bin, creating it, mode 0755.
#   bash scripts/install.sh <bindir> <prefix>
# The Makefile passes its release directory and $(DESTDIR)$(PREFIX); tests/install.rs
# passes the debug binaries' directory and a scratch prefix.
set -euo pipefail
if [ $# -ne 2 ]; then
    echo "usage: $0 <bindir> <prefix>" >&2
    exit 2
fi
bindir="$1"
dest="$2/bin"
programs=(nsqd nsqlookupd nsqadmin to_nsq nsq_tail nsq_stat nsq_to_file nsq_to_nsq nsq_to_http)
for p in "${programs[@]}"; do
    if [ ! -x "$bindir/$p" ]; then
        echo "install: $bindir/$p missing: build it first (make release)" >&2
        exit 1
    fi
done
install -d -m 0755 "$dest"
for p in "${programs[@]}"; do
    install -m 0755 "$bindir/$p" "$dest/$p"
    echo "installed $dest/$p"
done
