"""The short failover run of issue 20 (docs/cluster.md, "Failover run"): three engines as region shards on one
PostgreSQL and three nats-servers, 300 drivers, 5 orders/s, one engine SIGKILLed at 10 s of 25 s; every check of
tests/python/cluster_failover.py must hold. The 90-second run is `scripts/cluster-failover` with its defaults."""
import os
import subprocess
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
pytest.importorskip("nats", reason="pip install nats-py (scripts/test-faults installs it)")


def test_an_engine_killed_under_load_loses_no_order_and_its_partitions_and_drivers_come_back():
    run = subprocess.run([sys.executable, os.path.join(REPO, "tests", "python", "cluster_failover.py"),
                          "--bin", os.environ["HEXFLEET_BIN"], "--seconds", "25", "--kill-at", "10", "--drivers", "300",
                          "--orders-per-second", "5", "--seed", os.environ.get("HEXFLEET_FAILOVER_SEED", "11")],
                         capture_output=True, text=True, timeout=300)
    print(run.stdout[-6000:])
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert "ALL CHECKS PASSED" in run.stdout
