#!/usr/bin/env python3
"""Failover of partition leases with real engines (docs/cluster.md, "Timings"): engine a (--node a) claims Monaco's
partition, engine b joins, a is killed with SIGKILL at a varied point of its 1 s round, and the lease row is polled
until b holds it. Prints, per run, when the lease lapsed and when b owned it, in seconds after the kill.

    eval "$(scripts/postgres-start)"; eval "$(scripts/nats-start 1)"   # or any server and NATS
    HEXFLEET_BIN=.build/debug/hexfleet Benchmarks/scripts/lease_failover.py [RUNS=5]
"""
import os, subprocess, time, json, urllib.request, sys, signal, tempfile
PG = os.environ["HEXFLEET_TEST_POSTGRES"]
NATS = os.environ["NATS_URLS"]
BIN = os.environ.get("HEXFLEET_BIN", ".build/debug/hexfleet")
PSQL = os.environ.get("PSQL", "/usr/lib/postgresql/15/bin/psql")
def sql(url, q):
    return subprocess.run([PSQL, url, "-Atc", q], capture_output=True, text=True, check=True).stdout.strip()
def engine(node, http, udp, url):
    d = tempfile.mkdtemp(prefix="hf-fo-")
    return subprocess.Popen([BIN, "serve", "--node", node, "--postgres", url, "--nats", NATS, "--http", f"127.0.0.1:{http}",
                             "--udp", f"127.0.0.1:{udp}", "--data", d, "--no-demo", "--no-history", "--admin-token", "adm-0123456789abcdef",
                             "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=open(d + "/err.log", "w"))
def wait_http(port):
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1); return
        except Exception: time.sleep(0.1)
    raise SystemExit("no engine on %d" % port)
def ping(port, driver):
    body = json.dumps({"lat": 43.7347, "lng": 7.4206, "ts": int(time.time()*1000), "status": "available"}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/drivers/{driver}/location", body,
                                 {"Content-Type": "application/json", "Authorization": "Bearer adm-0123456789abcdef"})
    urllib.request.urlopen(req, timeout=5).read()
results = []
for run in range(int(sys.argv[1]) if len(sys.argv) > 1 else 5):
    db = f"hf_fo_{os.getpid()}_{run}"
    sql(PG, f"CREATE DATABASE {db}")
    url = PG.rsplit("/", 1)[0] + "/" + db
    a = engine("a", 18181, 19191, url); wait_http(18181)
    ping(18181, 7)
    for _ in range(200):
        if sql(url, "SELECT owner FROM partition_leases WHERE expires_at > now()") == "a": break
        time.sleep(0.05)
    b = engine("b", 18182, 19192, url); wait_http(18182)
    time.sleep(1.5 + (run % 5) * 0.2)   # kill at varied points of a's 1 s round
    a.send_signal(signal.SIGKILL); t0 = time.monotonic(); a.wait()
    lapsed = owned = None
    while time.monotonic() - t0 < 15:
        row = sql(url, "SELECT owner, epoch, expires_at > now() FROM partition_leases")
        owner, epoch, live = row.split("|")
        if lapsed is None and live == "f": lapsed = time.monotonic() - t0
        if owner == "b" and live == "t": owned = time.monotonic() - t0; break
        time.sleep(0.02)
    if lapsed is None: lapsed = owned
    results.append((lapsed, owned, epoch))
    print(f"run {run}: lease lapsed {lapsed:.2f} s after SIGKILL, owned by b (epoch {epoch}) {owned:.2f} s after", flush=True)
    b.send_signal(signal.SIGTERM); b.wait()
    sql(PG, f"DROP DATABASE {db} WITH (FORCE)")
print("max lapse %.2f s, max takeover %.2f s" % (max(r[0] for r in results), max(r[1] for r in results)))
