import Foundation
@testable import HexGeo

/// SplitMix64: a small repeatable generator, so each property test prints a seed that replays it.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A point spread uniformly over the sphere.
    mutating func point() -> LatLng {
        LatLng(lat: asin(Double.random(in: -1...1, using: &self)), lng: Double.random(in: -Double.pi..<Double.pi, using: &self))
    }

    /// The seed for a property test: `HEXGEO_SEED` when set (to replay), else a fresh one.
    static func seed() -> UInt64 {
        if let s = ProcessInfo.processInfo.environment["HEXGEO_SEED"], let v = UInt64(s) { return v }
        return UInt64.random(in: 0...UInt64.max)
    }
}
