/// What `createOrder` answers.
public struct CreateOrderOutcome: Sendable, Equatable {
    /// The order, new or the one first created with the same idempotency key.
    public var order: OrderRecord
    /// True when the key was seen before and nothing was written.
    public var replayed: Bool

    /// An outcome.
    public init(order: OrderRecord, replayed: Bool) {
        self.order = order
        self.replayed = replayed
    }
}
