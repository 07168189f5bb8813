import HTTPServer
import HexGeo
import Vocabulary

/// The registered fences and the square → fences map the ingest path reads.
///
/// ```
/// fences:   slot → (definition, shape, squares, box, generation)     byID: id → slot
/// squares:  grid square → (fences touching it, count of fences within the margin of it)
/// roaming:  [slot] (near_driver fences, evaluated per tick)
/// outsideEverywhere: [slot] fences detecting `outside` (checked on every ping while there are any)
/// ```
/// Two covers per fixed fence, both conservative: the squares its shape may touch (within a third of a square,
/// so a segment sampled every quarter square finds every fence it passes through), whose lists are a ping's
/// candidates, and the squares within `marginMeters`, which only count: a ping in a square missing from the map is
/// at least the margin from every fixed fence, and the detector forgets such a driver. Keeping the wide cover out
/// of the candidate lists is what keeps a dense city's ping to a handful of exact tests. Slots are reused; a
/// slot's generation changes with each use so per-driver state naming an old fence is recognized as stale.
/// Loop-owned.
final class FenceIndex {
    struct Entry {
        var definition: FenceDefinition
        /// The area tested: a fixed shape, or a drive-time fence's reachable cells; nil for a roaming fence.
        var shape: FenceShape?
        /// Squares the shape may touch (candidate lists) and squares within the margin (counts).
        var squares: [UInt64]
        var nearSquares: [UInt64]
        var generation: UInt32
        /// A box around the shape in degrees × 1e7, a little wider than it (nil across the antimeridian): a point
        /// outside it is outside the shape without the exact test.
        var boxE7: (minLat: Int32, maxLat: Int32, minLng: Int32, maxLng: Int32)?

        /// Whether the shape may hold the point (false: it surely does not).
        @inline(__always)
        func mayContain(latE7: Int32, lngE7: Int32) -> Bool {
            guard let b = boxE7 else { return true }
            return latE7 >= b.minLat && latE7 <= b.maxLat && lngE7 >= b.minLng && lngE7 <= b.maxLng
        }
    }

    /// What the map holds for one square.
    struct Square {
        /// Fences whose shape may touch the square: a ping's candidates.
        var fences: [Int32] = []
        /// Fences whose margin reaches the square.
        var near: Int32 = 0
    }

    let grid: FenceGrid
    let marginMeters: Double
    let maxSquaresPerFence: Int
    let maxFences: Int
    private(set) var entries: [Entry?] = []
    private var freeSlots: [Int32] = []
    private var generations: [UInt32] = []
    private(set) var byID: [String: Int32] = [:]
    private(set) var squares: [UInt64: Square] = [:]
    private(set) var roaming: [Int32] = []
    private(set) var outsideEverywhere: [Int32] = []
    /// Marks for de-duplicating candidates: `marks[slot] == stamp` once a slot was taken this round.
    private var marks: [UInt32] = []
    private var stamp: UInt32 = 0

    init(grid: FenceGrid = FenceGrid(sideE7: 25_000), marginMeters: Double = 1_000, maxSquaresPerFence: Int = 200_000,
         maxFences: Int = 1_000_000) {
        self.grid = grid
        self.marginMeters = marginMeters
        self.maxSquaresPerFence = maxSquaresPerFence
        self.maxFences = maxFences
    }

    /// Registered fences.
    var count: Int { byID.count }

    /// The entry in a slot.
    @inline(__always) func entry(_ slot: Int32) -> Entry? { entries[Int(slot)] }

