import HTTPServer
import HexGeo
import Vocabulary

/// The registered fences and the square → fences map the ingest path reads.
///
/// ```
/// fences:   slot → (definition, shape, squares, generation)     byID: id → slot
/// squares:  grid square → [slot]   every square within `marginMeters` of a fixed fence's shape
/// roaming:  [slot] (near_driver fences, evaluated per tick)
/// outsideEverywhere: [slot] fences detecting `outside` (checked on every ping while there are any)
/// ```
/// Covers are conservative: a square is listed when any point of it may lie within the margin of the shape, so a
/// ping in an unlisted square is at least `marginMeters` from every fixed fence. Slots are reused; a slot's
/// generation changes with each use so per-driver state naming an old fence is recognized as stale. Loop-owned.
final class FenceIndex {
    struct Entry {
        var definition: FenceDefinition
        /// The area tested: a fixed shape, or a drive-time fence's reachable cells; nil for a roaming fence.
        var shape: FenceShape?
        var squares: [UInt64]
        var generation: UInt32
    }

    let grid: FenceGrid
    let marginMeters: Double
    let maxSquaresPerFence: Int
    let maxFences: Int
    private(set) var entries: [Entry?] = []
    private var freeSlots: [Int32] = []
    private var generations: [UInt32] = []
    private(set) var byID: [String: Int32] = [:]
    private(set) var squares: [UInt64: [Int32]] = [:]
    private(set) var roaming: [Int32] = []
    private(set) var outsideEverywhere: [Int32] = []
    /// Marks for de-duplicating candidates: `marks[slot] == stamp` once a slot was taken this round.
    private var marks: [UInt32] = []
    private var stamp: UInt32 = 0

    init(grid: FenceGrid = FenceGrid(), marginMeters: Double = 1_000, maxSquaresPerFence: Int = 250_000,
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
        var cover: [UInt64] = []
        if let shape {
            guard let c = grid.cover(shape, marginMeters: marginMeters, maxSquares: maxSquaresPerFence) else {
                throw APIError(.fenceTooLarge, "the shape covers more than \(maxSquaresPerFence) index squares")
            }
            cover = c
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
        entries[Int(slot)] = Entry(definition: definition, shape: shape, squares: cover, generation: generations[Int(slot)])
        byID[definition.id] = slot
        for sq in cover { squares[sq, default: []].append(slot) }
        if shape == nil { roaming.append(slot) }
        if shape != nil && definition.detect.contains(.outside) { outsideEverywhere.append(slot) }
        return replaced
    }

    /// Removes a fence by id; false when there is none.
    @discardableResult
    func remove(_ id: String) -> Bool {
        guard let slot = byID.removeValue(forKey: id), let e = entries[Int(slot)] else { return false }
        for sq in e.squares {
            guard var list = squares[sq] else { continue }
            if let i = list.firstIndex(of: slot) { list.swapAt(i, list.count - 1); list.removeLast() }
            squares[sq] = list.isEmpty ? nil : list
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
        guard let list = squares[grid.key(p)] else { return [] }
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
