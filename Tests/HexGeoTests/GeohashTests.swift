import Testing
@testable import HexGeo
import Vocabulary

@Suite struct GeohashTests {
    @Test("known geohashes encode and decode")
    func known() throws {
        #expect(Geohash.encode(latDegrees: 57.64911, lngDegrees: 10.40744, characters: 11) == "u4pruydqqvj")
        #expect(Geohash.encode(latDegrees: 42.6, lngDegrees: -5.6, characters: 5) == "ezs42")
        let box = try #require(Geohash.decode("ezs42"))
        #expect(box.contains(LatLng(degrees: 42.6, -5.6)))
        #expect(abs(box.south * 180 / .pi - 42.583) < 1e-3 && abs(box.north * 180 / .pi - 42.627) < 1e-3)
        #expect(Geohash.decode("ezs4a") == nil)
        #expect(Geohash.decode("") == nil)
        // A pole or the antimeridian given in radians survives the trip through degrees.
        #expect(Geohash.encode(LatLng(degrees: 90, 180), bits: 40) != nil)
        #expect(Geohash.encode(LatLng(degrees: -90, -180), bits: 40) != nil)
        #expect(Geohash.encode(LatLng(degrees: 91, 0), bits: 40) == nil)
        #expect(Geohash.encode(LatLng(degrees: 10, 180.0000001), bits: 40) == Geohash.encode(LatLng(degrees: 10, -179.9999999), bits: 40))
    }

    @Test("integer and text forms round-trip, and decoded boxes hold the point")
    func roundTrip() throws {
        let seed = SeededGenerator.seed()
        print("GeohashTests.roundTrip seed \(seed)")
        var rng = SeededGenerator(seed: seed)
        for _ in 0..<2000 {
            let p = rng.point()
            let bits = Int.random(in: 1...64, using: &rng)
            let h = try #require(Geohash.encode(p, bits: bits))
            let box = try #require(Geohash.decode(h, bits: bits))
            #expect(box.contains(p), "seed \(seed)")
            let center = try #require(Geohash.decodeCenter(h, bits: bits))
            #expect(Geohash.encode(center, bits: bits) == h, "seed \(seed)")
            let chars = Int.random(in: 1...12, using: &rng)
            let text = try #require(Geohash.encode(latDegrees: p.latDegrees, lngDegrees: p.lngDegrees, characters: chars))
            let parsed = try #require(Geohash.integer(text))
            #expect(Geohash.string(parsed.hash, characters: chars) == text)
        }
    }

    @Test("neighbours touch, wrap at the antimeridian and stop at the poles")
    func neighbours() throws {
        let (h, bits) = try #require(Geohash.integer("ezs42"))
        let n = Geohash.neighbours(h, bits: bits).map { Geohash.string($0, characters: 5) }
        #expect(n == ["ezs48", "ezs49", "ezs43", "ezs41", "ezs40", "ezefp", "ezefr", "ezefx"])
        let east = try #require(Geohash.integer("xbpbp"))   // touches 180°E
        #expect(Geohash.neighbour(east.hash, bits: 25, .east).map { Geohash.string($0, characters: 5) } == "80000")
        let top = try #require(Geohash.integer("zzzzz"))
        #expect(Geohash.neighbour(top.hash, bits: 25, .north) == nil)
        #expect(Geohash.neighbours(top.hash, bits: 25).count == 5)
    }
}