    /// Adds a fence, replacing one with the same id; answers whether it replaced one.
    /// - Throws: `fence_too_large` when the cover passes the limit, `too_many_fences` past the fence limit.
    @discardableResult
    func add(_ definition: FenceDefinition, shape: FenceShape?) throws(APIError) -> Bool {
        var cover: [UInt64] = [], near: [UInt64] = []
        var box: (minLat: Int32, maxLat: Int32, minLng: Int32, maxLng: Int32)?
        if let shape {
            guard let c = grid.cover(shape, marginMeters: grid.sideMeters / 3, maxSquares: maxSquaresPerFence),
                  let n = grid.cover(shape, marginMeters: marginMeters, maxSquares: maxSquaresPerFence) else {
                throw APIError(.fenceTooLarge, "the shape covers more than \(maxSquaresPerFence) index squares")
            }
            cover = c
            near = n
            let b = shape.boundingBox
            if !b.isTransmeridian {
                // 1e-4° (≈ 11 m) of slack covers rounding between radians, degrees and E7.
                func e7(_ radians: Double, _ slack: Double) -> Int32 {
                    Int32(clamping: Int64((radians * 180 / Double.pi + slack) * 1e7))
                }
                box = (e7(b.south, -1e-4), e7(b.north, 1e-4), e7(b.west, -1e-4), e7(b.east, 1e-4))
            }
        }
        let replaced = remove(definition.id)
        guard count < maxFences else { throw APIError(.tooManyFences, "at most \(maxFences) fences") }
        let slot: Int32
        if let s = freeSlots.popLast() {
            slot = s
        } else {
            slot = Int32(entries.count)
            entries.append(nil)
            generations.append(0)
            marks.append(0)
        }
        generations[Int(slot)] &+= 1
        entries[Int(slot)] = Entry(definition: definition, shape: shape, squares: cover, nearSquares: near,
                                   generation: generations[Int(slot)], boxE7: box)
        byID[definition.id] = slot
        for sq in cover { squares[sq, default: Square()].fences.append(slot) }
        for sq in near { squares[sq, default: Square()].near += 1 }
        if shape == nil { roaming.append(slot) }
        if shape != nil && definition.detect.contains(.outside) { outsideEverywhere.append(slot) }
        return replaced
    }

    /// Removes a fence by id; false when there is none.
    @discardableResult
    func remove(_ id: String) -> Bool {
        guard let slot = byID.removeValue(forKey: id), let e = entries[Int(slot)] else { return false }
        for sq in e.squares {
            guard var entry = squares[sq], let i = entry.fences.firstIndex(of: slot) else { continue }
            entry.fences.swapAt(i, entry.fences.count - 1)
            entry.fences.removeLast()
            squares[sq] = entry
        }
        for sq in e.nearSquares { squares[sq]?.near -= 1 }
        for sq in Set(e.squares + e.nearSquares) where squares[sq].map({ $0.fences.isEmpty && $0.near <= 0 }) == true {
            squares.removeValue(forKey: sq)
        }
        roaming.removeAll { $0 == slot }
        outsideEverywhere.removeAll { $0 == slot }
        entries[Int(slot)] = nil
        freeSlots.append(slot)
        return true
    }

    /// Starts a candidate round: `take` answers true once per slot per round.
    @inline(__always)
    func beginRound() {
        stamp &+= 1
        if stamp == 0 {
            for i in marks.indices { marks[i] = 0 }
            stamp = 1
        }
    }

    /// True the first time a slot is taken in this round.
    @inline(__always)
    func take(_ slot: Int32) -> Bool {
        if marks[Int(slot)] == stamp { return false }
        marks[Int(slot)] = stamp
        return true
    }

    /// Fixed fences whose shape holds `p`, nearest centre first, at most `limit`; expired ones left out.
    func containing(_ p: LatLng, limit: Int, nowMs: Int64) -> [(slot: Int32, distanceMeters: Double)] {
        guard let list = squares[grid.key(p)]?.fences else { return [] }
        var out: [(slot: Int32, distanceMeters: Double)] = []
        for slot in list {
            guard let e = entries[Int(slot)], let shape = e.shape, !e.definition.isExpired(nowMs), shape.contains(p) else { continue }
            out.append((slot, Geodesy.distanceMeters(shape.center, p)))
        }
        out.sort { $0.distanceMeters != $1.distanceMeters ? $0.distanceMeters < $1.distanceMeters
                                                           : entries[Int($0.slot)]!.definition.id < entries[Int($1.slot)]!.definition.id }
        if out.count > limit { out.removeLast(out.count - limit) }
        return out
    }

    /// Ids of fences expired by `nowMs`.
    func expired(nowMs: Int64) -> [String] {
        var out: [String] = []
        for case let e? in entries where e.definition.isExpired(nowMs) { out.append(e.definition.id) }
        return out
    }
}
