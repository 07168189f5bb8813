#!/usr/bin/env bash
# Tracking hub load test (/v1/ws/track), every figure beside its baseline in the same run; one JSON line each to $OUT
# (default Benchmarks/results/track.jsonl):
#   idle     : server RSS per idle WebSocket connection (IDLE connections, each subscribed to a box where nothing
#              moves; RSS before, and after all are open and 2 s idle).
#   bare     : the kernel's limit on this machine: a C thread writing MESSAGE_BYTES messages round-robin over
#              SUBSCRIBERS loopback TCP connections, read by the same polling client. No WebSocket server in it.
#   fan-out scenarios, each with SUBSCRIBERS clients, DRIVERS drivers pinging over UDP at RATE Hz and STALLED readers
#   that never read; frames and positions delivered per second, ping -> subscriber latency (µs per position from
#   the sender thread's stamp, percentiles by HdrHistogram),
#   loop lag p99 over the steady window (/metrics), evictions:
#     viewport      : each client watches a 0.05° box (about 1 % of the drivers), default tick (100 ms)
#     viewport-fast : the same with a 20 ms tick (saturates the server: its frames/s is the capacity)
#     follow        : each client follows one driver (a customer and its courier), 10 ms tick
# Usage: Benchmarks/scripts/track-load.sh [hexfleet binary (release)]
#   env: SUBSCRIBERS=10000 DRIVERS=5000 RATE=1 DURATION=10 STALLED=100 IDLE=10000 MESSAGE_BYTES=1100 SCENARIOS=...
# The client needs about SUBSCRIBERS + STALLED file descriptors, the server as many: the script raises the limit.
# PIN=1 (default on a machine with 2+ CPUs): the server (or the bare writer) runs on CPU 0 and the load client on
# CPU 1, so neither preempts the other and loop lag measures the server's own work, not the scheduler's.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
BIN="$(realpath "${1:-$root/.build/release/hexfleet}")"
[ -x "$BIN" ] || { echo "no hexfleet binary at $BIN" >&2; exit 1; }
SUBSCRIBERS="${SUBSCRIBERS:-10000}" DRIVERS="${DRIVERS:-5000}" RATE="${RATE:-1}" SECONDS_="${DURATION:-10}"
STALLED="${STALLED:-100}" IDLE="${IDLE:-10000}" MESSAGE_BYTES="${MESSAGE_BYTES:-1100}"
SCENARIOS="${SCENARIOS:-idle bare viewport viewport-fast follow}"
PIN="${PIN:-$([ "$(nproc)" -ge 2 ] && echo 1 || echo 0)}"
server_cpu=(); client_cpu=()
if [ "$PIN" = 1 ]; then server_cpu=(taskset -c 0); client_cpu=(taskset -c 1); export BARE_WRITER_CPU=0 BARE_READER_CPU=1; fi
OUT_FILE="${OUT:-$root/Benchmarks/results/track.jsonl}"
mkdir -p "$(dirname "$OUT_FILE")"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
work="$(mktemp -d)"
# Latency percentiles come from HdrHistogram (PyPI hdrhistogram, 3 significant digits).
python3 -c 'import hdrh' 2>/dev/null || python3 -m pip install --quiet "hdrhistogram==0.10.3"
cc -O2 -o "$work/track_load" "$here/track_load.c" -lcrypto -lpthread
free_port() { python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, getattr(socket, sys.argv[1])); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"; }
SECRET="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
ADMIN="bench-admin-$(python3 -c 'import secrets; print(secrets.token_hex(6))')"
SERVER=""
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
wait_up() { for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return 0; sleep 0.1; done; return 1; }
metrics() { for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$1/metrics" && return 0; sleep 0.2; done; }
metric() { metrics "$1" | awk -v m="$2" '$1 == m {print $2+0; f=1} END {if (!f) print 0}'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" | head -1; }
emit() { echo "$1" | tee -a "$OUT_FILE"; }
stop_server() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; SERVER=""; }

for scenario in $SCENARIOS; do
case "$scenario" in
idle)
    # A --demo server lets anonymous viewers connect; no demo drivers, so nothing is sent to them.
    HP=$(free_port SOCK_STREAM); UP=$(free_port SOCK_DGRAM)
    "$BIN" serve --http 127.0.0.1:$HP --udp 127.0.0.1:$UP --demo --demo-drivers 0 --udp-secret "$SECRET" \
        --admin-token "$ADMIN" --log-level error 2>"$work/idle.log" &
    SERVER=$!
    wait_up $HP; sleep 1
    before=$(rss_kb $SERVER)
    rm -f "$work/idle.ready"
    READY_FILE="$work/idle.ready" "$work/track_load" idle $HP "$IDLE" 12 >"$work/idle.out" &
    client=$!
    # Sampled once every connection is open and subscribed, and the server's sweeps have seen them idle (2 s):
    # the largest of three samples half a second apart.
    while [ ! -e "$work/idle.ready" ] && kill -0 $client 2>/dev/null; do sleep 0.1; done
    sleep 2
    after=0
    for _ in 1 2 3; do r=$(rss_kb $SERVER); [ "$r" -gt "$after" ] && after=$r; sleep 0.5; done
    wait $client || true
    open=$(sed -n 's/idle connections open: \([0-9]*\)/\1/p' "$work/idle.out")
    emit "{\"bench\":\"track-idle\",\"connections\":${open:-0},\"rss_before_kb\":$before,\"rss_after_kb\":$after,\"bytes_per_connection\":$(python3 -c "print(round(($after - $before) * 1024 / max(1, ${open:-0})))")}"
    stop_server
    ;;
