import HTTPServer
import HexGeo
import Vocabulary

/// The registered fences and the square → fences map the ingest path reads.
///
/// ```
/// fences:   slot → (definition, shape, squares, generation)     byID: id → slot
/// hot:      slot → (box in degrees × 1e7, a circle's planar disc, centre, what it detects): all a ping's candidate
///           costs until its box says the fence may be involved
/// squares:  grid square → fence slots (FenceSquareMap: one hash look-up, no allocation, no retain)
/// roaming:  [slot] (near_driver fences, evaluated per tick)
/// outsideEverywhere: [slot] fences detecting `outside` (checked on every ping while there are any)
/// ```
/// A fixed fence is listed in `squares` for the squares its shape may touch (its box meets the square and its
/// distance bound from the square's centre is within half a diagonal), so a point's square lists every fence that
/// may hold it and few others. A segment's squares, walked exactly, then meet the list of every fence it passes
/// through. Slots are reused; a slot's generation changes with each use so per-driver state naming an old fence is
/// recognized as stale. Changed on the loop only, and only while no fence thread reads it (`FenceWorker.quiesce`);
/// read by the loop and a running fence thread at once (the scratch a test writes is each caller's own).
final class FenceIndex {
    struct Entry {
        var definition: FenceDefinition
        /// The area tested: a fixed shape, or a drive-time fence's reachable cells; nil for a roaming fence.
        var shape: FenceShape?
        /// Squares the shape may touch.
        var squares: [UInt64]
        var generation: UInt32
    }

    /// A fence's box in degrees × 1e7, a little wider than its shape (the whole sphere across the antimeridian; an
    /// empty box for a free slot or a roaming fence), and what it detects: all a candidate costs until its box says
    /// the fence may be involved. Kept apart from `HotFence` so the first test reads 20 bytes.
    struct FenceBox: E7Box {
        var minLat: Int32 = 1, maxLat: Int32 = 0, minLng: Int32 = 1, maxLng: Int32 = 0
        var detect: FenceDetect = []

        var detectsCross: Bool { detect.contains(.cross) }
        var detectsOutside: Bool { detect.contains(.outside) }
    }

    /// What the transition logic reads of a fence once its box is involved, without the entry.
    struct HotFence {
        /// Where "nearest centre first" measures from.
        var center = LatLng(lat: 0, lng: 0)
        /// `Int64.max` when it never expires.
        var expiresAtMs = Int64.max
        /// A circle's disc, tested without the entry.
        var disc: PlanarDisc?
        var detect: FenceDetect = []
        var dwellMs: Int64 = 0
        var statuses = StatusFilter.all
        /// The fence lists drivers: ask the entry's set.
        var filtersDrivers = false
        var generation: UInt32 = 0
    }

    let grid: FenceGrid
    let maxSquaresPerFence: Int
    let maxFences: Int
    private(set) var entries: [Entry?] = []
    private(set) var hot: [HotFence] = []
    private(set) var boxes: [FenceBox] = []
    /// Each slot's fixed shape (nil: free, or roaming), behind a reference: reading a shape out of an array of
    /// enums copies its payload (a retain per array of a polygon or cell set), reading it through a class's `let`
    /// does not.
    private(set) var shapes: [ShapeRef?] = []

    /// A fixed shape behind a reference. The tests are its methods so they read the shape in place: reaching through
    /// `ref.shape` from outside copies the enum (a retain and release of its payload's arrays per test).
    final class ShapeRef {
        let shape: FenceShape
        init(_ shape: FenceShape) { self.shape = shape }

        /// `FenceShape.contains`.
        func contains(_ p: LatLng) -> Bool { shape.contains(p) }

        /// `FenceShape.segmentIntersects`.
        func segmentIntersects(_ a: LatLng, _ b: LatLng) -> Bool { shape.segmentIntersects(a, b) }

        /// `contains`, a cell set asking `cellAt` for the point's cell (`FenceCellSet.contains(_:cellAt:)`).
        @inline(__always)
        func contains(_ p: LatLng, cellAt: (Int) -> H3Cell?) -> Bool {
            if case .cells(let set) = shape { return set.contains(p, cellAt: cellAt) }
            return shape.contains(p)
        }
    }

