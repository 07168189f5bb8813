import Histogram

/// Ping → index latencies in microseconds, in an HdrHistogram (hdrhistogram-swift): 3 significant digits from 1 µs
/// to a minute, fixed memory, no allocation per sample.
enum LatencyHistogram {
    /// An empty latency histogram.
    static func make() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    }
}
