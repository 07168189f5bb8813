/// The orders waiting for a courier, owned by the loop (Marketplace's order book adapts to this).
public protocol WaitingOrderQueue {
    /// Waiting orders, oldest first (by `createdAtMs`, then id).
    var waiting: [WaitingOrder] { get }
    /// Takes an order out (it was offered); nil when it is not waiting.
    mutating func remove(_ id: OrderID) -> WaitingOrder?
    /// Puts an order back (its offer was declined or expired), keeping its original place by age.
    mutating func requeue(_ order: WaitingOrder)
}

/// A simple in-memory `WaitingOrderQueue`, ordered by age.
public struct FIFOWaitingOrders: WaitingOrderQueue, Sendable {
    public private(set) var waiting: [WaitingOrder] = []

    public init(_ orders: [WaitingOrder] = []) {
        for o in orders { requeue(o) }
    }

    public mutating func remove(_ id: OrderID) -> WaitingOrder? {
        guard let k = waiting.firstIndex(where: { $0.id == id }) else { return nil }
        return waiting.remove(at: k)
    }

    public mutating func requeue(_ order: WaitingOrder) {
        if waiting.contains(where: { $0.id == order.id }) { return }
        let k = waiting.firstIndex { ($0.createdAtMs, $0.id) > (order.createdAtMs, order.id) } ?? waiting.count
        waiting.insert(order, at: k)
    }
}
