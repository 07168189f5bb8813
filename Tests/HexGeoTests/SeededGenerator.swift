import Foundation
import TestSupport
@testable import HexGeo
import Vocabulary

/// The shared repeatable generator (SplitMix64, TestSupport), with the helpers HexGeo's property tests use.
typealias SeededGenerator = SeededRandom

extension SeededRandom {
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
