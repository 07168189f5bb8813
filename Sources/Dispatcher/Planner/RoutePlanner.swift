import Vocabulary

/// How long and how the route planner searches.
public struct RoutePlannerOptions: Sendable, Equatable {
    /// Wall-clock budget for the whole plan, milliseconds (construction always completes).
    public var timeLimitMs: Double
    /// Ruin-and-recreate iterations at most; with a generous `timeLimitMs` this makes a run repeatable.
    public var maxIterations: Int
    /// Stop after this many iterations without a better plan.
    public var stallIterations: Int
    /// Seed of the search's random choices: same seed, same iteration count, same plan.
    public var seed: UInt64
    /// Options; the defaults suit interactive use (a few hundred orders well under a second).
    public init(timeLimitMs: Double = 1_000, maxIterations: Int = 1_000_000, stallIterations: Int? = nil, seed: UInt64 = 1) {
        self.timeLimitMs = timeLimitMs; self.maxIterations = maxIterations
        self.stallIterations = stallIterations ?? Int.max; self.seed = seed
    }
}

/// Plans pickup-and-delivery routes for couriers: capacity, ready times, deadlines, maximum ride, service times,
/// and promised stops kept in order.
///
/// Objective, lexicographic: serve as many orders as possible, then minimise total travel (sum of matrix legs).
/// Tiny instances (`exactPlacements`) are solved exhaustively. Otherwise construction inserts orders in rounds: every unserved order's cheapest feasible insertion into every route is
/// priced and `LinearAssignment` matches orders to routes exactly (one order per route per round, a private
/// "unserved" column per order so the matching serves as many as it can). Improvement is ruin-and-recreate
/// (Shaw-style related removal, route removal and random removal; greedy best-insertion with blinks, after
/// Christiaens & Vanden Berghe's SISR, 2020) under simulated-annealing acceptance, until the time or iteration
/// budget or the stall limit. Every insertion is checked exactly against all constraints in O(route length).
public enum RoutePlanner {
    /// Instances whose free orders can be placed in at most this many ways are solved exhaustively (the optimum;
    /// a few milliseconds in release), larger ones by the heuristic search.
    static let exactPlacements = 50_000

    /// The best plan found for `instance` within `options`' budget.
    /// - Throws: `PlanInstanceError` when the instance is invalid or a courier's promised stops cannot be kept
    ///   (path `couriers[k].stops`); an order that merely cannot be served is returned in `unassigned`.
    public static func plan(_ instance: PlanInstance, options: RoutePlannerOptions = RoutePlannerOptions()) throws(PlanInstanceError) -> RoutePlan {
        let clock = ContinuousClock()
        let started = clock.now
        let n = instance.locationCount
        guard n >= 1, instance.matrix.count == n * n else { throw PlanInstanceError("matrix", "expected \(n)² entries") }
        for (k, x) in instance.matrix.enumerated() where !(x >= 0) {
            throw PlanInstanceError("matrix[\(k / n)][\(k % n)]", "expected a non-negative number or null")
        }
        var search = try PlannerSearch(instance, travel: MatrixTravelTimes(locationCount: n, values: instance.matrix), seed: options.seed)
        if !search.solveExactly(maxPlacements: RoutePlanner.exactPlacements) {
            search.construct()
            search.improve(options: options, clock: clock, started: started)
        }
        return search.bestPlan()
    }
}

extension RoutePlannerOptions {
    /// `hexfleet plan`'s wall-clock cap when none is given: 30 s. The iteration and stall limits of
    /// `forCommandLine` normally end the search long before, and do not depend on the machine's load.
    public static func defaultTimeLimitMs(orderCount: Int) -> Double { 30_000 }

    /// The budget `hexfleet plan` uses: `timeLimitMs` at most, 3,000 + 60 × orders iterations at most, and a
    /// stall limit of 2,000 + 40 × orders iterations without a better plan. Iteration limits keep the answer the
    /// same for a seed whatever the machine's load, as long as the time cap is not reached.
    public static func forCommandLine(timeLimitMs: Double, orderCount: Int, seed: UInt64) -> RoutePlannerOptions {
        RoutePlannerOptions(timeLimitMs: timeLimitMs, maxIterations: 3_000 + 60 * orderCount,
                            stallIterations: 2_000 + 40 * orderCount, seed: seed)
    }
}
