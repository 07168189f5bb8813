import Foundation

/// `cell key → (head row, driver count)` as an open-addressing table with linear probing and
/// backward-shift deletion. A bucket exists only while its cell holds a driver.
struct CellBuckets {
    private(set) var keys: [UInt64] = [UInt64](repeating: 0, count: 16)
    private(set) var heads: [UInt32] = [UInt32](repeating: 0, count: 16)
    private(set) var counts: [UInt32] = [UInt32](repeating: 0, count: 16)   // 0 ⇔ empty bucket
    // Each bucket's cell centre (radians), cos(latitude) and the squared radius (radians²) of the "still in the same
    // cell" shortcut's equirectangular test.
    private(set) var centerLat: [Double] = [Double](repeating: 0, count: 16)
    private(set) var centerLng: [Double] = [Double](repeating: 0, count: 16)
    private(set) var centerCos: [Double] = [Double](repeating: 0, count: 16)
    private(set) var innerLimit: [Double] = [Double](repeating: 0, count: 16)
    private(set) var occupied = 0
    private var mask: Int { keys.count - 1 }
    /// Geometry of cells whose bucket went away, for the next driver to enter them.
    private var emptied = CellGeometryCache()

    static let none = UInt32.max

    @inline(__always)
    static func hash(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: ((key ^ (key >> 29)) &* 0xBF58_476D_1CE4_E5B9) >> 17)
    }

    @inline(__always)
    private func index(of key: UInt64) -> Int? {
        var i = Self.hash(key) & mask
        while counts[i] != 0 {
            if keys[i] == key { return i }
            i = (i + 1) & mask
        }
        return nil
    }

    /// A value read from `key`'s bucket, its centre and its radius (see `DriverTable.warm`).
    @inline(__always)
    func touch(_ key: UInt64) -> UInt64 {
        guard let i = index(of: key) else { return 0 }
        return centerLat[i].bitPattern &+ centerCos[i].bitPattern &+ innerLimit[i].bitPattern &+ UInt64(heads[i])
    }

    /// The first row in a cell, or `none`.
    @inline(__always)
    func head(_ key: UInt64) -> UInt32 {
        guard let i = index(of: key) else { return Self.none }
        return heads[i]
    }

    /// The number of drivers in a cell.
    func count(_ key: UInt64) -> Int {
        guard let i = index(of: key) else { return 0 }
        return Int(counts[i])
    }

    /// Whether `(lat, lng)` (radians) is surely inside `key`'s cell: within the cell's inner radius of its centre,
    /// by an equirectangular distance whose error `innerLimitSquared` already allows for.
    @inline(__always)
    func isSurelyInside(_ key: UInt64, lat: Double, lng: Double) -> Bool {
        guard let i = index(of: key) else { return false }
        let dLat = lat - centerLat[i]
        var dLng = lng - centerLng[i]
        if dLng > Double.pi { dLng -= 2 * Double.pi } else if dLng < -Double.pi { dLng += 2 * Double.pi }
        let x = dLng * centerCos[i]
        return dLat * dLat + x * x < innerLimit[i]
    }

    /// The squared threshold (radians²) for `isSurelyInside` from a cell's inner radius (great circle, meters).
    /// The equirectangular distance takes cos(latitude) at the centre; over a span of ρ radians the true distance
    /// can exceed it by a factor of about 1 + tan(|lat| + ρ)·ρ, so the radius shrinks by that (with 50 % slack) and
    /// by 0.1 %. Cells wider than 0.01 rad (~64 km, H3 resolution ≤ 3) or reaching within 0.5° of a pole get no
    /// shortcut: there the approximation is not worth bounding.
    static func innerLimitSquared(centerLat: Double, innerMeters: Double) -> Double {
        let rho = innerMeters / 6_371_008.8
        let reach = abs(centerLat) + rho
        guard rho > 0 && rho <= 0.01 && reach < (89.5 * Double.pi / 180) else { return 0 }
        let stretch = 1 + 1.5 * tan(reach) * rho + 1e-6
        let limit = rho * 0.999 / stretch.squareRoot()
        return limit * limit
    }

    /// Makes `row` the head of its cell's list; returns the previous head (or `none`). `cell` (the centre in
    /// radians and the inner radius in meters) is asked only when the bucket is new.
    @inline(__always)
    mutating func pushFront(_ key: UInt64, row: UInt32,
                            cell: () -> (lat: Double, lng: Double, innerMeters: Double)) -> UInt32 {
        if let i = index(of: key) {
            let old = heads[i]
            heads[i] = row
            counts[i] += 1
            return old
        }
        if (occupied + 1) * 4 > keys.count * 3 { resize(to: keys.count * 2) }
        var i = Self.hash(key) & mask
        while counts[i] != 0 { i = (i + 1) & mask }
        keys[i] = key; heads[i] = row; counts[i] = 1
        if let g = emptied.geometry(of: key) {
            centerLat[i] = g.lat; centerLng[i] = g.lng; centerCos[i] = g.cos; innerLimit[i] = g.limit
        } else {
            let c = cell()
            centerLat[i] = c.lat; centerLng[i] = c.lng; centerCos[i] = cos(c.lat)
            innerLimit[i] = Self.innerLimitSquared(centerLat: c.lat, innerMeters: c.innerMeters)
        }
        occupied += 1
        return Self.none
    }

    /// A non-head row left the cell.
    @inline(__always)
    mutating func decrement(_ key: UInt64) {
        guard let i = index(of: key) else { return }
        counts[i] -= 1
    }

    /// The head row left the cell; `newHead` follows it (or `none`, and the bucket goes).
    mutating func popFront(_ key: UInt64, newHead: UInt32) {
        guard let i = index(of: key) else { return }
        counts[i] -= 1
        if counts[i] > 0 { heads[i] = newHead; return }
        emptied.keep(key, lat: centerLat[i], lng: centerLng[i], cos: centerCos[i], limit: innerLimit[i])
        occupied -= 1
        var hole = i
        var j = (i + 1) & mask
        while counts[j] != 0 {
            let home = Self.hash(keys[j]) & mask
            if (j - home) & mask >= (j - hole) & mask {
                keys[hole] = keys[j]; heads[hole] = heads[j]; counts[hole] = counts[j]
                centerLat[hole] = centerLat[j]; centerLng[hole] = centerLng[j]; centerCos[hole] = centerCos[j]
                innerLimit[hole] = innerLimit[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        counts[hole] = 0
    }

    mutating func shrinkIfSparse() {
        guard keys.count > 1024 && occupied * 8 < keys.count else { return }
        var size = 16
        while occupied * 4 >= size * 3 / 2 { size *= 2 }
        resize(to: size)
    }

    private mutating func resize(to size: Int) {
        let oldKeys = keys, oldHeads = heads, oldCounts = counts
        let oldLat = centerLat, oldLng = centerLng, oldCos = centerCos, oldLimit = innerLimit
        keys = [UInt64](repeating: 0, count: size)
        heads = [UInt32](repeating: 0, count: size)
        counts = [UInt32](repeating: 0, count: size)
        centerLat = [Double](repeating: 0, count: size)
        centerLng = [Double](repeating: 0, count: size)
        centerCos = [Double](repeating: 0, count: size)
        innerLimit = [Double](repeating: 0, count: size)
        let m = size - 1
        for b in oldKeys.indices where oldCounts[b] != 0 {
            var i = Self.hash(oldKeys[b]) & m
            while counts[i] != 0 { i = (i + 1) & m }
            keys[i] = oldKeys[b]; heads[i] = oldHeads[b]; counts[i] = oldCounts[b]
            centerLat[i] = oldLat[b]; centerLng[i] = oldLng[b]; centerCos[i] = oldCos[b]; innerLimit[i] = oldLimit[b]
        }
    }

    /// Every occupied bucket (for invariant checks).
    func forEachBucket(_ body: (UInt64, UInt32, UInt32) -> Void) {
        for i in keys.indices where counts[i] != 0 { body(keys[i], heads[i], counts[i]) }
    }

    var memoryBytes: Int {
        keys.capacity * 8 + heads.capacity * 4 + counts.capacity * 4
            + (centerLat.capacity + centerLng.capacity + centerCos.capacity + innerLimit.capacity) * 8
            + emptied.memoryBytes
    }
}

/// The geometry (centre in radians, its cosine, the squared inner limit) of cells whose bucket emptied, direct-mapped
/// by cell key and overwritten freely. In a sparse fleet most cells hold one driver or none, so a driver crossing into
/// a neighbour usually opens a new bucket, and its inner radius costs an H3 boundary and six cross-track distances
/// (several microseconds, the largest part of ingesting a ping in a fleet of 10,000); cells are left and entered again
/// all day, so most of those come from here instead.
struct CellGeometryCache {
    private struct Entry {
        var key: UInt64 = 0
        var lat = Double.nan   // NaN: empty
        var lng = 0.0
        var cos = 0.0
        var limit = 0.0
    }
    private static let entries = 1 << 14   // 640 KiB, made with the table (a start-up cost, not a per-ping one)
    /// One entry per slot, so a look-up or a store touches one cache line.
    private var slots = [Entry](repeating: Entry(), count: entries)

    /// A cell's geometry if it is still here.
    @inline(__always)
    func geometry(of key: UInt64) -> (lat: Double, lng: Double, cos: Double, limit: Double)? {
        let e = slots[CellBuckets.hash(key) & (Self.entries - 1)]
        guard e.key == key, !e.lat.isNaN else { return nil }
        return (e.lat, e.lng, e.cos, e.limit)
    }

    /// Remembers a cell's geometry.
    @inline(__always)
    mutating func keep(_ key: UInt64, lat: Double, lng: Double, cos: Double, limit: Double) {
        slots[CellBuckets.hash(key) & (Self.entries - 1)] = Entry(key: key, lat: lat, lng: lng, cos: cos, limit: limit)
    }

    /// Bytes held.
    var memoryBytes: Int { slots.capacity * MemoryLayout<Entry>.stride }
}
