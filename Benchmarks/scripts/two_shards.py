"""Two region shards for the cluster benchmarks (cluster_forward.py, cluster_track.py; docs/cluster.md).

One nats-server (scripts/nats-start 1), one PostgreSQL (scripts/postgres-start --fsync off) and two engines with
leases in it: `b` starts first and claims the one partition (resolution 3) the benchmarks' records fall in, from a
warm-up datagram; `a` starts after and owns nothing (a live lease is never taken over), so every record sent to `a`
is an edge's record for `b`.
"""
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import socket
import struct
import subprocess
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GATEWAY = 7


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def datagram(records, gateway_id, key):
    """A gateway-signed ping datagram (docs/udp-protocol.md) of (id, ts, lat e7, lng e7, speed, heading,
    accuracy, status, 0) records."""
    header = struct.pack("<BBHIQ", 1, 1, len(records), 0, gateway_id)
    body = b"".join(struct.pack("<QqiiHHHBB", *r) for r in records)
    tag = hmac.new(key, header + body, hashlib.sha256).digest()[:16]
    return header + body + tag


def fresh_datagrams(first_id, records, key, now_ms):
    """`records` new drivers from `first_id` on, spread over Monaco, in datagrams of 64."""
    grams = []
    for start in range(0, records, 64):
        batch = []
        for i in range(start, min(records, start + 64)):
            did = first_id + i
            lat = int((43.725 + (did * 7919 % 25_000) / 1e6) * 1e7)
            lng = int((7.405 + (did * 104_729 % 35_000) / 1e6) * 1e7)
            batch.append((did, now_ms, lat, lng, 0, 65535, 65535, 1, 0))
        grams.append(datagram(batch, GATEWAY, key))
    return grams


def get(port, path, token):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.load(r)


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far (/proc, clock ticks)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for(predicate, what, seconds=60):
    deadline = time.time() + seconds
    while not predicate():
        if time.time() > deadline:
            raise SystemExit(f"timed out: {what}")
        time.sleep(0.01)


def metric(http, name):
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{http}/metrics", timeout=2).read().decode()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0


def healthy(http):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{http}/healthz", timeout=1)
        return True
    except OSError:
        return False


class Shards:
    """What a benchmark needs of the running pair: ports, processes, the admin token, the gateway's key, a socket."""

    def __init__(self):
        self.engines, self.procs = {}, {}
        self.admin = "bench-" + secrets.token_hex(8)
        self.secret = secrets.token_hex(32)
        self.key = hmac.new(bytes.fromhex(self.secret), f"gateway:{GATEWAY}".encode(), hashlib.sha256).digest()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def status(self, node):
        return get(self.engines[node][0], "/v1/cluster", self.admin)

    def send(self, node, grams):
        for g in grams:
            self.sock.sendto(g, ("127.0.0.1", self.engines[node][1]))


@contextlib.contextmanager
def two_shards(binary):
    """Starts the pair (b owning the partition, a owning nothing) and stops everything by pid afterwards."""
    nats = subprocess.run([os.path.join(ROOT, "scripts/nats-start"), "1"], check=True, capture_output=True, text=True).stdout
    nats_fields = dict(f.split("=", 1) for f in nats.split())
    pg_fields = {}
    shards = Shards()
    try:
        pg = subprocess.run([os.path.join(ROOT, "scripts/postgres-start"), "--fsync", "off"], check=True,
                            capture_output=True, text=True).stdout
        pg_fields = dict(f.split("=", 1) for f in pg.replace("export ", "").replace("'", "").split())
        for node in ["b", "a"]:
            http, udp = free_port(), free_port(socket.SOCK_DGRAM)
            env = dict(os.environ, HEXFLEET_UDP_SECRET=shards.secret, HEXFLEET_ADMIN_TOKEN=shards.admin,
                       HEXFLEET_NATS=nats_fields["NATS_URLS"], HEXFLEET_POSTGRES=pg_fields["HEXFLEET_TEST_POSTGRES"])
            shards.procs[node] = subprocess.Popen(
                [binary, "serve", "--node", node, "--http", f"127.0.0.1:{http}", "--udp", f"127.0.0.1:{udp}",
                 "--no-demo", "--no-history", "--udp-key-cache", str(1 << 20), "--log-level", "warning"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            shards.engines[node] = (http, udp)
            wait_for(lambda: healthy(http), f"engine {node} to start")
            if node == "b":   # b takes the partition before a exists (the first claimant keeps it)
                warm = [(999_999_999, int(time.time() * 1000), 437_300_000, 74_200_000, 0, 65535, 65535, 1, 0)]
                shards.sock.sendto(datagram(warm, GATEWAY, shards.key), ("127.0.0.1", udp))
                wait_for(lambda: metric(http, "hexfleet_cluster_partitions_held") >= 1, "b to claim the partition")
        time.sleep(1.5)   # a's NATS connection and the lease view (live nodes) come up in the background
        yield shards
    finally:
        for p in shards.procs.values():
            p.terminate()
        for p in shards.procs.values():
            p.wait(timeout=10)
        subprocess.run([os.path.join(ROOT, "scripts/nats-stop"), nats_fields["NATS_DIR"]], check=False)
        if pg_fields:
            subprocess.run([os.path.join(ROOT, "scripts/postgres-stop"), pg_fields["HEXFLEET_POSTGRES_DIR"]], check=False)
