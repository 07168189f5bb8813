import Benchmark
import Dispatcher

// Dispatcher benchmarks. Every implementation runs beside its baseline in the same run:
//   assign/jv/<instance>     vs assign/greedy/<instance>   (exact solver vs one-pass greedy, same matrix)
//   round/optimal/500x2000   vs round/greedy/500x2000      (full round: candidates + ETA matrix + solve)
//   round/stacked/500x2000   vs round/optimal/500x2000     (stacking: best insertion into 30 candidate routes each,
//                                                            one exact matching; lunch-peak route state)
// SciPy's linear_sum_assignment on the same files: Benchmarks/scripts/scipy_lsa.py.
let benchmarks: @Sendable () -> Void = {
    let config = Benchmark.Configuration(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal], maxDuration: .seconds(3), maxIterations: 200)

    for name in ["square-1000-dense", "rect-800x1200-dense", "square-1000-sparse", "rect-800x1200-sparse"] {
        guard let instance = DispatcherWorkloads.instance(name) else { continue }   // shared data missing
        let dense = instance.matrix
        if instance.prefersSparse {
            guard let sparse = try? SparseCostMatrix(dense) else { continue }
            Benchmark("assign/jv/\(name)", configuration: config) { benchmark in
                for _ in benchmark.scaledIterations { blackHole(try? LinearAssignment.solve(sparse)) }
            }
        } else {
            Benchmark("assign/jv/\(name)", configuration: config) { benchmark in
                for _ in benchmark.scaledIterations { blackHole(try? LinearAssignment.solve(dense)) }
            }
        }
        Benchmark("assign/greedy/\(name)", configuration: config) { benchmark in
            for _ in benchmark.scaledIterations { blackHole(GreedyAssignment.solve(dense)) }
        }
    }

    let city = DispatcherWorkloads.city(orders: 500, couriers: 2_000, seed: 7)
    for policy in DispatchPolicy.allCases {
        let round = DispatchRound(
            orders: city.orders, couriers: city.couriers, eta: StraightLineETAProvider(), policy: policy, nowMs: city.nowMs)
        Benchmark("round/\(policy.rawValue)/500x2000", configuration: config) { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try? round.run()) }
        }
    }

    let peak = DispatcherWorkloads.lunchPeak(orders: 500, couriers: 2_000, seed: 7)
    // A round that threw (an infeasible generated route) would time nothing: say what one round proposes.
    switch Result(catching: { try StackingRound.run(peak.instance, travel: peak.travel) }) {
    case .success(let proposals):
        let stacked = proposals.filter { p in peak.instance.couriers.first { $0.id == p.courier }.map { !$0.stops.isEmpty } ?? false }
        print("round/stacked/500x2000: \(proposals.count) proposals, \(stacked.count) onto couriers already carrying an order")
    case .failure(let error):
        print("round/stacked/500x2000: the round fails: \(error)")
    }
    Benchmark("round/stacked/500x2000", configuration: config) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try? StackingRound.run(peak.instance, travel: peak.travel)) }
    }
}
