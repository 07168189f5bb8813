/// Neighbours, disks and grid distance (H3's `algos.c` and `localij.c`).
extension H3 {
    /// Directions walked around a ring, in H3's order.
    @usableFromInline static let ringDirections: [Int] = [2, 3, 1, 5, 4, 6]
    /// Direction from a ring's last cell to the next ring's first.
    @usableFromInline static let nextRingDirection = 4

    /// The neighbour of `origin` in direction `dir` (1…6), rotated by `rotations` ccw steps first;
    /// `rotations` is updated to the frame of the result, as H3's `h3NeighborRotations` does.
    @inlinable
    static func neighbor(_ origin: H3Cell, _ dir: Int, rotations: inout Int) throws(HexGeoError) -> H3Cell {
        var current = origin
        guard dir >= 0 && dir < 7 else { throw .failed }
        var dir = dir
        rotations %= 6
        for _ in 0..<rotations { dir = digitCCW(dir) }
        var newRotations = 0
        let oldBaseCell = current.baseCell
        guard oldBaseCell < H3Const.baseCellCount else { throw .cellInvalid }
        let oldLeadingDigit = current.leadingNonZeroDigit
        var r = current.resolution - 1
        while true {
            if r == -1 {
                current = current.settingBaseCell(baseCellNeighbor(oldBaseCell, dir))
                newRotations = baseCellNeighborRotations(oldBaseCell, dir)
                if current.baseCell == H3Const.invalidBaseCell {
                    current = current.settingBaseCell(baseCellNeighbor(oldBaseCell, 5))
                    newRotations = baseCellNeighborRotations(oldBaseCell, 5)
                    current = rotate60ccw(current)
                    rotations += 1
                }
                break
            }
            let oldDigit = current.digit(r + 1)
            guard oldDigit != 7 else { throw .cellInvalid }
            let nextDir: Int
            if FaceIJK.isClassIII(r + 1) {
                current = current.settingDigit(r + 1, Int(h3NewDigitII[oldDigit * 7 + dir]))
                nextDir = Int(h3NewAdjustmentII[oldDigit * 7 + dir])
            } else {
                current = current.settingDigit(r + 1, Int(h3NewDigitIII[oldDigit * 7 + dir]))
                nextDir = Int(h3NewAdjustmentIII[oldDigit * 7 + dir])
            }
            if nextDir != 0 {
                dir = nextDir
                r -= 1
            } else {
                break
            }
        }
        let newBaseCell = current.baseCell
        if isBaseCellPentagon(newBaseCell) {
            var alreadyAdjustedK = false
            if current.leadingNonZeroDigit == 1 {
                if oldBaseCell != newBaseCell {
                    if baseCellIsCwOffset(newBaseCell, face: baseCellHome(oldBaseCell).face) {
                        current = rotate60cw(current)
                    } else {
                        current = rotate60ccw(current)
                    }
                    alreadyAdjustedK = true
                } else {
                    switch oldLeadingDigit {
                    case 0: throw .pentagon
                    case 3:
                        current = rotate60ccw(current)
                        rotations += 1
                    case 5:
                        current = rotate60cw(current)
                        rotations += 5
                    default: throw .failed
                    }
                }
            }
            for _ in 0..<newRotations { current = rotatePent60ccw(current) }
            if oldBaseCell != newBaseCell {
                if isBaseCellPolarPentagon(newBaseCell) {
                    if oldBaseCell != 118 && oldBaseCell != 8 && current.leadingNonZeroDigit != 3 { rotations += 1 }
                } else if current.leadingNonZeroDigit == 5 && !alreadyAdjustedK {
                    rotations += 1
                }
            }
        } else {
            for _ in 0..<newRotations { current = rotate60ccw(current) }
        }
        rotations = (rotations + newRotations) % 6
        return current
    }

    /// Appends every cell within `k` grid steps of `c` (including `c`) to `out`, in H3's order when no
    /// pentagon is near and in breadth-first order otherwise. Allocates nothing when `out` has capacity
    /// for `maxGridDiskSize(k:)` more cells and no pentagon is near.
    @inlinable
    public static func gridDisk(_ c: H3Cell, k: Int, into out: inout [H3Cell]) throws(HexGeoError) {
        guard k >= 0 else { throw .domain }
        guard isValidCell(c) else { throw .cellInvalid }
        let start = out.count
        let size = maxGridDiskSize(k: k)
        if size <= 1 << 20 { out.reserveCapacity(start + size) }
        if gridDiskUnsafe(c, k: k, into: &out) { return }
        out.removeSubrange(start...)
        try gridDiskBreadthFirst(c, k: k, into: &out)
    }

    /// The spiral walk; false when a pentagon (or an error) makes it unreliable.
    @inlinable
    static func gridDiskUnsafe(_ origin: H3Cell, k: Int, into out: inout [H3Cell]) -> Bool {
        out.append(origin)
        if isPentagon(origin) { return false }
        var cell = origin
        var rotations = 0
        var ring = 1
        while ring <= k {
            do {
                cell = try neighbor(cell, nextRingDirection, rotations: &rotations)
            } catch { return false }
            if isPentagon(cell) { return false }
            for direction in 0..<6 {
                for _ in 0..<ring {
                    do {
                        cell = try neighbor(cell, ringDirections[direction], rotations: &rotations)
                    } catch { return false }
                    out.append(cell)
                    if isPentagon(cell) { return false }
                }
            }
            ring += 1
        }
        return true
    }

