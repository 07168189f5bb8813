import Vocabulary

/// What a committed transition answers: the order after it, and the status it left.
public struct TransitionOutcome: Sendable, Equatable {
    /// The order as committed.
    public var order: OrderRecord
    /// The status before the transition.
    public var from: OrderStatus

    /// An outcome.
    public init(order: OrderRecord, from: OrderStatus) {
        self.order = order
        self.from = from
    }
}
