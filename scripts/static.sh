#!/usr/bin/env bash
# Builds a stripped, statically linked nsqd and prints its path on stdout.
# With the musl target installed (rustup target add x86_64-unknown-linux-musl) it
# links musl, otherwise glibc with +crt-static. Arguments go to cargo build, e.g.
#   bash scripts/static.sh --no-default-features   # the minimal core: nsqd-static-min
set -euo pipefail
cd "$(dirname "$0")/.."
arch="$(uname -m)"
musl="$arch-unknown-linux-musl"
if rustup target list --installed 2>/dev/null | grep -qx "$musl"; then
    target="$musl"
    cargo build -q --release --bin nsqd --target "$target" "$@" >&2
else
    target="$(rustc -vV | sed -n 's/^host: //p')"
    echo "static: $musl not installed, linking glibc statically" >&2
    RUSTFLAGS="-C target-feature=+crt-static" cargo build -q --release --bin nsqd --target "$target" "$@" >&2
fi
dir="${CARGO_TARGET_DIR:-target}/$target/release"
suffix=""
if [ $# -gt 0 ]; then suffix="-min"; fi
out="$dir/nsqd-static$suffix"
cp "$dir/nsqd" "$out"
strip "$out"
echo "$out"
