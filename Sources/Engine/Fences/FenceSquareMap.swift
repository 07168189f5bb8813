import HexGeo

/// Grid square → the fences listed for it, built for the ingest path's one look-up a ping: an open-addressing
/// table of square keys (multiplicative hash, linear probing) whose values are spans of one shared arena of
/// `SquareEntry` (a fence's slot with its box clipped to the square and whether it holds the whole square), so a
/// ping reads its square's fences from one contiguous run instead of one random place per fence.
///
/// Why not `[UInt64: [Int32]]`: reading a dictionary of arrays hashes with SipHash and retains the array it hands
/// out, where this is a multiply, a probe or two and a range. A list that outgrows its span moves to the end of
/// the arena (the old span is waste, reclaimed by compacting once it is half the arena); a square whose list
/// empties keeps its key until the table is rebuilt. A key and where its list lives share one 16-byte table entry, so
/// a look-up touches one cache line of the table (a ping's square is a random place in a large table); the spans'
/// capacities, needed only to grow a list, live apart. Value type; the index owns the only copy it mutates.
struct FenceSquareMap {
    /// A square's key and where its list lives in `arena`.
    struct Bucket {
        var key: UInt64
        var start: Int32
        var count: Int32
    }

    private static let empty = UInt64.max
    private(set) var buckets: [Bucket]
    /// Each bucket's span capacity in `arena`.
    private var capacities: [Int32]
    private(set) var arena: [SquareEntry] = []
    private var shift: UInt64
    private var occupied = 0
    private var emptied = 0
    private var waste = 0

    init() {
        buckets = [Bucket](repeating: Bucket(key: Self.empty, start: 0, count: 0), count: 1_024)
        capacities = [Int32](repeating: 0, count: 1_024)
        shift = 64 - 10
    }

    /// Squares with a non-empty list.
    var count: Int { occupied - emptied }

    @inline(__always)
    private func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    /// The table position of `key`, or nil.
    @inline(__always)
    func find(_ key: UInt64) -> Int? {
        let mask = buckets.count - 1
        var i = home(key)
        while true {
            let k = buckets[i].key
            if k == key { return i }
            if k == Self.empty { return nil }
            i = (i + 1) & mask
        }
    }

    /// The arena range of a square's list (empty when it has none).
    @inline(__always)
    func range(_ key: UInt64) -> Range<Int> {
        buckets.withUnsafeBufferPointer { b in
            let mask = b.count - 1
            var i = home(key)
            while true {
                let bucket = b[i]
                if bucket.key == key { return Int(bucket.start)..<Int(bucket.start + bucket.count) }
                if bucket.key == Self.empty { return 0..<0 }
                i = (i + 1) & mask
            }
        }
    }

    /// A value read from `key`'s home bucket: a load with no use but to bring the bucket into cache, so that a batch
    /// can start all of its pings' look-ups before waiting on any (their misses overlap).
    @inline(__always)
    func touchBucket(_ key: UInt64) -> UInt64 {
        buckets.withUnsafeBufferPointer { b in b[home(key) & (b.count - 1)].key }
    }

    /// A value read from the first entry of `key`'s run (0 for an empty list): `touchBucket`'s second step.
    @inline(__always)
    func touchRun(_ key: UInt64) -> UInt64 {
        let r = range(key)
        guard !r.isEmpty else { return 0 }
        return arena.withUnsafeBufferPointer { UInt64(bitPattern: Int64($0[r.lowerBound].minLat)) }
    }

    /// The slots of a square's list (tests and the slow paths).
    func list(_ key: UInt64) -> [Int32] { arena[range(key)].map(\.slot) }

    /// Lists `slot` for the square `key` with no box of its own (every point of the square may be in it).
    mutating func append(_ slot: Int32, to key: UInt64) { append(SquareEntry(slot: slot), to: key) }

