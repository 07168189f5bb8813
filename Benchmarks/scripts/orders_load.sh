#!/usr/bin/env bash
# Orders/s acknowledged durably over HTTP, group commit against one transaction per order, in one run and on
# the same SQLite file; then the p99 of a quote (route + surge) on the Monaco graph.
#
#   Benchmarks/scripts/orders_load.sh [SECONDS=15] [CONNECTIONS=64] [postgres]
#   HEXFLEET_BIN=path/to/release/hexfleet skips the release build; ORDERS_LOAD_ROUNDS=N alternates the two stores N times.
# With `postgres` (or ORDERS_LOAD_POSTGRES=1) the run also starts a private PostgreSQL 15 (scripts/postgres-start,
# fsync on) and loads one engine with --postgres right after the SQLite group-commit run: same client, same
# machine, same run; both lines carry ok_per_s and the create latency percentiles.
#
# Load: Benchmarks/scripts/orders_load.c, a closed-loop epoll client: each connection sends POST /v1/orders with
# a unique Idempotency-Key, waits for the 201 (sent only after the order's transaction committed, FULL
# synchronous) and sends the next. Prints one JSON line per run.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_RUN=${1:-15}
CONNECTIONS=${2:-64}
POSTGRES=${ORDERS_LOAD_POSTGRES:-0}
[ "${3:-}" = postgres ] && POSTGRES=1
if [ -z "${HEXFLEET_BIN:-}" ]; then
    swift build -c release --product hexfleet >&2
    HEXFLEET_BIN="$(swift build -c release --show-bin-path)/hexfleet"
fi
work=$(mktemp -d /tmp/hexfleet-orders-load.XXXXXX)
pg_dir=""
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"; [ -z "$pg_dir" ] || scripts/postgres-stop "$pg_dir"' EXIT
cc -O2 -o "$work/orders_load" Benchmarks/scripts/orders_load.c
token="load-admin-$RANDOM$RANDOM"
port=$((20000 + RANDOM % 20000)); udp=$((port + 1))

serve() {   # serve ENV… : starts the engine on the shared data directory and waits for /healthz
    env "$@" "$HEXFLEET_BIN" serve --http 127.0.0.1:$port --udp 127.0.0.1:$udp --data "$work/data" \
        --graph fixtures/monaco.osm.pbf --no-demo --admin-token "$token" --log-level warning >>"$work/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 600); do
        curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "server did not start; log:" >&2; cat "$work/server.log" >&2; exit 1
}
halt() { kill -TERM $pid; wait $pid || true; }

mkdir -p "$work/data"
if [ "$POSTGRES" = 1 ]; then
    pg_env="$(scripts/postgres-start)"   # a failed start stops the script (set -e), where eval "$(…)" would not
    eval "$pg_env"
    pg_dir="$HEXFLEET_POSTGRES_DIR"
    psql -q "$HEXFLEET_TEST_POSTGRES" -c "CREATE DATABASE orders_load"
fi
# ORDERS_LOAD_ROUNDS=N repeats the group-commit pair (SQLite, then PostgreSQL) N times, alternated, so a shared
# machine's drifting load falls on both stores alike.
for round in $(seq 1 "${ORDERS_LOAD_ROUNDS:-1}"); do
    echo "group commit (one fsync per batch, synchronous=FULL), round $round:"
    serve HEXFLEET_STORE_GROUP_COMMIT=on
    "$work/orders_load" $port "$token" "$SECONDS_RUN" "$CONNECTIONS" orders
    curl -s "http://127.0.0.1:$port/metrics" | grep -E '^hexfleet_store_(transactions|operations|largest_batch) ' || true
    halt
    if [ "$POSTGRES" = 1 ]; then
        echo "PostgreSQL 15 on loopback, group commit (synchronous_commit=on, fsync on), same client, round $round:"
        serve HEXFLEET_STORE_GROUP_COMMIT=on HEXFLEET_POSTGRES="${HEXFLEET_TEST_POSTGRES%/*}/orders_load"
        "$work/orders_load" $port "$token" "$SECONDS_RUN" "$CONNECTIONS" orders
        curl -s "http://127.0.0.1:$port/metrics" | grep -E '^hexfleet_store_(transactions|operations|largest_batch) ' || true
        halt
    fi
done
echo "baseline, same file: one transaction per order (synchronous=FULL):"
serve HEXFLEET_STORE_GROUP_COMMIT=off
"$work/orders_load" $port "$token" "$SECONDS_RUN" "$CONNECTIONS" orders
halt
echo "quotes (route + surge), one connection, latency end to end over loopback HTTP:"
serve HEXFLEET_STORE_GROUP_COMMIT=on
"$work/orders_load" $port "$token" 10 1 quotes
halt
