import ArgumentParser
import Dispatcher

/// `--policy`: the dispatch policy a simulation runs, by the simulator's names.
///
/// The city scenario takes `greedy` and `batch` (`DispatchPolicy.simulatorName`) and `single`, which is `batch`
/// under the name the food scenario uses; the food scenario takes `single` and `stacked` (`FoodSimulation.Policy`).
/// Online, the engine dispatches: `single` (couriers take one order at a time) or, with the food scenario, `stacked`
/// (couriers take offers up to their capacity and drive their planned route; `FoodCourierAgents`).
enum SimulationPolicy: String, CaseIterable, ExpressibleByArgument, Sendable {
    case greedy, batch, single, stacked

    /// The city scenario's dispatch policy; nil for `stacked`, which only the food scenario runs.
    var cityPolicy: DispatchPolicy? {
        switch self {
        case .greedy: .greedyNearest
        case .batch, .single: .batchOptimal
        case .stacked: nil
        }
    }

    /// The food scenario's policy; nil for `greedy` and `batch`.
    var foodPolicy: FoodSimulation.Policy? { FoodSimulation.Policy(rawValue: rawValue) }
}
