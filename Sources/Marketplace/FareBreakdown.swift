import Storage

/// How a price was made, every amount in cents.
public struct FareBreakdown: Sendable, Equatable {
    /// Flat part.
    public var baseCents: Int64
    /// Distance part (per-km × km, rounded).
    public var distanceCents: Int64
    /// Time part (per-minute × minutes, rounded).
    public var timeCents: Int64
    /// max(minimum, base + distance + time).
    public var fareCents: Int64
    /// Whether the minimum fare applied.
    public var minimumApplied: Bool
    /// What surge added on top of the fare.
    public var surgeCents: Int64
}
