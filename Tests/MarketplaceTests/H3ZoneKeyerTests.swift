import Foundation
import HexGeo
import TestSupport
import Testing
@testable import Marketplace
import Vocabulary

@Suite("H3 zone keyer")
struct H3ZoneKeyerTests {
    @Test("resolution-8 zones match H3's reference cells for every res-8 line of latlng_to_cell.csv")
    func referenceCells() throws {
        let url = SharedData.url("h3/latlng_to_cell.csv")
        let text = try String(contentsOf: url, encoding: .utf8)
        let keyer = H3ZoneKeyer(resolution: 8)
        var checked = 0, misses = 0
        for (n, line) in text.split(separator: "\n").enumerated() {
            let f = line.split(separator: ",")
            guard f.count == 4, f[2] == "8", let lat = Double(f[0]), let lng = Double(f[1]),
                  let want = UInt64(f[3], radix: 16) else { continue }
            checked += 1
            guard let z = keyer.zone(for: LatLng(degrees: lat, lng)) else { misses += 1; continue }
            if z.id != want {
                misses += 1
                if misses <= 20 { Issue.record("line \(n + 1): got \(String(z.id, radix: 16)), want \(f[3])") }
            }
        }
        #expect(checked > 0)
        #expect(misses == 0, "\(misses) of \(checked) lines differ")
    }

    @Test("zones have H3's area (≈ 0.74 km² at resolution 8) and six neighbours; bad points give nil")
    func areaAndNeighbours() throws {
        let keyer = H3ZoneKeyer()
        let z = try #require(keyer.zone(for: LatLng(degrees: 43.7396, 7.4277)))
        #expect(z.areaM2 > 500_000 && z.areaM2 < 1_000_000)
        #expect(keyer.zone(for: LatLng(degrees: 43.7396, 7.4277)) == z)   // cached answer is the same
        let ns = keyer.neighbors(of: z.id)
        #expect(ns.count == 6 && !ns.contains(z.id))
        #expect(keyer.zone(for: LatLng(lat: .nan, lng: 0)) == nil)
        #expect(keyer.neighbors(of: 0).isEmpty)
    }

    @Test("a surge map over H3 zones blends neighbouring cells")
    func surgeOverH3() throws {
        let keyer = H3ZoneKeyer()
        var c = SurgeConfig()
        c.alpha = 1
        let map = SurgeMap(config: c, keyer: keyer)
        let p = LatLng(degrees: 43.7396, 7.4277)
        map.tick(waitingPickups: Array(repeating: p, count: 5), availableCouriers: [])
        let zones = map.surgeZones()
        #expect(zones.count == 1 && zones[0].demand == 5 && zones[0].multiplier > 1 && zones[0].multiplier <= c.cap)
    }
}
