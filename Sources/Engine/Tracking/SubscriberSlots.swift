/// The tracking hub's subscribers by dense slot, the numbers `TrackingIndex` keeps instead of objects.
///
/// A closed subscriber's slot is reused by a later one, except while a fan-out is sending: that fan-out's hits
/// still name the slot, so it is held back (`release(_:deferred:)`) and freed when the fan-out ends
/// (`releaseDeferred()`); a hit can never reach a newcomer that took the slot meanwhile. Loop-owned.
struct SubscriberSlots {
    /// Subscribers by slot (nil: free, or held back until the fan-out ends).
    private var bySlot: [TrackingSubscriber?] = []
    private var freeSlots: [Int32] = []
    /// Slots of subscribers that closed while a fan-out was sending.
    private var heldSlots: [Int32] = []

    /// Slots so far, free ones included (`0..<count`).
    var count: Int { bySlot.count }

    /// The subscriber at `slot`, nil when it is free.
    subscript(slot: Int) -> TrackingSubscriber? {
        @inline(__always) get { bySlot[slot] }
    }

    /// A slot for a new subscriber: a freed one, else a new one at the end. Fill it with `occupy(_:with:)`.
    mutating func take() -> Int32 {
        if let free = freeSlots.popLast() { return free }
        bySlot.append(nil)
        return Int32(bySlot.count - 1)
    }

    /// Puts `subscriber` in the slot `take()` gave it.
    mutating func occupy(_ slot: Int32, with subscriber: TrackingSubscriber) {
        bySlot[Int(slot)] = subscriber
    }

    /// Empties the slot of a closed subscriber; `deferred` (a fan-out is sending) holds it back until
    /// `releaseDeferred()`.
    mutating func release(_ slot: Int32, deferred: Bool) {
        bySlot[Int(slot)] = nil
        if deferred { heldSlots.append(slot) } else { freeSlots.append(slot) }
    }

    /// Frees the slots held back while the fan-out that just ended was sending.
    mutating func releaseDeferred() {
        freeSlots.append(contentsOf: heldSlots)
        heldSlots.removeAll(keepingCapacity: true)
    }
}
