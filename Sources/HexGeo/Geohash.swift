import Foundation
import Vocabulary

/// Geohash cells: integer form (interleaved bits, longitude first, most significant first) and the
/// usual base-32 text form (5 bits a character).
public enum Geohash {
    /// Most bits an integer geohash holds.
    public static let maxBits = 64
    /// Most characters of a text geohash (60 bits).
    public static let maxCharacters = 12

    static let alphabet = Array("0123456789bcdefghjkmnpqrstuvwxyz".utf8)
    static let alphabetIndex: [Int8] = {
        var t = [Int8](repeating: -1, count: 128)
        for (n, c) in alphabet.enumerated() {
            t[Int(c)] = Int8(n)
            if c >= 97 && c <= 122 { t[Int(c) - 32] = Int8(n) }   // accept upper case too
        }
        return t
    }()

    /// Neighbour directions.
    public enum Direction: CaseIterable, Sendable {
        case north, northEast, east, southEast, south, southWest, west, northWest
        var step: (lat: Int, lng: Int) {
            switch self {
            case .north: (1, 0)
            case .northEast: (1, 1)
            case .east: (0, 1)
            case .southEast: (-1, 1)
            case .south: (-1, 0)
            case .southWest: (-1, -1)
            case .west: (0, -1)
            case .northWest: (1, -1)
            }
        }
    }

    /// The `bits`-bit geohash (1…64) of a point given in degrees; nil for invalid degrees or bits.
    public static func encode(latDegrees: Double, lngDegrees: Double, bits: Int) -> UInt64? {
        guard bits >= 1 && bits <= maxBits, LatLng.isValidDegrees(lat: latDegrees, lng: lngDegrees) else { return nil }
        let lngBits = (bits + 1) / 2, latBits = bits / 2
        let x = quantize(lngDegrees, -180, 180, lngBits)
        let y = quantize(latDegrees, -90, 90, latBits)
        return interleave(lng: x, lngBits: lngBits, lat: y, latBits: latBits)
    }

    /// The `bits`-bit geohash of `p` (radians). Longitude wraps into [-180°, 180°]; a latitude a rounding
    /// step past ±90° is clamped; nil for non-finite coordinates or a latitude beyond the poles.
    public static func encode(_ p: LatLng, bits: Int) -> UInt64? {
        guard p.lat.isFinite, p.lng.isFinite, abs(p.latDegrees) <= 90 + 1e-9 else { return nil }
        let lng = remainder(p.lngDegrees, 360.0)
        return encode(latDegrees: min(90, max(-90, p.latDegrees)), lngDegrees: min(180, max(-180, lng)), bits: bits)
    }

    /// The box (radians) covered by a `bits`-bit geohash; nil for bad bits or stray high bits.
    public static func decode(_ hash: UInt64, bits: Int) -> BoundingBox? {
        guard bits >= 1 && bits <= maxBits, bits == 64 || hash >> UInt64(bits) == 0 else { return nil }
        let lngBits = (bits + 1) / 2, latBits = bits / 2
        let (x, y) = deinterleave(hash, bits: bits)
        let lngSize = 360.0 / Double(sign: .plus, exponent: lngBits, significand: 1)
        let latSize = 180.0 / Double(sign: .plus, exponent: latBits, significand: 1)
        let west = -180 + Double(x) * lngSize, south = -90 + Double(y) * latSize
        let d = Double.pi / 180
        return BoundingBox(north: (south + latSize) * d, south: south * d, east: (west + lngSize) * d, west: west * d)
    }

    /// Centre of a `bits`-bit geohash (radians).
    public static func decodeCenter(_ hash: UInt64, bits: Int) -> LatLng? {
        guard let b = decode(hash, bits: bits) else { return nil }
        return LatLng(lat: (b.north + b.south) / 2, lng: (b.east + b.west) / 2)
    }

