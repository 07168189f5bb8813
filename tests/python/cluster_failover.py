#!/usr/bin/env python3
"""The failover run of issue 20 (docs/cluster.md, "Failover run"): three `hexfleet serve --node` engines, three
nats-servers with JetStream and one PostgreSQL on 127.0.0.1; a fleet of drivers pinging at 1 Hz (driver-signed UDP
datagrams, docs/udp-protocol.md) spread over the engines; orders with idempotency keys created through random
engines, couriers accepting, declining, picking up and delivering them; one engine SIGKILLed part-way (or, with
--nats-kill, one nats-server). After the load stops it checks every invariant of the issue's "Correctness" section
with independent clients (psql for PostgreSQL, nats-py for JetStream, plain HTTP and UDP for the engines), prints
each check with its measured figures, and exits 0 only when all hold.

    tests/python/cluster_failover.py --bin .build/release/hexfleet [--seconds 90] [--kill-at 30] [--drivers 2000]
        [--orders-per-second 30] [--seed 1] [--nats-kill] [--partition-resolution 7] [--keep]

scripts/cluster-failover wraps it (builds the binary, installs nats-py).
"""
import argparse
import asyncio
import hashlib
import hmac
import http.client
import json
import math
import os
import random
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MONACO = os.path.join(REPO, "fixtures", "monaco.osm.pbf")
STREAM = "HEXFLEET_EVENTS"
# Monaco's built-up area: drivers roam and orders are picked up and dropped off inside it.
LAT_MIN, LAT_MAX = 43.7270, 43.7480
LNG_MIN, LNG_MAX = 7.4110, 7.4360
# A polygon around everything the fleet can reach (within queries list the whole fleet).
FLEET_BOX = [[43.70, 7.38], [43.70, 7.47], [43.78, 7.47], [43.78, 7.38]]
EARTH_RADIUS_M = 6_371_008.8
TERMINAL = ("delivered", "cancelled", "failed")
NODES = ("a", "b", "c")


def log(*parts):
    print(f"[{time.strftime('%H:%M:%S')}]", *parts, flush=True)


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(url, sql):
    """Rows of one query through Debian's psql (unaligned, tab-separated); NULL reads as None."""
    out = subprocess.run(["psql", "-qAtX", "-F", "\t", url, "-c", sql], check=True, capture_output=True, text=True,
                         timeout=60).stdout
    return [[None if c == "" else c for c in line.split("\t")] for line in out.splitlines()]


