#!/usr/bin/env bash
# Same-run A/B of the shard fence (docs/cluster.md): orders/s and create latency through one engine on PostgreSQL
# with --nats, without and then with --node (every order write checks its lease in its transaction), alternating
# twice; the same closed-loop client as orders_load.sh (64 connections, unique Idempotency-Keys, no courier).
#   eval "$(scripts/postgres-start)"; eval "$(scripts/nats-start 1)"
#   HEXFLEET_BIN=path/to/hexfleet SECS=10 Benchmarks/scripts/fence_overhead.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${HEXFLEET_BIN:-.build/debug/hexfleet}
PSQL=${PSQL:-psql}
work=$(mktemp -d /tmp/hf-fence.XXXXXX)
cc -O2 -o "$work/orders_load" Benchmarks/scripts/orders_load.c
token=adm-0123456789abcdef
port=18281; udp=18282
run() {  # run NAME DB EXTRA…
    local name=$1 db=$2; shift 2
    $PSQL -q "$HEXFLEET_TEST_POSTGRES" -c "CREATE DATABASE $db"
    local url="${HEXFLEET_TEST_POSTGRES%/*}/$db"
    mkdir -p "$work/$db"
    $BIN serve --http 127.0.0.1:$port --udp 127.0.0.1:$udp --data "$work/$db" --graph fixtures/monaco.osm.pbf --no-demo \
        --no-history --admin-token $token --log-level warning --postgres "$url" "$@" >>"$work/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 900); do curl -sf http://127.0.0.1:$port/healthz >/dev/null 2>&1 && break; sleep 0.1; done
    if [ $# -gt 2 ]; then   # cluster: have the engine claim Monaco's partition before the load
        # No courier (as in the plain run): an order write for an unheld partition makes the engine ask for it.
        for _ in $(seq 1 100); do
            code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
                -d '{"customer_id":"warm","pickup":{"lat":43.7347,"lng":7.4206},"dropoff":{"lat":43.7396,"lng":7.4270}}' http://127.0.0.1:$port/v1/orders)
            [ "$code" = 201 ] && break; sleep 0.2
        done
    fi
    echo -n "$name: "
    "$work/orders_load" $port $token ${SECS:-10} 64 orders
    kill -TERM $pid; wait $pid || true
}
tag=$$
for i in 1 2; do
    run "postgres --nats" "fence_plain_${tag}_$i" --nats "$NATS_URLS"
    run "postgres --nats --node" "fence_node_${tag}_$i" --nats "$NATS_URLS" --node a
done
rm -rf "$work"
