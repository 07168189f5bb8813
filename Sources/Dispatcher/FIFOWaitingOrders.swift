import Vocabulary

/// A simple in-memory `WaitingOrderQueue`, ordered by age.
public struct FIFOWaitingOrders: WaitingOrderQueue, Sendable {
    public private(set) var waiting: [WaitingOrder] = []

    /// A queue holding `orders`, sorted by age.
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
