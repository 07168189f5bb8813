#!/usr/bin/env python3
"""Offline food scenario, `single` vs `stacked` over many seeds: the issue's floor per seed.

    nice -n 10 python3 Benchmarks/scripts/food_seeds.py .build/release/hexfleet [--seeds 1-30] [--jobs 2]
        [--graph-cache /tmp/monaco.hxg] [--single-cache FILE] [--extra-args "--drivers 90"]
        [--stacked-args=--learn-courier-pace]

Runs `hexfleet simulate --offline --scenario food --policy single|stacked --seed S --json` for every seed and
prints one row per seed (delivered, late, mean delivery and travel per delivery, single / stacked, and the
ratios), then the summary: mean and worst travel ratio, mean and worst delivery ratio, seeds that miss the floor
(travel cut >= 15 %, mean delivery <= 1.05 x, late no higher). `--single-cache` keeps the `single` lines in a
JSON file keyed by seed and arguments, so a change to the stacked policy only reruns `stacked` (the single policy
does not read the stacking knobs). `--stacked-args` are passed to the `stacked` runs only (policy flags such as
`--learn-courier-pace`; write it with `=`). Exit status 1 when any seed misses the floor."""
import argparse, concurrent.futures, json, os, subprocess, sys


def seeds_of(text):
    out = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("hexfleet")
    ap.add_argument("--seeds", default="1-30")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--graph-cache", default=None)
    ap.add_argument("--single-cache", default=None)
    ap.add_argument("--extra-args", default="")
    ap.add_argument("--stacked-args", default="")
    args = ap.parse_args()
    seeds = seeds_of(args.seeds)
    extra = args.extra_args.split()
    if args.graph_cache:
        extra += ["--graph-cache", args.graph_cache]
    cache_key = " ".join(args.extra_args.split())
    cache = {}
    if args.single_cache and os.path.exists(args.single_cache):
        with open(args.single_cache) as f:
            cache = json.load(f)

    def run(policy, seed):
        key = f"{cache_key}|{seed}"
        if policy == "single" and key in cache:
            return cache[key]
        cmd = [args.hexfleet, "simulate", "--offline", "--scenario", "food", "--policy", policy,
               "--seed", str(seed), "--json"] + extra + (args.stacked_args.split() if policy == "stacked" else [])
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()[-500:]}")
        return json.loads(p.stdout.strip().splitlines()[-1])

    if args.graph_cache and not os.path.exists(args.graph_cache):
        run("single", seeds[0])  # imports the graph once before the parallel runs read the cache
    jobs = [(p, s) for s in seeds for p in ("single", "stacked")]
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = dict(zip(jobs, pool.map(lambda j: run(*j), jobs)))
    if args.single_cache:
        for s in seeds:
            cache[f"{cache_key}|{s}"] = results[("single", s)]
        with open(args.single_cache, "w") as f:
            json.dump(cache, f)

    print("| seed | delivered | late | mean delivery s | delivery | travel s / delivery | travel | stacked share |")
    print("|---|---|---|---|---|---|---|---|")
    travel, delivery, misses = [], [], []
    for s in seeds:
        a, b = results[("single", s)], results[("stacked", s)]
        tr = b["courier_travel_s_per_delivery"] / a["courier_travel_s_per_delivery"] - 1
        dr = b["mean_delivery_s"] / a["mean_delivery_s"]
        travel.append(tr)
        delivery.append(dr)
        why = []
        if tr > -0.15: why.append("travel")
        if dr > 1.05: why.append("delivery")
        if b["late"] > a["late"]: why.append("late")
        if b["delivered"] < a["delivered"]: why.append("delivered")
        if why: misses.append((s, why))
        print(f"| {s} | {a['delivered']} / {b['delivered']} | {a['late']} / {b['late']} | "
              f"{a['mean_delivery_s']:.1f} / {b['mean_delivery_s']:.1f} | ×{dr:.3f} | "
              f"{a['courier_travel_s_per_delivery']:.1f} / {b['courier_travel_s_per_delivery']:.1f} | "
              f"{'**' if tr > -0.15 else ''}{tr * 100:+.1f} %{'**' if tr > -0.15 else ''} | {b['stacked_share']:.2f} |")
    n = len(seeds)
    missed = ", ".join("%d (%s)" % (s, "+".join(w)) for s, w in misses) or "none"
    print(f"\nseeds {args.seeds}: travel mean {sum(travel) / n * 100:+.1f} %, worst {max(travel) * 100:+.1f} % "
          f"(best {min(travel) * 100:+.1f} %); delivery mean ×{sum(delivery) / n:.3f}, worst ×{max(delivery):.3f}; "
          f"misses: {missed}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
