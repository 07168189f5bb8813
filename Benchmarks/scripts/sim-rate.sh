#!/usr/bin/env bash
# How fast `hexfleet simulate` itself generates pings, so it is never the bottleneck it claims to measure: it runs
# against a release `hexfleet serve` with more drivers than it can serve at --period (so it sends flat out), once
# with driver-signed one-record datagrams and once with 40-record gateway datagrams. Reports pings sent per second
# of wall time and per second of the simulator's own CPU (user + system, from /proc), one JSON line each to $OUT
# (default Benchmarks/results/simrate.jsonl). On loopback the kernel delivers each datagram in the sender's context,
# so the system time includes the receiver's side of every datagram.
# Usage: Benchmarks/scripts/sim-rate.sh [HEXFLEET_BIN]   env: DURATION=10 SINGLE_DRIVERS=1000000 BATCH_DRIVERS=1000000
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$(realpath "${1:-$root/.build/release/hexfleet}")"
duration="${DURATION:-10}"
out="${OUT:-$root/Benchmarks/results/simrate.jsonl}"
mkdir -p "$(dirname "$out")"
work="$(mktemp -d)"
secret="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
token="bench-$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
http_port=$((40000 + RANDOM % 10000)); udp_port=$((http_port + 1))
HEXFLEET_UDP_SECRET="$secret" HEXFLEET_ADMIN_TOKEN="$token" "$bin" serve --no-demo --http "127.0.0.1:$http_port" \
    --udp "127.0.0.1:$udp_port" --stale-after 600 --log-level warning >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "127.0.0.1:$http_port/healthz" >/dev/null && break; sleep 0.1; done
ticks=$(getconf CLK_TCK)
for mode in single batch; do
    if [ "$mode" = single ]; then drivers="${SINGLE_DRIVERS:-1000000}"; batch=1; period=1; else drivers="${BATCH_DRIVERS:-1000000}"; batch=40; period=0.5; fi
    HEXFLEET_UDP_SECRET="$secret" HEXFLEET_ADMIN_TOKEN="$token" "$bin" simulate --graph "$root/fixtures/monaco.osm.pbf" \
        --graph-cache "$work/monaco.hxg" --drivers "$drivers" --period "$period" --duration "$duration" --batch "$batch" \
        --udp "127.0.0.1:$udp_port" --http "127.0.0.1:$http_port" --report-every 60 >"$work/sim.out" 2>"$work/sim.err" &
    sim=$!
    # CPU and wall time from the first ping on: the graph import and fleet set-up before it are not sending.
    while ! grep -q "ready in" "$work/sim.err" 2>/dev/null && kill -0 $sim 2>/dev/null; do sleep 0.05; done
    t0=$(date +%s.%N); c0=$(awk '{print $14 + $15}' /proc/$sim/stat 2>/dev/null || echo 0)
    last=$c0
    while kill -0 $sim 2>/dev/null; do last=$(awk '{print $14 + $15}' /proc/$sim/stat 2>/dev/null || echo "$last"); t1=$(date +%s.%N); sleep 0.2; done
    wait $sim
    line=$(tail -1 "$work/sim.out")
    python3 - "$mode" "$drivers" "$batch" "$line" "$t0" "$t1" "$c0" "$last" "$ticks" <<'PY' | tee -a "$out"
import json, sys
mode, drivers, batch, line, t0, t1, c0, c1, ticks = sys.argv[1:]
r = json.loads(line)
wall = max(float(t1) - float(t0), 1e-3)
cpu = max((float(c1) - float(c0)) / float(ticks), 1e-3)
print(json.dumps({"bench": "sim-rate", "mode": mode, "drivers": int(drivers), "batch": int(batch),
                  "pings_sent": r["pings_sent"], "datagrams_sent": r["datagrams_sent"], "duration_s": r["duration_s"],
                  "pings_per_s": round(r["pings_sent"] / r["duration_s"]), "cpu_seconds": round(cpu, 2),
                  "pings_per_cpu_second": round(r["pings_sent"] / cpu), "loss": r["loss"]}))
PY
done
