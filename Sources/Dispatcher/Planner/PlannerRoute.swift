/// One courier's route inside the search, with its earliest schedule cached.
///
/// `nodes[k]` is `2 · order + 0` for a pickup, `+ 1` for a drop-off. `arrival`, `start` and `load` (orders on board
/// after serving stop `k`) are parallel to `nodes` and valid after `PlannerSearch.evaluate`; `cost` is the sum of
/// the matrix legs from the courier's start through every stop.
struct PlannerRoute {
    var nodes: [Int32] = []
    var arrival: [Double] = []
    var start: [Double] = []
    var load: [Int32] = []
    var cost: Double = 0
}
