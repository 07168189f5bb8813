"""Storage faults under a running engine: a full disk (a small tmpfs as --data), the SQLite file corrupted or
deleted; and broken graph files at start (docs/limits.md). Each test starts its own server; under a minute in
all, so they run in scripts/test (the long runs are in tests/faults)."""
import os
import subprocess
import tempfile
import time
import uuid

import pytest

from abuse_server import Server
from hexfleet_client import eventually

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MONACO = os.path.join(REPO, "fixtures", "monaco.osm.pbf")
pytestmark = pytest.mark.skipif(not os.environ.get("HEXFLEET_BIN"), reason="scripts/test-python names the binary")
ORDER = {"pickup": {"lat": 43.7384, "lng": 7.4246}, "dropoff": {"lat": 43.7311, "lng": 7.4197}}


def order_body(customer):
    return dict(ORDER, customer_id=str(customer))


def post_order(server, customer, key):
    import http.client
    import json
    host, port = server.http.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=20)
    conn.request("POST", "/v1/orders", json.dumps(order_body(customer)),
                 {"Authorization": f"Bearer {server.admin}", "Content-Type": "application/json", "Idempotency-Key": key})
    r = conn.getresponse()
    body = json.loads(r.read())
    conn.close()
    return r.status, body


@pytest.fixture
def small_disk():
    """A 48 MiB tmpfs, unmounted afterwards; skips (saying why) where mounting is refused."""
    where = tempfile.mkdtemp(prefix="hexfleet-disk-")
    run = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", where], capture_output=True, text=True)
    if run.returncode != 0:
        os.rmdir(where)
        pytest.skip(f"cannot mount a tmpfs here ({run.stderr.strip()}); the disk-full run needs root or CAP_SYS_ADMIN")
    yield where
    subprocess.run(["umount", "-l", where])
    os.rmdir(where)


def fill(directory):
    """Writes a filler file until the file system refuses (ENOSPC); returns its path."""
    path = os.path.join(directory, "filler")
    with open(path, "wb", buffering=0) as f:
        for size in (1 << 20, 4096, 512):
            block = b"\0" * size
            try:
                while True:
                    f.write(block)
            except OSError:
                pass
    return path


def test_disk_full_refuses_orders_with_storage_full_loses_nothing_and_recovers(small_disk):
    data = os.path.join(small_disk, "data")
    os.mkdir(data)
    acked = {}   # idempotency key -> order id
    with Server("--data", data, "--graph", MONACO) as server:
        customer = 1
        for _ in range(20):
            key = str(uuid.uuid4())
            status, body = post_order(server, customer, key)
            assert status == 201, body
            acked[key] = body["id"]
            customer += 1
        filler = fill(small_disk)
        codes, refused = [], 0
        # SQLite reuses its WAL's space for a while; keep ordering until the disk's refusal shows.
        for _ in range(20_000):
            key = str(uuid.uuid4())
            status, body = post_order(server, customer, key)
            customer += 1
            if status == 201:
                acked[key] = body["id"]
                refused = 0
                continue
            assert status == 503, body
            codes.append(body["error"]["code"])
            refused += 1
            if refused >= 20:
                break
        assert refused >= 20, "the full disk never refused an order"
        assert set(codes) == {"storage_full"}, codes
        assert eventually(lambda: (server.metric('hexfleet_store_errors_total{code="storage_full"}') or 0) >= 20)
        status, health = server.request("GET", "/healthz")
        assert status == 200 and health["status"] == "ok"
        # Space returns: the engine takes orders again by itself.
        os.unlink(filler)
        recovered = []

        def takes_orders():
            key = str(uuid.uuid4())
            status, body = post_order(server, 900_000 + len(recovered), key)
            recovered.append(status)
            if status == 201:
                acked[key] = body["id"]
            return status == 201
        assert eventually(takes_orders, within=20, step=0.2), recovered
    # Nothing acknowledged was lost: every 201 is there after a restart.
    with Server("--data", data, "--graph", MONACO) as server:
        missing = [o for o in acked.values() if server.request("GET", f"/v1/orders/{o}", token=server.admin)[0] != 200]
        assert missing == [], f"{len(missing)} of {len(acked)} acknowledged orders lost"
    print(f"disk full: {len(acked)} orders acknowledged, all found after restart; "
          f"{len(codes)} refused with storage_full")


