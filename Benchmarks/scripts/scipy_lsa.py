#!/usr/bin/env python3
"""SciPy baseline for the Dispatcher solver: times scipy.optimize.linear_sum_assignment on the
shared assignment instances (solve only, parsing excluded), best of N runs, and checks NAME.opt.

Usage: python3 Benchmarks/scripts/scipy_lsa.py [--repeat N] [DIR or FILE ...]
Forbidden pairs (`-`) become +inf, which SciPy treats as forbidden. Output: one line per file,
`NAME R C scipy <ms> ms total <cost>`; compare with `hexfleet match --timing`.
"""
import os
import sys
import time

import numpy as np
from scipy.optimize import linear_sum_assignment


def load(path):
    with open(path) as fh:
        r, c = map(int, fh.readline().split())
        data = fh.read().replace(" - ", " inf ").replace("\n- ", "\ninf ").replace(" -\n", " inf\n")
    toks = data.split()
    toks = ["inf" if t == "-" else t for t in toks]
    m = np.array(toks, dtype=np.float64).reshape(r, c)
    return m


def main(argv):
    repeat = 5
    paths = []
    i = 0
    while i < len(argv):
        if argv[i] == "--repeat":
            repeat = int(argv[i + 1]); i += 2; continue
        paths.append(argv[i]); i += 1
    if not paths:
        here = os.path.dirname(os.path.abspath(__file__))
        shared = os.environ.get("HEXFLEET_SHARED_DATA", os.path.join(here, "..", "..", "..", "shared", "data"))
        paths = [os.path.join(shared, "assignment")]
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(".txt"))
        else:
            files.append(p)
    for f in files:
        m = load(f)
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            rows, cols = linear_sum_assignment(m)
            best = min(best, time.perf_counter() - t0)
        total = float(m[rows, cols].sum())
        name = os.path.basename(f)[:-4]
        opt_path = f[:-4] + ".opt"
        check = ""
        if os.path.exists(opt_path):
            opt = float(open(opt_path).read())
            check = " ok" if abs(total - opt) <= 1e-9 * max(1.0, abs(opt)) else f" MISMATCH opt={opt!r}"
        print(f"{name:24s} {m.shape[0]} {m.shape[1]} scipy {best * 1e3:.3f} ms total {total!r}{check}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
