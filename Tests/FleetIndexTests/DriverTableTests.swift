import Foundation
import HexGeo
import Testing
import TestSupport
@testable import FleetIndex
import Vocabulary

/// Where a random fleet lives: a box of degrees around a centre, wrapping at the antimeridian and clamped at
/// the poles, so the same test covers ordinary cities, polar caps and the date line.
struct FleetRegion: Sendable, CustomStringConvertible {
    let name: String
    let lat: Double, lng: Double, spanDegrees: Double
    /// Whether 3,000 drivers leave the 0.01° grid so sparse around some queries that they go past the cell budget.
    var sparseOnFineGrid = false
    /// A grid step at which 3,000 drivers fill the cells densely enough for queries to finish in the cells. At the
    /// poles the step must leave the polar row few cells, since each of its cells neighbours the whole row.
    var coarseStepDegrees = 0.01
    var description: String { name }

    func randomPoint(_ rng: inout SeededRandom) -> (Int32, Int32) {
        let la = min(90, max(-90, lat + Double.random(in: -spanDegrees...spanDegrees, using: &rng)))
        var lo = lng + Double.random(in: -spanDegrees...spanDegrees, using: &rng)
        if lo > 180 { lo -= 360 } else if lo < -180 { lo += 360 }
        return (Int32((la * 1e7).rounded()), Int32((lo * 1e7).rounded()))
    }
}

let regions = [
    FleetRegion(name: "monaco", lat: 43.73, lng: 7.42, spanDegrees: 0.05, coarseStepDegrees: 0.05),
    FleetRegion(name: "antimeridian", lat: -16.5, lng: 179.95, spanDegrees: 0.2, sparseOnFineGrid: true, coarseStepDegrees: 0.05),
    FleetRegion(name: "north pole", lat: 89.9, lng: 0, spanDegrees: 0.3, sparseOnFineGrid: true, coarseStepDegrees: 10),
    FleetRegion(name: "south pole", lat: -89.95, lng: 120, spanDegrees: 0.2, sparseOnFineGrid: true, coarseStepDegrees: 10),
    FleetRegion(name: "sparse world", lat: 0, lng: 0, spanDegrees: 180, sparseOnFineGrid: true, coarseStepDegrees: 10),
]

func makeTable(scheme: any SpatialCellScheme = GridCellScheme(stepDegrees: 0.01)) -> DriverTable {
    DriverTable(scheme: scheme, staleAfterMs: 60_000)
}

