#!/usr/bin/env python3
"""The CPU-sample split of the fenced ingest benchmark, steadier than wall clock on a shared machine.

    perf record -g -o fenced.perf Benchmarks/.build/release/IngestBenchmarks --filter "ingest/gateway-40-1M-fleet/fences-10k"
    Benchmarks/scripts/fence_split.py fenced.perf

Counts the samples whose stack holds `ingestWindowChunk` (the measured part; the setup's pass 0 goes through
`ingestDatagram`) and splits them by whether the stack also holds `FenceDetector.process`. rest / (rest + fence) is
what the fenced ingest would run at against its baseline if the fences did not also slow the rest through the caches.
"""
import collections
import subprocess
import sys

out = subprocess.run(["perf", "script", "-i", sys.argv[1], "-F", "ip,sym"], capture_output=True, text=True, check=True).stdout
total = measured = fence = 0
leaves = collections.Counter()
for block in out.split("\n\n"):
    chain = [line.strip() for line in block.splitlines() if line.strip()]
    if not chain:
        continue
    total += 1
    if not any("ingestWindowChunk" in c for c in chain):
        continue
    measured += 1
    if any("FenceDetectorC7process" in c for c in chain):
        fence += 1
        parts = chain[0].split(None, 1)
        leaves[parts[1] if len(parts) > 1 else "?"] += 1
rest = measured - fence
print(f"samples {total}; measured {measured}: fence listener {100 * fence / total:.1f} %, rest of ingest {100 * rest / total:.1f} %; "
      f"rest / measured = {rest / max(1, measured):.2f}")
print("self time under the fence listener (pipe through `swift demangle --simplified`):")
for symbol, count in leaves.most_common(12):
    print(f"{100 * count / max(1, fence):5.1f} % {symbol}")
