import HexGeo

/// Per-table query scratch: a min-heap frontier of cells by distance bound, a stamp-reset visited set and a
/// max-heap of the best k rows. Reused across queries, so a query allocates only while these grow.
struct QueryScratch {
    // Frontier: binary min-heap on `bound`.
    var frontierBound: [Double] = []
    var frontierCell: [UInt64] = []
    // Visited cells: open addressing, `visitedStamp[i] == stamp` ⇔ slot i in use this query.
    var visitedKey = [UInt64](repeating: 0, count: 256)
    var visitedStamp = [UInt32](repeating: 0, count: 256)
    var visitedCount = 0
    var stamp: UInt32 = 0
    // Best rows: binary max-heap on (distance, id) so the worst of the k best is at the top.
    var bestDistance: [Double] = []
    var bestRow: [UInt32] = []
    var bestID: [UInt64] = []
    var neighborBuffer: [UInt64] = []
    var diskBuffer: [H3Cell] = []
    var order: [Int] = []

    mutating func begin() {
        frontierBound.removeAll(keepingCapacity: true)
        frontierCell.removeAll(keepingCapacity: true)
        bestDistance.removeAll(keepingCapacity: true)
        bestRow.removeAll(keepingCapacity: true)
        bestID.removeAll(keepingCapacity: true)
        visitedCount = 0
        stamp &+= 1
        if stamp == 0 {
            for i in visitedStamp.indices { visitedStamp[i] = 0 }
            stamp = 1
        }
    }

    /// Marks a cell visited; false when it already was.
    mutating func visit(_ cell: UInt64) -> Bool {
        if (visitedCount + 1) * 2 > visitedKey.count { growVisited() }
        let mask = visitedKey.count - 1
        var i = Int(truncatingIfNeeded: (cell &* 0x9E37_79B9_7F4A_7C15) >> 24) & mask
        while visitedStamp[i] == stamp {
            if visitedKey[i] == cell { return false }
            i = (i + 1) & mask
        }
        visitedKey[i] = cell
        visitedStamp[i] = stamp
        visitedCount += 1
        return true
    }

    private mutating func growVisited() {
        let oldKeys = visitedKey, oldStamps = visitedStamp
        let size = visitedKey.count * 2
        visitedKey = [UInt64](repeating: 0, count: size)
        visitedStamp = [UInt32](repeating: 0, count: size)
        let mask = size - 1
        for j in oldKeys.indices where oldStamps[j] == stamp {
            var i = Int(truncatingIfNeeded: (oldKeys[j] &* 0x9E37_79B9_7F4A_7C15) >> 24) & mask
            while visitedStamp[i] == stamp { i = (i + 1) & mask }
            visitedKey[i] = oldKeys[j]
            visitedStamp[i] = stamp
        }
    }

    // MARK: frontier min-heap

    mutating func pushFrontier(_ cell: UInt64, bound: Double) {
        frontierBound.append(bound)
        frontierCell.append(cell)
        var i = frontierBound.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard frontierBound[p] > frontierBound[i] else { break }
            frontierBound.swapAt(p, i); frontierCell.swapAt(p, i)
            i = p
        }
    }

    mutating func popFrontier() -> (bound: Double, cell: UInt64)? {
        guard let top = frontierBound.first else { return nil }
        let cell = frontierCell[0]
        let lastB = frontierBound.removeLast(), lastC = frontierCell.removeLast()
        if !frontierBound.isEmpty {
            frontierBound[0] = lastB; frontierCell[0] = lastC
            var i = 0
            let n = frontierBound.count
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < n && frontierBound[l] < frontierBound[m] { m = l }
                if r < n && frontierBound[r] < frontierBound[m] { m = r }
                if m == i { break }
                frontierBound.swapAt(m, i); frontierCell.swapAt(m, i)
                i = m
            }
        }
        return (top, cell)
    }

    // MARK: best-k max-heap

    @inline(__always)
    func worse(_ a: Int, _ b: Int) -> Bool {
        bestDistance[a] > bestDistance[b] || (bestDistance[a] == bestDistance[b] && bestID[a] > bestID[b])
    }

    /// The distance a candidate must beat (or tie with a smaller id) once k are held.
    var worstDistance: Double { bestDistance.first ?? .infinity }

    mutating func offer(distance: Double, row: UInt32, id: UInt64, k: Int) {
        if bestDistance.count < k {
            bestDistance.append(distance); bestRow.append(row); bestID.append(id)
            var i = bestDistance.count - 1
            while i > 0 {
                let p = (i - 1) / 2
                guard worse(i, p) else { break }
                swapBest(i, p)
                i = p
            }
            return
        }
        guard distance < bestDistance[0] || (distance == bestDistance[0] && id < bestID[0]) else { return }
        bestDistance[0] = distance; bestRow[0] = row; bestID[0] = id
        var i = 0
        let n = bestDistance.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < n && worse(l, m) { m = l }
            if r < n && worse(r, m) { m = r }
            if m == i { break }
            swapBest(m, i)
            i = m
        }
    }

    @inline(__always)
    private mutating func swapBest(_ a: Int, _ b: Int) {
        bestDistance.swapAt(a, b); bestRow.swapAt(a, b); bestID.swapAt(a, b)
    }
}
