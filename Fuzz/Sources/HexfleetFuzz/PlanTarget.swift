import Dispatcher
import Vocabulary

/// Planner runs stay this small: the reader takes instances of any size, but a search over a large one would spend
/// the fuzzer's time on one input (the search code is the same at any size).
private let planMaxLocations = 32, planMaxOrders = 12, planMaxCouriers = 6

/// The `hexfleet plan` instance reader (`PlanInstance.parse`: JSON, paths, ids, promised stops) and, for tiny
/// instances, the planner itself with a tiny budget (a few milliseconds and iterations) and its JSON answer. A plan
/// must account for every order once: served by one route (pickup then drop-off, or only the drop-off of an order
/// already on board) or listed as unassigned.
let planTarget = FuzzTarget(
    name: "plan",
    run: { input in
        guard let instance = try? PlanInstance.parse(input) else { return }
        guard instance.locationCount <= planMaxLocations, instance.orders.count <= planMaxOrders,
              instance.couriers.count <= planMaxCouriers else { return }
        let options = RoutePlannerOptions(timeLimitMs: 5, maxIterations: 40, stallIterations: 20,
                                          seed: UInt64(input.count))
        guard let plan = try? RoutePlanner.plan(instance, options: options) else { return }
        _ = plan.json()
        checkAccountsForEveryOrder(plan, instance)
    },
    seeds: {
        [
            ("example", Array("""
                {"matrix":[[0,120,300,400],[120,0,200,350],[null,200,0,150],[400,350,150,0]],
                 "couriers":[{"id":1,"start":0,"available_at":0,"capacity":3,"stops":[{"order":7,"type":"dropoff"}]},
                  {"id":2,"start":3,"available_at":60,"capacity":2,"stops":[{"order":8,"type":"pickup"},{"order":8,"type":"dropoff"}]}],
                 "orders":[{"id":7,"pickup":2,"dropoff":3,"ready_at":120,"deadline":2400,"max_ride":1800,"service":60},
                  {"id":8,"pickup":1,"dropoff":2,"ready_at":300,"deadline":null,"service":30},
                  {"id":9,"pickup":1,"dropoff":3}]}
                """.utf8)),
            ("tight", Array("""
                {"matrix":[[0,5,9],[5,0,4],[9,4,0]],"couriers":[{"id":3,"start":0,"available_at":10,"capacity":1}],
                 "orders":[{"id":1,"pickup":1,"dropoff":2,"deadline":20,"max_ride":4},{"id":2,"pickup":2,"dropoff":0,"ready_at":1e3},
                  {"id":4,"pickup":0,"dropoff":0,"service":0.5}]}
                """.utf8)),
            ("unreachable", Array("""
                {"matrix":[[0,null],[null,0]],"couriers":[{"id":1,"start":0,"available_at":0,"capacity":0},
                 {"id":2,"start":1,"available_at":0,"capacity":2}],"orders":[{"id":5,"pickup":0,"dropoff":1}]}
                """.utf8)),
            ("no-orders", Array(#"{"matrix":[[0]],"couriers":[],"orders":[]}"#.utf8)),
        ]
    })

/// Traps (a finding) when `plan` loses, duplicates or invents an order.
private func checkAccountsForEveryOrder(_ plan: RoutePlan, _ instance: PlanInstance) {
    precondition(plan.routes.count == instance.couriers.count, "a route per courier")
    var served = [OrderID: Int]()
    for route in plan.routes {
        for step in route.steps where step.kind == .dropoff { served[step.order, default: 0] += 1 }
        for step in route.steps { precondition(!(step.start < step.arrival), "service starts before the courier arrives") }
    }
    for id in plan.unassigned { served[id, default: 0] += 1 }
    for order in instance.orders { precondition(served[order.id] == 1, "order \(order.id) accounted for \(served[order.id] ?? 0) times") }
    precondition(served.count == instance.orders.count, "a plan names an order the instance does not have")
}
