/// The hub's plain counters (loop-owned, flushed once per tick).
struct TrackingStatistics: Sendable, Equatable {
    var messages: UInt64 = 0
    var positions: UInt64 = 0
    var skippedTicks: UInt64 = 0
    var evictions: UInt64 = 0
}