    /// Lists `entry` for the square `key`.
    mutating func append(_ entry: SquareEntry, to key: UInt64) {
        if (occupied + 1) * 4 > buckets.count * 3 { rehash(capacity: buckets.count * 2) }
        let (i, inserted) = findOrInsert(key)
        var s = buckets[i]
        if !inserted && s.count == 0 { emptied -= 1 }
        if s.count == capacities[i] {
            let capacity = max(4, capacities[i] * 2)
            let start = arena.count
            // Element by element: appending a slice of the arena to itself would copy the whole arena first.
            for j in Int(s.start)..<Int(s.start + s.count) { arena.append(arena[j]) }
            arena.append(contentsOf: repeatElement(SquareEntry(slot: -1), count: Int(capacity - s.count)))
            waste += Int(capacities[i])
            s.start = Int32(start)
            capacities[i] = capacity
        }
        arena[Int(s.start + s.count)] = entry
        s.count += 1
        buckets[i] = s
        if waste > 4_096 && waste * 2 > arena.count { compact() }
    }

    /// Unlists `slot` from the square `key` (order within a list is not kept).
    mutating func remove(_ slot: Int32, from key: UInt64) {
        guard let i = find(key) else { return }
        var s = buckets[i]
        let lo = Int(s.start), hi = Int(s.start + s.count)
        guard let at = arena[lo..<hi].firstIndex(where: { $0.slot == slot }) else { return }
        arena[at] = arena[hi - 1]
        s.count -= 1
        buckets[i] = s
        if s.count == 0 {
            emptied += 1
            if emptied > 1_024 && emptied * 2 > occupied { rehash(capacity: buckets.count) }
        }
    }

    private mutating func findOrInsert(_ key: UInt64) -> (Int, inserted: Bool) {
        let mask = buckets.count - 1
        var i = home(key)
        while true {
            if buckets[i].key == key { return (i, false) }
            if buckets[i].key == Self.empty {
                buckets[i] = Bucket(key: key, start: 0, count: 0)
                capacities[i] = 0
                occupied += 1
                return (i, true)
            }
            i = (i + 1) & mask
        }
    }

    /// Rebuilds the table at `capacity` (a power of two), dropping squares whose list is empty.
    private mutating func rehash(capacity: Int) {
        let oldBuckets = buckets, oldCapacities = capacities
        var size = 1_024
        while size < capacity { size *= 2 }
        while (occupied - emptied + 1) * 4 > size * 3 { size *= 2 }
        buckets = [Bucket](repeating: Bucket(key: Self.empty, start: 0, count: 0), count: size)
        capacities = [Int32](repeating: 0, count: size)
        shift = UInt64(64 - size.trailingZeroBitCount)
        occupied = 0
        emptied = 0
        for (b, capacity) in zip(oldBuckets, oldCapacities) where b.key != Self.empty {
            if b.count == 0 {
                waste += Int(capacity)
                continue
            }
            let i = findOrInsert(b.key).0
            buckets[i] = b
            capacities[i] = capacity
        }
    }

    /// Copies every list to a fresh arena, each span exactly as long as its list.
    private mutating func compact() {
        var fresh: [SquareEntry] = []
        fresh.reserveCapacity(arena.count - waste)
        for i in buckets.indices where buckets[i].key != Self.empty {
            let s = buckets[i]
            let start = fresh.count
            fresh.append(contentsOf: arena[Int(s.start)..<Int(s.start + s.count)])
            buckets[i].start = Int32(start)
            capacities[i] = s.count
        }
        arena = fresh
        waste = 0
    }
}

/// A fence as listed for one grid square: its slot, its box clipped to the square (degrees × 1e7, closed; a point of
/// the square outside it is outside the fence), what it detects, flags (`plain`: no dwell, no status or driver filter, so the transition is decided from the two fixes alone;
/// `expires`: the fence has an expiry to check before it fires), and a quick test (`QuickTest`) a point the box holds
/// is put to before the fence's exact test, so most points are decided without reading the fence (a random place
/// per fence). 44 bytes.
struct SquareEntry: Equatable, E7Box {
    var minLat: Int32, maxLat: Int32, minLng: Int32, maxLng: Int32
    var slot: Int32
    var quick = QuickTest.unsure
    var detect: FenceDetect
    var flags: UInt8

    static let plain: UInt8 = 2
    static let expires: UInt8 = 4

