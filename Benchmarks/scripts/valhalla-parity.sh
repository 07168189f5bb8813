#!/usr/bin/env bash
# Hexfleet vs Valhalla on the shared extracts (see valhalla_parity.py for what is compared).
# Usage: Benchmarks/scripts/valhalla-parity.sh [--bin PATH] [--timing] [--pairs N] [--cities monaco,andorra,helsinki]
# Needs CPython ≥ 3.12 (pyvalhalla 3.9.1's wheels): pyenv's 3.12 when present, else python3.12 on PATH.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${HEXFLEET_VALHALLA_VENV:-${TMPDIR:-/tmp}/hexfleet-valhalla-venv}"
python=""
for candidate in "$HOME"/.pyenv/versions/3.12*/bin/python3 "$(command -v python3.12 || true)"; do
    if [ -x "$candidate" ]; then python="$candidate"; break; fi
done
[ -n "$python" ] || { echo "valhalla-parity: no CPython 3.12 found (pyenv install 3.12)" >&2; exit 2; }
if [ ! -x "$venv/bin/valhalla_build_tiles" ]; then
    "$python" -m venv "$venv"
    "$venv/bin/pip" install -q pyvalhalla==3.9.1
fi
export PATH="$venv/bin:$PATH"   # pyvalhalla's launchers look their executables up on PATH
bin="$root/.build/release/hexfleet"
[ -x "$bin" ] || bin="$root/.build/debug/hexfleet"
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --bin) bin="$2"; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
exec "$venv/bin/python" "$here/valhalla_parity.py" --bin "$bin" --data "$root/../shared/data/osm" "${args[@]}"