    /// The H3 cells of one point, by resolution, asked once each: the cell sets tested at a point share them.
    struct PointCells {
        private var point = LatLng(lat: .nan, lng: .nan)
        private var known: UInt16 = 0
        private var cells = [UInt64](repeating: 0, count: 16)

        /// The cell of `p` at `resolution`, computed once while `p` stays the point asked about.
        @inline(__always)
        mutating func cell(_ p: LatLng, _ resolution: Int) -> H3Cell? {
            if p.lat != point.lat || p.lng != point.lng {
                point = p
                known = 0
            }
            guard resolution >= 0 && resolution < 16 else { return nil }
            if known & (1 << resolution) != 0 { return H3Cell(rawValue: cells[resolution]) }
            guard let c = try? H3.latLngToCell(p, resolution: resolution) else { return nil }
            cells[resolution] = c.rawValue
            known |= 1 << resolution
            return c
        }
    }
    /// The point cells of the loop's own tests (`containing`); the detector keeps its own, so a detector on the fence
    /// worker's thread and a query on the loop never share this scratch.
    private var queryCells = PointCells()
    private var freeSlots: [Int32] = []
    private var generations: [UInt32] = []
    private(set) var byID: [String: Int32] = [:]
    /// Each slot's fence id, apart from its entry: naming a fired event reads a string, not a copy of the entry.
    private var ids: [String?] = []
    private(set) var squares = FenceSquareMap()
    private(set) var roaming: [Int32] = []
    private(set) var outsideEverywhere: [Int32] = []
    /// Fixed fences detecting `cross`.
    private(set) var crossCount = 0
    /// Marks for de-duplicating candidates: `marks[slot] == stamp` once a slot was taken this round.
    private var marks: [UInt32] = []
    private var stamp: UInt32 = 0

    init(grid: FenceGrid = FenceGrid(sideE7: 25_000), maxSquaresPerFence: Int = 200_000, maxFences: Int = 1_000_000) {
        self.grid = grid
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
        var h = HotFence()
        var box = FenceBox()
        if let shape {
            guard let c = grid.cover(shape, marginMeters: 0, maxSquares: maxSquaresPerFence) else {
                throw APIError(.fenceTooLarge, "the shape covers more than \(maxSquaresPerFence) index squares")
            }
            let b = shape.boundingBox
            if b.isTransmeridian {
                (box.minLat, box.maxLat, box.minLng, box.maxLng) = (-900_000_000, 900_000_000, -1_800_000_000, 1_800_000_000)
            } else {
                // 1e-4° (≈ 11 m) of slack covers rounding between radians, degrees and E7.
                func e7(_ radians: Double, _ slack: Double) -> Int32 {
                    Int32(clamping: Int64((radians * 180 / Double.pi + slack) * 1e7))
                }
                (box.minLat, box.maxLat, box.minLng, box.maxLng) = (e7(b.south, -1e-4), e7(b.north, 1e-4), e7(b.west, -1e-4), e7(b.east, 1e-4))
            }
            if case .circle(let centre, let radius) = shape { h.disc = PlanarDisc(center: centre, radiusMeters: radius) }
            h.center = shape.center
            cover = tightCover(c, box: box)
        }
        h.detect = definition.detect
        box.detect = shape == nil ? [] : definition.detect
        h.dwellMs = definition.dwellMs
        h.expiresAtMs = definition.expiresAtMs ?? .max
        h.statuses = definition.statuses ?? .all
        h.filtersDrivers = definition.drivers != nil
        let replaced = remove(definition.id)
        guard count < maxFences else { throw APIError(.tooManyFences, "at most \(maxFences) fences") }
        let slot: Int32
        if let s = freeSlots.popLast() {
            slot = s
        } else {
            slot = Int32(entries.count)
            entries.append(nil)
            ids.append(nil)
            hot.append(HotFence())
            boxes.append(FenceBox())
            shapes.append(nil)
            generations.append(0)
            marks.append(0)
        }
        generations[Int(slot)] &+= 1
        entries[Int(slot)] = Entry(definition: definition, shape: shape, squares: cover, generation: generations[Int(slot)])
        h.generation = generations[Int(slot)]
        hot[Int(slot)] = h
        boxes[Int(slot)] = box
        shapes[Int(slot)] = shape.map(ShapeRef.init)
        byID[definition.id] = slot
        ids[Int(slot)] = definition.id
        let plain = h.dwellMs == 0 && h.statuses == .all && !h.filtersDrivers ? SquareEntry.plain : 0
        let flags = plain | (h.expiresAtMs == .max ? 0 : SquareEntry.expires)
        for sq in cover { squares.append(squareEntry(slot, box, shape, disc: h.disc, square: sq, flags: flags), to: sq) }
        if shape == nil { roaming.append(slot) }
        if shape != nil && definition.detect.contains(.outside) { outsideEverywhere.append(slot) }
        if shape != nil && definition.detect.contains(.cross) { crossCount += 1 }
        return replaced
    }

