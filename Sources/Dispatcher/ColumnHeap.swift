/// A binary min-heap of columns keyed by (distance, free first), over caller-owned storage
/// large enough for every push of one search.
struct ColumnHeap {
    struct Entry {
        var distance: Double
        var column: Int32
        var free: Bool
        @inline(__always)
        func precedes(_ o: Entry) -> Bool {
            distance < o.distance || (distance == o.distance && free && !o.free)
        }
    }
    let items: UnsafeMutableBufferPointer<Entry>
    var count = 0

    init(storage: UnsafeMutableBufferPointer<Entry>) { items = storage }

    @inline(__always) mutating func removeAll() { count = 0 }

    @inline(__always)
    mutating func push(_ e: Entry) {
        var k = count
        count += 1
        while k > 0 {
            let p = (k - 1) >> 1
            if !e.precedes(items[p]) { break }
            items[k] = items[p]
            k = p
        }
        items[k] = e
    }

    @inline(__always)
    mutating func pop() -> Entry? {
        guard count > 0 else { return nil }
        count -= 1
        let last = items[count]
        guard count > 0 else { return last }
        let top = items[0]
        let n = count
        var k = 0
        while true {
            var c = 2 * k + 1
            if c >= n { break }
            if c + 1 < n, items[c + 1].precedes(items[c]) { c += 1 }
            if !items[c].precedes(last) { break }
            items[k] = items[c]
            k = c
        }
        items[k] = last
        return top
    }
}
