import Vocabulary

/// The orders waiting for a courier, owned by the loop (Marketplace's order book adapts to this).
public protocol WaitingOrderQueue {
    /// Waiting orders, oldest first (by `createdAtMs`, then id).
    var waiting: [WaitingOrder] { get }
    /// Takes an order out (it was offered); nil when it is not waiting.
    mutating func remove(_ id: OrderID) -> WaitingOrder?
    /// Puts an order back (its offer was declined or expired), keeping its original place by age.
    mutating func requeue(_ order: WaitingOrder)
}