    /// What an entry can tell of a point its box holds without reading the fence, on the E7 integers. The disc and
    /// the half-plane are widened by `margin` on both sides (the rounding of their parameters to E7 and the single-
    /// precision arithmetic stay well within it), so where they answer, the fence's exact test answers the same.
    enum QuickTest: Equatable {
        /// Ask the fence.
        case unsure
        /// The square lies wholly inside the shape.
        case inside
        /// The square lies wholly outside the shape (a polygon's box meets it, no edge passes through it).
        case outside
        /// A circle's planar test (`PlanarDisc`): squared distance from the centre (E7 units², longitude scaled by
        /// `cosLat`) at or below `surelyInside` is inside (-1: never), above `surelyOutside` outside (+∞: never).
        case disc(centerLatE7: Int32, centerLngE7: Int32, cosLat: Float, surelyInside: Float, surelyOutside: Float)
        /// A polygon with exactly one edge through the square: the side of that edge's line (through the point
        /// given, with the unit normal given pointing inside) decides every point of the square off the line.
        case halfPlane(latE7: Int32, lngE7: Int32, normalLat: Float, normalLng: Float)

        /// E7 units the quick tests keep away from an edge (about 4 cm).
        static let margin: Float = 4
    }

    /// An entry whose box is the whole sphere, neither interior nor plain (tests, placeholders).
    init(slot: Int32) {
        (minLat, maxLat, minLng, maxLng) = (-900_000_000, 900_000_000, -1_800_000_000, 1_800_000_000)
        self.slot = slot
        detect = []
        flags = 0
    }

    init(slot: Int32, box: FenceIndex.FenceBox, flags: UInt8) {
        (minLat, maxLat, minLng, maxLng) = (box.minLat, box.maxLat, box.minLng, box.maxLng)
        self.slot = slot
        detect = box.detect
        self.flags = flags
    }

    /// Whether the square lies wholly inside the shape (its quick test answers inside for every point).
    var isInterior: Bool { quick == .inside }
    var isPlain: Bool { flags & Self.plain != 0 }
    var mayExpire: Bool { flags & Self.expires != 0 }
    var detectsCross: Bool { detect.contains(.cross) }

    /// Makes the quick test the plane's test of `disc` (whose points all lie within a few hundred km of its centre,
    /// no wrap across the antimeridian): it answers inside or outside only where `disc.classify` would.
    mutating func useQuickDisc(_ disc: PlanarDisc) {
        let perE7 = Double.pi / 180 / 1e7
        let limits = disc.planarLimits
        let margin = Double(QuickTest.margin)
        let inner = limits.inside > 0 ? limits.inside.squareRoot() / perE7 - margin : -1
        let outer = limits.outside.squareRoot() / perE7 + margin
        quick = .disc(centerLatE7: Int32(clamping: Int64((disc.center.latDegrees * 1e7).rounded())),
                      centerLngE7: Int32(clamping: Int64((disc.center.lngDegrees * 1e7).rounded())),
                      cosLat: Float(limits.cosLat), surelyInside: inner > 0 ? Float(inner * inner) : -1,
                      surelyOutside: limits.outside.isFinite ? Float(outer * outer) : .infinity)
    }

    /// The quick test of a point the box holds: inside, outside, or unsure (ask the fence).
    @inline(__always)
    func quickVerdict(latE7: Int32, lngE7: Int32) -> PlanarVerdict {
        switch quick {
        case .unsure:
            return .unsure
        case .inside:
            return .inside
        case .outside:
            return .outside
        case .disc(let cLat, let cLng, let cosLat, let surelyInside, let surelyOutside):
            let dy = Float(Int64(latE7) - Int64(cLat))
            let dx = Float(Int64(lngE7) - Int64(cLng)) * cosLat
            let d2 = dy * dy + dx * dx
            if d2 <= surelyInside { return .inside }
            return d2 > surelyOutside ? .outside : .unsure
        case .halfPlane(let aLat, let aLng, let nLat, let nLng):
            let side = Float(Int64(latE7) - Int64(aLat)) * nLat + Float(Int64(lngE7) - Int64(aLng)) * nLng
            if side >= QuickTest.margin { return .inside }
            return side <= -QuickTest.margin ? .outside : .unsure
        }
    }
}
