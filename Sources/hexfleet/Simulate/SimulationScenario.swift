import ArgumentParser

/// `--scenario`: what the offline simulator plays.
enum SimulationScenario: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// Couriers roaming between hubs, orders anywhere with hot spots, one order per courier (the default).
    case city
    /// Lunch-time food delivery: restaurants, preparation times, deadlines, stacking (docs/simulator.md).
    case food
}
