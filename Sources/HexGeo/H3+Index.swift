/// Conversions between cell ids and face coordinates, and digit rotations (H3's `h3Index.c`, `baseCells.c`).
extension H3 {
    // MARK: Base cells

    @inlinable
    static func isBaseCellPentagon(_ bc: Int) -> Bool { h3BaseCellData[bc * 7 + 4] != 0 }

    @inlinable
    static func isBaseCellPolarPentagon(_ bc: Int) -> Bool { bc == 4 || bc == 117 }

    @inlinable
    static func baseCellHome(_ bc: Int) -> FaceIJK {
        let b = bc * 7
        return FaceIJK(face: Int(h3BaseCellData[b]),
                       coord: CoordIJK(Int(h3BaseCellData[b + 1]), Int(h3BaseCellData[b + 2]), Int(h3BaseCellData[b + 3])))
    }

    /// Whether a pentagon base cell's frame is offset clockwise on `face`.
    @inlinable
    static func baseCellIsCwOffset(_ bc: Int, face: Int) -> Bool {
        Int(h3BaseCellData[bc * 7 + 5]) == face || Int(h3BaseCellData[bc * 7 + 6]) == face
    }

    @inlinable
    static func baseCellNeighbor(_ bc: Int, _ dir: Int) -> Int { Int(h3BaseCellNeighbors[bc * 7 + dir]) }

    @inlinable
    static func baseCellNeighborRotations(_ bc: Int, _ dir: Int) -> Int { Int(h3BaseCellNeighborRotations[bc * 7 + dir]) }

    /// Direction digit from one base cell to an adjacent one, or 7.
    @inlinable
    static func baseCellDirection(from a: Int, to b: Int) -> Int {
        for d in 0..<7 where baseCellNeighbor(a, d) == b { return d }
        return 7
    }

    // MARK: Digit rotations

    /// Digit rotated 60° ccw: 1→5→4→6→2→3→1 (a nibble per digit, so no table lookup).
    @inlinable @inline(__always)
    static func digitCCW(_ d: Int) -> Int { (0x7246_1350 >> (d << 2)) & 0xF }

    /// Digit rotated 60° cw: 1→3→2→6→4→5→1.
    @inlinable @inline(__always)
    static func digitCW(_ d: Int) -> Int { (0x7415_2630 >> (d << 2)) & 0xF }

    @inlinable
    static func rotate60ccw(_ h: H3Cell) -> H3Cell {
        var out = h
        for r in stride(from: 1, through: h.resolution, by: 1) { out = out.settingDigit(r, digitCCW(h.digit(r))) }
        return out
    }

    @inlinable
    static func rotate60cw(_ h: H3Cell) -> H3Cell {
        var out = h
        for r in stride(from: 1, through: h.resolution, by: 1) { out = out.settingDigit(r, digitCW(h.digit(r))) }
        return out
    }

    /// Ccw rotation of a pentagon-based cell, skipping the deleted k subsequence.
    @inlinable
    static func rotatePent60ccw(_ h: H3Cell) -> H3Cell {
        var h = h
        var found = false
        for r in stride(from: 1, through: h.resolution, by: 1) {
            h = h.settingDigit(r, digitCCW(h.digit(r)))
            if !found && h.digit(r) != 0 {
                found = true
                if h.leadingNonZeroDigit == 1 { h = rotate60ccw(h) }
            }
        }
        return h
    }

    /// Cw rotation of a pentagon-based cell, skipping the deleted k subsequence.
    @inlinable
    static func rotatePent60cw(_ h: H3Cell) -> H3Cell {
        var h = h
        var found = false
        for r in stride(from: 1, through: h.resolution, by: 1) {
            h = h.settingDigit(r, digitCW(h.digit(r)))
            if !found && h.digit(r) != 0 {
                found = true
                if h.leadingNonZeroDigit == 1 { h = rotate60cw(h) }
            }
        }
        return h
    }

    // MARK: Face coordinates ↔ cell

    /// The cell at `res` for face coordinates, or nil when they fall outside the base-cell table.
    @inlinable
    static func cell(from fijk: FaceIJK, res: Int) -> H3Cell? {
        var h = H3Cell(rawValue: H3Cell.template).settingResolution(res)
        var ijk = fijk.coord
        if res > 0 {
            for r in stride(from: res - 1, through: 0, by: -1) {
                let last = ijk
                var lastCenter: CoordIJK
                if FaceIJK.isClassIII(r + 1) {
                    ijk.upAp7()
                    lastCenter = ijk
                    lastCenter.downAp7()
                } else {
                    ijk.upAp7r()
                    lastCenter = ijk
                    lastCenter.downAp7r()
                }
                h = h.settingDigit(r + 1, (last - lastCenter).digit)
            }
        }
        guard ijk.i <= 2, ijk.j <= 2, ijk.k <= 2, ijk.i >= 0, ijk.j >= 0, ijk.k >= 0 else { return nil }
        let slot = (((fijk.face * 3 + ijk.i) * 3 + ijk.j) * 3 + ijk.k) * 2
        let bc = Int(h3FaceIJKBaseCells[slot])
        h = h.settingBaseCell(bc)
        if res == 0 { return h }
        let rotations = Int(h3FaceIJKBaseCells[slot + 1])
        if isBaseCellPentagon(bc) {
            if h.leadingNonZeroDigit == 1 {
                h = baseCellIsCwOffset(bc, face: fijk.face) ? rotate60cw(h) : rotate60ccw(h)
            }
            for _ in 0..<rotations { h = rotatePent60ccw(h) }
        } else {
            for _ in 0..<rotations { h = rotate60ccw(h) }
        }
        return h
    }

    /// Walks the digits of `h` down from the base cell's home coordinates already in `fijk`.
    /// Returns whether the result may lie past the home face (overage possible).
    @inlinable
    static func descend(_ h: H3Cell, into fijk: inout FaceIJK) -> Bool {
        let res = h.resolution
        let possibleOverage = isBaseCellPentagon(h.baseCell) || !(res == 0 || fijk.coord == .zero)
        for r in stride(from: 1, through: res, by: 1) {
            if FaceIJK.isClassIII(r) { fijk.coord.downAp7() } else { fijk.coord.downAp7r() }
            fijk.coord.move(h.digit(r))
        }
        return possibleOverage
    }

    /// Face coordinates of a cell on the face that holds its centre.
    @inlinable
    static func faceIJK(of cell: H3Cell) throws(HexGeoError) -> FaceIJK {
        var h = cell
        let bc = h.baseCell
        guard bc < H3Const.baseCellCount else { throw .cellInvalid }
        if isBaseCellPentagon(bc) && h.leadingNonZeroDigit == 5 { h = rotate60cw(h) }
        var fijk = baseCellHome(bc)
        guard descend(h, into: &fijk) else { return fijk }
        let orig = fijk.coord
        var res = h.resolution
        if FaceIJK.isClassIII(res) {
            fijk.coord.downAp7r()
            res += 1
        }
        let pentLeading4 = isBaseCellPentagon(bc) && h.leadingNonZeroDigit == 4
        if fijk.adjustOverageClassII(res: res, pentLeading4: pentLeading4, substrate: false) != .none {
            if isBaseCellPentagon(bc) {
                while fijk.adjustOverageClassII(res: res, pentLeading4: false, substrate: false) != .none {}
            }
            if res != h.resolution { fijk.coord.upAp7r() }
        } else if res != h.resolution {
            fijk.coord = orig
        }
        return fijk
    }
}
