#!/usr/bin/env python3
"""How long publishing stops when one nats-server of three is SIGKILLed (docs/events.md, "Failures and figures").

Three nats-servers (scripts/nats-start 3), one engine with --nats under a steady order load (one client creating
orders back to back, 10 ms apart; two events each). KILLS times, alternating: the server leading HEXFLEET_EVENTS,
then one that does not. Each kill reports
  elected: seconds until a survivor answers STREAM.INFO with a new leader (leader kills only; nats-py, polled);
  resumed: seconds until the relay's acknowledged count passes its value at the kill by 5 events
           (hexfleet_events_published_total, polled every 30 ms: the load makes 5 events in about 0.1 s);
  gap (nats-server's log): from the kill to the line where a survivor became the stream's leader.
After each kill the server is restarted and the stream caught up. At the end every order event of the store must be
in the stream exactly once (by message id).
    Benchmarks/scripts/events_failover.py [path/to/hexfleet] [KILLS=10]
Needs nats-py (pip install nats-py)."""
import asyncio
import http.client
import json
import os
import re
import secrets
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import datetime

import nats

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, ".build", "release", "hexfleet")
KILLS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
STREAM = "HEXFLEET_EVENTS"
ORDER = {"pickup": {"lat": 43.7384, "lng": 7.4246}, "dropoff": {"lat": 43.7311, "lng": 7.4197}}


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


class Engine:
    def __init__(self, data, urls):
        self.http = f"127.0.0.1:{free_port()}"
        self.admin = secrets.token_hex(8)
        env = dict(os.environ, HEXFLEET_ADMIN_TOKEN=self.admin, HEXFLEET_UDP_SECRET=secrets.token_hex(32),
                   HEXFLEET_TOKEN_SECRET=secrets.token_hex(32))
        self.proc = subprocess.Popen([BIN, "serve", "--http", self.http, "--udp", f"127.0.0.1:{free_port()}",
                                      "--data", data, "--graph", os.path.join(REPO, "fixtures", "monaco.osm.pbf"),
                                      "--no-demo", "--no-history", "--log-level", "warning", "--nats", urls],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://{self.http}/healthz", timeout=1).read()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("engine did not start")

    def request(self, method, path, body=None, key=None):
        host, port = self.http.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=20)
        headers = {"Authorization": f"Bearer {self.admin}", "Content-Type": "application/json"}
        if key:
            headers["Idempotency-Key"] = key
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        r = conn.getresponse()
        r.read()
        conn.close()
        return r.status

    def metric(self, series):
        text = urllib.request.urlopen(f"http://{self.http}/metrics", timeout=5).read().decode()
        for line in text.splitlines():
            if line.startswith(series + " "):
                return float(line.split()[-1])
        return 0.0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait()


async def _quiet(_error):
    """nats-py reports each refused server on its own; a killed server's refusals are expected here."""


async def _leader(urls, exclude=None):
    try:
        nc = await nats.connect(urls.split(","), connect_timeout=1, max_reconnect_attempts=1, error_cb=_quiet)
    except Exception:   # noqa: BLE001
        return None
    try:
        info = await nc.jetstream(timeout=0.3).stream_info(STREAM)
        leader = info.cluster.leader
        caught_up = len(info.cluster.replicas or []) == 2 and all(r.current for r in info.cluster.replicas)
        return (leader, caught_up) if leader and leader != exclude else None
    except Exception:   # noqa: BLE001
        return None
    finally:
        await nc.close()


def leader(urls, exclude=None):
    return asyncio.run(_leader(urls, exclude))


def log_time(line):
    m = re.search(r"(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d+)", line)
    return datetime.strptime(m.group(1), "%Y/%m/%d %H:%M:%S.%f").timestamp() if m else None


def election_in_logs(cluster_dir, after):
    """The first "new stream leader" line for HEXFLEET_EVENTS after `after` (epoch s) in any server's log."""
    best = None
    for node in os.listdir(cluster_dir):
        path = os.path.join(cluster_dir, node, "nats.log")
        if not os.path.exists(path):
            continue
        for line in open(path, errors="replace"):
            if "stream leader" in line and STREAM in line:
                t = log_time(line)
                if t and t > after and (best is None or t < best):
                    best = t
    return best


async def _stream_ids(urls):
    nc = await nats.connect(urls.split(","), connect_timeout=2)
    try:
        js = nc.jetstream()
        last = (await js.stream_info(STREAM)).state.last_seq
        sub = await js.subscribe("hexfleet.>", stream=STREAM, ordered_consumer=True)
        ids, seen = [], 0
        while seen < last:
            m = await sub.next_msg(timeout=5)
            seen = m.metadata.sequence.stream
            ids.append(((m.headers or {}).get("Nats-Msg-Id", ""), m.metadata.timestamp.timestamp()))
        return ids
    finally:
        await nc.close()


