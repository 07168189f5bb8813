import Vocabulary

/// Whether a planned stop collects an order or hands it over.
public enum PlanStopKind: String, Sendable, Equatable {
    case pickup, dropoff
}

/// One stop of a courier's route: an order and which end of it.
public struct PlanStop: Sendable, Equatable {
    /// The order served at this stop.
    public var order: OrderID
    /// Pickup or drop-off.
    public var kind: PlanStopKind
    /// A stop of `order`.
    public init(order: OrderID, kind: PlanStopKind) { self.order = order; self.kind = kind }
}

/// A courier as the route planner sees it: where and when it starts, how much it carries, and what it promised.
public struct PlanCourier: Sendable, Equatable {
    /// The courier's id, echoed in the answer.
    public var id: CourierID
    /// Location index (row of the matrix) where the courier is at `availableAt`.
    public var start: Int
    /// Seconds from 0 when the courier can leave `start`.
    public var availableAt: Double
    /// Orders it can hold at once (every order has size 1).
    public var capacity: Int
    /// Stops already promised, in the order they must be visited. A drop-off without its pickup in this list is an
    /// order already on board.
    public var stops: [PlanStop]
    /// A courier; `stops` are kept in this order by every plan.
    public init(id: CourierID, start: Int, availableAt: Double, capacity: Int, stops: [PlanStop] = []) {
        self.id = id; self.start = start; self.availableAt = availableAt; self.capacity = capacity; self.stops = stops
    }
}

/// An order to carry from `pickup` to `dropoff` (location indices).
public struct PlanOrder: Sendable, Equatable {
    /// The order's id.
    public var id: OrderID
    /// Location index of the restaurant.
    public var pickup: Int
    /// Location index of the customer.
    public var dropoff: Int
    /// Seconds from 0 before which the pickup's service cannot start (the courier may wait).
    public var readyAt: Double
    /// Latest drop-off arrival, seconds from 0; `.infinity` = none.
    public var deadline: Double
    /// Longest ride, drop-off arrival minus pickup service start, seconds; `.infinity` = none.
    public var maxRide: Double
    /// Seconds spent at each of its two stops.
    public var service: Double
    /// An order; omitted limits are unbounded.
    public init(id: OrderID, pickup: Int, dropoff: Int, readyAt: Double = 0, deadline: Double = .infinity,
                maxRide: Double = .infinity, service: Double = 0) {
        self.id = id; self.pickup = pickup; self.dropoff = dropoff; self.readyAt = readyAt
        self.deadline = deadline; self.maxRide = maxRide; self.service = service
    }
}

/// A pickup-and-delivery planning instance: a travel-time matrix, couriers and orders (the `hexfleet plan` input).
///
/// `matrix` is row-major, `locationCount²` travel seconds, not necessarily symmetric; `.infinity` = unreachable.
/// A valid instance (see `validate()`) has indices in range, unique ids, finite non-negative times and promised
/// stops that name known orders, pickup before drop-off, each order on at most one courier.
public struct PlanInstance: Sendable, Equatable {
    /// Number of locations (the matrix is this many rows and columns).
    public var locationCount: Int
    /// Travel seconds, row-major (`matrix[from * locationCount + to]`); `.infinity` where unreachable.
    public var matrix: [Double]
    /// The couriers, in answer order.
    public var couriers: [PlanCourier]
    /// The orders, promised ones included.
    public var orders: [PlanOrder]

    /// An instance; `matrix` must hold `locationCount²` entries.
    public init(locationCount: Int, matrix: [Double], couriers: [PlanCourier], orders: [PlanOrder]) {
        self.locationCount = locationCount; self.matrix = matrix; self.couriers = couriers; self.orders = orders
    }

    /// Travel seconds from one location to another.
    @inlinable public func travel(_ from: Int, _ to: Int) -> Double { matrix[from * locationCount + to] }
}
