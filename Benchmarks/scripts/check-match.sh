#!/usr/bin/env bash
# Runs `hexfleet match` on every instance in the shared assignment folder and checks each answer:
# the total equals NAME.opt (relative 1e-9), the assignment is valid (each row and column at most
# once, no forbidden pair, exactly min(R, C) pairs) and its costs sum to the printed total.
# Usage: Benchmarks/scripts/check-match.sh [path/to/hexfleet] [data/assignment dir]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../../.build-dispatch/release/hexfleet}"
dir="${2:-${HEXFLEET_SHARED_DATA:-$here/../../../shared/data}/assignment}"
fail=0
for f in "$dir"/*.txt; do
    name="$(basename "$f" .txt)"
    out="$(mktemp)"; err="$(mktemp)"
    if ! "$bin" match --input "$f" --timing >"$out" 2>"$err"; then
        echo "FAIL $name: exit status $? ($(cat "$err"))"; fail=1; rm -f "$out" "$err"; continue
    fi
    if python3 - "$f" "${f%.txt}.opt" "$out" "$name" "$(grep '^solve ' "$err" || true)" <<'PY'
import sys
inst, optf, outf, name, timing = sys.argv[1:6]
with open(inst) as fh:
    r, c = map(int, fh.readline().split())
    rows = [line.split() for line in fh if line.strip()]
opt = float(open(optf).read())
lines = open(outf).read().split("\n")
total = float(lines[0])
pairs = [tuple(map(int, l.split())) for l in lines[1:] if l.strip()]
errors = []
if len(pairs) != min(r, c): errors.append(f"{len(pairs)} pairs, want {min(r, c)}")
if len({p[0] for p in pairs}) != len(pairs) or len({p[1] for p in pairs}) != len(pairs): errors.append("a row or column repeats")
if [p[0] for p in pairs] != sorted(p[0] for p in pairs): errors.append("pairs not sorted by row")
s = 0.0
for i, j in pairs:
    if not (0 <= i < r and 0 <= j < c): errors.append(f"pair {i} {j} out of range"); break
    if rows[i][j] == "-": errors.append(f"pair {i} {j} is forbidden"); break
    s += float(rows[i][j])
tol = 1e-9 * max(1.0, abs(opt))
if abs(total - opt) > tol: errors.append(f"total {total!r} != opt {opt!r}")
if abs(s - total) > tol: errors.append(f"pairs sum to {s!r}, printed {total!r}")
print(("ok   " if not errors else "FAIL ") + f"{name:24s} total={total!r} {timing}" + ("" if not errors else " :: " + "; ".join(errors)))
sys.exit(1 if errors else 0)
PY
    then :; else fail=1; fi
    rm -f "$out" "$err"
done
exit $fail
