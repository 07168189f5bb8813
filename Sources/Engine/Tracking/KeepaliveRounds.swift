/// Spreads keepalive pings over the keepalive interval: each tick pings one slot's share of the connections, so
/// 10,000 quiet viewers cost each tick a few dozen writes instead of one tick 10,000 (a 150 ms stall measured).
struct KeepaliveRounds {
    /// Ticks per keepalive interval: every connection is pinged once in that many ticks.
    let slots: Int
    private var round = 0

    /// Rounds for pings every `keepaliveMs` with a tick every `tickMs`.
    init(keepaliveMs: Int64, tickMs: UInt64) {
        slots = max(1, Int(keepaliveMs / Int64(max(1, tickMs))))
    }

    /// The slot to ping at this tick (connections are spread over `0..<slots`).
    mutating func next() -> Int {
        round = round + 1 == slots ? 0 : round + 1
        return round
    }

    /// The slot of a connection with this number (any evenly spread integer: an id, an open counter).
    func slot(of n: UInt64) -> Int { Int(n % UInt64(slots)) }
}