def test_sqlite_file_corrupted_under_a_running_engine_is_never_a_crash(tmp_path):
    """SQLite notices damage when it reads a damaged page; pages its connections hold in cache keep answering until
    then (docs/limits.md). Whatever it notices must come out as 503 storage_failure, counted, never a crash; and a
    restart on the damaged file must refuse to start with a message, not trap."""
    data = str(tmp_path / "data")
    os.mkdir(data)
    with Server("--data", data, "--graph", MONACO) as server:
        for c in range(1, 51):
            assert post_order(server, c, str(uuid.uuid4()))[0] == 201
        db = os.path.join(data, "hexfleet.sqlite")
        for path, offset in ((db, 0), (db + "-wal", 0)):
            if os.path.exists(path):
                with open(path, "r+b") as f:
                    f.seek(offset)
                    f.write(os.urandom(max(os.path.getsize(path), 64 * 4096)))
        failures = 0
        for c in range(1_000, 1_200):
            status, body = post_order(server, c, str(uuid.uuid4()))
            assert status == 201 or (status == 503 and body["error"]["code"] == "storage_failure"), body
            failures += status == 503
        for _ in range(5):
            status, body = server.request("GET", "/v1/orders?limit=50", token=server.admin)
            assert status == 200 or (status == 503 and body["error"]["code"] == "storage_failure"), body
        assert server.proc.poll() is None, "the engine is still running"
        assert server.request("GET", "/healthz")[0] == 200
        if failures:
            assert eventually(lambda: (server.metric('hexfleet_store_errors_total{code="storage_failure"}') or 0)
                              >= failures)
    status, stderr = start_fails("--data", data)
    assert status == 1, stderr
    assert "storage_failure" in stderr or "not a database" in stderr, stderr
    assert "Fatal error" not in stderr


def test_sqlite_file_deleted_under_a_running_engine_refuses_writes_instead_of_losing_them(tmp_path):
    data = str(tmp_path / "data")
    os.mkdir(data)
    with Server("--data", data, "--graph", MONACO) as server:
        assert post_order(server, 1, str(uuid.uuid4()))[0] == 201
        for name in os.listdir(data):
            if name.startswith("hexfleet.sqlite"):
                os.unlink(os.path.join(data, name))
        status, body = post_order(server, 2, str(uuid.uuid4()))
        assert status == 503 and body["error"]["code"] == "storage_failure", body
        assert "deleted" in body["error"]["message"] or "moved" in body["error"]["message"], body
        assert eventually(lambda: (server.metric('hexfleet_store_errors_total{code="storage_failure"}') or 0) >= 1)
        assert server.proc.poll() is None
        assert server.request("GET", "/healthz")[0] == 200


def start_fails(*flags):
    binary = os.environ["HEXFLEET_BIN"]
    run = subprocess.run([binary, "serve", "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--no-demo", *flags],
                         capture_output=True, text=True, timeout=120)
    return run.returncode, run.stderr


@pytest.mark.parametrize("kind", ["truncated-pbf", "garbage-pbf", "truncated-graph", "garbage-graph", "empty"])
def test_a_broken_graph_file_at_start_exits_1_naming_the_file(tmp_path, kind):
    with open(MONACO, "rb") as f:
        pbf = f.read()
    if kind in ("truncated-graph", "garbage-graph"):
        # A saved graph: the cache the engine writes next to its data.
        data = tmp_path / "data"
        data.mkdir()
        with Server("--data", str(data), "--graph", MONACO):
            pass
        saved = [p for p in os.listdir(data) if p.endswith(".hfg")]
        assert saved, os.listdir(data)
        with open(data / saved[0], "rb") as f:
            graph = f.read()
        content = graph[: len(graph) // 2] if kind == "truncated-graph" else graph[:16] + os.urandom(len(graph) - 16)
        path = tmp_path / "broken.hfg"
    else:
        content = {"truncated-pbf": pbf[: len(pbf) // 3], "garbage-pbf": os.urandom(50_000), "empty": b""}[kind]
        path = tmp_path / "broken.osm.pbf"
    path.write_bytes(content)
    status, stderr = start_fails("--graph", str(path))
    assert status == 1, stderr
    assert str(path) in stderr, stderr
    assert "cannot load the road graph" in stderr, stderr
    assert "Fatal error" not in stderr and "Illegal instruction" not in stderr