    /// Removes a fence by id; false when there is none.
    @discardableResult
    func remove(_ id: String) -> Bool {
        guard let slot = byID.removeValue(forKey: id), let e = entries[Int(slot)] else { return false }
        for sq in e.squares { squares.remove(slot, from: sq) }
        roaming.removeAll { $0 == slot }
        outsideEverywhere.removeAll { $0 == slot }
        if e.shape != nil && e.definition.detect.contains(.cross) { crossCount -= 1 }
        entries[Int(slot)] = nil
        ids[Int(slot)] = nil
        hot[Int(slot)] = HotFence()
        boxes[Int(slot)] = FenceBox()
        shapes[Int(slot)] = nil
        freeSlots.append(slot)
        return true
    }

    /// Whether the fence in `slot` watches this driver in this status (`FenceDefinition.watches`).
    @inline(__always)
    func watches(_ slot: Int, _ h: borrowing HotFence, _ driver: DriverID, _ status: DriverStatus) -> Bool {
        guard h.statuses.contains(StatusFilter(status)) else { return false }
        return !h.filtersDrivers || entries[slot]?.definition.drivers?.contains(driver) == true
    }

    /// Whether the fixed fence in `slot` holds `p` (false for a free slot or a roaming fence).
    @inline(__always)
    func contains(_ slot: Int, _ p: LatLng, latE7: Int32, lngE7: Int32) -> Bool {
        guard boxes[slot].holds(latE7: latE7, lngE7: lngE7) else { return false }
        if let disc = hot[slot].disc { return disc.contains(p) }
        return shapes[slot]?.contains(p) ?? false
    }

    /// Whether the fixed shape in `slot` holds `p`, without the box test (false for a free slot or a roaming fence).
    /// Cell sets tested at the same point in a row share its H3 cells (`cells`, the caller's scratch).
    @inline(__always)
    func shapeContains(_ slot: Int, _ p: LatLng, cells: inout PointCells) -> Bool {
        guard let shape = shapes[slot] else { return false }
        return shape.contains(p) { cells.cell(p, $0) }
    }

    /// Whether the fixed fence in `slot` holds `p`, without the box test: a circle's planar disc, else the shape.
    @inline(__always)
    func exactlyContains(_ slot: Int32, _ p: LatLng, cells: inout PointCells) -> Bool {
        if let disc = hot[Int(slot)].disc { return disc.contains(p) }
        return shapeContains(Int(slot), p, cells: &cells)
    }

    /// Whether the fence of `e` holds `p` (at `latE7`, `lngE7`), which `e`'s box holds: the entry's quick test, else
    /// the fence's exact test.
    @inline(__always)
    func holds(_ e: SquareEntry, latE7: Int32, lngE7: Int32, _ p: LatLng, cells: inout PointCells) -> Bool {
        switch e.quickVerdict(latE7: latE7, lngE7: lngE7) {
        case .inside: true
        case .outside: false
        case .unsure: exactlyContains(e.slot, p, cells: &cells)
        }
    }

    /// `holds` with the loop's own point cells (queries and tests, never the detector).
    @inline(__always)
    func holds(_ e: SquareEntry, latE7: Int32, lngE7: Int32, _ p: LatLng) -> Bool {
        holds(e, latE7: latE7, lngE7: lngE7, p, cells: &queryCells)
    }