@Suite struct DriverTableTests {
    /// On the 0.01° grid the sparse regions send queries past the cell budget to the fallback scan; on each region's
    /// coarse grid the same queries finish in the cells. Both paths are compared with the reference on purpose.
    @Test("nearest-k equals plain haversine over the inserted fixes, from the cells and past the cell budget",
          arguments: regions, [false, true])
    func nearestMatchesReference(region: FleetRegion, coarse: Bool) {
        let seed: UInt64 = 0xF1EE7 ^ UInt64(region.name.utf8.count)
        var rng = SeededRandom(seed: seed)
        let table = makeTable(scheme: GridCellScheme(stepDegrees: coarse ? region.coarseStepDegrees : 0.01))
        var reference = NearestReference()
        let now: Int64 = 1_700_000_000_000
        for i in 0..<3_000 {
            let (la, lo) = region.randomPoint(&rng)
            let status = DriverStatus(rawValue: UInt8.random(in: 0...4, using: &rng))!
            let age = Int64.random(in: 0...90_000, using: &rng)   // a third are stale
            let s = DriverState(id: DriverID(UInt64(i + 1)), latE7: la, lngE7: lo, timestampMs: now - age, status: status)
            table.upsert(s)
            reference.insert(s)
        }
        table.checkInvariants()
        var fromCells = 0, pastBudget = 0
        for q in 0..<150 {
            let (la, lo) = region.randomPoint(&rng)
            let p = LatLng(degrees: Double(la) * 1e-7, Double(lo) * 1e-7)
            let k = [1, 5, 10, 50][q % 4]
            let radius = [Double.infinity, 500, 5_000, 50_000][(q / 4) % 4]
            let filter: StatusFilter = q % 3 == 0 ? .all : StatusFilter(.available)
            let got = table.nearest(to: p, k: k, maxRadiusMeters: radius, statuses: filter, nowMs: now)
            switch table.lastSearch.path {
            case .cells: if !got.isEmpty { fromCells += 1 }
            case .scanPastCellBudget: pastBudget += 1
            case .scan: Issue.record("query \(q): nearest ran the plain scan")
            }
            let want = reference.ranked(from: p, radiusMeters: radius, statuses: filter, nowMs: now, staleAfterMs: table.staleAfterMs)
            NearestReference.check(got, against: want, k: k, "seed \(seed) query \(q) k \(k) radius \(radius) \(table.lastSearch)")
        }
        let grid = coarse ? "\(region.coarseStepDegrees)° grid" : "0.01° grid"
        print("DriverTableTests \(region), \(grid): \(fromCells) answers from cells, \(pastBudget) past the cell budget")
        if coarse || !region.sparseOnFineGrid {
            #expect(fromCells >= 10, "\(region), \(grid): only \(fromCells) non-empty answers came from the cells")
        }
        if !coarse && region.sparseOnFineGrid {
            #expect(pastBudget >= 10, "\(region), \(grid): only \(pastBudget) queries went past the cell budget")
        }
        if !coarse && !region.sparseOnFineGrid {
            #expect(pastBudget == 0, "\(region), \(grid): a dense fleet sent \(pastBudget) queries past the cell budget")
        }
    }

    @Test("radius queries return every fresh driver inside the circle, nearest first")
    func radiusQuery() {
        var rng = SeededRandom(seed: 42)
        let table = makeTable()
        var reference = NearestReference()
        let region = regions[0]
        for i in 0..<2_000 {
            let (la, lo) = region.randomPoint(&rng)
            let s = DriverState(id: DriverID(UInt64(i)), latE7: la, lngE7: lo, timestampMs: 1_000, status: .available)
            table.upsert(s)
            reference.insert(s)
        }
        let p = LatLng(degrees: 43.73, 7.42)
        let got = table.within(radiusMeters: 1_500, of: p, nowMs: 1_000)
        #expect(table.lastSearch.path == .cells)
        let want = reference.ranked(from: p, radiusMeters: 1_500, statuses: .all, nowMs: 1_000, staleAfterMs: table.staleAfterMs)
        #expect(!got.isEmpty)
        NearestReference.check(got, against: want, k: .max, "radius 1,500 m")
        #expect(got.allSatisfy { $0.distanceMeters <= 1_500 })
    }

    @Test("a predicate filters radius results (polygon queries build on it)")
    func predicateFilter() {
        let table = makeTable()
        table.upsert(DriverState(id: DriverID(1), latE7: 437_300_000, lngE7: 74_200_000, timestampMs: 5, status: .available))
        table.upsert(DriverState(id: DriverID(2), latE7: 437_310_000, lngE7: 74_210_000, timestampMs: 5, status: .available))
        let got = table.within(radiusMeters: 10_000, of: LatLng(degrees: 43.73, 7.42), nowMs: 5) { $0.latDegrees > 43.7305 }
        #expect(got.map(\.state.id) == [DriverID(2)])
    }

    @Test("updates move drivers between cells; older fixes are refused as replays")
    func updatesAndReplay() {
        let table = makeTable()
        let id = DriverID(7)
        #expect(table.upsert(DriverState(id: id, latE7: 0, lngE7: 0, timestampMs: 10, status: .available)) == .inserted)
        #expect(table.upsert(DriverState(id: id, latE7: 10_000_000, lngE7: 10_000_000, timestampMs: 20, status: .onTrip)) == .updated)
        #expect(table.upsert(DriverState(id: id, latE7: 0, lngE7: 0, timestampMs: 20, status: .available)) == .replay)
        #expect(table.upsert(DriverState(id: id, latE7: 0, lngE7: 0, timestampMs: 15, status: .available)) == .replay)
        table.checkInvariants()
        let s = try! #require(table.state(of: id))
        #expect(s.latE7 == 10_000_000 && s.status == .onTrip && s.timestampMs == 20)
        #expect(table.nearest(to: LatLng(degrees: 1, 1), k: 1, nowMs: 20).first?.state.id == id)
    }

