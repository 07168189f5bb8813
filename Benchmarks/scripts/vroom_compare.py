#!/usr/bin/env python3
"""`hexfleet plan` against VROOM (PyPI `pyvroom`) on lunch-peak instances built from Monaco travel times.

    python3 -m venv /tmp/vroomenv && /tmp/vroomenv/bin/pip install pyvroom
    /tmp/vroomenv/bin/python Benchmarks/scripts/vroom_compare.py --hexfleet .build/release/hexfleet \
        --graph monaco.hxg --nodes nodes.csv [--sizes 20x60,100x300] [--seeds 1,2,3] [--max-ride 0]

`--graph` is `hexfleet import-osm ../shared/data/osm/monaco.osm.pbf --out monaco.hxg`, `--nodes` the node CSV of
`hexfleet export-graph`. For each size and seed the script picks random road nodes (restaurants clustered around a few
hubs, customers and courier starts anywhere), asks `hexfleet matrix` for their travel seconds (rounded to whole
seconds: VROOM takes integers; both solvers get the same matrix), writes one instance in the `hexfleet plan` format,
and solves it with both:

  hexfleet   `hexfleet plan --input FILE [--time-limit-ms N]`, a subprocess (its wall time includes process start,
             JSON parsing and printing); one thread.
  VROOM      `Input.solve(exploration_level=5, nb_threads=1)` in process (wall time of `solve` only).
Both wall and CPU seconds are printed: on a shared machine CPU time is the fairer of the two.

Mapping to VROOM: an order is a shipment of amount 1, pickup and delivery with `service` each; the pickup's time
window is [ready_at, ∞) (service starts at max(arrival, ready_at), as in hexfleet), the delivery's [0, deadline]
(a delivery never waits, so its service start is its arrival); a courier is a vehicle starting at `start` with time
window [available_at, ∞), capacity [capacity] and no end (open route). VROOM's cost is then travel seconds only, as
hexfleet's. VROOM has no per-shipment maximum ride (its `max_travel_time` bounds a whole vehicle), so the default
instances have none and the two solve the same problem; with `--max-ride S` the orders carry `max_ride` S, VROOM
solves without it, and the script counts VROOM's served orders whose ride breaks it.

Every route of both answers is re-checked here with an independent checker (schedule recomputed from the stop
sequence: earliest departure, waiting only for food; capacity, precedence, ready times, deadlines, max ride); a
VROOM order counts as served only if its route passes. Prints one table row per instance and a JSON line per run.
"""
import argparse, csv, json, math, os, random, resource, subprocess, sys, tempfile, time


def read_nodes(path):
    with open(path) as f:
        r = csv.reader(f)
        next(r)
        return [(float(row[1]), float(row[2])) for row in r]


def haversine_m(a, b):
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 12742000 * math.asin(math.sqrt(h))


def travel_matrix(hexfleet, graph, points, workdir):
    path = os.path.join(workdir, "points.txt")
    with open(path, "w") as f:
        for lat, lng in points:
            f.write(f"{lat},{lng}\n")
    out = subprocess.run([hexfleet, "matrix", "--graph", graph, "--sources", path, "--targets", path],
                         check=True, capture_output=True, text=True).stdout
    # Each row is duration_s,distance_m per target (-1,-1 unreachable): the durations are every other field.
    rows = []
    for line in out.splitlines():
        durations = line.split(",")[0::2]
        rows.append([None if float(x) < 0 else int(round(float(x))) for x in durations])
        if len(rows[-1]) != len(points):
            raise RuntimeError(f"hexfleet matrix: row {len(rows)} has {len(rows[-1])} durations for {len(points)} targets")
    return rows


