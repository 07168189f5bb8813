#!/usr/bin/env python3
"""Writes signed Hexfleet UDP ping datagrams (wire version 1, docs/udp-protocol.md) for the loopback benchmarks.

Output: a file of (u16 little-endian length, datagram bytes) items that udp_baseline.c `blast` replays.
Every driver gets one record per pass; pass p carries timestamp base + p × --pass-ms (default 1,000 ms; base: 5 s
ago, inside the server's skew window and fresh for its staleness limit), so nothing is a replay.
Positions are spread over a 0.36 deg x 0.54 deg box (about 40 x 40 km) from --lat0/--lng0, like the FleetIndex
benchmark fleet, so nearest-10 queries run against a metro-sized fleet; each pass moves every driver 16 m north
(a courier at 8 m/s pinging every 2 s), so some pings change H3 cell as they would in town.

Usage: make_datagrams.py OUT --secret HEX --drivers N [--passes P] [--batch B] [--gateway-id G]
       [--base-ms MS] [--pass-ms MS] [--lat0 48.68 --lng0 2.08]
--batch 1 writes driver-signed one-record datagrams; more writes gateway datagrams of B records.
"""
import argparse, hashlib, hmac, struct, sys, time

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--secret", required=True)
    ap.add_argument("--drivers", type=int, required=True)
    ap.add_argument("--passes", type=int, default=1)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--gateway-id", type=int, default=1)
    ap.add_argument("--base-ms", type=int, default=None)
    ap.add_argument("--pass-ms", type=int, default=1000)
    ap.add_argument("--lat0", type=float, default=48.68)
    ap.add_argument("--lng0", type=float, default=2.08)
    a = ap.parse_args()
    secret = bytes.fromhex(a.secret)
    base = a.base_ms if a.base_ms is not None else int(time.time() * 1000) - 5_000
    rec = struct.Struct("<QqiiHHHBB")
    head = struct.Struct("<BBHIQ")
    out = open(a.out, "wb")
    gw_key = hmac.new(secret, b"gateway:%d" % a.gateway_id, hashlib.sha256).digest()
    keys = {}
    def position(i, p):
        z = (i * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z ^= z >> 29
        lat = a.lat0 + (z % 36000) * 1e-5 + p * 1.44e-4
        lng = a.lng0 + ((z >> 20) % 54000) * 1e-5
        return int(round(lat * 1e7)), int(round(lng * 1e7))
    count = 0
    for p in range(a.passes):
        ts = base + p * a.pass_ms
        if a.batch == 1:
            for i in range(1, a.drivers + 1):
                k = keys.get(i)
                if k is None:
                    k = hmac.new(secret, b"driver:%d" % i, hashlib.sha256).digest()
                    if a.passes > 1: keys[i] = k
                lat, lng = position(i, p)
                body = head.pack(1, 0, 1, 0, i) + rec.pack(i, ts, lat, lng, 800, 9000, 50, 1, 0)
                d = body + hmac.new(k, body, hashlib.sha256).digest()[:16]
                out.write(struct.pack("<H", len(d)) + d)
                count += 1
        else:
            for start in range(1, a.drivers + 1, a.batch):
                ids = range(start, min(a.drivers + 1, start + a.batch))
                body = head.pack(1, 1, len(ids), 0, a.gateway_id) + b"".join(
                    rec.pack(i, ts, *position(i, p), 800, 9000, 50, 1, 0) for i in ids)
                d = body + hmac.new(gw_key, body, hashlib.sha256).digest()[:16]
                out.write(struct.pack("<H", len(d)) + d)
                count += 1
    out.close()
    print(f"wrote {count} datagrams to {a.out}", file=sys.stderr)

if __name__ == "__main__":
    main()
