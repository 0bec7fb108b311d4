#!/usr/bin/env bash
# Idempotently creates .venv at the repo root with the pinned Python test deps
# (tests/pynsq/requirements.txt). Does nothing when they are already installed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
req="$root/tests/pynsq/requirements.txt"
python="${PYTHON:-python3}"

# A venv whose interpreter no longer runs (e.g. moved or rebuilt python) is recreated.
if [ -e "$venv" ] && ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
    rm -rf "$venv"
fi
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi

# Exit 0 iff every `name==version` line of the requirements is installed.
pinned_ok() {
    "$venv/bin/python" - "$req" <<'PY'
import sys
from importlib.metadata import version, PackageNotFoundError
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, want = line.split("==")
    try:
        if version(name) != want:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PY
}

if pinned_ok; then
    exit 0
fi

pip=("$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q)
# Build tools first, then everything without build isolation (see requirements.txt).
"${pip[@]}" $(grep -E '^(setuptools|wheel)==' "$req")
"${pip[@]}" --no-build-isolation -r "$req"
pinned_ok || { echo "scripts/venv.sh: pinned versions still missing after install" >&2; exit 1; }
echo "scripts/venv.sh: installed $(grep -cE '==' "$req") pinned packages into $venv"
