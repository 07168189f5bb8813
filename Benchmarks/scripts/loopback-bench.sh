#!/usr/bin/env bash
# End-to-end loopback benchmarks of a release `hexfleet serve`, each beside its baseline in the same run:
#   udp-single  : one-record driver-signed datagrams blasted once; engine accepted/s vs a bare C recvmmsg drain of
#                 the same file (target >= 90 %), at each fleet size in SIZES.
#   udp-gateway : 40-record gateway datagrams; accepted records/s (compared with Redis GEOADD by redis-compare.sh).
#   latency     : `hexfleet simulate` (gateway batches of 40, 2 s period) for LATENCY_SECONDS at each size;
#                 ping -> index p50/p99 from its probes.
#   nearby      : GET /v1/drivers/nearby (k=10, 1 km) requests/s with NEARBY_CONNS connections, idle and while the
#                 simulator ingests (the "under load" figure).
# Every figure is one JSON line appended to $OUT (default Benchmarks/results/loopback.jsonl).
# Usage: Benchmarks/scripts/loopback-bench.sh [HEXFLEET_BIN]
#   env: SIZES="10000 100000 1000000", LATENCY_SECONDS=10, NEARBY_SECONDS=5, NEARBY_CONNS=4, OUT=...,
#        PARTS="single gateway" (default: all: "single gateway load"; gateway runs whenever load does),
#        SERVE_ARGS="--udp-key-cache 1048576" (extra `hexfleet serve` flags; default none),
#        SINGLE_DATAGRAMS=3000000 (timed one-record datagrams per size), GSO_PPS=2500000 (the paced flood's rate)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${1:-${HEXFLEET_BIN:-$root/.build/release/hexfleet}}"
sizes="${SIZES:-10000 100000 1000000}"
latency_seconds="${LATENCY_SECONDS:-10}"
nearby_seconds="${NEARBY_SECONDS:-5}"
nearby_conns="${NEARBY_CONNS:-4}"
single_datagrams="${SINGLE_DATAGRAMS:-3000000}"
gso_pps="${GSO_PPS:-2500000}"
parts=" ${PARTS:-single gateway load} "
out="${OUT:-$root/Benchmarks/results/loopback.jsonl}"
work="$(mktemp -d)"
mkdir -p "$(dirname "$out")"
[ -x "$bin" ] || { echo "no hexfleet binary at $bin (swift build -c release --product hexfleet)" >&2; exit 1; }
cc -O2 -pthread -o "$work/udp_baseline" "$here/udp_baseline.c"
secret="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
token="bench-$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
http_port=$((20000 + RANDOM % 10000)); udp_port=$((http_port + 1)); drain_port=$((http_port + 2))
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

