#!/usr/bin/env bash
# Hexfleet against Redis GEO on the same workload, both over loopback, in one run; prints Hexfleet/Redis ratios.
#   ingest : DRIVERS drivers x PASSES position updates in batches of 40.
#            Redis: GEOADD drivers lng lat id ... (40 members per command), all commands pipelined (redis-cli --pipe).
#            Hexfleet: 40-record gateway UDP datagrams (the same positions), accepted records counted in /metrics.
#            Target: Hexfleet >= 5x Redis.
#   nearest: nearest 10 within 1 km of random points in the fleet box, CONNS connections, one request in flight each.
#            Redis: GEOSEARCH drivers FROMLONLAT lng lat BYRADIUS 1000 m ASC COUNT 10.
#            Hexfleet: GET /v1/drivers/nearby?lat=&lng=&k=10&radius_m=1000. Target: Hexfleet >= 3x Redis.
# Installs Debian's redis-server when missing (apt-get), starts it on a loopback port without persistence and stops
# it at the end. JSON lines go to $OUT (default Benchmarks/results/redis.jsonl).
# Usage: Benchmarks/scripts/redis-compare.sh [HEXFLEET_BIN]   env: DRIVERS=1000000 PASSES=2 CONNS=4 SECONDS_EACH=5
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${1:-${HEXFLEET_BIN:-$root/.build/release/hexfleet}}"
drivers="${DRIVERS:-1000000}"
passes="${PASSES:-2}"
conns="${CONNS:-4}"
seconds_each="${SECONDS_EACH:-5}"
out="${OUT:-$root/Benchmarks/results/redis.jsonl}"
mkdir -p "$(dirname "$out")"
[ -x "$bin" ] || { echo "no hexfleet binary at $bin" >&2; exit 1; }
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    echo "installing redis-server (Debian package)" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools) >&2
fi
work="$(mktemp -d)"
cc -O2 -pthread -o "$work/udp_baseline" "$here/udp_baseline.c"
secret="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
token="bench-$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
redis_port=$((30000 + RANDOM % 10000)); http_port=$((redis_port + 1)); udp_port=$((redis_port + 2))
redis_pid=""; server_pid=""
cleanup() {
    [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
emit() { echo "$1" | tee -a "$out"; }
records=$((drivers * passes))

# --- Redis ---
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    --protected-mode no --logfile "$work/redis.log" &
redis_pid=$!
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis_version=$(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p')
# The same positions as make_datagrams.py, as RESP GEOADD commands of 40 members.
python3 - "$work/geoadd.resp" "$drivers" "$passes" <<'PY'
import sys
out, n, passes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def position(i, p):
    z = (i * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z ^= z >> 29
    return 48.68 + (z % 36000) * 1e-5 + p * 2e-6, 2.08 + ((z >> 20) % 54000) * 1e-5
def bulk(s): s = s.encode(); return b"$%d\r\n%s\r\n" % (len(s), s)
with open(out, "wb") as f:
    for p in range(passes):
        for start in range(1, n + 1, 40):
            ids = range(start, min(n + 1, start + 40))
            parts = [bulk("GEOADD"), bulk("drivers")]
            for i in ids:
                lat, lng = position(i, p)
                parts += [bulk("%.7f" % lng), bulk("%.7f" % lat), bulk(str(i))]
            f.write(b"*%d\r\n" % len(parts) + b"".join(parts))
PY
t0=$(now)
redis-cli -p "$redis_port" --pipe <"$work/geoadd.resp" >"$work/pipe.txt"
t1=$(now)
redis_ingest=$(python3 -c "print(round($records / ($t1 - $t0)))")
members=$(redis-cli -p "$redis_port" zcard drivers)
redis_search=$("$work/udp_baseline" geosearch 127.0.0.1 "$redis_port" "$seconds_each" "$conns")
emit "{\"bench\":\"redis\",\"version\":\"$redis_version\",\"drivers\":$drivers,\"records\":$records,\"members\":$members,\"geoadd_records_per_s\":$redis_ingest,\"geosearch_per_s\":$(echo "$redis_search" | field rate),\"geosearch_errors\":$(echo "$redis_search" | field errors),\"connections\":$conns}"
kill "$redis_pid"; wait "$redis_pid" 2>/dev/null || true; redis_pid=""

# --- Hexfleet ---
python3 "$here/make_datagrams.py" "$work/gw.bin" --secret "$secret" --drivers "$drivers" --passes "$passes" --batch 40
HEXFLEET_UDP_SECRET="$secret" HEXFLEET_ADMIN_TOKEN="$token" "$bin" serve --no-demo --http "127.0.0.1:$http_port" \
    --udp "127.0.0.1:$udp_port" --stale-after 600 --log-level warning >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do curl -sf "127.0.0.1:$http_port/healthz" >/dev/null && break; sleep 0.1; done
accepted() { curl -s "127.0.0.1:$http_port/metrics" | awk '/^hexfleet_pings_accepted_total\{transport="udp"\}/ {print $2+0; f=1} END {if (!f) print 0}'; }
t0=$(now)
"$work/udp_baseline" blast 127.0.0.1 "$udp_port" "$work/gw.bin" 0 >/dev/null
prev=-1; t_last=$(now)
for _ in $(seq 600); do
    a=$(accepted)
    if [ "$a" != "$prev" ]; then prev=$a; t_last=$(now); elif python3 -c "import sys; sys.exit(0 if $(now) - $t_last > 0.5 else 1)"; then break; fi
    [ "$a" -ge "$records" ] && { t_last=$(now); break; }
    sleep 0.05
done
hex_ingest=$(python3 -c "print(round($prev / ($t_last - $t0)))")
# The capacity run above may leave drivers out (kernel drops past the engine's rate); load the whole fleet again,
# paced, with newer timestamps, so the query comparison runs on the same 1M-driver fleet as Redis.
python3 "$here/make_datagrams.py" "$work/fill.bin" --secret "$secret" --drivers "$drivers" --batch 40 \
    --base-ms "$(python3 -c 'import time; print(int(time.time() * 1000))')"
BLAST_PPS="${FILL_PPS:-5000}" "$work/udp_baseline" blast 127.0.0.1 "$udp_port" "$work/fill.bin" 0 >/dev/null
sleep 1
in_index=$(curl -s "127.0.0.1:$http_port/healthz" | sed -n 's/.*"drivers":\([0-9]*\).*/\1/p')
hex_search=$("$work/udp_baseline" nearby 127.0.0.1 "$http_port" "$seconds_each" "$conns" "$token")
emit "{\"bench\":\"hexfleet-vs-redis\",\"drivers\":$drivers,\"records\":$records,\"accepted\":$prev,\"ingest_records_per_s\":$hex_ingest,\"nearby_per_s\":$(echo "$hex_search" | field rate),\"nearby_errors\":$(echo "$hex_search" | field errors),\"index_drivers\":${in_index:-0},\"connections\":$conns}"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
r = [x for x in rows if x["bench"] == "redis"][-1]
h = [x for x in rows if x["bench"] == "hexfleet-vs-redis"][-1]
ingest = h["ingest_records_per_s"] / max(1, r["geoadd_records_per_s"])
search = h["nearby_per_s"] / max(1, r["geosearch_per_s"])
print(f"batched ingest: Hexfleet {h['ingest_records_per_s']:,} rec/s vs Redis GEOADD {r['geoadd_records_per_s']:,} rec/s = {ingest:.2f}x (target >= 5x)")
print(f"nearest-10:     Hexfleet {h['nearby_per_s']:,} req/s vs Redis GEOSEARCH {r['geosearch_per_s']:,} req/s = {search:.2f}x (target >= 3x)")
PY
