#!/usr/bin/env python3
"""Forwarded pings against direct pings, same run (docs/cluster.md, "Figures").

Starts one nats-server (scripts/nats-start 1) and two engines: `b` owns every partition (--cluster-nodes b), `a`
owns none, so every record sent to `a` is checked there (HMAC, range, skew) and forwarded over NATS to `b`. Each
round sends RECORDS fresh drivers' records as gateway-signed datagrams of 64 records, either to `a` (forwarded) or
straight to `b` (direct, the baseline), and times from the first datagram until `b`'s table holds them all
(GET /v1/cluster `drivers_held`). Rounds alternate direct/forwarded so both see the same machine load.

    Benchmarks/scripts/cluster_forward.py BIN [RECORDS] [ROUNDS]
"""
import hashlib
import hmac
import json
import os
import secrets
import socket
import struct
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def datagram(records, gateway_id, key):
    header = struct.pack("<BBHIQ", 1, 1, len(records), 0, gateway_id)
    body = b"".join(struct.pack("<QqiiHHHBB", *r) for r in records)
    tag = hmac.new(key, header + body, hashlib.sha256).digest()[:16]
    return header + body + tag


def get(port, path, token):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.load(r)


def main():
    binary = sys.argv[1]
    records = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    nats = subprocess.run([os.path.join(ROOT, "scripts/nats-start"), "1"], check=True, capture_output=True, text=True).stdout
    fields = dict(f.split("=", 1) for f in nats.split())
    secret = secrets.token_hex(32)
    admin = "bench-" + secrets.token_hex(8)
    engines, procs = {}, []
    try:
        for node in ["b", "a"]:
            http, udp = free_port(), free_port(socket.SOCK_DGRAM)
            env = dict(os.environ, HEXFLEET_UDP_SECRET=secret, HEXFLEET_ADMIN_TOKEN=admin, HEXFLEET_NATS=fields["NATS_URLS"])
            p = subprocess.Popen([binary, "serve", "--node", node, "--cluster-nodes", "b", "--partition-resolution", "7",
                                  "--http", f"127.0.0.1:{http}", "--udp", f"127.0.0.1:{udp}", "--no-demo", "--no-history",
                                  "--udp-key-cache", str(1 << 20), "--log-level", "warning"],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(p)
            engines[node] = (http, udp)
        for node, (http, _) in engines.items():
            deadline = time.time() + 60
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{http}/healthz", timeout=1)
                    break
                except OSError:
                    if time.time() > deadline:
                        raise SystemExit(f"engine {node} did not start")
                    time.sleep(0.1)
        time.sleep(0.5)   # the NATS connections come up in the background
        gateway = 7
        key = hmac.new(bytes.fromhex(secret), f"gateway:{gateway}".encode(), hashlib.sha256).digest()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        results = {"direct": [], "forwarded": []}
        next_id = 1
        for r in range(rounds * 2):
            mode = "direct" if r % 2 == 0 else "forwarded"
            target = engines["b" if mode == "direct" else "a"][1]
            base = get(engines["b"][0], "/v1/cluster", admin)["drivers_held"]
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
            t0 = time.perf_counter()
            for g in grams:
                sock.sendto(g, ("127.0.0.1", target))
            while get(engines["b"][0], "/v1/cluster", admin)["drivers_held"] < base + records:
                if time.perf_counter() - t0 > 60:
                    raise SystemExit(f"round {r} ({mode}): not every record arrived")
                time.sleep(0.002)
            elapsed = time.perf_counter() - t0
            results[mode].append(elapsed)
            print(f"round {r}: {mode:9s} {records} records in {elapsed * 1000:8.1f} ms = {records / elapsed:10.0f} records/s",
                  file=sys.stderr)
        best = {m: min(v) for m, v in results.items()}
        status_a = get(engines["a"][0], "/v1/cluster", admin)
        print(json.dumps({
            "records_per_round": records,
            "direct_records_per_s": round(records / best["direct"]),
            "forwarded_records_per_s": round(records / best["forwarded"]),
            "overhead_us_per_record": round((best["forwarded"] - best["direct"]) / records * 1e6, 3),
            "forwarded_messages": status_a["forwarded_messages"],
            "forwarded_records": status_a["forwarded_records"],
        }))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)
        subprocess.run([os.path.join(ROOT, "scripts/nats-stop"), fields["NATS_DIR"]], check=False)


if __name__ == "__main__":
    main()
