import HexGeo
import TestSupport
import Testing
@testable import Marketplace
import Vocabulary

@Suite("Surge")
struct SurgeMapTests {
    let zone = Zone(id: 42, areaM2: 1_000_000)   // 1 km²

    func config(alpha: Double = 0.5, cap: Double = 3, neighbourWeight: Double = 0) -> SurgeConfig {
        var c = SurgeConfig()
        c.alpha = alpha
        c.cap = cap
        c.sensitivity = 0.5
        c.threshold = 1
        c.baselineSupplyPerKm2 = 0.5
        c.neighbourWeight = neighbourWeight
        return c
    }

    @Test("the multiplier follows the target by EWMA (alpha 0.5): 1 → 1.25 → 1.375 → 1.4375 for target 1.5")
    func smoothing() {
        let map = SurgeMap(config: config(), keyer: GridKeyer())
        // 1 km², demand 3, supply 1: pressure 3 / (1 + 0.5) = 2 → target 1 + 0.5·(2 − 1) = 1.5.
        map.tick([ZoneCount(zone: zone, demand: 3, supply: 1)])
        #expect(abs(map.multiplier(zone: 42) - 1.25) < 1e-12)
        map.tick([ZoneCount(zone: zone, demand: 3, supply: 1)])
        #expect(abs(map.multiplier(zone: 42) - 1.375) < 1e-12)
        map.tick([ZoneCount(zone: zone, demand: 3, supply: 1)])
        #expect(abs(map.multiplier(zone: 42) - 1.4375) < 1e-12)
        #expect(map.surgeZones() == [SurgeZone(zone: 42, multiplier: map.multiplier(zone: 42), demand: 3, supply: 1)])
    }

    @Test("the multiplier never passes the cap however large the pressure, and never drops below 1")
    func capping() {
        let map = SurgeMap(config: config(alpha: 1, cap: 2.2), keyer: GridKeyer())
        map.tick([ZoneCount(zone: zone, demand: 10_000, supply: 0)])
        #expect(map.multiplier(zone: 42) == 2.2)
        map.tick([ZoneCount(zone: zone, demand: 0, supply: 500)])
        #expect(map.multiplier(zone: 42) == 1)
        #expect(SurgeMap.target(pressure: .infinity, config: config(cap: 2.2)) == 2.2)
    }

    @Test("without demand a zone decays back to 1 and is forgotten")
    func decay() {
        let map = SurgeMap(config: config(alpha: 0.5), keyer: GridKeyer())
        map.tick([ZoneCount(zone: zone, demand: 6, supply: 0)])
        #expect(map.multiplier(zone: 42) > 1)
        var ticks = 0
        while !map.surgeZones().isEmpty && ticks < 100 { map.tick([]); ticks += 1 }
        #expect(map.surgeZones().isEmpty)
        #expect(ticks > 3 && ticks < 20)
        #expect(map.multiplier(zone: 42) == 1)
    }

    @Test("pressure is normalized by area: the same counts on a larger zone surge less")
    func areaNormalization() {
        let map = SurgeMap(config: config(alpha: 1, cap: 10), keyer: GridKeyer())
        map.tick([ZoneCount(zone: Zone(id: 1, areaM2: 1_000_000), demand: 4, supply: 1),
                  ZoneCount(zone: Zone(id: 2, areaM2: 4_000_000), demand: 4, supply: 1)])
        // zone 1: 4 / (1 + 0.5) = 2.667 → 1.833; zone 2: 1 / (0.25 + 0.5) = 1.333 → 1.167.
        #expect(abs(map.multiplier(zone: 1) - (1 + 0.5 * (4.0 / 1.5 - 1))) < 1e-12)
        #expect(abs(map.multiplier(zone: 2) - (1 + 0.5 * (1.0 / 0.75 - 1))) < 1e-12)
        #expect(map.surgeZones().map(\.zone) == [1, 2])
    }

    @Test("the neighbourhood term blends in the neighbours' mean pressure")
    func neighbours() {
        let keyer = GridKeyer()
        let centre = GridKeyer.id(4373, 742)
        let east = GridKeyer.id(4373, 743)
        let area = 1_000_000.0
        let map = SurgeMap(config: config(alpha: 1, cap: 10, neighbourWeight: 0.5), keyer: keyer)
        map.tick([ZoneCount(zone: Zone(id: centre, areaM2: area), demand: 0, supply: 0),
                  ZoneCount(zone: Zone(id: east, areaM2: area), demand: 8, supply: 0)])
        // east pressure 16; centre's effective pressure 0.5·0 + 0.5·(16 / 8) = 1 → target 1 (threshold 1).
        // east's effective = 0.5·16 + 0.5·(0 / 8) = 8 → 1 + 0.5·7 = 4.5.
        #expect(map.multiplier(zone: east) == 4.5)
        #expect(map.multiplier(zone: centre) == 1)
        map.tick([ZoneCount(zone: Zone(id: centre, areaM2: area), demand: 1, supply: 0),
                  ZoneCount(zone: Zone(id: east, areaM2: area), demand: 8, supply: 0)])
        // centre: 0.5·2 + 0.5·2 = 2 → 1.5.
        #expect(map.multiplier(zone: centre) == 1.5)
    }

    @Test("ticks from points go through the zone keyer")
    func pointsTick() {
        let map = SurgeMap(config: config(alpha: 1, cap: 10), keyer: GridKeyer())
        let p = LatLng(degrees: 43.7396, 7.4277)
        map.tick(waitingPickups: [p, p, p, LatLng(lat: .nan, lng: 0)], availableCouriers: [p])
        let z = map.surgeZones()
        #expect(z.count == 1 && z[0].demand == 3 && z[0].supply == 1 && z[0].multiplier > 1)
        #expect(map.multiplier(at: p) == z[0].multiplier)
    }

    @Test("couriers given as their live-index cells (res 9) give the same zones as couriers given as points")
    func courierCellsMatchPoints() throws {
        var rng = SeededRandom(seed: 11)
        var points: [LatLng] = [], cells: [UInt64] = []
        // Cell centres whose res-8 zone by position is also their parent (H3 nests cells only approximately; the
        // few others would be counted in the neighbouring zone by one route and not the other).
        while points.count < 3_000 {
            let p = LatLng(degrees: 43.70 + Double(rng.next() % 10_000) * 6e-6, 7.38 + Double(rng.next() % 10_000) * 1e-5)
            let cell = try H3.latLngToCell(p, resolution: 9)
            let centre = try H3.cellToLatLng(cell)
            guard try H3.latLngToCell(centre, resolution: 8) == H3.cellToParent(cell, resolution: 8) else { continue }
            points.append(centre)
            cells.append(cell.rawValue)
        }
        let pickups = points.prefix(500).map { $0 }
        let byPoint = SurgeMap(config: config(alpha: 1), keyer: H3ZoneKeyer())
        let byCell = SurgeMap(config: config(alpha: 1), keyer: H3ZoneKeyer())
        byPoint.tick(waitingPickups: pickups, availableCouriers: points)
        byCell.tick(waitingPickups: pickups, availableCourierCells: cells)
        let a = byPoint.surgeZones().sorted { $0.zone < $1.zone }
        let b = byCell.surgeZones().sorted { $0.zone < $1.zone }
        #expect(!a.isEmpty)
        #expect(a == b)
        #expect(a.reduce(0) { $0 + $1.supply } == b.reduce(0) { $0 + $1.supply })
        // An invalid cell is skipped, not trapped on.
        byCell.tick(waitingPickups: [], availableCourierCells: [0, UInt64.max])
    }
}