    /// The text geohash of `characters` (1…12) characters for a point in degrees.
    public static func encode(latDegrees: Double, lngDegrees: Double, characters: Int) -> String? {
        guard characters >= 1 && characters <= maxCharacters,
              let h = encode(latDegrees: latDegrees, lngDegrees: lngDegrees, bits: 5 * characters) else { return nil }
        return string(h, characters: characters)
    }

    /// Text form of a `5·characters`-bit integer geohash.
    public static func string(_ hash: UInt64, characters: Int) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(characters)
        for n in stride(from: characters - 1, through: 0, by: -1) {
            out.append(alphabet[Int((hash >> UInt64(5 * n)) & 31)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Integer form and bit count of a text geohash; nil for empty, too long or non-geohash text.
    public static func integer(_ text: some StringProtocol) -> (hash: UInt64, bits: Int)? {
        let u = Array(text.utf8)
        guard !u.isEmpty && u.count <= maxCharacters else { return nil }
        var h: UInt64 = 0
        for c in u {
            guard c < 128, alphabetIndex[Int(c)] >= 0 else { return nil }
            h = h << 5 | UInt64(alphabetIndex[Int(c)])
        }
        return (h, 5 * u.count)
    }

    /// The box (radians) of a text geohash.
    public static func decode(_ text: some StringProtocol) -> BoundingBox? {
        guard let (h, bits) = integer(text) else { return nil }
        return decode(h, bits: bits)
    }

    /// The adjacent geohash of the same size in `direction`; longitude wraps, nil past a pole.
    public static func neighbour(_ hash: UInt64, bits: Int, _ direction: Direction) -> UInt64? {
        guard bits >= 1 && bits <= maxBits, bits == 64 || hash >> UInt64(bits) == 0 else { return nil }
        let lngBits = (bits + 1) / 2, latBits = bits / 2
        var (x, y) = deinterleave(hash, bits: bits)
        let step = direction.step
        let latCount: UInt64 = latBits == 64 ? .max : (1 << UInt64(latBits))
        if step.lat > 0 {
            guard latBits > 0, y + 1 < latCount else { return nil }
            y += 1
        } else if step.lat < 0 {
            guard y > 0 else { return nil }
            y -= 1
        }
        let lngMask: UInt64 = lngBits == 64 ? .max : (1 << UInt64(lngBits)) - 1
        if step.lng > 0 { x = (x &+ 1) & lngMask } else if step.lng < 0 { x = (x &- 1) & lngMask }
        return interleave(lng: x, lngBits: lngBits, lat: y, latBits: latBits)
    }

    /// All existing neighbours, clockwise from north (fewer than 8 next to a pole).
    public static func neighbours(_ hash: UInt64, bits: Int) -> [UInt64] {
        Direction.allCases.compactMap { neighbour(hash, bits: bits, $0) }
    }

    static func quantize(_ v: Double, _ lo: Double, _ hi: Double, _ bits: Int) -> UInt64 {
        guard bits > 0 else { return 0 }
        let cells = Double(sign: .plus, exponent: bits, significand: 1)
        let q = ((v - lo) / (hi - lo) * cells).rounded(.down)
        return UInt64(min(max(q, 0), cells - 1))
    }

    static func interleave(lng x: UInt64, lngBits: Int, lat y: UInt64, latBits: Int) -> UInt64 {
        var h: UInt64 = 0
        var xi = lngBits, yi = latBits
        // Bits go longitude first, alternating, most significant first.
        while xi > 0 || yi > 0 {
            if xi > 0 { xi -= 1; h = h << 1 | ((x >> UInt64(xi)) & 1) }
            if yi > 0 { yi -= 1; h = h << 1 | ((y >> UInt64(yi)) & 1) }
        }
        return h
    }

    static func deinterleave(_ h: UInt64, bits: Int) -> (lng: UInt64, lat: UInt64) {
        var x: UInt64 = 0, y: UInt64 = 0
        for n in 0..<bits {
            let bit = (h >> UInt64(bits - 1 - n)) & 1
            if n % 2 == 0 { x = x << 1 | bit } else { y = y << 1 | bit }
        }
        return (x, y)
    }
}
