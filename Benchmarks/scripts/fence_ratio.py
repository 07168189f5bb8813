#!/usr/bin/env python3
"""Reads an IngestBenchmarks run of `--filter "ingest/gateway-40-1M-fleet/.*"` (its output saved to a file) and
prints the p50 wall clock of the threaded, inline and unfenced runs, their ratios (the fenced-ingest floor is 0.8 of
the unfenced run, measured in the same run) and the CPU nanoseconds a record of each.

    Benchmarks/.build/release/IngestBenchmarks --filter "ingest/gateway-40-1M-fleet/.*" > run.log 2>&1
    python3 Benchmarks/scripts/fence_ratio.py run.log
"""
import re
import sys


def p50s(text):
    """{(benchmark, metric): p50} from the percentile tables the benchmark prints when not on a terminal."""
    found = {}
    for block in re.split(r"Debug results for ", text)[1:]:
        name = block.split(":\n")[0].split("/")[-1]
        for m in re.finditer(r"\n([A-Za-z ()]+):\n\s+Value.*?\n(.*?)#\[Mean", block, re.S):
            rows = [r.split() for r in m.group(2).strip().split("\n")]
            at_half = [r[0] for r in rows if len(r) >= 2 and abs(float(r[1]) - 0.5) < 1e-9]
            if at_half:
                found[(name, m.group(1))] = float(at_half[0])
    return found


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: fence_ratio.py BENCHMARK_OUTPUT")
    res = p50s(open(sys.argv[1]).read())
    try:
        wall = {n: res[(n, "Time (wall clock)")] for n in ("fences-10k", "fences-10k-inline", "no-fences")}
        cpu = {n: res[(n, "cpuNanosPerRecord")] for n in ("fences-10k", "fences-10k-inline", "no-fences")}
        loop = res[("fences-10k", "ingestThreadNanosPerRecord")]
    except KeyError as missing:
        sys.exit(f"fence_ratio.py: {missing} not in {sys.argv[1]} (run with the gateway-40-1M-fleet filter)")
    print("wall p50 ms: threaded %.1f inline %.1f none %.1f  ratio threaded %.2f inline %.2f; "
          "cpu ns/rec threaded %d (loop %d) inline %d none %d" % (
              wall["fences-10k"] / 1e6, wall["fences-10k-inline"] / 1e6, wall["no-fences"] / 1e6,
              wall["no-fences"] / wall["fences-10k"], wall["no-fences"] / wall["fences-10k-inline"],
              cpu["fences-10k"], loop, cpu["fences-10k-inline"], cpu["no-fences"]))


if __name__ == "__main__":
    main()
