import Foundation
import Vocabulary

/// H3 v4 hexagonal grid functions, bit-exact with the reference library (H3 4.5).
///
/// Cells come from projecting the sphere onto an icosahedron: each of its 20 faces carries a
/// gnomonic projection around its centre and an ijk hexagon grid; resolutions nest by aperture 7,
/// alternating Class II and Class III (rotated ≈19.1°) grids. 122 base cells, 12 of them pentagons.
public enum H3 {
    /// Finest resolution.
    public static let maxResolution = 15

    // MARK: Cell properties

    /// Whether `c` is a valid H3 cell id (mode, reserved bits, base cell, digits, pentagon rule).
    @inlinable
    public static func isValidCell(_ c: H3Cell) -> Bool {
        let h = c.rawValue
        guard h >> 56 == 0b0000_1000 else { return false }
        let res = c.resolution
        let bc = c.baseCell
        guard bc < H3Const.baseCellCount else { return false }
        // Digits 1…res must not be 7: a digit is 7 exactly when all three of its bits are set.
        let digits = h & ((1 << 45) - 1)
        if res > 0 {
            let used = digits >> UInt64(45 - 3 * res)
            let lowBits: UInt64 = 0o111111111111111 >> UInt64(45 - 3 * res)
            if used & (used >> 1) & (used >> 2) & lowBits != 0 { return false }
        }
        // Digits after res must all be 7.
        if res < 15 {
            let unusedMask: UInt64 = (1 << UInt64(45 - 3 * res)) - 1
            if digits & unusedMask != unusedMask { return false }
        }
        if isBaseCellPentagon(bc) && c.leadingNonZeroDigit == 1 { return false }
        return true
    }

    /// Resolution 0…15 of `c` (not checked for validity).
    @inlinable
    public static func getResolution(_ c: H3Cell) -> Int { c.resolution }

    /// Base cell number 0…121 of `c` (not checked for validity).
    @inlinable
    public static func getBaseCellNumber(_ c: H3Cell) -> Int { c.baseCell }

    /// Whether `c` is one of the 12 pentagons at its resolution.
    @inlinable
    public static func isPentagon(_ c: H3Cell) -> Bool {
        c.baseCell < H3Const.baseCellCount && isBaseCellPentagon(c.baseCell) && c.leadingNonZeroDigit == 0
    }

    /// Number of cells within `k` steps of a hexagon: 3k(k+1)+1 (0 for negative k), capped as H3 caps it
    /// at the number of resolution-15 cells once k reaches 13,780,510.
    @inlinable
    public static func maxGridDiskSize(k: Int) -> Int {
        guard k >= 0 else { return 0 }
        guard k < 13_780_510 else { return 569_707_381_193_162 }
        return 3 * k * (k + 1) + 1
    }

    // MARK: Indexing

    /// The cell containing `p` (radians) at `resolution` 0…15.
    @inlinable
    public static func latLngToCell(_ p: LatLng, resolution: Int) throws(HexGeoError) -> H3Cell {
        guard resolution >= 0 && resolution <= maxResolution else { throw .resDomain }
        guard p.lat.isFinite && p.lng.isFinite else { throw .latLngDomain }
        guard let h = cell(from: FaceIJK(Vec3(p), res: resolution), res: resolution) else { throw .failed }
        return h
    }

    /// The centre of `c`, latitude in [-π/2, π/2], longitude in [-π, π].
    @inlinable
    public static func cellToLatLng(_ c: H3Cell) throws(HexGeoError) -> LatLng {
        guard isValidCell(c) else { throw .cellInvalid }
        return try faceIJK(of: c).centerVec3(res: c.resolution).latLng
    }

    /// The boundary of `c` in H3's vertex order, with Class III distortion vertices.
    @inlinable
    public static func cellToBoundary(_ c: H3Cell) throws(HexGeoError) -> CellBoundary {
        guard isValidCell(c) else { throw .cellInvalid }
        let fijk = try faceIJK(of: c)
        return isPentagon(c) ? pentagonBoundary(fijk, res: c.resolution) : hexagonBoundary(fijk, res: c.resolution)
    }
}
