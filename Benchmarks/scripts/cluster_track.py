#!/usr/bin/env python3
"""What the live map across shards costs per record, same run (docs/cluster.md, "Tracking across shards").

Starts one nats-server (scripts/nats-start 1), one PostgreSQL (scripts/postgres-start --fsync off) and two shards:
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
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from cluster_forward import ROOT, datagram, free_port, get  # noqa: E402
import hashlib  # noqa: E402
import hmac  # noqa: E402
import secrets  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import urllib.request  # noqa: E402

from websockets.sync.client import connect  # noqa: E402


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for(predicate, what, seconds=60):
    deadline = time.time() + seconds
    while not predicate():
        if time.time() > deadline:
            raise SystemExit(f"timed out: {what}")
        time.sleep(0.01)


def main():
    binary = sys.argv[1]
    records = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    nats = subprocess.run([os.path.join(ROOT, "scripts/nats-start"), "1"], check=True, capture_output=True, text=True).stdout
    fields = dict(f.split("=", 1) for f in nats.split())
    pg = subprocess.run([os.path.join(ROOT, "scripts/postgres-start"), "--fsync", "off"], check=True, capture_output=True,
                        text=True).stdout
    pg_fields = dict(f.split("=", 1) for f in pg.replace("export ", "").replace("'", "").split())
    secret = secrets.token_hex(32)
    admin = "bench-" + secrets.token_hex(8)
    engines, procs = {}, {}
    try:
        gateway = 7
        key = hmac.new(bytes.fromhex(secret), f"gateway:{gateway}".encode(), hashlib.sha256).digest()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for node in ["b", "a"]:
            http, udp = free_port(), free_port(socket.SOCK_DGRAM)
            env = dict(os.environ, HEXFLEET_UDP_SECRET=secret, HEXFLEET_ADMIN_TOKEN=admin, HEXFLEET_NATS=fields["NATS_URLS"],
                       HEXFLEET_POSTGRES=pg_fields["HEXFLEET_TEST_POSTGRES"])
            procs[node] = subprocess.Popen(
                [binary, "serve", "--node", node, "--http", f"127.0.0.1:{http}", "--udp", f"127.0.0.1:{udp}",
                 "--no-demo", "--no-history", "--udp-key-cache", str(1 << 20), "--log-level", "warning"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            engines[node] = (http, udp)
            wait_for(lambda: _healthy(http), f"engine {node} to start")
            if node == "b":   # b takes the partition before a exists (the first claimant keeps it)
                warm = [(999_999_999, int(time.time() * 1000), 437_300_000, 74_200_000, 0, 65535, 65535, 1, 0)]
                sock.sendto(datagram(warm, gateway, key), ("127.0.0.1", udp))
                wait_for(lambda: _metric(http, "hexfleet_cluster_partitions_held") >= 1, "b to claim the partition")
        time.sleep(1.5)   # a's NATS connection and the lease view (live nodes) come up in the background
        status = {n: (lambda n=n: get(engines[n][0], "/v1/cluster", admin)) for n in engines}
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
            grams = []
            for start in range(0, records, 64):
                batch = []
                for i in range(start, min(records, start + 64)):
                    did = next_id + i
                    lat = int((43.725 + (did * 7919 % 25_000) / 1e6) * 1e7)
                    lng = int((7.405 + (did * 104_729 % 35_000) / 1e6) * 1e7)
                    batch.append((did, now, lat, lng, 0, 65535, 65535, 1, 0))
                grams.append(datagram(batch, gateway, key))
            next_id += records
            cpu0 = {n: cpu_seconds(p.pid) for n, p in procs.items()}
            t0 = time.perf_counter()
            for g in grams:
                sock.sendto(g, ("127.0.0.1", engines["b"][1]))
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
    finally:
        for p in procs.values():
            p.terminate()
        for p in procs.values():
            p.wait(timeout=10)
        subprocess.run([os.path.join(ROOT, "scripts/nats-stop"), fields["NATS_DIR"]], check=False)
        subprocess.run([os.path.join(ROOT, "scripts/postgres-stop"), pg_fields["HEXFLEET_POSTGRES_DIR"]], check=False)


def _drain(ws):
    try:
        while True:
            ws.recv()
    except Exception:   # closed at the end of the round
        pass


def _metric(http, name):
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{http}/metrics", timeout=2).read().decode()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0


def _healthy(http):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{http}/healthz", timeout=1)
        return True
    except OSError:
        return False


if __name__ == "__main__":
    main()
