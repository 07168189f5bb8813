"""Reads one benchmark run's results (Benchmarks/results/) and derives the figures and ratios of docs/benchmarks.md.

Inputs, all from the same invocation of scripts/bench-report:
  *.jmh.json      `swift package benchmark --format jmh` (FleetIndexBenchmarks, IngestBenchmarks): wall clock in us
  loopback.jsonl  Benchmarks/scripts/loopback-bench.sh
  redis.jsonl     Benchmarks/scripts/redis-compare.sh
  policy.jsonl    offline `hexfleet simulate` sweep (one JSON line per run)
"""
import glob, json, os

def load_jmh(results):
    """name -> {"throughput": ops/s, "<metric>": {"p50":…, "p99":…, "mean":…}} from every *.jmh.json."""
    out = {}
    for path in glob.glob(os.path.join(results, "*.jmh.json")):
        for e in json.load(open(path)):
            name = e["benchmark"].split(".", 3)[-1]          # package.benchmark.<Target>.<name>
            row = {"throughput": e["primaryMetric"]["score"]}
            for key, m in (e.get("secondaryMetrics") or {}).items():
                p = m["scorePercentiles"]
                row[key] = {"mean": m["score"], "p50": p.get("50.0"), "p99": p.get("99.0"), "max": p.get("100.0"), "unit": m["scoreUnit"]}
            out[name] = row
    return out

def metric(row, word):
    """The first secondary metric whose name contains `word` (case-insensitive)."""
    for key, value in row.items():
        if key != "throughput" and word.lower() in key.lower():
            return value
    return None

def load_lines(results, name):
    path = os.path.join(results, name)
    if not os.path.exists(path):
        return []
    return [json.loads(l) for l in open(path) if l.strip()]