def build_instance(rng, nodes, couriers, orders, hexfleet, graph, workdir, max_ride):
    """Lunch peak: orders created over 30 min, food ready 5-15 min later, delivered within 40 min of creation."""
    hubs = [rng.choice(nodes) for _ in range(max(3, orders // 40))]
    restaurants = []
    for hub in hubs:
        near = sorted(rng.sample(nodes, 400), key=lambda p: haversine_m(p, hub))[:4]
        restaurants.extend(near)
    weights = [1.0 / (k + 1) for k in range(len(restaurants))]   # a few popular kitchens
    rng.shuffle(weights)
    # Oversample, then keep points reachable from and to every other kept point.
    candidates = restaurants + [rng.choice(nodes) for _ in range(int(1.3 * (couriers + orders)) + 10)]
    m = travel_matrix(hexfleet, graph, candidates, workdir)
    bad = {i for i, row in enumerate(m) if sum(x is None for x in row) > len(m) // 2}
    good = [i for i in range(len(candidates)) if i not in bad and all(m[i][j] is not None and m[j][i] is not None
                                                                        for j in range(len(candidates)) if j not in bad)]
    good_set = set(good)
    rest_idx = [i for i in range(len(restaurants)) if i in good_set]
    others = [i for i in good if i >= len(restaurants)]
    if len(rest_idx) < 2 or len(others) < couriers + orders:
        raise RuntimeError("too few mutually reachable points; try another seed")
    starts = others[:couriers]
    drops = others[couriers:couriers + orders]
    used = rest_idx + starts + drops
    index = {old: new for new, old in enumerate(used)}
    matrix = [[m[a][b] for b in used] for a in used]
    rest_weights = [weights[i] for i in rest_idx]
    inst_orders = []
    for k in range(orders):
        created = rng.randint(0, 1800)
        ready = created + rng.randint(300, 900)
        order = {"id": 1000 + k, "pickup": index[rng.choices(rest_idx, rest_weights)[0]],
                 "dropoff": index[drops[k]], "ready_at": ready, "deadline": created + 2400, "service": 60}
        if max_ride:
            order["max_ride"] = max_ride
        inst_orders.append(order)
    inst_couriers = [{"id": 1 + c, "start": index[starts[c]], "available_at": rng.randint(0, 300),
                      "capacity": 3 if rng.random() < 0.7 else 2} for c in range(couriers)]
    return {"matrix": matrix, "couriers": inst_couriers, "orders": inst_orders}


def check(instance, routes):
    """routes: [(courier id, [(order id, 'pickup'|'dropoff'), ...])]. Returns (served ids, travel, problems)."""
    m = instance["matrix"]
    orders = {o["id"]: o for o in instance["orders"]}
    couriers = {c["id"]: c for c in instance["couriers"]}
    served, travel, problems = set(), 0, []
    for cid, steps in routes:
        c = couriers[cid]
        t, loc, load, picked, ok, done = c["available_at"], c["start"], 0, {}, True, []
        for oid, kind in steps:
            o = orders[oid]
            target = o["pickup"] if kind == "pickup" else o["dropoff"]
            leg = m[loc][target]
            if leg is None:
                problems.append(f"courier {cid}: unreachable leg"); ok = False; break
            travel += leg
            arrival = t + leg
            if kind == "pickup":
                start = max(arrival, o.get("ready_at", 0))
                picked[oid] = start
                load += 1
                if load > c["capacity"]:
                    problems.append(f"courier {cid}: over capacity"); ok = False
            else:
                start = arrival
                if oid not in picked:
                    problems.append(f"courier {cid}: order {oid} dropped before pickup"); ok = False
                elif arrival - picked[oid] > o.get("max_ride", math.inf):
                    problems.append(f"courier {cid}: order {oid} ride {arrival - picked[oid]} > {o['max_ride']}"); ok = False
                if arrival > o.get("deadline", math.inf):
                    problems.append(f"courier {cid}: order {oid} late"); ok = False
                load -= 1
                done.append(oid)
            t, loc = start + o.get("service", 0), target
        if ok:
            served.update(done)
    return served, travel, problems


def run_hexfleet(hexfleet, path, time_limit_ms):
    args = [hexfleet, "plan", "--input", path]
    if time_limit_ms is not None:
        args += ["--time-limit-ms", str(time_limit_ms)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    p = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if p.returncode != 0:
        raise RuntimeError(f"hexfleet plan failed: {p.stderr.strip()}")
    answer = json.loads(p.stdout)
    routes = [(r["courier"], [(s["order"], s["type"]) for s in r["steps"]]) for r in answer["routes"]]
    return routes, answer["cost"], wall, cpu


def run_vroom(instance, exploration):
    import vroom
    problem = vroom.Input()
    problem.set_durations_matrix(profile="car", matrix_input=[[x if x is not None else 10 ** 7 for x in row]
                                                              for row in instance["matrix"]])
    horizon = 10 ** 8
    for c in instance["couriers"]:
        problem.add_vehicle(vroom.Vehicle(c["id"], start=c["start"], capacity=vroom.Amount([c["capacity"]]),
                                          time_window=vroom.TimeWindow(c["available_at"], horizon)))
    for o in instance["orders"]:
        pickup = vroom.ShipmentStep(o["id"], location=o["pickup"], default_service=o.get("service", 0),
                                    time_windows=[vroom.TimeWindow(o.get("ready_at", 0), horizon)])
        deadline = o.get("deadline")
        delivery = vroom.ShipmentStep(o["id"], location=o["dropoff"], default_service=o.get("service", 0),
                                      time_windows=[vroom.TimeWindow(0, deadline if deadline is not None else horizon)])
        problem.add_shipment(pickup, delivery, amount=vroom.Amount([1]))
    started, cpu_started = time.perf_counter(), time.process_time()
    solution = problem.solve(exploration_level=exploration, nb_threads=1)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    answer = solution.to_dict()
    routes = []
    for r in answer.get("routes", []):
        steps = [(s["id"], "pickup" if s["type"] == "pickup" else "dropoff") for s in r["steps"]
                 if s["type"] in ("pickup", "delivery")]
        routes.append((r["vehicle"], steps))
    return routes, answer["summary"]["cost"], wall, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hexfleet", required=True)
    ap.add_argument("--graph", required=True)
    ap.add_argument("--nodes", required=True)
    ap.add_argument("--sizes", default="20x60,100x300")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--max-ride", type=int, default=0)
    ap.add_argument("--time-limit-ms", type=int, default=None, help="passed to hexfleet plan (default: its own)")
    ap.add_argument("--exploration", type=int, default=5)
    ap.add_argument("--keep", default=None, help="directory to keep the instances in")
    args = ap.parse_args()
    nodes = read_nodes(args.nodes)
    workdir = args.keep or tempfile.mkdtemp()
    os.makedirs(workdir, exist_ok=True)
    print(f"{'instance':<18} {'served H/V':>11} {'travel H':>9} {'travel V':>9} {'ratio':>6} {'wall H s':>9} {'wall V s':>9} "
          f"{'cpu H s':>8} {'cpu V s':>8}  checks")
    failures = 0
    for size in args.sizes.split(","):
        couriers, orders = map(int, size.split("x"))
        for seed in map(int, args.seeds.split(",")):
            rng = random.Random(seed * 1000 + couriers)
            instance = build_instance(rng, nodes, couriers, orders, args.hexfleet, args.graph, workdir, args.max_ride)
            path = os.path.join(workdir, f"plan-{couriers}x{orders}-s{seed}.json")
            with open(path, "w") as f:
                json.dump(instance, f)
            h_routes, h_cost, h_wall, h_cpu = run_hexfleet(args.hexfleet, path, args.time_limit_ms)
            v_routes, v_cost, v_wall, v_cpu = run_vroom(instance, args.exploration)
            h_served, h_travel, h_problems = check(instance, h_routes)
            v_served, v_travel, v_problems = check(instance, v_routes)
            if h_problems or h_travel != h_cost:
                failures += 1
            notes = f"H {len(h_problems)} problems" if h_problems else "H ok"
            notes += f", V {len(v_problems)} broken" if v_problems else ", V ok"
            if v_travel != v_cost:
                notes += f" (VROOM cost {v_cost})"
            ratio = h_travel / v_travel if v_travel else float("nan")
            name = f"{couriers}x{orders} seed {seed}"
            print(f"{name:<18} {len(h_served):>5}/{len(v_served):<5} {h_travel:>9} {v_travel:>9} {ratio:>6.3f} "
                  f"{h_wall:>9.3f} {v_wall:>9.3f} {h_cpu:>8.3f} {v_cpu:>8.3f}  {notes}")
            print(json.dumps({"instance": name, "hexfleet": {"served": len(h_served), "travel": h_travel, "wall_s": h_wall, "cpu_s": h_cpu},
                              "vroom": {"served": len(v_served), "travel": v_travel, "wall_s": v_wall, "cpu_s": v_cpu,
                                        "broken": v_problems[:5]}}), file=sys.stderr)
            sys.stdout.flush()
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