start_server() {
    HEXFLEET_UDP_SECRET="$secret" HEXFLEET_ADMIN_TOKEN="$token" "$bin" serve --no-demo \
        --http "127.0.0.1:$http_port" --udp "127.0.0.1:$udp_port" --stale-after 600 --log-level warning ${SERVE_ARGS:-} \
        >"$work/serve.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do curl -sf "127.0.0.1:$http_port/healthz" >/dev/null && return 0; sleep 0.1; done
    echo "server did not start: $(cat "$work/serve.log")" >&2; exit 1
}
stop_server() { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""; }
accepted() { curl -s "127.0.0.1:$http_port/metrics" | awk '/^hexfleet_pings_accepted_total\{transport="udp"\}/ {print $2+0; f=1} END {if (!f) print 0}'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
emit() { echo "$1" | tee -a "$out"; }

# Blasts FILE once at the engine; prints "records seconds", where seconds runs from the blaster's first send to the
# engine's last datagram (its `hexfleet_udp_last_datagram_timestamp_seconds`): the window the drain baseline is timed
# over too, so a lagging engine is timed to the end of its backlog and nothing else runs on the cores meanwhile
# (the counters are read once the blaster is done and again when they settle).
engine_ingest() {
    local file=$1 expect=$2 before a prev start last
    before=$(accepted)
    "$work/udp_baseline" blast 127.0.0.1 "$udp_port" "$file" 0 >"$work/blast.txt"
    start=$(field start_unix <"$work/blast.txt")
    prev=-1
    for _ in $(seq 100); do
        sleep 0.2
        a=$(accepted)
        [ "$a" = "$prev" ] && break
        prev=$a
        [ "$((a - before))" -ge "$expect" ] && break
    done
    last=$(curl -s "127.0.0.1:$http_port/metrics" | awk '/^hexfleet_udp_last_datagram_timestamp_seconds / {print $2}')
    echo "$((prev - before)) $(python3 -c "print(round(max(float('$last') - $start, 1e-3), 3))")"
}

# One-record datagrams from $work/single.bin into the engine, then into the bare drain from the same blaster (which
# reads BLAST_GSO from the environment); emits one JSON line named BENCH. With WARM set, the engine first takes
# $work/warm.bin (every driver once, paced so none is lost, not timed): the timed pass is then the steady state of a
# known fleet, as in service, where a driver's first ping comes once and the next thousands follow. Without it every
# driver is new in its first pass (the cold start: key derivation and a new index row per driver).
single_vs_drain() {
    local bench=$1 n=$2 total=$3 got secs engine_rate drain_pid drain_rate drain_got
    start_server
    if [ -n "${WARM:-}" ]; then
        local before warm
        before=$(accepted)
        env -u BLAST_GSO BLAST_PPS=150000 "$work/udp_baseline" blast 127.0.0.1 "$udp_port" "$work/warm.bin" 0 >/dev/null
        for _ in $(seq 50); do sleep 0.2; warm=$(accepted); [ "$((warm - before))" -ge "$n" ] && break; done
    fi
    read -r got secs < <(engine_ingest "$work/single.bin" "$total")
    stop_server
    engine_rate=$(python3 -c "print(round($got / max($secs, 1e-9)))")
    "$work/udp_baseline" drain "$drain_port" 30 >"$work/drain.txt" &
    drain_pid=$!
    sleep 0.3
    "$work/udp_baseline" blast 127.0.0.1 "$drain_port" "$work/single.bin" 0 >"$work/blast2.txt"
    wait "$drain_pid"
    drain_rate=$(field rate <"$work/drain.txt" | tail -1)
    drain_got=$(tail -1 "$work/drain.txt" | field datagrams)
    # The same drain with UDP GRO, the receive-side offload the engine uses: what the engine's own receive path
    # could reach with no ping work at all (reported beside the plain drain, never instead of it).
    DRAIN_GRO=1 "$work/udp_baseline" drain "$drain_port" 30 >"$work/drain-gro.txt" &
    drain_pid=$!
    sleep 0.3
    "$work/udp_baseline" blast 127.0.0.1 "$drain_port" "$work/single.bin" 0 >"$work/blast3.txt"
    wait "$drain_pid"
    gro_rate=$(field rate <"$work/drain-gro.txt" | tail -1)
    emit "{\"bench\":\"$bench\",\"drivers\":$n,\"datagrams\":$total,\"engine_accepted\":$got,\"engine_seconds\":$secs,\"engine_rate\":$engine_rate,\"drain_received\":$drain_got,\"drain_rate\":$drain_rate,\"ratio\":$(python3 -c "print(round($engine_rate / max($drain_rate, 1), 3))"),\"drain_gro_rate\":$gro_rate,\"ratio_vs_gro_drain\":$(python3 -c "print(round($engine_rate / max($gro_rate, 1), 3))")}"
}

for n in $sizes; do
    # Enough datagrams to time: at least 200,000 (gateway) or SINGLE_DATAGRAMS (one-record rows: the paced flood
    # then lasts SINGLE_DATAGRAMS / GSO_PPS seconds); the passes' timestamps span at most 25 s (30 s skew bound).
    passes=$(( (200000 + n - 1) / n )); [ "$passes" -gt 20 ] && passes=20
    total=$((n * passes))
    if [[ "$parts" == *" single "* ]]; then
    single_passes=$(( (single_datagrams + n - 1) / n ))
    pass_ms=$(( 25000 / (single_passes + 1) )); [ "$pass_ms" -gt 1000 ] && pass_ms=1000
    # One warm-up pass (pass 0) and the timed passes after it, split by bytes: a one-record item is 2 + 64 bytes.
    python3 "$here/make_datagrams.py" "$work/all.bin" --secret "$secret" --drivers "$n" --passes $((single_passes + 1)) \
        --pass-ms "$pass_ms" --batch 1
    head -c $((n * 66)) "$work/all.bin" >"$work/warm.bin"
    tail -c +$((n * 66 + 1)) "$work/all.bin" >"$work/single.bin"
    export WARM=1
    single_vs_drain udp-single "$n" "$((n * single_passes))"
    # The same with a sender that outruns both receivers (UDP segmentation offload: 64 datagrams per send, paced at
    # GSO_PPS so the overload lasts a known window): the receivers' own limits, the engine's tag check and table
    # work included. The plain drain slows such a sender down (the kernel splits each train into its queue and the
    # sender waits for room); the engine's GRO socket queues whole trains and drops what does not fit, so its rate
    # is what it accepted over the window.
    export BLAST_GSO=1 BLAST_PPS="$gso_pps"
    single_vs_drain udp-single-gso "$n" "$((n * single_passes))"
    # Cold start, for the record: the same timed passes without the warm-up, so every driver is new in the first.
    unset WARM
    single_vs_drain udp-single-gso-cold "$n" "$((n * single_passes))"
    unset BLAST_GSO BLAST_PPS
    fi
    [[ "$parts" == *" gateway "* || "$parts" == *" load "* ]] || continue

    # Gateway batches, then latency and nearby under load on the same server.
    python3 "$here/make_datagrams.py" "$work/gw.bin" --secret "$secret" --drivers "$n" --passes "$passes" --batch 40
    start_server
    read -r got secs < <(engine_ingest "$work/gw.bin" "$total")
    emit "{\"bench\":\"udp-gateway\",\"drivers\":$n,\"records\":$total,\"engine_accepted\":$got,\"engine_seconds\":$secs,\"records_per_s\":$(python3 -c "print(round($got / max($secs, 1e-9)))")}"
    if [[ "$parts" != *" load "* ]]; then stop_server; continue; fi
    in_index=$(curl -s "127.0.0.1:$http_port/healthz" | sed -n 's/.*"drivers":\([0-9]*\).*/\1/p')
    idle=$("$work/udp_baseline" nearby 127.0.0.1 "$http_port" "$nearby_seconds" "$nearby_conns" "$token")
    HEXFLEET_UDP_SECRET="$secret" HEXFLEET_ADMIN_TOKEN="$token" "$bin" simulate --graph "$root/fixtures/monaco.osm.pbf" \
        --graph-cache "$work/monaco.hxg" --drivers "$n" --duration "$latency_seconds" --batch 40 --period 2 \
        --first-driver-id $((n + 1)) --udp "127.0.0.1:$udp_port" --http "127.0.0.1:$http_port" --report-every 5 \
        >"$work/sim.txt" 2>"$work/sim.err" &
    sim_pid=$!
    sleep $(( latency_seconds / 2 ))
    loaded=$("$work/udp_baseline" nearby 127.0.0.1 "$http_port" "$nearby_seconds" "$nearby_conns" "$token")
    wait "$sim_pid" || { echo "simulate failed: $(tail -5 "$work/sim.err")" >&2; }
    stop_server
    sim=$(tail -1 "$work/sim.txt")
    emit "{\"bench\":\"latency\",\"drivers\":$n,\"simulate\":${sim:-null}}"
    emit "{\"bench\":\"nearby\",\"drivers\":$n,\"index_drivers\":${in_index:-0},\"connections\":$nearby_conns,\"idle_rate\":$(echo "$idle" | field rate),\"idle_errors\":$(echo "$idle" | field errors),\"loaded_rate\":$(echo "$loaded" | field rate),\"loaded_errors\":$(echo "$loaded" | field errors)}"
done
