import Foundation
import Routing

// CPU time of MapMatcher.match on the 1,000 fixes of `match/1000-points` (Andorra, every 30 m, σ = 15 m; the same
// generator and seed): the default (a pilot match measuring σ, then the whole trace) against one pass with σ given,
// interleaved, 30 rounds. CPU time, not wall clock: on the shared 2-core machine wall clock runs several times CPU.
// Built and run by match-cpu.sh against the release objects of the Routing target, with the benchmarks' trace
// generator (Benchmarks/Benchmarks/RoutingBenchmarks/SyntheticTrace.swift).
@main
enum MatchCPU {
    static func cpu() -> Double { Double(clock()) / Double(CLOCKS_PER_SEC) * 1000 }

    static func main() throws {
        let network = try RoadNetwork.importPBF(path: CommandLine.arguments[1])
        let points = SyntheticTrace.points(network, seed: 30)
        var matcher = MapMatcher(network: network)
        var newTimes: [Double] = [], oldTimes: [Double] = []
        var m = matcher.match(points)
        var given = MapMatcher.Options(); given.sigmaMeters = m.sigmaMeters
        print("fixes \(points.count) final σ \(m.sigmaMeters) breaks \(m.breaks.count)")
        for _ in 0..<30 {
            var t = cpu(); m = matcher.match(points); newTimes.append(cpu() - t)
            t = cpu(); m = matcher.match(points, options: given); oldTimes.append(cpu() - t)
        }
        newTimes.sort(); oldTimes.sort()
        print(String(format: "CPU ms p0/p50: default %.2f / %.2f, one pass (σ given) %.2f / %.2f", newTimes[0], newTimes[15], oldTimes[0], oldTimes[15]))
    }
}
