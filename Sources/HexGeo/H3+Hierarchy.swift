/// Parents and children in the aperture-7 hierarchy (H3's `h3Index.c`).
extension H3 {
    /// The ancestor of `c` at `resolution` (≤ its own); `c` itself at its own resolution.
    @inlinable
    public static func cellToParent(_ c: H3Cell, resolution: Int) throws(HexGeoError) -> H3Cell {
        guard isValidCell(c) else { throw .cellInvalid }
        let res = c.resolution
        guard resolution >= 0 && resolution <= maxResolution else { throw .resDomain }
        guard resolution <= res else { throw .resMismatch }
        // Set the resolution and fill digits resolution+1…res with 7.
        let fill: UInt64 = (1 << UInt64(3 * (15 - resolution))) - 1
        return H3Cell(rawValue: c.settingResolution(resolution).rawValue | fill)
    }

    /// Number of descendants of `c` at `resolution`: 7ⁿ, or 1 + 5(7ⁿ − 1)/6 for a pentagon.
    @inlinable
    public static func cellToChildrenSize(_ c: H3Cell, resolution: Int) throws(HexGeoError) -> Int {
        guard isValidCell(c) else { throw .cellInvalid }
        guard resolution >= c.resolution && resolution <= maxResolution else { throw .resDomain }
        var p = 1
        for _ in 0..<(resolution - c.resolution) { p *= 7 }
        return isPentagon(c) ? 1 + 5 * (p - 1) / 6 : p
    }

    /// Most children `cellToChildren` returns in one array (7⁹ ≈ 40 million); past it, `memoryBounds`.
    public static let maxChildrenCount = 40_353_607

    /// Every descendant of `c` at `resolution`, in ascending id order (a pentagon's skip the deleted k digit).
    /// Throws `memoryBounds` past `maxChildrenCount` children.
    public static func cellToChildren(_ c: H3Cell, resolution: Int) throws(HexGeoError) -> [H3Cell] {
        let n = try cellToChildrenSize(c, resolution: resolution)
        guard n <= maxChildrenCount else { throw .memoryBounds }
        var out: [H3Cell] = []
        out.reserveCapacity(n)
        appendChildren(of: c, pentagon: isPentagon(c), to: resolution, into: &out)
        return out
    }

    @usableFromInline
    static func appendChildren(of c: H3Cell, pentagon: Bool, to res: Int, into out: inout [H3Cell]) {
        let r = c.resolution
        if r == res { out.append(c); return }
        let next = c.settingResolution(r + 1)
        for d in 0..<7 {
            if pentagon && d == 1 { continue }
            appendChildren(of: next.settingDigit(r + 1, d), pentagon: pentagon && d == 0, to: res, into: &out)
        }
    }

    /// The centre child of `c` at `resolution`.
    @inlinable
    public static func cellToCenterChild(_ c: H3Cell, resolution: Int) throws(HexGeoError) -> H3Cell {
        guard isValidCell(c) else { throw .cellInvalid }
        guard resolution >= c.resolution && resolution <= maxResolution else { throw .resDomain }
        var h = c.settingResolution(resolution)
        for r in stride(from: c.resolution + 1, through: resolution, by: 1) { h = h.settingDigit(r, 0) }
        return h
    }
}
