#!/usr/bin/env python3
"""Events per second through the outbox relay (docs/events.md): an engine's outbox is filled with N rows (a real
order event's payload, ~300 bytes, each with its own message id) while the engine is stopped, then the engine is
started with --nats and timed until every row is acknowledged and deleted (hexfleet_events_published_total).
Same run, two targets: one nats-server (stream R1, the baseline) and a three-server cluster (R3).
    Benchmarks/scripts/events_relay.py [path/to/hexfleet] [rows]"""
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, ".build", "release", "hexfleet")
ROWS = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
PAYLOAD = (b'{"actor":{"id":"7","role":"customer"},"at_ms":1796451060713,"currency":"EUR","customer_id":"7",'
           b'"event":"order.status_changed","event_id":"x","from":"created","order_id":1,"price_cents":611,'
           b'"sequence":2,"status":"quoted"}')


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def metric(http, series):
    text = urllib.request.urlopen(f"http://{http}/metrics", timeout=5).read().decode()
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return 0.0


def serve(data, nats):
    http = f"127.0.0.1:{free_port()}"
    env = dict(os.environ, HEXFLEET_ADMIN_TOKEN=secrets.token_hex(8), HEXFLEET_UDP_SECRET=secrets.token_hex(32),
               HEXFLEET_TOKEN_SECRET=secrets.token_hex(32))
    proc = subprocess.Popen([BIN, "serve", "--http", http, "--udp", f"127.0.0.1:{free_port()}", "--data", data,
                             "--no-demo", "--no-history", "--log-level", "warning", "--nats", nats], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://{http}/healthz", timeout=1).read()
            return proc, http
        except OSError:
            time.sleep(0.02)
    raise SystemExit("engine did not start")


def run(servers):
    out = subprocess.run([os.path.join(REPO, "scripts", "nats-start"), str(servers)], capture_output=True, text=True,
                         check=True)
    fields = dict(part.split("=", 1) for part in out.stdout.split())
    try:
        data = tempfile.mkdtemp(prefix="hexfleet-relay-bench-")
        proc, _ = serve(data, f"nats://127.0.0.1:{free_port()}")   # nowhere: makes the schema, publishes nothing
        proc.send_signal(signal.SIGTERM)
        proc.wait()
        with sqlite3.connect(os.path.join(data, "hexfleet.sqlite")) as db:
            prefix = secrets.token_hex(8)
            db.executemany("INSERT INTO outbox (subject, message_id, payload, created_at_ms) VALUES (?, ?, ?, 0)",
                           (("hexfleet.order.quoted", f"{prefix}-bench-{i}", PAYLOAD) for i in range(ROWS)))
        start = time.time()
        proc, http = serve(data, fields["NATS_URLS"])
        try:
            while metric(http, "hexfleet_events_published_total") < ROWS:
                if time.time() - start > 300:
                    raise SystemExit("relay did not drain in 300 s")
                time.sleep(0.02)
            took = time.time() - start
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait()
        return took
    finally:
        subprocess.run([os.path.join(REPO, "scripts", "nats-stop"), fields["NATS_DIR"]])


for servers in (1, 3):
    took = run(servers)
    print(f"events_relay/R{servers}: {ROWS} events in {took:.2f} s (engine start included) = {ROWS / took:,.0f} events/s")