def haversine(lat1, lng1, lat2, lng2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


async def quiet(_error):
    """nats-py reports each refused server; a killed server's refusals are expected."""


class Engine:
    def __init__(self, name, http_port, udp_port, proc, log_path):
        self.name, self.http_port, self.udp_port, self.proc, self.log_path = name, http_port, udp_port, proc, log_path
        self.alive = True

    def tail(self, n=3000):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""


class Client:
    """Blocking HTTP/1.1 with one keep-alive connection per (thread, engine)."""

    def __init__(self, admin):
        self.admin = admin
        self.local = threading.local()

    def request(self, engine, method, path, body=None, token=None, headers=None, timeout=15):
        conns = self.local.__dict__.setdefault("conns", {})
        key = (engine.http_port, timeout)
        h = {"Authorization": f"Bearer {token or self.admin}", "Content-Type": "application/json"}
        h.update(headers or {})
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(2):
            conn = conns.get(key)
            if conn is None:
                conn = conns[key] = http.client.HTTPConnection("127.0.0.1", engine.http_port, timeout=timeout)
            try:
                conn.request(method, path, data, h)
                r = conn.getresponse()
                raw = r.read()
                if r.getheader("connection", "").lower() == "close":
                    conn.close()
                    conns.pop(key, None)
                try:
                    parsed = json.loads(raw) if raw else None
                except ValueError:
                    parsed = {"raw": raw[:200].decode(errors="replace")}
                return r.status, parsed, dict((k.lower(), v) for k, v in r.getheaders())
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                conn.close()
                conns.pop(key, None)
                if attempt == 1:
                    raise
            except Exception:
                conn.close()
                conns.pop(key, None)
                raise


class Run:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.work = tempfile.mkdtemp(prefix="hexfleet-failover-")
        self.admin = "failover-" + secrets.token_hex(8)
        self.udp_secret = secrets.token_bytes(32)
        self.token_secret = secrets.token_hex(32)
        self.client = Client(self.admin)
        self.engines = []
        self.nats = None
        self.pg = None
        self.stop_load = threading.Event()
        self.frozen = threading.Event()
        self.stop_pings = threading.Event()
        self.lock = threading.Lock()
        self.t0 = None
        # What the clients saw.
        self.acked = {}            # key -> (customer, order json)
        self.create_failures = {}  # code -> count (attempts that did not get a 2xx)
        self.unacked_keys = 0      # keys given up on
        self.replays = {"ok": 0, "bad": []}
        self.courier_codes = {}    # (action, status or code) -> count
        self.handled_offers = set()
        self.tokens = {}
        self.unreachable_waits = []   # seconds each 503 owner_unreachable took
        self.action_trail = {}   # order -> [(seconds into the run, action, courier, engine, code)], to explain refusals
        self.capacity_samples = []
        self.failures = []
        self.figures = {}
        # The fleet: positions as E7 integers, the engine each driver pings.
        self.driver_ids = list(range(1, args.drivers + 1))
        self.pos = {d: (self.rng.randint(int(LAT_MIN * 1e7), int(LAT_MAX * 1e7)),
                        self.rng.randint(int(LNG_MIN * 1e7), int(LNG_MAX * 1e7))) for d in self.driver_ids}
        self.edge = {d: i % 3 for i, d in enumerate(self.driver_ids)}
        self.keys = {d: hmac.new(self.udp_secret, f"driver:{d}".encode(), hashlib.sha256).digest() for d in self.driver_ids}
        self.pings_sent = 0
        self.victim = None
        self.kill_ms = None

    # MARK: infrastructure

    def start_infrastructure(self):
        out = subprocess.run([os.path.join(REPO, "scripts", "nats-start"), "3"], capture_output=True, text=True,
                             timeout=120, check=True)
        fields = dict(part.split("=", 1) for part in out.stdout.split())
        self.nats = {"urls": fields["NATS_URLS"], "dir": fields["NATS_DIR"]}
        out = subprocess.run([os.path.join(REPO, "scripts", "postgres-start"), "--fsync", "off"], capture_output=True,
                             text=True, timeout=300, check=True)
        env = dict(part.split("=", 1) for part in out.stdout.replace("export ", "").split())
        self.pg = {"url": env["HEXFLEET_TEST_POSTGRES"].strip("'"), "dir": env["HEXFLEET_POSTGRES_DIR"].strip("'")}
        log(f"NATS {self.nats['urls']}; PostgreSQL {self.pg['url']}; work {self.work}")
        graph = os.path.join(self.work, "monaco.hfg")
        subprocess.run([self.args.bin, "import-osm", MONACO, "--out", graph], check=True, capture_output=True,
                       timeout=600)
        for name in NODES:
            http_port, udp_port = free_port(), free_port(socket.SOCK_DGRAM)
            data = os.path.join(self.work, name)
            os.makedirs(data)
            log_path = os.path.join(self.work, f"{name}.log")
            env = dict(os.environ, HEXFLEET_UDP_SECRET=self.udp_secret.hex(), HEXFLEET_TOKEN_SECRET=self.token_secret,
                       HEXFLEET_ADMIN_TOKEN=self.admin)
            cmd = [self.args.bin, "serve", "--node", name, "--postgres", self.pg["url"], "--nats", self.nats["urls"],
                   "--partition-resolution", str(self.args.partition_resolution), "--http", f"127.0.0.1:{http_port}",
                   "--udp", f"127.0.0.1:{udp_port}", "--graph", graph, "--data", data, "--no-demo",
                   "--log-level", "warning"]
            proc = subprocess.Popen(cmd, env=env, stdout=open(log_path, "w"), stderr=subprocess.STDOUT,
                                    start_new_session=True)
            self.engines.append(Engine(name, http_port, udp_port, proc, log_path))
            if name == "a":   # the first applies the schema migrations alone
                self.wait_healthy(self.engines[-1])
        for e in self.engines:
            self.wait_healthy(e)
        deadline = time.time() + 30
        while time.time() < deadline:
            views = [self.client.request(e, "GET", "/v1/cluster")[1] for e in self.engines]
            if all(len(v["live_nodes"]) == 3 and v["connected"] for v in views):
                break
            time.sleep(0.2)
        else:
            raise SystemExit(f"the engines did not see each other: {views}")
        log("engines " + ", ".join(f"{e.name} http {e.http_port} udp {e.udp_port}" for e in self.engines))

    def wait_healthy(self, e):
        deadline = time.time() + 180
        while time.time() < deadline:
            if e.proc.poll() is not None:
                raise SystemExit(f"engine {e.name} exited with {e.proc.returncode}: {e.tail()}")
            try:
                s = socket.create_connection(("127.0.0.1", e.http_port), timeout=1)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    s.close()
                    return
                s.close()
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"engine {e.name} did not answer /healthz: {e.tail()}")

    def stop_all(self):
        for e in self.engines:
            if e.proc.poll() is None:
                e.proc.terminate()
        for e in self.engines:
            try:
                e.proc.wait(20)
            except subprocess.TimeoutExpired:
                e.proc.kill()
                e.proc.wait()
        if self.nats:
            subprocess.run([os.path.join(REPO, "scripts", "nats-stop"), self.nats["dir"]], timeout=60)
        if self.pg:
            subprocess.run([os.path.join(REPO, "scripts", "postgres-stop"), self.pg["dir"]], timeout=60)
        if self.args.keep:
            log(f"logs kept in {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    def live_engines(self):
        return [e for e in self.engines if e.alive]

    def any_engine(self, rng=None):
        return (rng or random).choice(self.live_engines())

    # MARK: load

    def now_s(self):
        return time.time() - self.t0

    def pinger(self):
        """Every driver signs and sends one datagram a second to its edge, spread over the second in 20 slices."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        rng = random.Random(self.args.seed + 1)
        slices = 20
        per = [self.driver_ids[i::slices] for i in range(slices)]
        header = struct.Struct("<BBHIQ")
        record = struct.Struct("<QqiiHHHBB")
        tick = time.time()
        while not self.stop_pings.is_set():
            for group in per:
                now_ms = int(time.time() * 1000)
                moving = not self.frozen.is_set()
                for d in group:
                    lat, lng = self.pos[d]
                    if moving:
                        lat = min(int(LAT_MAX * 1e7), max(int(LAT_MIN * 1e7), lat + rng.randint(-400, 400)))
                        lng = min(int(LNG_MAX * 1e7), max(int(LNG_MIN * 1e7), lng + rng.randint(-550, 550)))
                        self.pos[d] = (lat, lng)
                    e = self.engines[self.edge[d]]
                    body = header.pack(1, 0, 1, 0, d) + record.pack(d, now_ms, lat, lng, 800, 9000, 50, 1, 0)
                    tag = hmac.new(self.keys[d], body, hashlib.sha256).digest()[:16]
                    try:
                        sock.sendto(body + tag, ("127.0.0.1", e.udp_port))
                        self.pings_sent += 1
                    except OSError:
                        pass
                tick += 1.0 / slices
                delay = tick - time.time()
                if delay > 0:
                    time.sleep(delay)
                else:
                    tick = time.time()

    def orders(self, pool):
        """About --orders-per-second creations, each with its own Idempotency-Key, at random engines."""
        rng = random.Random(self.args.seed + 2)
        rate = self.args.orders_per_second
        next_at = time.time()
        n = 0
        while not self.stop_load.is_set():
            next_at += rng.expovariate(rate)
            delay = next_at - time.time()
            if delay > 0:
                time.sleep(delay)
            n += 1
            customer = f"cust-{rng.randrange(5000)}"
            body = {"customer_id": customer,
                    "pickup": {"lat": round(rng.uniform(LAT_MIN, LAT_MAX), 6), "lng": round(rng.uniform(LNG_MIN, LNG_MAX), 6)},
                    "dropoff": {"lat": round(rng.uniform(LAT_MIN, LAT_MAX), 6), "lng": round(rng.uniform(LNG_MIN, LNG_MAX), 6)}}
            key = str(uuid.UUID(int=rng.getrandbits(128)))
            if not self.stop_load.is_set():
                pool.submit(self.create, body, key, random.Random(rng.getrandbits(64)))

    def count(self, table, key):
        with self.lock:
            table[key] = table.get(key, 0) + 1

    def create(self, body, key, rng):
        """Creates one order, retrying with the same key at another engine until a 2xx (or 20 attempts)."""
        for attempt in range(20):
            if attempt > 0 and self.stop_load.is_set():
                break
            e = self.any_engine(rng)
            asked = time.time()
            try:
                status, answer, _ = self.client.request(e, "POST", "/v1/orders", body, headers={"Idempotency-Key": key})
            except OSError as error:
                self.count(self.create_failures, type(error).__name__)
                time.sleep(0.3)
                continue
            if status in (200, 201):
                with self.lock:
                    first = self.acked.get(key)
                    if first is None:
                        self.acked[key] = (body["customer_id"], answer)
                if first is not None and first[1]["id"] != answer["id"]:
                    self.failures.append(f"key {key}: a retry answered order {answer['id']}, the first {first[1]['id']}")
                # A client that retries an acknowledged request (one in ten, and the first): the same order comes back.
                if rng.random() < 0.1 or first is None and len(self.acked) == 1:
                    self.replay(body, key, answer, rng)
                return
            code = (answer or {}).get("error", {}).get("code", str(status)) if isinstance(answer, dict) else str(status)
            self.count(self.create_failures, f"{status} {code}")
            if code == "owner_unreachable":
                self.unreachable_waits.append(time.time() - asked)
            if status in (400, 403, 422):
                return   # a bad request is not retried
            time.sleep(0.2 + 0.1 * attempt)
        with self.lock:
            self.unacked_keys += 1

    def replay(self, body, key, first, rng):
        for _ in range(10):
            e = self.any_engine(rng)
            try:
                status, answer, _ = self.client.request(e, "POST", "/v1/orders", body, headers={"Idempotency-Key": key})
            except OSError:
                time.sleep(0.3)
                continue
            if status in (200, 201):
                with self.lock:
                    if answer.get("id") == first["id"] and status == 200:
                        self.replays["ok"] += 1
                    else:
                        self.replays["bad"].append((key, status, first["id"], answer.get("id")))
                return
            time.sleep(0.3)

    def token(self, courier):
        with self.lock:
            t = self.tokens.get(courier)
        if t:
            return t
        status, answer, _ = self.client.request(self.any_engine(), "POST", "/v1/auth/token",
                                                {"role": "driver", "subject": str(courier), "ttl_s": 3600})
        if status != 201:
            raise RuntimeError(f"token for {courier}: {status} {answer}")
        with self.lock:
            self.tokens[courier] = answer["token"]
        return answer["token"]

    def couriers(self, pool):
        """Couriers answer the offers they see (orders dispatched to them, read from any engine), at any engine."""
        rng = random.Random(self.args.seed + 3)
        while not self.stop_load.is_set():
            time.sleep(0.5)
            try:
                status, answer, _ = self.client.request(self.any_engine(rng), "GET", "/v1/orders?status=dispatched&limit=1000",
                                                        timeout=5)
            except OSError:
                continue
            if status != 200:
                continue
            for o in answer["orders"]:
                mark = (o["id"], o["courier_id"], o["updated_at_ms"])
                if mark in self.handled_offers:
                    continue
                self.handled_offers.add(mark)
                if self.stop_load.is_set():
                    break
                pool.submit(self.courier_answers, o["id"], o["courier_id"], random.Random(rng.getrandbits(64)))
            # A few customers change their minds.
            if rng.random() < 0.2:
                try:
                    status, answer, _ = self.client.request(self.any_engine(rng), "GET", "/v1/orders?status=quoted&limit=50", timeout=5)
                except OSError:
                    continue
                if status == 200 and answer["orders"] and not self.stop_load.is_set():
                    o = rng.choice(answer["orders"])
                    pool.submit(self.act, "cancel", o["id"], None, rng)

    def act(self, action, order, courier, rng):
        token = self.token(courier) if courier is not None else None
        for _ in range(5):
            if self.stop_load.is_set():
                return False
            e = self.any_engine(rng)
            asked = time.time()
            try:
                status, answer, _ = self.client.request(e, "POST", f"/v1/orders/{order}/{action}", {}, token=token)
            except OSError as error:
                self.count(self.courier_codes, (action, type(error).__name__))
                time.sleep(0.3)
                continue
            code = "ok" if status == 200 else (answer or {}).get("error", {}).get("code", str(status))
            self.count(self.courier_codes, (action, code))
            with self.lock:
                self.action_trail.setdefault(order, []).append((round(self.now_s(), 2), action, courier, e.name, code))
            if code == "owner_unreachable":
                self.unreachable_waits.append(time.time() - asked)
            # 408: an idle keep-alive connection the engine timed out just as the request went (the client retries).
            if status in (408, 503) or code in ("partition_moved", "storage_failure"):
                time.sleep(0.5)
                continue
            return status == 200
        return False

    def courier_answers(self, order, courier, rng):
        if self.stop_load.is_set():
            return
        if rng.random() < 0.15:
            self.act("decline", order, courier, rng)
            return
        if not self.act("accept", order, courier, rng):
            return
        if rng.random() < 0.3:
            return   # stays accepted: some couriers carry orders past the run's end
        time.sleep(rng.uniform(1, 4))
        if not self.act("pickup", order, courier, rng) or rng.random() < 0.2:
            return
        time.sleep(rng.uniform(1, 4))
        self.act("deliver", order, courier, rng)

    def capacity_monitor(self):
        while not self.stop_load.is_set():
            time.sleep(3)
            try:
                rows = psql(self.pg["url"], "SELECT courier_id, count(*) FROM orders WHERE status IN ('dispatched','accepted','picked_up') "
                                             "GROUP BY courier_id ORDER BY 2 DESC LIMIT 1")
            except subprocess.SubprocessError:
                continue
            if rows:
                self.capacity_samples.append((round(self.now_s(), 1), int(rows[0][0]), int(rows[0][1])))

    # MARK: the kill

    def kill_engine(self):
        owned = {}
        for p, owner in psql(self.pg["url"], "SELECT partition, owner FROM partition_leases WHERE expires_at > now()"):
            owned.setdefault(owner, []).append(int(p))
        candidates = [e for e in self.engines if owned.get(e.name)]
        victim = random.Random(self.args.seed + 4).choice(candidates or self.engines)
        partitions = owned.get(victim.name, [])
        log(f"partitions before the kill: { {k: len(v) for k, v in owned.items()} }; SIGKILL engine {victim.name} "
            f"(holds {len(partitions)})")
        self.victim = victim
        victim.proc.send_signal(signal.SIGKILL)
        killed = time.time()
        self.kill_ms = int(killed * 1000)
        victim.proc.wait()
        victim.alive = False
        # Its drivers' apps notice the engine is gone (a load balancer's health check) and move to the others.
        threading.Timer(1.0, self.move_drivers_off, [self.engines.index(victim)]).start()
        visible_thread = threading.Thread(target=self.watch_visibility, args=(killed,))
        visible_thread.start()
        owned_again = None
        plist = "{" + ",".join(map(str, partitions)) + "}"
        while time.time() - killed < 30:
            rows = psql(self.pg["url"], f"SELECT count(*) FROM partition_leases WHERE partition = ANY('{plist}'::bigint[]) "
                                        f"AND owner <> '{victim.name}' AND expires_at > now()")
            if int(rows[0][0]) == len(partitions):
                owned_again = time.time() - killed
                break
            time.sleep(0.1)
        visible_thread.join()
        self.figures["partitions_of_victim"] = len(partitions)
        self.figures["owned_again_s"] = owned_again
        holders = psql(self.pg["url"], f"SELECT owner, count(*) FROM partition_leases WHERE partition = ANY('{plist}'::bigint[]) "
                                       "GROUP BY owner ORDER BY owner")
        self.figures["victim_partitions_now_held_by"] = {o: int(c) for o, c in holders}

    def move_drivers_off(self, dead):
        alive = [i for i, e in enumerate(self.engines) if e.alive]
        for d in self.driver_ids:
            if self.edge[d] == dead:
                self.edge[d] = alive[d % len(alive)]

    def fleet(self, engine, scope="cluster", timeout=10):
        path = "/v1/drivers/within" + ("?scope=local" if scope == "local" else "")
        status, answer, headers = self.client.request(engine, "POST", path, {"polygon": FLEET_BOX}, timeout=timeout)
        if status != 200:
            raise RuntimeError(f"within at {engine.name}: {status} {answer}")
        return answer

    def watch_visibility(self, killed):
        """Drivers with a fix newer than the kill, as a gathered query of a random live engine sees them."""
        rng = random.Random(self.args.seed + 5)
        need = math.ceil(0.99 * len(self.driver_ids))
        first = None
        samples = []
        while time.time() - killed < 20:
            try:
                answer = self.fleet(self.any_engine(rng))
            except (OSError, RuntimeError):
                time.sleep(0.25)
                continue
            fresh = sum(1 for d in answer["drivers"] if d["ts"] > self.kill_ms)
            samples.append((round(time.time() - killed, 2), fresh, bool(answer.get("partial"))))
            if fresh >= need and first is None:
                first = time.time() - killed
                break
            time.sleep(0.25)
        self.figures["visible_99pct_s"] = first
        self.figures["visibility_samples"] = samples[-6:]

    def relay_connections(self):
        """Per nats-server directory name: how many engines' event relays it serves (its monitoring port's /connz)."""
        import urllib.request
        counts = {}
        for node in sorted(n for n in os.listdir(self.nats["dir"]) if n.startswith("n")):
            port = open(os.path.join(self.nats["dir"], node, "monitor.port")).read().strip()
            try:
                connz = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/connz?limit=1024", timeout=2))
            except OSError:
                continue
            counts[node] = sum(1 for c in connz.get("connections") or [] if c.get("name") == "hexfleet-event-relay")
        return counts

    def kill_nats(self):
        """Kills the nats-server serving the most event relays, not the stream's leader (a leader's kill first waits
        for Raft's election, 4–9 s, docs/events.md); times until every engine's relay published again."""
        leader = asyncio.run(self.stream_info()).cluster.leader
        relays = self.relay_connections()
        candidates = [n for n in relays if f"hexfleet-{n}" != leader]
        victim = max(candidates, key=lambda n: (relays[n], n))
        pid = int(open(os.path.join(self.nats["dir"], victim, "nats.pid")).read())
        before = {e.name: self.published(e) for e in self.live_engines()}
        log(f"SIGKILL nats-server {victim} (serving {relays[victim]} of the engines' event relays; stream leader {leader})")
        os.kill(pid, signal.SIGKILL)
        killed = time.time()
        self.kill_ms = int(killed * 1000)
        self.victim = victim
        resumed = {}
        while time.time() - killed < 30 and len(resumed) < len(before):
            for name, count in before.items():
                if name in resumed:
                    continue
                now = self.published(next(e for e in self.engines if e.name == name))
                if now is not None and count is not None and now > count:
                    resumed[name] = round(time.time() - killed, 2)
            time.sleep(0.05)
        self.figures["relays_on_victim"] = relays[victim]
        self.figures["resumed_per_engine"] = resumed
        self.figures["publishing_resumed_s"] = max(resumed.values()) if len(resumed) == len(before) else None

    def published(self, e):
        """The engine's hexfleet_events_published_total, or None when it does not answer."""
        try:
            s = socket.create_connection(("127.0.0.1", e.http_port), timeout=2)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            chunks = []
            while True:
                c = s.recv(65536)
                if not c:
                    break
                chunks.append(c)
            s.close()
        except OSError:
            return None
        for line in b"".join(chunks).decode(errors="replace").splitlines():
            if line.startswith("hexfleet_events_published_total "):
                return float(line.split()[-1])
        return None

    async def stream_info(self):
        import nats
        nc = await nats.connect(self.nats["urls"].split(","), connect_timeout=2, error_cb=quiet)
        try:
            return await nc.jetstream().stream_info(STREAM)
        finally:
            await nc.close()

    # MARK: checks

    def check(self, name, ok, detail):
        mark = "PASS" if ok else "FAIL"
        print(f"{mark}  {name}: {detail}", flush=True)
        if not ok:
            self.failures.append(name)

    def check_outbox(self, stopped):
        emptied = None
        while time.time() - stopped < 30:
            n = int(psql(self.pg["url"], "SELECT count(*) FROM outbox")[0][0])
            if n == 0:
                emptied = time.time() - stopped
                break
            time.sleep(0.1)
        self.check("outbox empty within 10 s after the load stopped", emptied is not None and emptied <= 10,
                   f"empty after {emptied:.2f} s" if emptied is not None else "not empty after 30 s")

    def check_orders(self):
        rows = psql(self.pg["url"], "SELECT o.id, o.customer_id, o.vehicle, o.pickup_lat_e7, o.pickup_lng_e7, o.dropoff_lat_e7, "
                                    "o.dropoff_lng_e7, o.price_cents, o.currency, o.created_at_ms, k.key "
                                    "FROM orders o LEFT JOIN idempotency_keys k ON k.order_id = o.id")
        stored = {}
        by_key = {}
        no_key = 0
        for r in rows:
            stored.setdefault(int(r[0]), []).append(r)
            if r[10] is None:
                no_key += 1
            else:
                by_key.setdefault((r[1], r[10]), []).append(int(r[0]))
        lost, changed, duplicated = [], [], []
        for key, (customer, o) in self.acked.items():
            got = stored.get(o["id"])
            if not got:
                lost.append(o["id"])
                continue
            r = got[0]
            want = [str(o["id"]), customer, o["vehicle"], str(round(o["pickup"]["lat"] * 1e7)), str(round(o["pickup"]["lng"] * 1e7)),
                    str(round(o["dropoff"]["lat"] * 1e7)), str(round(o["dropoff"]["lng"] * 1e7)), str(o["price_cents"]),
                    o["currency"], str(o["created_at_ms"]), key]
            if r != want:
                changed.append((want, r))
            if len(by_key.get((customer, key), [])) != 1:
                duplicated.append((customer, key, by_key.get((customer, key))))
        multi = [k for k, ids in by_key.items() if len(ids) > 1]
        self.check("no acknowledged order lost, changed or duplicated",
                   not lost and not changed and not duplicated and not multi and no_key == 0,
                   f"{len(self.acked)} acknowledged, {len(stored)} in PostgreSQL ({len(stored) - len(self.acked)} never "
                   f"acknowledged); lost {len(lost)} {lost[:5]}, changed {len(changed)} {changed[:2]}, duplicated "
                   f"{len(duplicated) + len(multi)}, orders without a key {no_key}")
        self.check("idempotent retries answered the same order", not self.replays["bad"] and self.replays["ok"] > 0,
                   f"{self.replays['ok']} retries of acknowledged creations answered 200 with the first order; "
                   f"wrong {len(self.replays['bad'])} {self.replays['bad'][:3]}")

    async def stream_messages(self, prefix):
        import nats
        nc = await nats.connect(self.nats["urls"].split(","), connect_timeout=2, max_reconnect_attempts=5, error_cb=quiet)
        try:
            js = nc.jetstream()
            sub = await js.subscribe("hexfleet.order.>", stream=STREAM, ordered_consumer=True)
            found = []
            idle = 0
            while idle < 3:   # to the last order message: num_pending reaches 0 (or nothing comes three times)
                try:
                    m = await sub.next_msg(timeout=2)
                except nats.errors.TimeoutError:
                    idle += 1
                    continue
                msg_id = (m.headers or {}).get("Nats-Msg-Id", "")
                if msg_id.startswith(prefix):
                    found.append(msg_id)
                if m.metadata.num_pending == 0:
                    break
            await sub.unsubscribe()
            return found
        finally:
            await nc.close()

    def check_events(self):
        """Shards keep dispatching after the load stops (offers expire, orders are offered again), so the log grows
        while the stream is read: every event in PostgreSQL before the read must be in the stream, and every order
        message in the stream must be in PostgreSQL after it; none twice."""
        prefix = psql(self.pg["url"], "SELECT id FROM store_identity")[0][0] + "-order-"
        before = {f"{prefix}{r[0]}" for r in psql(self.pg["url"], "SELECT id FROM order_events")}
        deadline = time.time() + 20
        while int(psql(self.pg["url"], "SELECT count(*) FROM outbox")[0][0]) > 0 and time.time() < deadline:
            time.sleep(0.1)
        ids = []
        for attempt in range(10):
            try:
                ids = asyncio.run(self.stream_messages(prefix))
                break
            except Exception as error:   # noqa: BLE001 — the stream may still be electing a leader
                log(f"reading the stream: {error!r}; retrying")
                time.sleep(1)
        after = {f"{prefix}{r[0]}" for r in psql(self.pg["url"], "SELECT id FROM order_events")}
        seen = {}
        for i in ids:
            seen[i] = seen.get(i, 0) + 1
        twice = [i for i, n in seen.items() if n > 1]
        missing = before - set(seen)
        extra = set(seen) - after
        self.check("every order event in PostgreSQL exactly once in HEXFLEET_EVENTS", not twice and not missing and not extra,
                   f"{len(before)} events in PostgreSQL before the stream was read ({len(after)} after), {len(ids)} order "
                   f"messages in the stream; missing {len(missing)} {sorted(missing)[:5]}, duplicated {len(twice)} "
                   f"{twice[:5]}, not in PostgreSQL {len(extra)} {sorted(extra)[:5]}")

    def check_owned_and_visible(self):
        owned = self.figures.get("owned_again_s")
        self.check("the dead engine's partitions owned again within 8 s", owned is not None and owned <= 8,
                   f"{self.figures.get('partitions_of_victim')} partitions of {self.victim.name}, all owned again after "
                   f"{owned:.2f} s, now held by {self.figures.get('victim_partitions_now_held_by')}" if owned is not None
                   else "not all owned again within 30 s")
        visible = self.figures.get("visible_99pct_s")
        self.check("≥ 99 % of drivers still pinging visible through any engine within 12 s", visible is not None and visible <= 12,
                   f"after {visible:.2f} s" if visible is not None else
                   f"never within 20 s; last samples (s, fresh drivers, partial) {self.figures.get('visibility_samples')}")

    def check_nearest(self):
        rng = random.Random(self.args.seed + 6)
        drivers = [(d, lat / 1e7, lng / 1e7) for d, (lat, lng) in self.pos.items()]
        wrong = []
        partial = 0
        for q in range(500):
            # The point as sent (7 decimals) is the point the brute force measures from.
            lat = round(rng.uniform(LAT_MIN - 0.005, LAT_MAX + 0.005), 7)
            lng = round(rng.uniform(LNG_MIN - 0.005, LNG_MAX + 0.005), 7)
            k = rng.choice((1, 5, 10, 25, 100))
            e = self.any_engine(rng)
            status, answer, _ = self.client.request(e, "GET", f"/v1/drivers/nearby?lat={lat:.7f}&lng={lng:.7f}&k={k}")
            if status != 200:
                wrong.append((q, e.name, status, answer))
                continue
            partial += bool(answer.get("partial"))
            got = [d["id"] for d in answer["drivers"]]
            ranked = sorted((haversine(lat, lng, dl, dg), d) for d, dl, dg in drivers)
            want = [d for _, d in ranked[:k]]
            if got != want:
                # Equal up to float rounding at the same distance: compare distances instead of ids.
                dist = dict((d, m) for m, d in ranked)
                same = len(got) == len(want) and all(d in dist and abs(dist[d] - m) < 1e-6
                                                      for d, m in zip(got, (m for m, _ in ranked[:k])))
                if not same:
                    i = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
                    engine_m = {d["id"]: (d["distance_m"], d["lat"], d["lng"], d.get("node")) for d in answer["drivers"]}
                    diff = [(d, engine_m.get(d), round(dist.get(d, -1), 4), self.pos[d]) for d in (got + want)[i:i + 1] + want[i:i + 1]]
                    wrong.append((q, e.name, f"k={k}", f"first difference at {i} of {len(got)}/{len(want)}", diff))
        self.check("nearest-k of random engines equals brute force (500 queries, quiet fleet)", not wrong and partial == 0,
                   f"{500 - len(wrong)} of 500 equal, partial answers {partial}; first differences {wrong[:2]}")

    def check_one_shard(self):
        holders = {}
        held = {}
        for e in self.live_engines():
            answer = self.fleet(e, "local")
            held[e.name] = len(answer["drivers"])
            for d in answer["drivers"]:
                holders.setdefault(d["id"], []).append(e.name)
        several = {d: h for d, h in holders.items() if len(h) > 1}
        none = [d for d in self.driver_ids if d not in holders]
        self.check("each driver held by exactly one shard", not several and not none,
                   f"held per live shard {held}; by several {len(several)} {list(several.items())[:3]}; by none {len(none)}")

    def check_capacity_and_offers(self):
        worst = psql(self.pg["url"], "SELECT courier_id, count(*) FROM orders WHERE status IN ('dispatched','accepted','picked_up') "
                                     "GROUP BY courier_id ORDER BY 2 DESC LIMIT 1")
        slots = psql(self.pg["url"], "SELECT courier_id, count(*) FROM courier_slots GROUP BY courier_id ORDER BY 2 DESC LIMIT 1")
        peak = max([s[2] for s in self.capacity_samples] + [int(worst[0][1]) if worst else 0])
        self.check("no courier over capacity (3)", peak <= 3 and (not slots or int(slots[0][1]) <= 3),
                   f"most orders one courier held: {peak} (sampled every 3 s and at the end), most slots "
                   f"{slots[0][1] if slots else 0}")
        stuck = None
        for attempt in range(3):   # an offer may expire between the two reads: look again before calling it stuck
            rows = psql(self.pg["url"], "SELECT id, courier_id, updated_at_ms FROM orders WHERE status = 'dispatched'")
            offers = set()
            for e in self.live_engines():
                for _, courier, _ in rows:
                    status, answer, _ = self.client.request(e, "GET", f"/v1/drivers/{courier}/offers")
                    if status == 200:
                        offers.update((o.get("order"), int(courier)) for o in answer.get("offers", []))
            now_stuck = {(int(o), int(c), u) for o, c, u in rows if (int(o), int(c)) not in offers}
            stuck = now_stuck if stuck is None else stuck & now_stuck
            if not stuck:
                break
            time.sleep(2)
        dispatched = len(rows)
        self.check("no order left dispatched without a live offer", not stuck,
                   f"{dispatched} dispatched now; without an open offer on any live engine: {len(stuck)} {sorted(stuck)[:5]}")

    # MARK: the run

    def run(self):
        a = self.args
        self.start_infrastructure()
        pool = ThreadPoolExecutor(max_workers=400)   # courier flows wait seconds between their steps
        self.t0 = time.time()
        threads = [threading.Thread(target=self.pinger, daemon=True)]
        threads[0].start()
        time.sleep(2)   # partitions are claimed as the first pings arrive
        load = [threading.Thread(target=self.orders, args=(pool,), daemon=True),
                threading.Thread(target=self.couriers, args=(pool,), daemon=True),
                threading.Thread(target=self.capacity_monitor, daemon=True)]
        for t in load:
            t.start()
        reporter = threading.Thread(target=self.report, daemon=True)
        reporter.start()
        killer = None
        if a.kill_at is not None and a.kill_at < a.seconds:
            delay = a.kill_at - self.now_s()
            if delay > 0:
                time.sleep(delay)
            killer = threading.Thread(target=self.kill_nats if a.nats_kill else self.kill_engine)
            killer.start()
        delay = a.seconds - self.now_s()
        if delay > 0:
            time.sleep(delay)
        self.stop_load.set()
        stopped = time.time()
        for t in load:
            t.join()
        self.frozen.set()   # the quiet fleet: drivers keep pinging from where they stand
        log(f"load stopped at {self.now_s():.1f} s; waiting for requests in flight")
        pool.shutdown(wait=True)
        if killer:
            killer.join()
        self.print_load()
        print("--- checks", flush=True)
        self.check_outbox(stopped)
        if not a.nats_kill and self.victim is not None:
            self.check_owned_and_visible()
        if a.nats_kill and self.victim is not None:
            resumed = self.figures.get("publishing_resumed_s")
            self.check("publishing resumed within 5 s of the nats-server's kill", resumed is not None and resumed <= 5,
                       f"every engine's relay published again within {resumed:.2f} s (per engine "
                       f"{self.figures['resumed_per_engine']}; {self.figures['relays_on_victim']} relays were on the "
                       f"killed server)" if resumed is not None else
                       f"not every engine within 30 s: {self.figures.get('resumed_per_engine')}")
        time.sleep(max(0.0, 4 - (time.time() - stopped)))   # every engine has seen the frozen positions
        self.check_nearest()
        self.check_one_shard()
        self.check_capacity_and_offers()
        self.check_orders()
        self.check_events()
        self.stop_pings.set()
        threads[0].join()
        failed = [f for f in self.failures]
        print(f"--- {'ALL CHECKS PASSED' if not failed else 'FAILED: ' + '; '.join(map(str, failed[:10]))}", flush=True)
        return 0 if not failed else 1

    def report(self):
        last = 0
        while not self.stop_load.is_set():
            time.sleep(5)
            with self.lock:
                acked, fails = len(self.acked), sum(self.create_failures.values())
            log(f"t={self.now_s():.0f} s pings {self.pings_sent - last}/5 s, orders acknowledged {acked}, failed attempts {fails}")
            last = self.pings_sent

    def print_load(self):
        print("--- load", flush=True)
        print(f"drivers {len(self.driver_ids)}, pings sent {self.pings_sent}, orders acknowledged {len(self.acked)}, "
              f"keys given up {self.unacked_keys}", flush=True)
        print(f"creation attempts without a 2xx: {dict(sorted(self.create_failures.items()))}", flush=True)
        actions = {}
        for (action, code), n in sorted(self.courier_codes.items()):
            actions.setdefault(action, {})[code] = n
        print(f"courier and customer actions: {actions}", flush=True)
        if self.unreachable_waits:
            w = sorted(self.unreachable_waits)
            print(f"503 owner_unreachable answered after: median {w[len(w) // 2]:.2f} s, max {w[-1]:.2f} s ({len(w)})", flush=True)
        self.print_refused_actions()
        status = psql(self.pg["url"], "SELECT status, count(*) FROM orders GROUP BY status ORDER BY status")
        print(f"orders by status in PostgreSQL: { {s: int(n) for s, n in status} }", flush=True)
        print(f"peak orders held by one courier (sampled): {max([s[2] for s in self.capacity_samples] or [0])}", flush=True)
        for e in self.engines:
            if not e.alive:
                continue
            try:
                _, view, _ = self.client.request(e, "GET", "/v1/cluster", timeout=5)
                print(f"engine {e.name}: " + ", ".join(f"{k} {view[k]}" for k in
                      ("live_nodes", "drivers_held", "forwarded_records", "received_taken", "handoffs", "relayed_order_writes",
                       "order_writes_relayed_here", "relays_unanswered", "partial_answers")), flush=True)
            except (OSError, KeyError) as error:
                print(f"engine {e.name}: /v1/cluster failed: {error!r}", flush=True)
            try:
                _, stats, _ = self.client.request(e, "GET", "/v1/dispatch/stats", timeout=5)
                print(f"engine {e.name}: dispatch rounds {stats.get('rounds')}, offers {stats.get('offers_made')}, "
                      f"border {stats.get('border')}", flush=True)
            except (OSError, KeyError, AttributeError) as error:
                print(f"engine {e.name}: /v1/dispatch/stats failed: {error!r}", flush=True)


    def print_refused_actions(self, most=12):
        """A courier told `ok` to an accept and then refused its pick-up is a bug: for each order a courier's action was
        refused with forbidden or invalid_transition, this run's actions on it and its events in PostgreSQL."""
        with self.lock:
            refused = sorted(o for o, trail in self.action_trail.items()
                             if any(step[1] != "cancel" and step[4] in ("forbidden", "invalid_transition") for step in trail))
        print(f"orders with a courier's action refused as forbidden or invalid_transition: {len(refused)}", flush=True)
        start_ms = int(self.t0 * 1000)
        for order in refused[:most]:
            print(f"  order {order}: actions (s, action, courier, engine, answer) {self.action_trail[order]}", flush=True)
            events = psql(self.pg["url"], "SELECT from_status, to_status, actor_role, actor_id, at_ms FROM order_events "
                                          f"WHERE order_id = {int(order)} ORDER BY id")
            print("    events (s, from, to, role, actor) " + ", ".join(
                f"({(int(at) - start_ms) / 1000:.2f}, {f}, {t}, {role}, {actor})" for f, t, role, actor, at in events), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=os.environ.get("HEXFLEET_BIN", os.path.join(REPO, ".build", "release", "hexfleet")))
    p.add_argument("--seconds", type=float, default=90)
    p.add_argument("--kill-at", type=float, default=30)
    p.add_argument("--drivers", type=int, default=2000)
    p.add_argument("--orders-per-second", type=float, default=30)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--nats-kill", action="store_true", help="kill one nats-server (not the stream's leader) instead of an engine")
    p.add_argument("--partition-resolution", type=int, default=7)
    p.add_argument("--keep", action="store_true", help="keep the engines' logs")
    args = p.parse_args()
    if args.drivers < 1 or args.seconds <= 0 or args.orders_per_second <= 0:
        p.error("--drivers, --seconds and --orders-per-second must be positive")
    run = Run(args)
    print(f"failover run: {args.seconds:g} s, {args.drivers} drivers at 1 Hz, {args.orders_per_second:g} orders/s, "
          f"{'a nats-server' if args.nats_kill else 'an engine'} killed at {args.kill_at:g} s, seed {args.seed}", flush=True)
    code = 1
    try:
        code = run.run()
    except Exception as error:   # noqa: BLE001 — print the engines' logs with whatever broke
        import traceback
        traceback.print_exc()
        for e in run.engines:
            print(f"== engine {e.name} log tail:\n{e.tail(1500)}", flush=True)
    finally:
        if code != 0:
            run.args.keep = True
        run.stop_all()
    sys.exit(code)


if __name__ == "__main__":
    main()
