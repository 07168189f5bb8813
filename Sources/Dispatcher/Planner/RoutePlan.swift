import JSON
import Vocabulary

/// One visit in a planned route, with its times (seconds from 0).
public struct PlannedStep: Sendable, Equatable {
    /// The order served.
    public var order: OrderID
    /// Pickup or drop-off.
    public var kind: PlanStopKind
    /// When the courier gets there.
    public var arrival: Double
    /// When service begins: the arrival, or the ready time for a pickup whose food is not ready yet.
    public var start: Double
    /// A step.
    public init(order: OrderID, kind: PlanStopKind, arrival: Double, start: Double) {
        self.order = order; self.kind = kind; self.arrival = arrival; self.start = start
    }
}

/// A courier's planned stops in visiting order (promised ones included).
public struct PlannedRoute: Sendable, Equatable {
    /// The courier.
    public var courier: CourierID
    /// Its stops, in order.
    public var steps: [PlannedStep]
    /// A route.
    public init(courier: CourierID, steps: [PlannedStep]) { self.courier = courier; self.steps = steps }
}

/// The planner's answer: one route per courier (in instance order), the orders left out, and total travel seconds.
public struct RoutePlan: Sendable, Equatable {
    /// Every courier's route, empty ones included, in the instance's courier order.
    public var routes: [PlannedRoute]
    /// Orders no route serves, in the instance's order.
    public var unassigned: [OrderID]
    /// Sum of the matrix legs driven by all couriers (waiting and service are not travel).
    public var cost: Double
    /// Ruin-and-recreate iterations the search ran (not part of the JSON answer).
    public var searchIterations: Int
    /// A plan.
    public init(routes: [PlannedRoute], unassigned: [OrderID], cost: Double, searchIterations: Int = 0) {
        self.routes = routes; self.unassigned = unassigned; self.cost = cost; self.searchIterations = searchIterations
    }

    /// The answer in the `hexfleet plan` format:
    /// `{"routes":[{"courier":1,"steps":[{"order":7,"type":"pickup","arrival":130,"start":130},…]}],"unassigned":[…],"cost":…}`.
    public func json() -> [UInt8] {
        var w = JSONWriter(capacity: 64 + routes.count * 32 + routes.reduce(0) { $0 + $1.steps.count } * 72)
        w.beginObject()
        w.key("routes")
        w.beginArray()
        for route in routes {
            w.beginObject()
            w.key("courier"); w.number(route.courier.rawValue)
            w.key("steps")
            w.beginArray()
            for step in route.steps {
                w.beginObject()
                w.key("order"); w.number(step.order.rawValue)
                w.key("type"); w.string(step.kind.rawValue)
                w.key("arrival"); w.number(step.arrival)
                w.key("start"); w.number(step.start)
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
        w.endArray()
        w.key("unassigned")
        w.beginArray()
        for id in unassigned { w.number(id.rawValue) }
        w.endArray()
        w.key("cost"); w.number(cost)
        w.endObject()
        return w.bytes
    }
}
