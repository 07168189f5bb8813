#!/usr/bin/env python3
"""Forwarded pings against direct pings, same run (docs/cluster.md, "Figures").

Two shards with leases in PostgreSQL (two_shards.py): `b` owns the records' partition, `a` owns none, so every
record sent to `a` is checked there (HMAC, range, skew) and forwarded over NATS to `b`. Each round sends RECORDS
fresh drivers' records as gateway-signed datagrams of 64 records, either to `a` (forwarded) or straight to `b`
(direct, the baseline), and times from the first datagram until `b`'s table holds them all (GET /v1/cluster
`drivers_held`). Rounds alternate direct/forwarded so both see the same machine load.

    Benchmarks/scripts/cluster_forward.py BIN [RECORDS] [ROUNDS]
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from two_shards import fresh_datagrams, two_shards  # noqa: E402


def main():
    binary = sys.argv[1]
    records = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    with two_shards(binary) as shards:
        results = {"direct": [], "forwarded": []}
        next_id = 1
        for r in range(rounds * 2):
            mode = "direct" if r % 2 == 0 else "forwarded"
            base = shards.status("b")["drivers_held"]
            grams = fresh_datagrams(next_id, records, shards.key, int(time.time() * 1000))
            next_id += records
            t0 = time.perf_counter()
            shards.send("b" if mode == "direct" else "a", grams)
            while shards.status("b")["drivers_held"] < base + records:
                if time.perf_counter() - t0 > 60:
                    raise SystemExit(f"round {r} ({mode}): not every record arrived")
                time.sleep(0.002)
            elapsed = time.perf_counter() - t0
            results[mode].append(elapsed)
            print(f"round {r}: {mode:9s} {records} records in {elapsed * 1000:8.1f} ms = {records / elapsed:10.0f} records/s",
                  file=sys.stderr)
        best = {m: min(v) for m, v in results.items()}
        status_a = shards.status("a")
        print(json.dumps({
            "records_per_round": records,
            "direct_records_per_s": round(records / best["direct"]),
            "forwarded_records_per_s": round(records / best["forwarded"]),
            "overhead_us_per_record": round((best["forwarded"] - best["direct"]) / records * 1e6, 3),
            "forwarded_messages": status_a["forwarded_messages"],
            "forwarded_records": status_a["forwarded_records"],
        }))


if __name__ == "__main__":
    main()