    /// Breadth-first disk that steps around pentagons (H3's safe fallback gives the same set).
    @usableFromInline
    static func gridDiskBreadthFirst(_ origin: H3Cell, k: Int, into out: inout [H3Cell]) throws(HexGeoError) {
        let start = out.count
        var seen: Set<H3Cell> = [origin]
        out.append(origin)
        var frontierStart = start
        for _ in 0..<k {
            let frontierEnd = out.count
            if frontierStart == frontierEnd { break }
            for n in frontierStart..<frontierEnd {
                let cell = out[n]
                for dir in ringDirections {
                    var rotations = 0
                    let next: H3Cell
                    do {
                        next = try neighbor(cell, dir, rotations: &rotations)
                    } catch .pentagon {
                        continue
                    }
                    if seen.insert(next).inserted { out.append(next) }
                }
            }
            frontierStart = frontierEnd
        }
    }

    /// Coordinates of `cell` in a local ijk frame anchored at `origin`'s base cell (H3's `cellToLocalIjk`).
    @inlinable
    static func localIJK(origin: H3Cell, _ cell: H3Cell) throws(HexGeoError) -> CoordIJK {
        var h = cell
        let res = origin.resolution
        guard res == h.resolution else { throw .resMismatch }
        let originBaseCell = origin.baseCell
        let baseCell = h.baseCell
        guard originBaseCell < H3Const.baseCellCount, baseCell < H3Const.baseCellCount else { throw .cellInvalid }
        var dir = 0
        var revDir = 0
        if originBaseCell != baseCell {
            dir = baseCellDirection(from: originBaseCell, to: baseCell)
            guard dir != 7 else { throw .failed }
            revDir = baseCellDirection(from: baseCell, to: originBaseCell)
        }
        let originOnPent = isBaseCellPentagon(originBaseCell)
        let indexOnPent = isBaseCellPentagon(baseCell)
        if dir != 0 {
            let baseCellRotations = baseCellNeighborRotations(originBaseCell, dir)
            if indexOnPent {
                for _ in 0..<max(0, baseCellRotations) {
                    h = rotatePent60cw(h)
                    revDir = digitCW(revDir)
                    if revDir == 1 { revDir = digitCW(revDir) }
                }
            } else {
                for _ in 0..<max(0, baseCellRotations) {
                    h = rotate60cw(h)
                    revDir = digitCW(revDir)
                }
            }
        }
        var fijk = FaceIJK(face: 0, coord: .zero)
        _ = descend(h, into: &fijk)
        if dir != 0 {
            var pentagonRotations = 0
            var directionRotations = 0
            if originOnPent {
                let lead = origin.leadingNonZeroDigit
                if h3FailedDirections[lead * 7 + dir] != 0 { throw .failed }
                directionRotations = Int(h3PentagonRotations[lead * 7 + dir])
                pentagonRotations = directionRotations
            } else if indexOnPent {
                let lead = h.leadingNonZeroDigit
                guard revDir < 7 else { throw .failed }
                if h3FailedDirections[lead * 7 + revDir] != 0 { throw .failed }
                pentagonRotations = Int(h3PentagonRotations[revDir * 7 + lead])
            }
            guard pentagonRotations >= 0 && directionRotations >= 0 else { throw .cellInvalid }
            for _ in 0..<pentagonRotations { fijk.coord.rotate60cw() }
            var offset = CoordIJK.zero
            offset.move(dir)
            for r in stride(from: res - 1, through: 0, by: -1) {
                if FaceIJK.isClassIII(r + 1) { offset.downAp7() } else { offset.downAp7r() }
            }
            for _ in 0..<directionRotations { offset.rotate60cw() }
            fijk.coord = (fijk.coord + offset).normalized()
        } else if originOnPent && indexOnPent {
            let originLead = origin.leadingNonZeroDigit
            let indexLead = h.leadingNonZeroDigit
            if h3FailedDirections[originLead * 7 + indexLead] != 0 { throw .failed }
            let rotations = Int(h3PentagonRotations[originLead * 7 + indexLead])
            for _ in 0..<max(0, rotations) { fijk.coord.rotate60cw() }
        }
        return fijk.coord
    }

    /// Number of grid steps between two cells of the same resolution; throws where H3 cannot
    /// compute it (different resolutions, too far apart, across pentagon distortion).
    @inlinable
    public static func gridDistance(_ a: H3Cell, _ b: H3Cell) throws(HexGeoError) -> Int {
        guard isValidCell(a), isValidCell(b) else { throw .cellInvalid }
        let originIJK = try localIJK(origin: a, a)
        let cellIJK = try localIJK(origin: a, b)
        return CoordIJK.distance(originIJK, cellIJK)
    }
}
