#!/usr/bin/env bash
# Online food scenario, stacked against single on the same seed (docs/simulator.md, "Online stacked vs online
# single"): two release engines on Monaco side by side, one with stacking (`serve --dispatch-stacking`) played by
# `simulate --scenario food --policy stacked`, one with today's one-order dispatch (`--no-dispatch-stacking`)
# played by `--policy single`; same seed, same orders, same fleet. Both run at once so that both see the same
# machine load. Prints both JSON lines and appends them to $OUT (default Benchmarks/results/online-food.jsonl).
# Usage: Benchmarks/scripts/online-food.sh [ENGINE_BIN [SIMULATOR_BIN]]
#   env: SEED=1 DRIVERS=180 WINDOW=900 PEAK=6 DRAIN=2700
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
engine="$(realpath "${1:-$root/.build/release/hexfleet}")"
sim="$(realpath "${2:-$engine}")"
seed="${SEED:-1}"; drivers="${DRIVERS:-180}"; window="${WINDOW:-900}"; peak="${PEAK:-6}"; drain="${DRAIN:-2700}"
out="${OUT:-$root/Benchmarks/results/online-food.jsonl}"
mkdir -p "$(dirname "$out")"
work="$(mktemp -d)"
secret="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
token="bench-$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
base=$((40000 + RANDOM % 10000))
run() {   # policy stacking-flag http-port udp-port
    local policy=$1 flag=$2 http=$3 udp=$4
    mkdir -p "$work/$policy"
    HEXFLEET_UDP_SECRET="$secret" HEXFLEET_ADMIN_TOKEN="$token" "$engine" serve --no-demo "$flag" \
        --graph "$root/fixtures/monaco.osm.pbf" --data "$work/$policy" --http "127.0.0.1:$http" --udp "127.0.0.1:$udp" \
        --log-level warning >"$work/$policy/serve.log" 2>&1 &
    local server=$!
    for _ in $(seq 600); do curl -sf "127.0.0.1:$http/healthz" >/dev/null && break; sleep 0.2; done
    HEXFLEET_UDP_SECRET="$secret" HEXFLEET_ADMIN_TOKEN="$token" "$sim" simulate --scenario food --policy "$policy" \
        --seed "$seed" --drivers "$drivers" --duration "$window" --orders-per-minute "$peak" --drain "$drain" \
        --graph "$root/fixtures/monaco.osm.pbf" --graph-cache "$work/monaco.hxg" \
        --udp "127.0.0.1:$udp" --http "127.0.0.1:$http" --report-every 60 >"$work/$policy/sim.out" 2>"$work/$policy/sim.err"
    curl -sf -H "Authorization: Bearer $token" "127.0.0.1:$http/v1/dispatch/stats" >"$work/$policy/stats.json" || true
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
}
# The graph cache first, so neither run spends its window importing.
"$sim" simulate --offline --scenario food --graph "$root/fixtures/monaco.osm.pbf" --graph-cache "$work/monaco.hxg" \
    --drivers 1 --duration 1 >/dev/null 2>&1 || true
run stacked --dispatch-stacking $base $((base + 1)) &
pids+=($!)
run single --no-dispatch-stacking $((base + 2)) $((base + 3)) &
pids+=($!)
wait "${pids[@]}"
for policy in stacked single; do
    tail -1 "$work/$policy/sim.out" | tee -a "$out"
    echo "engine stats ($policy): $(cat "$work/$policy/stats.json" 2>/dev/null)" >&2
    grep -v "^simulate: t=" "$work/$policy/sim.err" | tail -5 >&2 || true
done