    /// The entry listing fence `slot` for `square`: the fence's box clipped to the square's points, whether the
    /// shape holds the whole square, and `flags` (`SquareEntry.plain`).
    private func squareEntry(_ slot: Int32, _ box: FenceBox, _ shape: FenceShape?, disc: PlanarDisc?, square: UInt64,
                             flags: UInt8) -> SquareEntry {
        let side = grid.sideE7
        let row = Int64(square >> 32), column = Int64(square & 0xFFFF_FFFF)
        let south = row * side - 900_000_000, west = column * side - 1_800_000_000
        var e = SquareEntry(slot: slot, box: box, flags: flags)
        // The square's points have south ≤ lat < south + side (likewise longitude); column 0 also holds +180°, so
        // its longitudes are left unclipped.
        e.minLat = Int32(clamping: max(Int64(box.minLat), south))
        e.maxLat = Int32(clamping: min(Int64(box.maxLat), south + side - 1))
        guard column != 0 else { return e }
        e.minLng = Int32(clamping: max(Int64(box.minLng), west))
        e.maxLng = Int32(clamping: min(Int64(box.maxLng), west + side - 1))
        let radians = Double.pi / 180 / 1e7
        if let shape, shape.holdsRectangle(south: Double(south) * radians, north: Double(south + side) * radians,
                                           west: Double(west) * radians, east: Double(west + side) * radians) {
            e.quick = .inside
        } else if let disc, Int64(box.maxLng) - Int64(box.minLng) < 1_800_000_000 {
            // A circle whose box does not wrap the antimeridian (its points are then never a wrap away from the centre).
            e.useQuickDisc(disc)
        } else if case .polygon(let poly)? = shape, !poly.boundingBox.isTransmeridian {
            e.quick = Self.halfPlane(poly, south: south, west: west, side: side) ?? .unsure
        }
        return e
    }

    /// The quick test of a polygon in the square (E7 corner `south`, `west`, `side` units a side) when exactly one of
    /// its edges (over all rings) passes through the square, widened by the quick margin: that edge's line then splits
    /// the square into two parts, each wholly inside or wholly outside, and a corner far from the line tells which.
    /// With no edge through it, the square is wholly inside or wholly outside; nil when more than one passes through.
    static func halfPlane(_ poly: GeoPolygon, south: Int64, west: Int64, side: Int64) -> SquareEntry.QuickTest? {
        let pad = Double(SquareEntry.QuickTest.margin) + 2
        let s = Double(south) - pad, n = Double(south + side - 1) + pad
        let w = Double(west) - pad, e = Double(west + side - 1) + pad
        func e7(_ p: LatLng) -> (lat: Double, lng: Double) { ((p.latDegrees * 1e7).rounded(), (p.lngDegrees * 1e7).rounded()) }
        var found: (a: (lat: Double, lng: Double), b: (lat: Double, lng: Double))?
        for ring in [poly.outer] + poly.holes {
            guard var prev = ring.last else { continue }
            for v in ring {
                let a = e7(prev), b = e7(v)
                prev = v
                guard FenceShape.segment(a, b, meetsRectangle: s, n, w, e) else { continue }
                if found != nil { return nil }
                found = (a, b)
            }
        }
        guard let (a, b) = found else {
            return poly.contains(LatLng(degrees: Double(south + side / 2) / 1e7, Double(west + side / 2) / 1e7)) ? .inside : .outside
        }
        let dLat = b.lat - a.lat, dLng = b.lng - a.lng
        let length = (dLat * dLat + dLng * dLng).squareRoot()
        guard length > 0 else { return nil }
        // The unit normal (lat, lng) = (-dLng, dLat) / length; the corner farthest from the line says which side is in.
        var normal = (lat: -dLng / length, lng: dLat / length)
        let corners = [(south, west), (south, west + side - 1), (south + side - 1, west), (south + side - 1, west + side - 1)]
        let distances = corners.map { (Double($0.0) - a.lat) * normal.lat + (Double($0.1) - a.lng) * normal.lng }
        guard let far = distances.indices.max(by: { abs(distances[$0]) < abs(distances[$1]) }),
              abs(distances[far]) > 4 * Double(SquareEntry.QuickTest.margin) else { return nil }
        let corner = corners[far]
        let inside = poly.contains(LatLng(degrees: Double(corner.0) / 1e7, Double(corner.1) / 1e7))
        if (distances[far] > 0) != inside { normal = (-normal.lat, -normal.lng) }
        // Anchored at the line's point nearest the square's centre, so the differences the test multiplies stay small
        // (single precision stays exact enough however long the edge); rounding it moves the line by < 0.71 unit.
        let cLat = Double(south + side / 2), cLng = Double(west + side / 2)
        let t = max(0, min(1, ((cLat - a.lat) * dLat + (cLng - a.lng) * dLng) / (length * length)))
        return .halfPlane(latE7: Int32((a.lat + t * dLat).rounded()), lngE7: Int32((a.lng + t * dLng).rounded()),
                          normalLat: Float(normal.lat), normalLng: Float(normal.lng))
    }