    @Test("an evicted driver's last fix stays a replay for replayMemoryMs, then is forgotten")
    func replayAfterEviction() {
        let table = makeTable()
        table.replayMemoryMs = 600_000
        let now: Int64 = 10_000_000
        let fix = DriverState(id: DriverID(3), latE7: 437_300_000, lngE7: 74_200_000, timestampMs: now - 300_000, status: .available)
        #expect(table.upsert(fix) == .inserted)
        #expect(table.evictStale(nowMs: now) == 1)
        #expect(table.upsert(fix) == .replay, "the same fix again after eviction")
        var older = fix
        older.timestampMs -= 1
        #expect(table.upsert(older) == .replay)
        #expect(table.count == 0)
        var newer = fix
        newer.timestampMs += 1
        #expect(table.upsert(newer) == .inserted)
        #expect(table.evictionMarkCount == 0, "a driver that came back has no mark")
        #expect(table.evictStale(nowMs: now) == 1)
        #expect(table.evictionMarkCount == 1)
        // Still remembered while newer than now − replayMemoryMs, forgotten after.
        table.evictStale(nowMs: newer.timestampMs + 600_000)
        #expect(table.upsert(newer) == .replay)
        table.evictStale(nowMs: newer.timestampMs + 600_001)
        #expect(table.evictionMarkCount == 0)
        #expect(table.upsert(newer) == .inserted, "the table takes it; ingest drops a fix that old as skew")
        table.checkInvariants()
        // Without replay memory a driver is forgotten at eviction.
        let plain = makeTable()
        plain.upsert(fix)
        plain.evictStale(nowMs: now)
        #expect(plain.evictionMarkCount == 0)
        #expect(plain.upsert(fix) == .inserted)
    }

    @Test("stale drivers leave query results, then eviction reclaims their rows")
    func staleness() {
        let table = makeTable()
        for i in 0..<5_000 {
            let fresh = i % 5 == 0
            table.upsert(DriverState(id: DriverID(UInt64(i)), latE7: Int32(i) * 100, lngE7: 0,
                                     timestampMs: fresh ? 100_000 : 1_000, status: .available))
        }
        let now: Int64 = 100_000
        let all = table.nearest(to: LatLng(degrees: 0, 0), k: 10_000, nowMs: now)
        #expect(all.count == 1_000)
        #expect(all.allSatisfy { $0.state.id.rawValue % 5 == 0 })
        let before = table.memoryBytes
        var evicted = 0
        while table.count > 1_000 { evicted += table.evictStale(nowMs: now, maxRows: 700) }
        #expect(evicted == 4_000)
        #expect(table.count == 1_000)
        table.checkInvariants()
        #expect(table.memoryBytes < before, "memory is given back after eviction")
        #expect(table.state(of: DriverID(1)) == nil)
        #expect(table.state(of: DriverID(5)) != nil)
    }

    @Test("a row is 48 bytes and a city fleet of 200,000 costs the table at most 96 bytes a driver (the budget)")
    func memoryBudget() {
        #expect(MemoryLayout<DriverRow>.stride == 48)
        let table = DriverTable(scheme: H3CellScheme(resolution: 9), staleAfterMs: 3_600_000)
        var rng = SeededRandom(seed: 96)
        let n = 200_000
        for i in 0..<n {
            table.upsert(DriverState(id: DriverID(UInt64(i) &* 2_654_435_761 &+ 1),
                                     latE7: Int32.random(in: 486_800_000...490_400_000, using: &rng),
                                     lngE7: Int32.random(in: 20_800_000...26_200_000, using: &rng),
                                     timestampMs: 1_000, status: .available))
        }
        #expect(table.count == n)
        #expect(table.memoryBytes / n <= 96, "\(table.memoryBytes / n) B per driver")
    }