def main():
    out = subprocess.run([os.path.join(REPO, "scripts", "nats-start"), "3"], capture_output=True, text=True, check=True)
    fields = dict(part.split("=", 1) for part in out.stdout.split())
    urls, cluster_dir = fields["NATS_URLS"], fields["NATS_DIR"]
    data = tempfile.mkdtemp(prefix="hexfleet-failover-")
    engine = Engine(data, urls)
    stop = threading.Event()
    failures = []

    def load():
        customer = 1
        while not stop.is_set():
            try:
                if engine.request("POST", "/v1/orders", dict(ORDER, customer_id=str(customer)), key=str(uuid.uuid4())) != 201:
                    failures.append("status")
            except OSError as e:
                failures.append(repr(e))
            customer += 1
            time.sleep(0.01)

    worker = threading.Thread(target=load)
    worker.start()
    rows = {"leader": [], "follower": []}
    try:
        while engine.metric("hexfleet_events_published_total") < 50:
            time.sleep(0.1)
        for k in range(KILLS):
            state = leader(urls)
            while not state or not state[1]:
                time.sleep(0.2)
                state = leader(urls)
            current = state[0]
            names = sorted(n for n in os.listdir(cluster_dir) if n.startswith("n"))
            kind = "leader" if k % 2 == 0 else "follower"
            victim = current if kind == "leader" else next(f"hexfleet-{n}" for n in names if f"hexfleet-{n}" != current)
            node = os.path.join(cluster_dir, victim.removeprefix("hexfleet-"))
            pid = int(open(os.path.join(node, "nats.pid")).read())
            before = engine.metric("hexfleet_events_published_total")
            os.kill(pid, signal.SIGKILL)
            killed = time.time()
            elected = resumed = None
            while time.time() < killed + 30 and (resumed is None or (kind == "leader" and elected is None)):
                now = time.time() - killed
                if resumed is None and engine.metric("hexfleet_events_published_total") > before + 5:
                    resumed = now
                if kind == "leader" and elected is None and leader(urls, exclude=victim):
                    elected = time.time() - killed
                time.sleep(0.03)
            logged = election_in_logs(cluster_dir, killed) if kind == "leader" else None
            gap = logged - killed if logged else None
            rows[kind].append([resumed, elected, gap, killed])
            print(f"kill {k + 1:2d} {kind:8s} {victim}: resumed {resumed and f'{resumed:.2f}'} s, "
                  f"leader answered {elected and f'{elected:.2f}'} s, elected in log {gap and f'{gap:.2f}'} s",
                  flush=True)
            subprocess.Popen(["nats-server", "-c", f"{node}/nats.conf", "-l", f"{node}/nats.log", "-P", f"{node}/nats.pid"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
            time.sleep(3)
    finally:
        stop.set()
        worker.join()
    deadline = time.time() + 30

    def outbox_rows():   # the store itself (WAL: readable while the engine writes), not the relay's last count
        with sqlite3.connect(os.path.join(data, "hexfleet.sqlite")) as db:
            return db.execute("SELECT count(*) FROM outbox").fetchone()[0]
    while outbox_rows() > 0 and time.time() < deadline:
        time.sleep(0.2)
    engine.stop()
    with sqlite3.connect(os.path.join(data, "hexfleet.sqlite")) as db:
        prefix = db.execute("SELECT id FROM store_identity").fetchone()[0]
        events = [f"{prefix}-order-{seq}" for (seq,) in db.execute("SELECT id FROM order_events")]
        outbox = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
    stored = [(i, t) for i, t in asyncio.run(_stream_ids(urls)) if i.startswith(f"{prefix}-order-")]
    ids = [i for i, _ in stored]
    times = sorted(t for _, t in stored)
    subprocess.run([os.path.join(REPO, "scripts", "nats-stop"), cluster_dir])
    # The stream's own clock: the first message stored after each kill (the load never pauses, so any gap is the
    # time the stream took nothing). This replaces the polled figure, whose resolution is the event rate.
    print("stream-side (first message stored after the kill, from the stream's timestamps):")
    for kind, values in rows.items():
        for v in values:
            after = [t for t in times if t > v[3]]
            if after:
                v[0] = after[0] - v[3]
            print(f"  {kind:8s} resumed {v[0]:.2f} s" + (f", new leader in log {v[2]:.2f} s" if v[2] else ""))
    for kind, values in rows.items():
        resumed = sorted(r for r, _, _, _ in values if r is not None)
        if resumed:
            print(f"{kind} kills: {len(values)}, resumed after min {resumed[0]:.2f} / median "
                  f"{statistics.median(resumed):.2f} / max {resumed[-1]:.2f} s; within 5 s: "
                  f"{sum(r <= 5 for r in resumed)} of {len(values)}")
        relay_share = [r - g for r, _, g, _ in values if r is not None and g is not None]
        if relay_share:
            print(f"  after the new leader's election (its log line): median {statistics.median(relay_share):.2f} s, "
                  f"max {max(relay_share):.2f} s")
    print(f"events: {len(events)} in the store, {len(ids)} in the stream, {len(set(ids))} distinct, "
          f"missing {len(set(events) - set(ids))}, outbox left {outbox}, load failures {len(failures)}")


main()
