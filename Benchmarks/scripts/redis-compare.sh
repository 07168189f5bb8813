#!/usr/bin/env bash
# Hexfleet against Redis GEO on the same workload, both over loopback, in one run; prints Hexfleet/Redis ratios.
#   ingest : DRIVERS drivers are loaded first (not timed), then PASSES position updates of each, in batches of 40.
#            Redis: GEOADD drivers lng lat id ... (40 members per command), all pipelined (redis-cli --pipe); TCP
#            flow control makes the pipe run at exactly the rate Redis keeps up with.
#            Hexfleet: 40-record gateway UDP datagrams (the same positions). UDP has no flow control, so its rate is
#            the throughput of RFC 2544: the highest offered rate (a ladder of paced blasts, RATES datagrams/s) that
#            the engine takes with at most 0.1 % loss; the unpaced flood (what it accepts while the kernel drops
#            the excess) is reported beside it. Target: Hexfleet >= 5x Redis.
#   nearest: nearest 10 within 1 km of random points in the fleet box, CONNS connections, one request in flight each.
#            Redis: GEOSEARCH drivers FROMLONLAT lng lat BYRADIUS 1000 m ASC COUNT 10.
#            Hexfleet: GET /v1/drivers/nearby?lat=&lng=&k=10&radius_m=1000. Target: Hexfleet >= 3x Redis.
# Installs Debian's redis-server when missing (apt-get), starts it on a loopback port without persistence and stops
# it at the end. JSON lines go to $OUT (default Benchmarks/results/redis.jsonl).
# Usage: Benchmarks/scripts/redis-compare.sh [HEXFLEET_BIN]
#   env: DRIVERS=1000000 PASSES=2 CONNS=4 SECONDS_EACH=5 RATES="25000 50000 75000 100000 125000 150000 200000"
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${1:-${HEXFLEET_BIN:-$root/.build/release/hexfleet}}"
drivers="${DRIVERS:-1000000}"
passes="${PASSES:-2}"
conns="${CONNS:-4}"
seconds_each="${SECONDS_EACH:-5}"
rates="${RATES:-25000 50000 75000 100000 125000 150000 200000}"
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
# The same positions as make_datagrams.py, as RESP GEOADD commands of 40 members: pass 0 fills, passes 1..P update.
python3 - "$work" "$drivers" "$passes" <<'PY'
import sys
work, n, passes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def position(i, p):
    z = (i * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z ^= z >> 29
    return 48.68 + (z % 36000) * 1e-5 + p * 2e-6, 2.08 + ((z >> 20) % 54000) * 1e-5
def bulk(s): s = s.encode(); return b"$%d\r\n%s\r\n" % (len(s), s)
def write(path, pass_range):
    with open(path, "wb") as f:
        for p in pass_range:
            for start in range(1, n + 1, 40):
                ids = range(start, min(n + 1, start + 40))
                parts = [bulk("GEOADD"), bulk("drivers")]
                for i in ids:
                    lat, lng = position(i, p)
                    parts += [bulk("%.7f" % lng), bulk("%.7f" % lat), bulk(str(i))]
                f.write(b"*%d\r\n" % len(parts) + b"".join(parts))
write(work + "/fill.resp", range(0, 1))
write(work + "/geoadd.resp", range(1, passes + 1))
PY
redis-cli -p "$redis_port" --pipe <"$work/fill.resp" >/dev/null
t0=$(now)
redis-cli -p "$redis_port" --pipe <"$work/geoadd.resp" >"$work/pipe.txt"
t1=$(now)
redis_ingest=$(python3 -c "print(round($records / ($t1 - $t0)))")
members=$(redis-cli -p "$redis_port" zcard drivers)
redis_search=$("$work/udp_baseline" geosearch 127.0.0.1 "$redis_port" "$seconds_each" "$conns")
emit "{\"bench\":\"redis\",\"version\":\"$redis_version\",\"drivers\":$drivers,\"records\":$records,\"members\":$members,\"geoadd_records_per_s\":$redis_ingest,\"geosearch_per_s\":$(echo "$redis_search" | field rate),\"geosearch_errors\":$(echo "$redis_search" | field errors),\"connections\":$conns}"
kill "$redis_pid"; wait "$redis_pid" 2>/dev/null || true; redis_pid=""

# --- Hexfleet ---
# Timestamps: the fill at base, rung r's passes after it, all in the past and inside the server's skew window.
base_ms=$(python3 -c 'import time; print(int(time.time() * 1000) - 60_000)')
python3 "$here/make_datagrams.py" "$work/fill.bin" --secret "$secret" --drivers "$drivers" --batch 40 --base-ms "$base_ms" >/dev/null
HEXFLEET_UDP_SECRET="$secret" HEXFLEET_ADMIN_TOKEN="$token" "$bin" serve --no-demo --http "127.0.0.1:$http_port" \
    --udp "127.0.0.1:$udp_port" --stale-after 600 --log-level warning >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do curl -sf "127.0.0.1:$http_port/healthz" >/dev/null && break; sleep 0.1; done
accepted() { curl -s "127.0.0.1:$http_port/metrics" | awk '/^hexfleet_pings_accepted_total\{transport="udp"\}/ {print $2+0; f=1} END {if (!f) print 0}'; }
settled() {   # the accepted counter once it stops moving
    local prev=-1 a
    for _ in $(seq 100); do sleep 0.2; a=$(accepted); [ "$a" = "$prev" ] && break; prev=$a; done
    echo "$a"
}
BLAST_PPS="${FILL_PPS:-20000}" "$work/udp_baseline" blast 127.0.0.1 "$udp_port" "$work/fill.bin" 0 >/dev/null
settled >/dev/null
rung=0; best=0; ladder=""
for pps in $rates flood; do
    python3 "$here/make_datagrams.py" "$work/load.bin" --secret "$secret" --drivers "$drivers" --passes "$passes" \
        --batch 40 --base-ms $((base_ms + 1000 + rung * passes * 1000)) >/dev/null
    rung=$((rung + 1))
    before=$(settled)
    if [ "$pps" = flood ]; then
        "$work/udp_baseline" blast 127.0.0.1 "$udp_port" "$work/load.bin" 0 >"$work/blast.txt"
    else
        BLAST_PPS="$pps" "$work/udp_baseline" blast 127.0.0.1 "$udp_port" "$work/load.bin" 0 >"$work/blast.txt"
    fi
    start=$(field start_unix <"$work/blast.txt")
    got=$(( $(settled) - before ))
    last=$(curl -s "127.0.0.1:$http_port/metrics" | awk '/^hexfleet_udp_last_datagram_timestamp_seconds / {print $2}')
    rate=$(python3 -c "print(round($got / max(float('$last') - $start, 1e-3)))")
    offered=$(python3 -c "print(round($(field rate <"$work/blast.txt") * 40))")
    ladder="$ladder{\"offered_records_per_s\":$offered,\"accepted\":$got,\"records\":$records,\"accepted_records_per_s\":$rate,\"paced\":$([ "$pps" = flood ] && echo false || echo true)},"
    if [ "$pps" = flood ]; then flood_rate=$rate
    elif [ "$((got * 1000))" -ge "$((records * 999))" ] && [ "$rate" -gt "$best" ]; then best=$rate; fi
done
hex_ingest=$best
in_index=$(curl -s "127.0.0.1:$http_port/healthz" | sed -n 's/.*"drivers":\([0-9]*\).*/\1/p')
hex_search=$("$work/udp_baseline" nearby 127.0.0.1 "$http_port" "$seconds_each" "$conns" "$token")
emit "{\"bench\":\"hexfleet-vs-redis\",\"drivers\":$drivers,\"records\":$records,\"ingest_records_per_s\":$hex_ingest,\"flood_records_per_s\":$flood_rate,\"ladder\":[${ladder%,}],\"nearby_per_s\":$(echo "$hex_search" | field rate),\"nearby_errors\":$(echo "$hex_search" | field errors),\"index_drivers\":${in_index:-0},\"connections\":$conns}"
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