    @Test("random churn keeps every invariant and agrees with a dictionary model")
    func churn() {
        let seed: UInt64 = 99
        var rng = SeededRandom(seed: seed)
        let table = makeTable(scheme: GridCellScheme(stepDegrees: 0.5))
        var model: [UInt64: DriverState] = [:]
        var clock: Int64 = 0
        for step in 0..<20_000 {
            clock += 1
            let id = UInt64.random(in: 0..<500, using: &rng)
            if Int.random(in: 0..<10, using: &rng) == 0 {
                #expect(table.remove(DriverID(id)) == (model.removeValue(forKey: id) != nil), "seed \(seed) step \(step)")
            } else {
                let s = DriverState(id: DriverID(id), latE7: Int32.random(in: -900_000_000...900_000_000, using: &rng),
                                    lngE7: Int32.random(in: -1_800_000_000...1_800_000_000, using: &rng),
                                    timestampMs: clock, status: .available)
                table.upsert(s)
                model[id] = s
            }
            if step % 2_000 == 0 { table.checkInvariants() }
        }
        table.checkInvariants()
        #expect(table.count == model.count)
        for (id, s) in model { #expect(table.state(of: DriverID(id)) == s) }
    }

    @Test("an empty table and k = 0 answer nothing")
    func emptyAnswers() {
        let table = makeTable()
        #expect(table.nearest(to: LatLng(degrees: 0, 0), k: 5, nowMs: 0).isEmpty)
        table.upsert(DriverState(id: DriverID(1), latE7: 0, lngE7: 0, timestampMs: 0, status: .available))
        #expect(table.nearest(to: LatLng(degrees: 0, 0), k: 0, nowMs: 0).isEmpty)
        #expect(table.nearest(to: LatLng(degrees: 0, 0), k: 3, nowMs: 0).count == 1)
    }

    @Test("warm reads and changes nothing: the same states and invariants after warming known and unknown ids")
    func warmChangesNothing() throws {
        let table = DriverTable(scheme: H3CellScheme(resolution: 9))
        for i in 0..<500 {
            _ = table.upsert(DriverState(id: DriverID(UInt64(i)), latE7: 437_000_000 + Int32(i) * 1_000,
                                         lngE7: 74_000_000 + Int32(i % 37) * 2_000, timestampMs: 1_000 + Int64(i), status: .available))
        }
        let before = table.allStates()
        let ids: [UInt64] = Array(0..<600).map { UInt64($0) * 3 }   // some known, some not
        _ = ids.withUnsafeBufferPointer { table.warm($0) }
        #expect(table.allStates() == before)
        table.checkInvariants()
    }

    @Test("a cell emptied and entered again gets its geometry back from the cache instead of recomputing it")
    func emptiedCellGeometryIsReused() {
        var buckets = CellBuckets()
        var computed = 0
        let geometry = { () -> (lat: Double, lng: Double, innerMeters: Double) in
            computed += 1
            return (0.8, 0.04, 150)
        }
        _ = buckets.pushFront(42, row: 0, cell: geometry)
        buckets.popFront(42, newHead: CellBuckets.none)
        #expect(buckets.count(42) == 0 && !buckets.isSurelyInside(42, lat: 0.8, lng: 0.04))
        _ = buckets.pushFront(42, row: 1, cell: geometry)
        #expect(computed == 1)
        #expect(buckets.isSurelyInside(42, lat: 0.8, lng: 0.04))
        #expect(!buckets.isSurelyInside(42, lat: 0.8 + 1e-4, lng: 0.04))   // 640 m away: outside a 150 m radius
        _ = buckets.pushFront(43, row: 2, cell: geometry)   // never emptied: computed
        #expect(computed == 2)
    }
}

