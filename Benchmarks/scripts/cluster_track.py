#!/usr/bin/env python3
"""What the live map across shards costs per record, same run (docs/cluster.md, "Tracking across shards").

Two shards with leases in PostgreSQL (two_shards.py, one nats-server, one PostgreSQL):
`b` starts first and claims the one partition (resolution 3) of the records, then `a` starts and owns nothing. Each round sends RECORDS fresh drivers' records as gateway-signed datagrams of 64 records straight to
`b`, and reads both processes' CPU time (utime + stime from /proc) from the first datagram until `b` holds them all.
Rounds alternate:

- unwatched (the baseline): nobody has a tracking subscriber, so `b` publishes nothing;
- watched: `a` has one /v1/ws/track subscriber (a bbox over the whole area, so `a`'s hub also matches and encodes
  each remote driver), so `b` publishes every record it takes on hexfleet.track.b and `a` decodes and stores it;
  the round also waits until `a` has received them all.

The difference of `b`'s CPU per record between the arms is the publishing cost; `a`'s CPU per record in the watched
arm is the receiving cost (decode, the remote store, the hub's matching, encoding and one message to its subscriber).

    Benchmarks/scripts/cluster_track.py BIN [RECORDS] [ROUNDS]
"""
import contextlib
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from two_shards import cpu_seconds, fresh_datagrams, two_shards, wait_for  # noqa: E402

from websockets.sync.client import connect  # noqa: E402


def main():
    binary = sys.argv[1]
    records = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    with two_shards(binary) as shards:
        engines, procs, admin = shards.engines, shards.procs, shards.admin
        status = {n: (lambda n=n: shards.status(n)) for n in engines}
        results = {"unwatched": [], "watched": []}
        next_id = 1
        for r in range(rounds * 2):
            mode = "unwatched" if r % 2 == 0 else "watched"
            ws, stack = None, contextlib.ExitStack()
            if mode == "watched":
                ws = stack.enter_context(connect(f"ws://127.0.0.1:{engines['a'][0]}/v1/ws/track?token={admin}", max_size=None))
                ws.send(json.dumps({"op": "subscribe", "bbox": [43.5, 7.2, 44.0, 7.7]}))
                threading.Thread(target=_drain, args=(ws,), daemon=True).start()   # a reader that keeps up
                wait_for(lambda: status["b"]()["track_watched"], "b to hear a's watching notice")
                # b sends its table once to a new watcher: let that settle before measuring.
                last = -1
                while (now_received := status["a"]()["track_received"]) != last:
                    last = now_received
                    time.sleep(0.5)
            else:
                wait_for(lambda: not status["b"]()["track_watched"], "b to stop publishing")
            base_held = status["b"]()["drivers_held"]
            base_received = status["a"]()["track_received"]
            now = int(time.time() * 1000)
            grams = fresh_datagrams(next_id, records, shards.key, int(time.time() * 1000))
            next_id += records
            cpu0 = {n: cpu_seconds(p.pid) for n, p in procs.items()}
            t0 = time.perf_counter()
            shards.send("b", grams)
            wait_for(lambda: status["b"]()["drivers_held"] >= base_held + records, f"round {r}: b to take every record")
            if mode == "watched":
                wait_for(lambda: status["a"]()["track_received"] >= base_received + records, f"round {r}: a to receive every record")
            elapsed = time.perf_counter() - t0
            cpu = {n: cpu_seconds(p.pid) - cpu0[n] for n, p in procs.items()}
            stack.close()
            results[mode].append(cpu)
            print(f"round {r}: {mode:9s} {records} records in {elapsed * 1000:7.0f} ms; CPU b {cpu['b'] * 1000:6.0f} ms "
                  f"({cpu['b'] / records * 1e6:.2f} µs/record), a {cpu['a'] * 1000:6.0f} ms ({cpu['a'] / records * 1e6:.2f} µs/record)",
                  file=sys.stderr)
        best = {m: {n: min(c[n] for c in v) for n in engines} for m, v in results.items()}
        sb = status["b"]()
        print(json.dumps({
            "records_per_round": records,
            "owner_cpu_us_per_record_unwatched": round(best["unwatched"]["b"] / records * 1e6, 3),
            "owner_cpu_us_per_record_watched": round(best["watched"]["b"] / records * 1e6, 3),
            "publish_cost_us_per_record": round((best["watched"]["b"] - best["unwatched"]["b"]) / records * 1e6, 3),
            "watcher_cpu_us_per_record": round(best["watched"]["a"] / records * 1e6, 3),
            "watcher_cpu_us_per_record_unwatched": round(best["unwatched"]["a"] / records * 1e6, 3),
            "track_published": sb["track_published"], "track_messages": sb["track_messages"],
        }))


def _drain(ws):
    try:
        while True:
            ws.recv()
    except Exception:   # closed at the end of the round
        pass


if __name__ == "__main__":
    main()
