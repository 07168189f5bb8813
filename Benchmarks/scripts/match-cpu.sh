#!/usr/bin/env bash
# CPU time per map match of 1,000 fixes (release), default vs one pass with σ given, in the same run; a quick
# stand-in for `match/1000-points` when the benchmark package's release build does not fit a session.
# Usage: Benchmarks/scripts/match-cpu.sh [andorra.osm.pbf]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
pbf="${1:-${HEXFLEET_SHARED_DATA:-$root/../shared/data}/osm/andorra.osm.pbf}"
(cd "$root" && swift build -c release --target Routing >/dev/null)
rel="$root/.build/release"
out="$(mktemp -d)"
swiftc -O "$here/match_cpu.swift" "$here/../Benchmarks/RoutingBenchmarks/SyntheticTrace.swift" -I "$rel/Modules" "$rel"/{Routing,HexGeo,Vocabulary,JSON}.build/*.o \
    -Xcc -fmodule-map-file="$root/Sources/CZlib/module.modulemap" -lz -o "$out/match-cpu"
"$out/match-cpu" "$pbf"
rm -rf "$out"