def figures(results):
    """Every figure of the report as (section, name, value, unit, target or None, baseline text or None)."""
    jmh = load_jmh(results)
    rows = []
    def get(name):
        for k, v in jmh.items():
            if k.replace(" ", "/").endswith(name) or k.endswith(name):
                return v
        return None
    n, s = get("nearest/h3index"), get("nearest/scan")
    if n:
        wall = metric(n, "wall")
        rows.append(("FleetIndex", "nearest-10 among 1M, p50", wall["p50"], "µs", None, None))
        rows.append(("FleetIndex", "nearest-10 among 1M, p99", wall["p99"], "µs", "< 50 µs", None))
        mallocs = metric(n, "malloc (total)")
        if mallocs: rows.append(("FleetIndex", "nearest-10 mallocs per iteration (p50)", mallocs["p50"], "#", None,
                                 "one query per iteration; the harness itself counts 16 per iteration"))
        if s:
            sw = metric(s, "wall")
            rows.append(("FleetIndex", "nearest/scan ÷ nearest/h3index (p50 time)", round(sw["p50"] / max(wall["p50"], 1e-9), 1), "×", None, f"scan p50 {sw['p50']} µs"))
    u = get("upsert/h3index")
    if u:
        wall = metric(u, "wall")
        rows.append(("FleetIndex", "upserts per second (1,000 per iteration, p50)", round(1000 / (wall["p50"] * 1e-6)), "/s", None, None))
    m = get("memory/h3index-1M")
    if m:
        t, r = metric(m, "table_bytes"), metric(m, "rss_bytes")
        if t: rows.append(("FleetIndex", "table bytes per live driver at 1M", t["p50"], "B", "≤ 96 B", None))
        if r: rows.append(("FleetIndex", "RSS delta per live driver at 1M", r["p50"], "B", "≤ 96 B", None))
    for name, records in (("ingest/gateway-40", 40_000), ("ingest/single", 1_000), ("ingest/single-uncached", 1_000),
                          ("ingest/tag-check", 1_000), ("ingest/upsert-only", 40_000)):
        g = get(name)
        if not g: continue
        wall = metric(g, "wall")
        rate = round(records / (wall["p50"] * 1e-6))
        target = "≥ 3,000,000/s/core" if name == "ingest/gateway-40" else None
        rows.append(("Ingest (in process)", f"{name} records/s (p50)", rate, "/s", target, None))
        mallocs = metric(g, "malloc (total)")
        if mallocs:
            per = records // 40 if name == "ingest/gateway-40" else records
            rows.append(("Ingest (in process)", f"{name} mallocs per datagram", round(mallocs["p50"] / per, 3), "#", "< 0.1",
                         "the harness's own 16 per iteration included"))
    for r in load_lines(results, "loopback.jsonl"):
        d = r.get("drivers")
        if r["bench"] == "udp-single":
            rows.append(("Loopback", f"UDP 1-record datagrams, {d:,} drivers: engine accepted/s", r["engine_rate"], "/s", None, f"bare recvmmsg drain {r['drain_rate']:,}/s"))
            rows.append(("Loopback", f"UDP 1-record, {d:,} drivers: engine ÷ bare drain", r["ratio"], "×", "≥ 0.90", None))
        elif r["bench"] in ("udp-single-gso", "udp-single-gso-cold"):
            cold = r["bench"].endswith("cold")
            gro = f"; the drain with UDP GRO {r['drain_gro_rate']:,}/s (engine ÷ it {r['ratio_vs_gro_drain']})" if "drain_gro_rate" in r else ""
            rows.append(("Loopback", f"UDP 1-record, {d:,} drivers, sender with segmentation offload{', every driver new (cold start)' if cold else ''}: engine ÷ bare drain",
                         r["ratio"], "×", None if cold else "≥ 0.90",
                         f"{r['engine_rate']:,} vs {r['drain_rate']:,}/s; engine took {r['engine_accepted']:,} of {r['datagrams']:,}{gro}"))
        elif r["bench"] == "udp-gateway":
            rows.append(("Loopback", f"UDP 40-record gateway datagrams, {d:,} drivers: records/s", r["records_per_s"], "/s", None, None))
        elif r["bench"] == "latency" and r.get("simulate"):
            sim = r["simulate"]
            rows.append(("Loopback", f"ping → index latency, {d:,} drivers, p50 / p99", f"{sim['latency_p50_ms']} / {sim['latency_p99_ms']}", "ms", None, f"{sim['pings_sent']:,} pings, loss {sim['loss']}"))
        elif r["bench"] == "nearby":
            rows.append(("Loopback", f"nearby k=10 req/s, {d:,} drivers, idle / under ingest", f"{r['idle_rate']:,} / {r['loaded_rate']:,}", "/s", None, f"{r['connections']} connections, {r.get('index_drivers', '?'):,} drivers in the index" if isinstance(r.get('index_drivers'), int) else f"{r['connections']} connections"))
    red = [x for x in load_lines(results, "redis.jsonl") if x["bench"] == "redis"]
    hex_ = [x for x in load_lines(results, "redis.jsonl") if x["bench"] == "hexfleet-vs-redis"]
    if red and hex_:
        r, h = red[-1], hex_[-1]
        flood = f"; unpaced flood: {h['flood_records_per_s']:,} accepted/s" if "flood_records_per_s" in h else ""
        rows.append(("Redis GEO", "batched ingest: Hexfleet ÷ Redis GEOADD", round(h["ingest_records_per_s"] / max(1, r["geoadd_records_per_s"]), 2), "×", "≥ 5×", f"{h['ingest_records_per_s']:,} (lossless) vs {r['geoadd_records_per_s']:,} records/s{flood}"))
        rows.append(("Redis GEO", "nearest-10: Hexfleet ÷ Redis GEOSEARCH", round(h["nearby_per_s"] / max(1, r["geosearch_per_s"]), 2), "×", "≥ 3×", f"{h['nearby_per_s']:,} vs {r['geosearch_per_s']:,} req/s; index {h.get('index_drivers', '?')} drivers, Redis {r['members']:,} members"))
    for r in load_lines(results, "simrate.jsonl"):
        target = "≥ 300,000/s" if r["mode"] == "single" else "≥ 1,000,000/s"
        what = "one-record datagrams" if r["mode"] == "single" else f"pings in {r['batch']}-record gateway datagrams"
        rows.append(("Simulator", f"hexfleet simulate: {what}, {r['drivers']:,} drivers, sent/s", r["pings_per_s"], "/s", target,
                     f"{r['pings_per_cpu_second']:,} per CPU-second (user + system, {r['cpu_seconds']} s); engine loss {r['loss']}"))
    track = load_lines(results, "track.jsonl")
    bare = next((t for t in track if t["bench"] == "track-bare"), None)
    for t in track:
        if t["bench"] == "track-idle":
            rows.append(("Tracking (WebSocket)", f"RSS per idle connection ({t['connections']:,} open)", t["bytes_per_connection"], "B", "≤ 8192 B", None))
        elif t["bench"] == "track-bare":
            rows.append(("Tracking (WebSocket)", f"bare C writer, {t['message_bytes']} B messages over {t['connections']:,} connections", t["writes_per_s"], "writes/s", None, "the kernel's limit for one writing thread here"))
        elif t["bench"] == "track-fanout":
            sc = f"{t['scenario']} ({t.get('interval_ms', t['tick_ms'])} ms fan-out interval, {t['subscribers']:,} subscribers + {t['stalled']} stalled)"
            note = f"÷ bare writer {t['frames_per_s'] / max(1, bare['writes_per_s']):.2f}" if bare else None
            rows.append(("Tracking (WebSocket)", f"{sc}: WebSocket messages/s", t["frames_per_s"], "/s", None, note))
            rows.append(("Tracking (WebSocket)", f"{sc}: positions delivered/s", t["positions_per_s"], "/s", "≥ 200,000/s", None))
            rows.append(("Tracking (WebSocket)", f"{sc}: ping → subscriber p99", t["latency_p99_ms"], "ms", "< 20 ms",
                         f"HdrHistogram over {t.get('latency_samples', 0):,} positions: p50 {t['latency_p50_ms']} ms, "
                         f"p99.9 {t.get('latency_p999_ms', '?')} ms, max {t['latency_max_ms']} ms"))
            if t.get("loop_lag_p99_le_ms") is not None:
                rows.append(("Tracking (WebSocket)", f"{sc}: loop lag p99 (histogram bucket ≤)", t["loop_lag_p99_le_ms"], "ms", "< 5 ms", f"{t['loop_lag_probes']} probes; {t['evictions']} evictions"))
    return rows

def policy_table(results):
    """(rate, policy) -> mean of each field over seeds, from policy.jsonl."""
    acc = {}
    for r in load_lines(results, "policy.jsonl"):
        acc.setdefault((r["orders_per_minute"], r["policy"]), []).append(r)
    table = {}
    for key, rs in sorted(acc.items()):
        table[key] = {k: sum(x[k] for x in rs) / len(rs) for k in rs[0] if isinstance(rs[0][k], (int, float))}
    return table

def verdict(value, target):
    """'met' / 'NOT met' for a numeric value against a target like '< 50 µs', '≥ 0.90', '≥ 5×', '0'; '' otherwise."""
    import re
    if target is None or not isinstance(value, (int, float)):
        return ""
    m = re.match(r"\s*(<|≤|≥|>)?\s*([0-9][0-9,]*\.?[0-9]*)", target)
    if not m:
        return ""
    op, bound = m.group(1) or "=", float(m.group(2).replace(",", ""))
    ok = {"<": value < bound, "≤": value <= bound, "≥": value >= bound, ">": value > bound, "=": value == bound}[op]
    return "met" if ok else "NOT met"