    /// The id of the fence in `slot`.
    @inline(__always)
    func id(_ slot: Int32) -> String? { ids[Int(slot)] }

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

    /// Whether the segment a→b meets the fixed fence in `slot`.
    func segmentMeets(_ slot: Int, _ a: LatLng, _ b: LatLng) -> Bool {
        shapes[slot]?.segmentIntersects(a, b) ?? false
    }

    /// The squares of `cover` (those whose centre is within half a diagonal of the shape, by its distance bound)
    /// that the fence's box meets. Both tests are necessary conditions for a square to hold a point of the shape,
    /// so every square that does is kept.
    private func tightCover(_ cover: [UInt64], box: FenceBox) -> [UInt64] {
        let side = grid.sideE7
        let wholeSphere = box.minLng <= -1_800_000_000 && box.maxLng >= 1_800_000_000
        return cover.filter { key in
            if wholeSphere { return true }
            let column = Int64(key & 0xFFFF_FFFF)
            let south = Int64(key >> 32) * side - 900_000_000, west = column * side - 1_800_000_000
            guard south <= Int64(box.maxLat) && south + side > Int64(box.minLat) else { return false }
            // Column 0 also holds longitude +180° (the grid wraps it to -180°): keep it whatever the box says.
            return column == 0 || (west <= Int64(box.maxLng) && west + side > Int64(box.minLng))
        }
    }

    /// A fence holding a point: its slot and the distance from its centre.
    typealias Containing = (slot: Int32, distanceMeters: Double)

    /// Fixed fences whose shape holds `p`, nearest centre first (then by id), at most `limit`; expired ones left out.
    func containing(_ p: LatLng, limit: Int, nowMs: Int64) -> [Containing] {
        var out: [Containing] = []
        containing(p, limit: limit, nowMs: nowMs, into: &out)
        return out
    }

    /// `containing(_:limit:nowMs:)` into `out` (emptied first), allocating nothing once `out` has grown: one look-up
    /// of the point's square, then its contiguous run of entries: per entry the fence's box within the square (four
    /// integer compares), its expiry, and the exact test unless the square lies wholly inside the shape (a circle's
    /// planar disc, else the shape; cell sets share the point's H3 cell); the entry is read only to break a tie.
    func containing(_ p: LatLng, limit: Int, nowMs: Int64, into out: inout [Containing]) {
        out.removeAll(keepingCapacity: true)
        let latE7 = Int32(clamping: Int64((p.latDegrees * 1e7).rounded()))
        let lngE7 = Int32(clamping: Int64((p.lngDegrees * 1e7).rounded()))
        let listed = squares.range(grid.key(latE7: latE7, lngE7: lngE7))
        guard !listed.isEmpty, limit > 0 else { return }
        squares.arena.withUnsafeBufferPointer { arena in
            hot.withUnsafeBufferPointer { hot in
                for i in listed {
                    let e = arena[i]
                    guard e.holds(latE7: latE7, lngE7: lngE7) else { continue }
                    let slot = Int(e.slot)
                    guard hot[slot].expiresAtMs > nowMs else { continue }
                    if holds(e, latE7: latE7, lngE7: lngE7, p) {
                        out.append((e.slot, Geodesy.distanceMeters(hot[slot].center, p)))
                    }
                }
            }
        }
        if out.count > 1 {
            out.sort { a, b in
                if a.distanceMeters != b.distanceMeters { return a.distanceMeters < b.distanceMeters }
                return (id(a.slot) ?? "") < (id(b.slot) ?? "")
            }
        }
        if out.count > limit { out.removeLast(out.count - limit) }
    }

    /// Ids of fences expired by `nowMs`.
    func expired(nowMs: Int64) -> [String] {
        var out: [String] = []
        for case let e? in entries where e.definition.isExpired(nowMs) { out.append(e.definition.id) }
        return out
    }
}
