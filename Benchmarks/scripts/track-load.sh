#!/usr/bin/env bash
# Tracking hub load test: builds the C load client, runs `hexfleet serve` and reports
#   1. memory per idle WebSocket connection (server RSS before/after N idle /v1/ws/track connections),
#   2. fan-out: SUBSCRIBERS bbox subscribers, DRIVERS drivers pinging over UDP at RATE Hz, STALLED readers that never
#      read: delivered frames and positions per second, ping → subscriber latency, loop lag p99 (/metrics).
# Usage: Benchmarks/scripts/track-load.sh [path/to/hexfleet (release)] ; env SUBSCRIBERS DRIVERS RATE SECONDS STALLED IDLE
# TICK_MS passes --track-tick-ms (needs a serve command with that flag). The server takes at most 10,000 connections:
# subscribers + stalled stay below it so /metrics can still be read during the run.
set -euo pipefail
cd "$(dirname "$0")"
BIN="${1:-../../.build/release/hexfleet}"
SUBSCRIBERS="${SUBSCRIBERS:-9800}" DRIVERS="${DRIVERS:-5000}" RATE="${RATE:-1}" SECONDS_="${SECONDS:-15}"
STALLED="${STALLED:-100}" IDLE="${IDLE:-10000}"
OUT="$(mktemp -d)"
cc -O2 -o "$OUT/track_load" track_load.c -lcrypto -lpthread
free_port() { python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, getattr(socket, sys.argv[1])); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"; }
SECRET="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
ADMIN="bench-admin-$(python3 -c 'import secrets; print(secrets.token_hex(6))')"
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
wait_up() { for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return 0; sleep 0.1; done; return 1; }
metrics() { for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$1/metrics" && return 0; sleep 0.2; done; }
lag_buckets() { metrics "$1" | grep '^hexfleet_loop_lag_seconds_bucket' || true; }

# 1. Idle connections (a --demo server lets anonymous viewers connect).
HP=$(free_port SOCK_STREAM); UP=$(free_port SOCK_DGRAM)
"$BIN" serve --http 127.0.0.1:$HP --udp 127.0.0.1:$UP --demo --demo-drivers 0 --udp-secret "$SECRET" --admin-token "$ADMIN" --log-level error 2>"$OUT/idle.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$OUT"' EXIT
wait_up $HP
sleep 1
BEFORE=$(rss_kb $SERVER)
"$OUT/track_load" idle $HP "$IDLE" 6 > "$OUT/idle.out" &
CLIENT=$!
sleep 4
AFTER=$(rss_kb $SERVER)
wait $CLIENT || true
cat "$OUT/idle.out"
python3 -c "import sys; b,a,n=map(int,sys.argv[1:]); print(f'idle memory: rss {b} kB -> {a} kB, {(a-b)*1024/n:.0f} bytes per connection')" "$BEFORE" "$AFTER" "$IDLE"
kill $SERVER; wait $SERVER 2>/dev/null || true

# 2. Fan-out with stalled readers.
HP=$(free_port SOCK_STREAM); UP=$(free_port SOCK_DGRAM)
"$BIN" serve --http 127.0.0.1:$HP --udp 127.0.0.1:$UP --no-demo --udp-secret "$SECRET" --admin-token "$ADMIN" --log-level error ${TICK_MS:+--track-tick-ms $TICK_MS} 2>"$OUT/fan.log" &
SERVER=$!
wait_up $HP
# Loop lag is read after the connection burst (the client signals it), so it covers the steady fan-out.
READY_FILE="$OUT/ready" "$OUT/track_load" fanout $HP $UP "$SECRET" "$ADMIN" "$SUBSCRIBERS" "$DRIVERS" "$SECONDS_" "$RATE" "$STALLED" &
CLIENT=$!
while [ ! -e "$OUT/ready" ] && kill -0 $CLIENT 2>/dev/null; do sleep 0.1; done
lag_buckets $HP > "$OUT/lag.before"
wait $CLIENT
sleep 0.5
lag_buckets $HP > "$OUT/lag.after"
metrics $HP | grep -E '^hexfleet_(ws_evictions_total|track_skipped_ticks_total|track_messages_total|track_positions_total|pings_accepted_total|track_tick_seconds_(sum|count))' || true
python3 - "$OUT/lag.before" "$OUT/lag.after" <<'PY'
import re, sys
def read(p):
    out = {}
    for line in open(p):
        m = re.match(r'hexfleet_loop_lag_seconds_bucket\{le="([^"]+)"\} (\S+)', line)
        if m: out[m.group(1)] = float(m.group(2))
    return out
b, a = read(sys.argv[1]), read(sys.argv[2])
les = sorted(a, key=lambda x: float("inf") if x == "+Inf" else float(x))
total = a.get("+Inf", 0) - b.get("+Inf", 0)
for le in les:
    if total and a[le] - b.get(le, 0) >= 0.99 * total:
        print(f"loop lag p99 <= {le} s over {int(total)} probes (hexfleet_loop_lag_seconds)")
        break
PY
