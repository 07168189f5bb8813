#!/usr/bin/env python3
"""Crash test for order durability: creates orders over HTTP as fast as it can from many threads while the
server is killed with SIGKILL at random moments and restarted, many times; then checks that every order whose
answer (201, or 200 for a replay) reached a client is present with its last acknowledged status, and that no
idempotent retry created a second order.

Each create uses its own customer id and Idempotency-Key, so "at most one order per customer" is the duplicate
check. A request cut by a kill is in doubt: its client retries it, with the same key and body, until it is
answered; the retry must answer the same order if the first attempt had committed. Some acknowledged orders
are cancelled, and the cancel's 200 makes `cancelled` their last acknowledged status.

    python3 tests/python/crash_test.py --bin .build/debug/hexfleet [--kills 10] [--budget 110] [--clients 32] [--postgres URL]
Exit status 0 when every check holds and the run did check something: at least one kill, at least one
acknowledged order. scripts/test runs a short form (2 kills); scripts/crash-test defaults to 10.
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, data, graph, token, postgres=None):
        self.binary, self.data, self.graph, self.token = binary, data, graph, token
        self.postgres = postgres
        self.http, self.udp = free_port(), free_port(socket.SOCK_DGRAM)
        self.proc = None
        self.log = open(os.path.join(data, "server.log"), "ab")

    def start(self, timeout=180):
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--http", f"127.0.0.1:{self.http}", "--udp", f"127.0.0.1:{self.udp}", "--data", self.data,
             "--graph", self.graph, "--no-demo", "--admin-token", self.token, "--log-level", "warning"]
            + (["--postgres", self.postgres] if self.postgres else []),
            stdout=self.log, stderr=self.log)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.data}/server.log")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.http}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not come up")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def call(server, method, path, body=None, key=None, timeout=5):
    """(status, JSON) or raises OSError when the connection fails (server down or killed mid-request)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {server.token}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    req = urllib.request.Request(f"http://127.0.0.1:{server.http}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


class Ledger:
    """What clients were told: key → (customer, order id, last acknowledged status)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}
        self.attempted = set()
        self.retries = 0
        self.in_doubt_resolved = 0
        self.in_doubt_replayed = 0
        self.errors = []


def client(server, ledger, stop, seed, first_customer, stride):
    rng = random.Random(seed)
    customer = first_customer
    while not stop.is_set():
        customer += stride
        key = f"crash-{customer}"
        body = {"customer_id": str(customer),
                "pickup": {"lat": round(43.7300 + rng.random() * 0.012, 6), "lng": round(7.4150 + rng.random() * 0.012, 6)},
                "dropoff": {"lat": round(43.7380 + rng.random() * 0.006, 6), "lng": round(7.4230 + rng.random() * 0.006, 6)}}
        with ledger.lock:
            ledger.attempted.add(customer)
        in_doubt = False
        while True:
            try:
                status, answer = call(server, "POST", "/v1/orders", body, key)
            except OSError:
                in_doubt = True            # cut by a kill: the order may or may not exist; retry the same request
                with ledger.lock:
                    ledger.retries += 1
                time.sleep(0.05)
                if stop.is_set() and not server_up(server):
                    time.sleep(0.2)
                continue
            if status in (200, 201):
                with ledger.lock:
                    ledger.acked[key] = [customer, answer["id"], answer["status"]]
                    if in_doubt:
                        ledger.in_doubt_resolved += 1
                        if status == 200:      # the cut attempt had committed: the retry answered that order
                            ledger.in_doubt_replayed += 1
                break
            if status == 503:              # the store is closing (SIGTERM) or routing is loading: retry
                time.sleep(0.05)
                continue
            with ledger.lock:
                ledger.errors.append(f"create {key}: {status} {answer}")
            break
        # Cancel one in five acknowledged orders; a 200 makes cancelled the last acknowledged status.
        if key in ledger.acked and rng.random() < 0.2 and not stop.is_set():
            order = ledger.acked[key][1]
            try:
                status, answer = call(server, "POST", f"/v1/orders/{order}/cancel", {"reason": "crash test"})
                if status == 200:
                    with ledger.lock:
                        ledger.acked[key][2] = answer["status"]
            except OSError:
                pass                       # in doubt: either status is acceptable, checked below


def server_up(server):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.http}/healthz", timeout=1):
            return True
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.environ.get("HEXFLEET_BIN", os.path.join(ROOT, ".build/debug/hexfleet")))
    ap.add_argument("--graph", default=os.path.join(ROOT, "fixtures/monaco.osm.pbf"))
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--budget", type=float, default=110, help="seconds for the kill phase")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--postgres", metavar="URL", help="serve with --postgres URL (an empty database: the check "
                    "expects only this run's orders there)")
    args = ap.parse_args()
    print(f"crash test: seed {args.seed}, {args.kills} kills, {args.clients} clients", flush=True)
    rng = random.Random(args.seed)
    data = tempfile.mkdtemp(prefix="hexfleet-crash-")
    server = Server(args.bin, data, args.graph, "crash-admin-" + os.urandom(8).hex(), args.postgres)
    started = time.time()
    server.start()
    print(f"server up in {time.time() - started:.1f} s (graph cached for restarts)", flush=True)
    ledger, stop = Ledger(), threading.Event()
    threads = [threading.Thread(target=client, args=(server, ledger, stop, args.seed + i, 1_000_000 * (i + 1), 1), daemon=True)
               for i in range(args.clients)]
    for t in threads:
        t.start()
    kills, phase_start = 0, time.time()
    per_kill = args.budget / max(1, args.kills)
    while kills < args.kills and time.time() - phase_start < args.budget:
        time.sleep(rng.uniform(0.2, max(0.3, per_kill * 0.6)))
        before = len(ledger.acked)
        server.kill()
        kills += 1
        print(f"kill {kills}: {before} orders acknowledged so far", flush=True)
        time.sleep(rng.uniform(0, 0.3))
        server.start()
    # Let in-doubt requests finish against the live server, then stop the clients.
    stop.set()
    for t in threads:
        t.join(timeout=30)
    server.kill()                      # the last one too: nothing is flushed by a clean shutdown
    server.start()
    failures = list(ledger.errors)
    # A run that killed nothing, or in which no order was acknowledged, checked nothing: it must not pass.
    if kills == 0:
        failures.append(f"no kill happened within the {args.budget} s budget")
    if not ledger.acked:
        failures.append("no order was acknowledged: there was nothing to check")
    checked = 0
    for key, (customer, order, status) in sorted(ledger.acked.items()):
        st, found = call(server, "GET", f"/v1/orders/{order}")
        checked += 1
        if st != 200:
            failures.append(f"{key}: acknowledged order {order} is missing ({st})")
            continue
        if found["status"] != status and not (status == "quoted" and found["status"] == "cancelled"):
            # A cancel cut by a kill may have committed without its 200 reaching the client.
            failures.append(f"{key}: order {order} is {found['status']}, last acknowledged {status}")
    duplicates = 0
    for customer in sorted(ledger.attempted):
        st, page = call(server, "GET", f"/v1/orders?customer_id={customer}&limit=10")
        n = len(page["orders"]) if st == 200 else -1
        if n > 1:
            duplicates += 1
            failures.append(f"customer {customer}: {n} orders for one idempotency key")
    server.stop()
    elapsed = time.time() - started
    print(json.dumps({"kills": kills, "acknowledged": len(ledger.acked), "checked": checked, "attempted": len(ledger.attempted),
                      "retried_requests": ledger.retries, "in_doubt_resolved": ledger.in_doubt_resolved, "in_doubt_replayed": ledger.in_doubt_replayed,
                      "duplicates": duplicates, "failures": len(failures), "seconds": round(elapsed, 1)}), flush=True)
    for f in failures[:20]:
        print("FAIL", f)
    if not failures:
        shutil.rmtree(data, ignore_errors=True)
    else:
        print(f"data kept in {data}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