bare)
    # Both ends live in one process here: at most half the descriptor limit each.
    conns=$(( SUBSCRIBERS < ($(ulimit -n) - 64) / 2 ? SUBSCRIBERS : ($(ulimit -n) - 64) / 2 ))
    line=$("$work/track_load" bare "$conns" "$MESSAGE_BYTES" "$SECONDS_")
    emit "{\"bench\":\"track-bare\",\"connections\":$conns,\"message_bytes\":$MESSAGE_BYTES,\"writes_per_s\":$(echo "$line" | field writes_per_s)}"
    ;;
viewport|viewport-fast|follow)
    tick=100; follow=0; interval="${TRACK_INTERVAL_MS:-}"
    [ "$scenario" = viewport-fast ] && tick=20
    [ "$scenario" = follow ] && { tick=10; follow=1; }
    HP=$(free_port SOCK_STREAM); UP=$(free_port SOCK_DGRAM)
    "${server_cpu[@]}" "$BIN" serve --http 127.0.0.1:$HP --udp 127.0.0.1:$UP --no-demo --udp-secret "$SECRET" --admin-token "$ADMIN" \
        --log-level error --track-tick-ms $tick ${interval:+--track-interval-ms $interval} 2>"$work/fan.log" &
    SERVER=$!
    wait_up $HP
    rm -f "$work/ready" "$work/done"
    FOLLOW=$follow READY_FILE="$work/ready" DONE_FILE="$work/done" LATENCY_FILE="$work/latency.txt" "${client_cpu[@]}" "$work/track_load" fanout $HP $UP "$SECRET" "$ADMIN" \
        "$SUBSCRIBERS" "$DRIVERS" "$SECONDS_" "$RATE" "$STALLED" >"$work/fan.out" 2>"$work/fan.err" &
    client=$!
    # Loop lag is read once the connection burst is over and again before the clients disconnect: the steady window.
    while [ ! -e "$work/ready" ] && kill -0 $client 2>/dev/null; do sleep 0.1; done
    metrics $HP | grep '^hexfleet_loop_lag_seconds_bucket' >"$work/lag.before"
    while [ ! -e "$work/done" ] && kill -0 $client 2>/dev/null; do sleep 0.1; done
    metrics $HP | grep '^hexfleet_loop_lag_seconds_bucket' >"$work/lag.after"
    evictions=$(metric $HP hexfleet_ws_evictions_total)
    wait $client || true
    stop_server
    lag=$(python3 - "$work/lag.before" "$work/lag.after" <<'PY'
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
p99 = "null"
for le in les:
    if total and a[le] - b.get(le, 0) >= 0.99 * total:
        p99 = "null" if le == "+Inf" else str(float(le) * 1000)
        break
print(f'"loop_lag_p99_le_ms":{p99},"loop_lag_probes":{int(total)}')
PY
)
    f="$work/fan.out"
    latency=$(python3 - "$work/latency.txt" <<'PY'
import sys
from hdrh.histogram import HdrHistogram
h = HdrHistogram(1, 60_000_000, 3)   # µs, up to a minute, 3 significant digits
for line in open(sys.argv[1]):
    v, n = line.split()
    h.record_value(max(1, int(v)), int(n))
ms = lambda us: round(us / 1000, 3)
print(f'"latency_p50_ms":{ms(h.get_value_at_percentile(50))},"latency_p99_ms":{ms(h.get_value_at_percentile(99))},'
      f'"latency_p999_ms":{ms(h.get_value_at_percentile(99.9))},"latency_max_ms":{ms(h.get_max_value())},'
      f'"latency_samples":{h.get_total_count()}')
PY
)
    emit "{\"bench\":\"track-fanout\",\"scenario\":\"$scenario\",\"tick_ms\":$tick,\"interval_ms\":${interval:-$tick},\"subscribers\":$(field 'subscribers' <"$f"),\"stalled\":$(field 'stalled' <"$f"),\"drivers\":$DRIVERS,\"rate_hz\":$RATE,\"frames_per_s\":$(field frames_per_s <"$f"),\"positions_per_s\":$(field positions_per_s <"$f"),$latency,\"timed_exactly\":$(field timed_exactly <"$f"),\"timed_by_ts\":$(field timed_by_ts <"$f"),\"evictions\":$evictions,$lag}"
    ;;
*) echo "unknown scenario $scenario" >&2; exit 2 ;;
esac
done
