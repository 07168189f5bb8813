import Foundation

/// `cell key → (head row, driver count)` as an open-addressing table with linear probing and
/// backward-shift deletion. A bucket exists only while its cell holds a driver.
///
/// One array of 48-byte buckets rather than a column per field: an upsert reads a bucket's key, count, head and
/// geometry together, and with columns that was seven cache misses per look-up in a metro fleet's table (most of
/// what an upsert waited on in a profile of a million-driver flood); here it is one, or two where a bucket straddles
/// a line boundary.
struct CellBuckets {
    private struct Bucket {
        var key: UInt64 = 0
        var head: UInt32 = 0
        var count: UInt32 = 0     // 0 ⇔ empty bucket
        // The cell centre (radians), cos(latitude) and the squared radius (radians²) of the "still in the same cell"
        // shortcut's equirectangular test.
        var centerLat = 0.0
        var centerLng = 0.0
        var centerCos = 0.0
        var innerLimit = 0.0
    }

    private var buckets = [Bucket](repeating: Bucket(), count: 16)
    private(set) var occupied = 0
    private var mask: Int { buckets.count - 1 }
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
        while buckets[i].count != 0 {
            if buckets[i].key == key { return i }
            i = (i + 1) & mask
        }
        return nil
    }

    /// A value read from `key`'s bucket (see `DriverTable.warm`).
    @inline(__always)
    func touch(_ key: UInt64) -> UInt64 {
        guard let i = index(of: key) else { return 0 }
        return buckets[i].innerLimit.bitPattern &+ UInt64(buckets[i].head)
    }

    /// The first row in a cell, or `none`.
    @inline(__always)
    func head(_ key: UInt64) -> UInt32 {
        guard let i = index(of: key) else { return Self.none }
        return buckets[i].head
    }

    /// The number of drivers in a cell.
    func count(_ key: UInt64) -> Int {
        guard let i = index(of: key) else { return 0 }
        return Int(buckets[i].count)
    }

    /// Whether `(lat, lng)` (radians) is surely inside `key`'s cell: within the cell's inner radius of its centre,
    /// by an equirectangular distance whose error `innerLimitSquared` already allows for.
    @inline(__always)
    func isSurelyInside(_ key: UInt64, lat: Double, lng: Double) -> Bool {
        guard let i = index(of: key) else { return false }
        let b = buckets[i]
        let dLat = lat - b.centerLat
        var dLng = lng - b.centerLng
        if dLng > Double.pi { dLng -= 2 * Double.pi } else if dLng < -Double.pi { dLng += 2 * Double.pi }
        let x = dLng * b.centerCos
        return dLat * dLat + x * x < b.innerLimit
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
            let old = buckets[i].head
            buckets[i].head = row
            buckets[i].count += 1
            return old
        }
        if (occupied + 1) * 4 > buckets.count * 3 { resize(to: buckets.count * 2) }
        var i = Self.hash(key) & mask
        while buckets[i].count != 0 { i = (i + 1) & mask }
        var b = Bucket(key: key, head: row, count: 1)
        if let g = emptied.geometry(of: key) {
            b.centerLat = g.lat; b.centerLng = g.lng; b.centerCos = g.cos; b.innerLimit = g.limit
        } else {
            let c = cell()
            b.centerLat = c.lat; b.centerLng = c.lng; b.centerCos = cos(c.lat)
            b.innerLimit = Self.innerLimitSquared(centerLat: c.lat, innerMeters: c.innerMeters)
        }
        buckets[i] = b
        occupied += 1
        return Self.none
    }

    /// A non-head row left the cell.
    @inline(__always)
    mutating func decrement(_ key: UInt64) {
        guard let i = index(of: key) else { return }
        buckets[i].count -= 1
    }

    /// The head row left the cell; `newHead` follows it (or `none`, and the bucket goes).
    mutating func popFront(_ key: UInt64, newHead: UInt32) {
        guard let i = index(of: key) else { return }
        buckets[i].count -= 1
        if buckets[i].count > 0 { buckets[i].head = newHead; return }
        let gone = buckets[i]
        emptied.keep(key, lat: gone.centerLat, lng: gone.centerLng, cos: gone.centerCos, limit: gone.innerLimit)
        occupied -= 1
        var hole = i
        var j = (i + 1) & mask
        while buckets[j].count != 0 {
            let home = Self.hash(buckets[j].key) & mask
            if (j - home) & mask >= (j - hole) & mask {
                buckets[hole] = buckets[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        buckets[hole].count = 0
    }

    mutating func shrinkIfSparse() {
        guard buckets.count > 1024 && occupied * 8 < buckets.count else { return }
        var size = 16
        while occupied * 4 >= size * 3 / 2 { size *= 2 }
        resize(to: size)
    }

    private mutating func resize(to size: Int) {
        let old = buckets
        buckets = [Bucket](repeating: Bucket(), count: size)
        let m = size - 1
        for b in old where b.count != 0 {
            var i = Self.hash(b.key) & m
            while buckets[i].count != 0 { i = (i + 1) & m }
            buckets[i] = b
        }
    }

    /// Every occupied bucket (for invariant checks).
    func forEachBucket(_ body: (UInt64, UInt32, UInt32) -> Void) {
        for b in buckets where b.count != 0 { body(b.key, b.head, b.count) }
    }

    var memoryBytes: Int { buckets.capacity * MemoryLayout<Bucket>.stride + emptied.memoryBytes }
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
