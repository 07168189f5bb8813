#!/usr/bin/env bash
# Gateway ingest with the position history on (the default) and off (`--no-history`), alternating in the same run:
# the history's cost on the ingest path, disk writes included. Each round runs loopback-bench.sh's udp-gateway part
# once per mode; the medians and their ratio are printed as one JSON line (and appended to $OUT).
# Usage: Benchmarks/scripts/history-bench.sh [HEXFLEET_BIN]   env: SIZES="100000" ROUNDS=5 OUT=...
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${1:-${HEXFLEET_BIN:-$root/.build/release/hexfleet}}"
rounds="${ROUNDS:-5}"
out="${OUT:-$root/Benchmarks/results/history.jsonl}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$(dirname "$out")"
for n in ${SIZES:-100000}; do
    for r in $(seq "$rounds"); do
        for mode in on off; do
            extra="--udp-key-cache 1048576"; [ "$mode" = off ] && extra="$extra --no-history"
            PARTS=gateway SIZES="$n" SERVE_ARGS="$extra" OUT="$work/$mode.jsonl" "$here/loopback-bench.sh" "$bin" >/dev/null
        done
    done
    python3 - "$work" "$n" <<'PY' | tee -a "$out"
import json, statistics, sys
work, n = sys.argv[1], int(sys.argv[2])
rate = {m: [json.loads(l)["records_per_s"] for l in open(f"{work}/{m}.jsonl")] for m in ("on", "off")}
on, off = statistics.median(rate["on"]), statistics.median(rate["off"])
print(json.dumps({"bench": "history-gateway", "drivers": n, "rounds": len(rate["on"]), "with_history": rate["on"],
                  "without_history": rate["off"], "median_ratio": round(on / off, 3)}))
PY
    rm -f "$work"/*.jsonl
done
