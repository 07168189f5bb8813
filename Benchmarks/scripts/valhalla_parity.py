#!/usr/bin/env python3
"""Hexfleet against Valhalla on the shared OSM extracts: shortest distances, fastest durations, and timings.

For each city: builds Valhalla tiles from the same PBF (bundled valhalla_build_tiles, offline, cached under
--workdir), exports Hexfleet's graph nodes, draws seeded random pairs of road nodes and routes each pair
  (a) shortest: `hexfleet route --optimize distance` against Valhalla `auto` with `shortest: true`,
  (b) fastest: `hexfleet route` against Valhalla `auto`,
and prints the share of pairs whose distances agree within 1 %, the duration ratio's quartiles, and the worst pairs
(with their coordinates, to look into). With --timing it also times one-to-one routes from coordinates and a 100×100
matrix on both engines over the same points: Valhalla through its Python bindings in this process, Hexfleet through
its CLI (process start-up and graph load measured once and subtracted).

Run by valhalla-parity.sh, which makes a Python 3.12 virtualenv with pyvalhalla 3.9.1.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time


def build_tiles(city, pbf, workdir):
    tile_dir = os.path.join(workdir, city, "tiles")
    config_path = os.path.join(workdir, city, "config.json")
    if not os.path.exists(os.path.join(tile_dir, ".done")):
        os.makedirs(os.path.join(workdir, city), exist_ok=True)
        config = subprocess.run(["valhalla_build_config", "--mjolnir-tile-dir", tile_dir, "--mjolnir-tile-extract", "",
                                 "--mjolnir-timezone", "", "--mjolnir-admin", ""], check=True, capture_output=True, text=True).stdout
        settings = json.loads(config)
        # The default caps a matrix at 2,500 cells; the timing asks for 100 × 100.
        settings["service_limits"]["auto"]["max_matrix_location_pairs"] = 40_000
        open(config_path, "w").write(json.dumps(settings, indent=1))
        t0 = time.time()
        subprocess.run(["valhalla_build_tiles", "-c", config_path, pbf], check=True, capture_output=True)
        open(os.path.join(tile_dir, ".done"), "w").write(f"{time.time() - t0:.1f}\n")
    return config_path


def hexfleet_nodes(bin_path, graph, tmp):
    nodes_csv, edges_csv = os.path.join(tmp, "nodes.csv"), os.path.join(tmp, "edges.csv")
    subprocess.run([bin_path, "export-graph", "--graph", graph, "--nodes", nodes_csv, "--edges", edges_csv], check=True, capture_output=True)
    out = set()
    with open(nodes_csv) as f:
        next(f)
        for line in f:
            _, lat, lng = line.strip().split(",")
            out.add((float(lat), float(lng)))
    # One entry per position (copies made for turn bans and turn costs share it), sorted, so that graphs imported
    # with different options draw the same pairs.
    return sorted(out)


def hexfleet_routes(bin_path, graph, pairs, optimize):
    lines = "".join(f"{a[0]},{a[1]},{b[0]},{b[1]}\n" for a, b in pairs)
    out = subprocess.run([bin_path, "route", "--graph", graph, "--optimize", optimize], input=lines, check=True,
                         capture_output=True, text=True).stdout.splitlines()
    return [tuple(float(x) for x in line.split(",")) for line in out]   # (distance_m, duration_s)


def valhalla_route(actor, a, b, shortest):
    request = {"locations": [{"lat": a[0], "lon": a[1]}, {"lat": b[0], "lon": b[1]}], "costing": "auto",
               "costing_options": {"auto": {"shortest": shortest}}, "units": "kilometers", "directions_type": "none"}
    try:
        summary = json.loads(actor.route(json.dumps(request)))["trip"]["summary"]
        return summary["length"] * 1000, summary["time"]
    except Exception:
        return None


def compare(city, args, actor, coords):
    rng = random.Random(args.seed)
    pairs = [(coords[rng.randrange(len(coords))], coords[rng.randrange(len(coords))]) for _ in range(args.pairs)]
    ours_short = hexfleet_routes(args.bin, args.graph_of[city], pairs, "distance")
    ours_fast = hexfleet_routes(args.bin, args.graph_of[city], pairs, "time")
    agree, total, worst, ratios, gaps = 0, 0, [], [], []
    for (a, b), short, fast in zip(pairs, ours_short, ours_fast):
        theirs = valhalla_route(actor, a, b, True)
        if theirs is None or short[0] < 0:
            continue
        total += 1
        diff = abs(short[0] - theirs[0]) / max(theirs[0], 1.0)
        if diff <= 0.01 or abs(short[0] - theirs[0]) <= 5:
            agree += 1
        else:
            worst.append((diff, a, b, short[0], theirs[0]))
        fastest = valhalla_route(actor, a, b, False)
        if fastest and fast[1] > 0 and fastest[1] > 0:
            ratios.append(fast[1] / fastest[1])
            gaps.append(abs(fast[1] - fastest[1]) / fastest[1])
    worst.sort(reverse=True)
    q = statistics.quantiles(ratios, n=4) if len(ratios) >= 4 else [0, 0, 0]
    print(f"{city}: shortest distance within 1 % (or 5 m) on {agree}/{total} pairs = {100 * agree / max(total, 1):.1f} %")
    print(f"{city}: fastest duration ratio hexfleet/valhalla quartiles {q[0]:.2f} {q[1]:.2f} {q[2]:.2f} over {len(ratios)} pairs")
    if gaps:
        within = sum(1 for g in gaps if g <= 0.10)
        print(f"{city}: fastest durations within 10 % of valhalla's on {within}/{len(gaps)} pairs = {100 * within / len(gaps):.1f} %,"
              f" median |difference| {100 * statistics.median(gaps):.1f} %")
    for diff, a, b, ours, theirs in worst[:args.show]:
        print(f"  {100 * diff:5.1f} %  {a[0]:.6f},{a[1]:.6f} -> {b[0]:.6f},{b[1]:.6f}  hexfleet {ours:.0f} m  valhalla {theirs:.0f} m")
    return pairs


def timing(city, args, actor, coords):
    rng = random.Random(args.seed + 1)
    pairs = [(coords[rng.randrange(len(coords))], coords[rng.randrange(len(coords))]) for _ in range(args.timing_pairs)]
    t0 = time.perf_counter()
    for a, b in pairs:
        valhalla_route(actor, a, b, False)
    valhalla_one = (time.perf_counter() - t0) / len(pairs)
    # Hexfleet: the CLI with 1 line and with N lines; the difference is N - 1 routes without start-up and load.
    def run(n):
        t = time.perf_counter()
        hexfleet_routes(args.bin, args.graph_of[city], pairs[:n], "time")
        return time.perf_counter() - t
    base = min(run(1) for _ in range(3))
    full = min(run(len(pairs)) for _ in range(3))
    ours_one = max(full - base, 1e-9) / (len(pairs) - 1)
    print(f"{city}: one-to-one from coordinates: valhalla {valhalla_one * 1e6:.0f} µs, hexfleet {ours_one * 1e6:.1f} µs "
          f"-> {valhalla_one / ours_one:.0f}x")
    points = [coords[rng.randrange(len(coords))] for _ in range(200)]
    src, dst = points[:100], points[100:]
    request = {"sources": [{"lat": p[0], "lon": p[1]} for p in src], "targets": [{"lat": p[0], "lon": p[1]} for p in dst],
               "costing": "auto"}
    t0 = time.perf_counter()
    actor.matrix(json.dumps(request))
    valhalla_matrix = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        s, t = os.path.join(tmp, "s.csv"), os.path.join(tmp, "t.csv")
        open(s, "w").write("".join(f"{p[0]},{p[1]}\n" for p in src))
        open(t, "w").write("".join(f"{p[0]},{p[1]}\n" for p in dst))
        one = os.path.join(tmp, "one.csv")
        open(one, "w").write(f"{src[0][0]},{src[0][1]}\n")
        def matrix(sources, targets):
            t0 = time.perf_counter()
            subprocess.run([args.bin, "matrix", "--graph", args.graph_of[city], "--sources", sources, "--targets", targets],
                           check=True, capture_output=True)
            return time.perf_counter() - t0
        ours_matrix = max(min(matrix(s, t) for _ in range(3)) - min(matrix(one, one) for _ in range(3)), 1e-9)
    print(f"{city}: 100x100 matrix: valhalla {valhalla_matrix * 1e3:.1f} ms, hexfleet {ours_matrix * 1e3:.2f} ms "
          f"(CLI, minus a 1x1 run) -> {valhalla_matrix / ours_matrix:.0f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="the hexfleet executable (a release build for --timing)")
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "../../../shared/data/osm"))
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "hexfleet-valhalla"))
    parser.add_argument("--cities", default="monaco,andorra,helsinki")
    parser.add_argument("--pairs", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--show", type=int, default=8, help="worst pairs printed per city")
    parser.add_argument("--timing", action="store_true")
    parser.add_argument("--timing-pairs", type=int, default=2000, help="enough that start-up noise is small beside them")
    parser.add_argument("--import-args", default="", help="extra import-osm arguments, e.g. '--turn-costs off'")
    args = parser.parse_args()
    # Valhalla logs every search on the process's stdout/stderr: keep our report on a copy of stdout, silence theirs.
    report = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.stdout = sys.stderr = report
    from valhalla import Actor
    args.graph_of = {}
    for city in args.cities.split(","):
        pbf = os.path.join(args.data, f"{city}.osm.pbf")
        config_path = build_tiles(city, pbf, args.workdir)
        graph = os.path.join(args.workdir, city, "hexfleet.hxg")
        subprocess.run([args.bin, "import-osm", pbf, "--out", graph] + args.import_args.split(), check=True, capture_output=True)
        args.graph_of[city] = graph
        actor = Actor(config_path)
        with tempfile.TemporaryDirectory() as tmp:
            coords = hexfleet_nodes(args.bin, graph, tmp)
        compare(city, args, actor, coords)
        if args.timing:
            timing(city, args, actor, coords)


if __name__ == "__main__":
    main()
