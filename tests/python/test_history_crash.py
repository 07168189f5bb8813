"""The position history survives `kill -9`: every ping accepted more than a second before the kill is answered after
a restart on the same data directory, exactly, and nothing else is (scripts/test-python passes the binary)."""
import os
import random
import signal
import socket
import subprocess
import tempfile
import time

import pytest

import hexfleet_client as hf


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, data, http, udp):
    proc = subprocess.Popen([binary, "serve", "--http", http, "--udp", udp, "--no-demo", "--data", data,
                             "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if hf.http("GET", "/healthz", address=http)[0] == 200:
                return proc
        except OSError:
            pass
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.05)
    raise AssertionError("server did not start")


def history(http, driver):
    status, body = hf.http("GET", f"/v1/drivers/{driver}/history?from_ms=0&limit=100000", token=hf.ADMIN, address=http)
    assert status == 200, body
    return [(p["ts"], round(p["lat"] * 1e7), round(p["lng"] * 1e7), p["speed"], p["status"]) for p in body["points"]]


def test_history_survives_kill_9():
    binary = os.environ.get("HEXFLEET_BIN")
    if not binary:
        pytest.skip("HEXFLEET_BIN (set by scripts/test-python) names the hexfleet binary")
    rng = random.Random(1905)
    with tempfile.TemporaryDirectory() as data:
        http, udp = f"127.0.0.1:{free_port(socket.SOCK_STREAM)}", f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}"
        proc = start(binary, data, http, udp)
        sent = {}
        base = hf.now_ms() - 200_000
        try:
            for step in range(30):
                records = []
                for driver in range(1, 51):
                    ts = base + step * 5_000 + driver
                    lat, lng = 43.72 + rng.random() * 0.03, 7.40 + rng.random() * 0.04
                    status = rng.choice(list(hf.STATUS))
                    speed = rng.randrange(0, 3000)
                    records.append(hf.record(driver, ts, lat, lng, status=status, speed=speed))
                    sent.setdefault(driver, []).append((ts, round(lat * 1e7), round(lng * 1e7), speed, status))
                hf.send_udp([hf.datagram(records, 77, gateway=True)], address=udp)
                time.sleep(0.01)
            assert hf.eventually(lambda: hf.metric('hexfleet_pings_accepted_total{transport="udp"}', address=http) == 1500)
            # The history thread writes every 500 ms: after a second and a half every accepted ping is in a file.
            time.sleep(1.5)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        proc = start(binary, data, http, udp)
        try:
            for driver in range(1, 51):
                assert history(http, driver) == sent[driver], f"driver {driver}"
        finally:
            proc.terminate()
            proc.wait(timeout=30)
