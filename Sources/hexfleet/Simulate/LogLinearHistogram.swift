/// A log-linear histogram of non-negative integer samples (microseconds, milliseconds): values below
/// `2^subBucketBits` are counted exactly; above, each power-of-two range is split into `2^subBucketBits` equal
/// buckets, so a reported quantile is within 1/2^subBucketBits (3 % at the default 5 bits) of the true sample.
///
/// Fixed memory (64 ranges × 32 buckets of `UInt64`), no allocation per sample.
struct LogLinearHistogram: Sendable {
    private let subBits: Int
    private var counts: [UInt64]
    /// Samples recorded.
    private(set) var count: UInt64 = 0
    /// Sum of samples (for the mean).
    private(set) var sum: Double = 0
    /// Largest sample.
    private(set) var max: UInt64 = 0

    /// An empty histogram; `subBucketBits` sets the relative resolution (2⁻ᵇⁱᵗˢ).
    init(subBucketBits: Int = 5) {
        subBits = subBucketBits
        counts = [UInt64](repeating: 0, count: (64 - subBucketBits + 1) << subBucketBits)
    }

    /// The bucket of a value: exact below 2^subBits, then (range, top subBits bits after the leading one).
    private func bucket(_ v: UInt64) -> Int {
        let sub = UInt64(1) << subBits
        if v < sub { return Int(v) }
        let msb = 63 - v.leadingZeroBitCount                       // ≥ subBits
        let range = msb - subBits + 1                               // 1…
        let offset = Int((v >> (msb - subBits)) & (sub - 1))
        return range << subBits | offset
    }

    /// The smallest value that lands in bucket `b` (quantiles report the bucket's lower bound, rounded up to its middle).
    private func value(ofBucket b: Int) -> (low: UInt64, width: UInt64) {
        let sub = 1 << subBits
        if b < sub { return (UInt64(b), 1) }
        let range = b >> subBits, offset = UInt64(b & (sub - 1))
        let msb = range + subBits - 1
        let width = UInt64(1) << (msb - subBits)
        return ((UInt64(1) << msb) | offset << (msb - subBits), width)
    }

    /// Records one sample.
    mutating func record(_ v: UInt64) {
        counts[bucket(v)] &+= 1
        count &+= 1
        sum += Double(v)
        if v > max { max = v }
    }

    /// The mean sample, 0 when empty.
    var mean: Double { count == 0 ? 0 : sum / Double(count) }

    /// The value at quantile `q` (0…1): the middle of the bucket holding the ⌈q·count⌉-th sample; 0 when empty.
    func quantile(_ q: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let rank = Swift.max(1, UInt64((q * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for (b, c) in counts.enumerated() where c > 0 {
            seen &+= c
            if seen >= rank {
                let (low, width) = value(ofBucket: b)
                return Swift.min(max, low + (width - 1) / 2)
            }
        }
        return max
    }

    /// Adds every sample of `other` (same resolution).
    mutating func merge(_ other: LogLinearHistogram) {
        precondition(other.subBits == subBits, "histograms of different resolution")
        for i in counts.indices { counts[i] &+= other.counts[i] }
        count &+= other.count
        sum += other.sum
        max = Swift.max(max, other.max)
    }
}
