"""The wall clock stepped an hour forward and back under load while the monotonic clock runs on (libfaketime with
a timestamp file the test rewrites; FAKETIME_DONT_FAKE_MONOTONIC keeps CLOCK_MONOTONIC real): pings are judged
by the skew rule against the new wall time once the engine re-anchors (within 5 s), the tick timer keeps firing,
nothing traps."""
import glob
import hashlib
import hmac
import os
import socket
import struct
import threading
import time

import pytest

from abuse_server import Server
from hexfleet_client import record

HOUR_MS = 3_600_000
LIBFAKETIME = (glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1") or [None])[0]


def signed(secret, records, signer):
    header = struct.pack("<BBHIQ", 1, 0, len(records), 0, signer)
    body = header + b"".join(records)
    key = hmac.new(secret, f"driver:{signer}".encode(), hashlib.sha256).digest()
    return body + hmac.new(key, body, hashlib.sha256).digest()[:16]


@pytest.mark.skipif(LIBFAKETIME is None, reason="libfaketime (Debian's faketime package) is not installed")
def test_clock_stepped_an_hour_forward_and_back_under_load(tmp_path):
    offset_file = tmp_path / "faketime"
    offset_file.write_text("+0\n")
    env = {"LD_PRELOAD": LIBFAKETIME, "FAKETIME_TIMESTAMP_FILE": str(offset_file), "FAKETIME_CACHE_DURATION": "1",
           "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    # Started through env(1): spawned by Python straight into a binary with libfaketime preloaded, the Swift
    # program saw no arguments (seen with libfaketime 0.9.10); through an exec from another process it does.
    with Server(env=env, wrapper=["/usr/bin/env"]) as server:
        host, port = server.udp.rsplit(":", 1)
        stop = threading.Event()
        shift = {"ms": 0}   # what the load generator adds to the real time: 0, or the server's offset
        sent = {"n": 0}

        def load():
            # 200 drivers pinging every 20 ms in turn, stamped with (real time + shift); ids fresh per phase so the
            # replay rule never mixes in.
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                while not stop.is_set():
                    base = 100_000 + (shift["ms"] // HOUR_MS + 5) * 1_000
                    t = int(time.time() * 1000) + shift["ms"]
                    for i in range(200):
                        s.sendto(signed(server.udp_secret, [record(base + i, t, 60.17 + i * 1e-5, 24.94)], base + i),
                                 (host, int(port)))
                        sent["n"] += 1
                    time.sleep(0.02)
        t = threading.Thread(target=load, daemon=True)
        t.start()

        def counters():
            return (server.metric('hexfleet_pings_accepted_total{transport="udp"}') or 0,
                    server.metric('hexfleet_udp_dropped_total{reason="skew"}') or 0,
                    server.metric("hexfleet_loop_lag_seconds_count") or 0)

        def phase(offset_text, server_offset_ms, load_shift_ms):
            """Steps the server's wall clock, waits out the engine's re-anchoring, and measures 3 s of pings."""
            offset_file.write_text(offset_text + "\n")
            shift["ms"] = load_shift_ms
            time.sleep(7)   # libfaketime re-reads the file every second; the engine re-anchors every 5 s
            a0, s0, ticks0 = counters()
            time.sleep(3)
            a1, s1, ticks1 = counters()
            assert server.proc.poll() is None, server.log()
            assert server.request("GET", "/healthz")[0] == 200
            assert ticks1 - ticks0 >= 10, "the tick timer keeps firing (a loop-lag sample per tick)"
            return a1 - a0, s1 - s0

        accepted, skewed = phase("+0", 0, 0)
        assert accepted > 1_000 and skewed == 0, (accepted, skewed)
        # Forward an hour; the phones' clocks are right: their pings are an hour old to the server → skew.
        accepted, skewed = phase("+3600", HOUR_MS, 0)
        assert accepted == 0 and skewed > 1_000, (accepted, skewed)
        # Pings stamped with the server's new time are accepted.
        accepted, skewed = phase("+3600", HOUR_MS, HOUR_MS)
        assert accepted > 1_000 and skewed == 0, (accepted, skewed)
        # Back an hour behind real time: real-time pings are an hour ahead → skew; the server's time is accepted.
        accepted, skewed = phase("-3600", -HOUR_MS, 0)
        assert accepted == 0 and skewed > 1_000, (accepted, skewed)
        accepted, skewed = phase("-3600", -HOUR_MS, -HOUR_MS)
        assert accepted > 1_000 and skewed == 0, (accepted, skewed)
        stop.set()
        t.join(5)
        assert server.proc.poll() is None
        print(f"clock steps: {sent['n']} pings sent across five phases; the engine ran through every step")
