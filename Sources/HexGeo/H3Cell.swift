/// An H3 v4 cell id: a 64-bit value whose text form is lowercase hex.
///
/// Bits, high to low: 1 reserved (0), 4 mode (1 = cell), 3 reserved (0), 4 resolution,
/// 7 base cell, then fifteen 3-bit digits for resolutions 1…15 (unused digits are 7).
/// Any 64-bit value can be held; `H3.isValidCell` tells whether it names a cell.
public struct H3Cell: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    /// Wraps a raw 64-bit value as-is.
    @inlinable
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Parses hex text (no `0x`, either case, at most 16 digits); nil when it is not hex.
    /// The value is not checked for being a valid cell.
    @inlinable
    public init?(string: some StringProtocol) {
        guard !string.isEmpty, string.utf8.count <= 16, let v = UInt64(string, radix: 16) else { return nil }
        rawValue = v
    }

    /// Lowercase hex, without leading zeros.
    public var description: String { String(rawValue, radix: 16) }

    @inlinable
    public static func < (a: H3Cell, b: H3Cell) -> Bool { a.rawValue < b.rawValue }

    // MARK: Bit fields

    @usableFromInline static let modeOffset: UInt64 = 59
    @usableFromInline static let resOffset: UInt64 = 52
    @usableFromInline static let baseCellOffset: UInt64 = 45
    /// Mode 1, resolution 0, base cell 0, all digits 7: H3's starting template for a cell.
    @usableFromInline static let template: UInt64 = (1 << 59) | ((1 << 45) - 1)

    @inlinable var resolution: Int { Int((rawValue >> 52) & 0xF) }
    @inlinable var baseCell: Int { Int((rawValue >> 45) & 0x7F) }

    @inlinable @inline(__always)
    func digit(_ r: Int) -> Int { Int((rawValue >> UInt64((15 - r) * 3)) & 7) }

    @inlinable @inline(__always)
    func settingDigit(_ r: Int, _ d: Int) -> H3Cell {
        let shift = UInt64((15 - r) * 3)
        return H3Cell(rawValue: (rawValue & ~(7 << shift)) | (UInt64(d) << shift))
    }

    @inlinable
    func settingResolution(_ res: Int) -> H3Cell {
        H3Cell(rawValue: (rawValue & ~(0xF << 52)) | (UInt64(res) << 52))
    }

    @inlinable
    func settingBaseCell(_ bc: Int) -> H3Cell {
        H3Cell(rawValue: (rawValue & ~(0x7F << 45)) | (UInt64(bc) << 45))
    }

    /// First non-zero digit among resolutions 1…res, or 0.
    @inlinable @inline(__always)
    var leadingNonZeroDigit: Int {
        let res = resolution
        guard res > 0 else { return 0 }
        // Digits 1…res occupy bits [45 - 3·res, 45).
        let shift = UInt64(45 - 3 * res)
        let digits = (rawValue & ((1 << 45) - 1)) >> shift
        guard digits != 0 else { return 0 }
        let top = 63 - digits.leadingZeroBitCount      // highest set bit
        let slot = top / 3                              // digit slot counted from the lowest kept digit
        return Int((digits >> UInt64(slot * 3)) & 7)
    }
}
