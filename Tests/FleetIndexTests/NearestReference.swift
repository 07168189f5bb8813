import Foundation
import HexGeo
import Testing
@testable import FleetIndex
import Vocabulary

/// The nearest-k answer worked out without the table: plain haversine (`Geodesy.distanceMeters`) from the query to
/// every fix the test inserted, filtered by freshness, status and radius, sorted by distance and then id (the order
/// the API promises). Shares no code with `DriverTable`'s search or its scan.
struct NearestReference {
    /// The last fix the test gave each driver, by id.
    private(set) var fixes: [UInt64: DriverState] = [:]

    /// Records a fix exactly as it was offered to the table (the table keeps the newest per driver).
    mutating func insert(_ s: DriverState) {
        if let old = fixes[s.id.rawValue], old.timestampMs >= s.timestampMs { return }
        fixes[s.id.rawValue] = s
    }

    /// Every eligible driver as (distance, id), nearest first, ties by smaller id: all of them, not just k.
    func ranked(from p: LatLng, radiusMeters: Double, statuses: StatusFilter, nowMs: Int64, staleAfterMs: Int64)
        -> [(meters: Double, id: UInt64)] {
        var out: [(meters: Double, id: UInt64)] = []
        for s in fixes.values where s.timestampMs >= nowMs - staleAfterMs && statuses.contains(s.status) {
            let d = Geodesy.distanceMeters(p, LatLng(degrees: Double(s.latE7) / 1e7, Double(s.lngE7) / 1e7))
            if d <= radiusMeters { out.append((d, s.id.rawValue)) }
        }
        return out.sorted { $0.meters < $1.meters || ($0.meters == $1.meters && $0.id < $1.id) }
    }

    /// Checks `got` against the first `k` of `ranked` and returns the number of problems it recorded.
    ///
    /// Two haversine codes agree to ~1e-9 m, not to the bit, so where drivers lie within `tolerance` of each other
    /// (many share the exact pole point) either may come first; everywhere else the ids must match position by
    /// position. The answer's own order is checked exactly on the distances it reports.
    @discardableResult
    static func check(_ got: [NearbyDriver], against ranked: [(meters: Double, id: UInt64)], k: Int,
                      tolerance: Double = 1e-6, _ context: @autoclosure () -> String) -> Int {
        var problems = 0
        func fail(_ message: String) {
            problems += 1
            if problems <= 5 { Issue.record("\(context()): \(message)") }
        }
        let want = ranked.prefix(k)
        if got.count != want.count { fail("\(got.count) drivers, want \(want.count)") }
        let trueMeters = Dictionary(uniqueKeysWithValues: ranked.map { ($0.id, $0.meters) })
        var seen = Set<UInt64>()
        for (i, g) in got.enumerated() {
            let id = g.state.id.rawValue
            if !seen.insert(id).inserted { fail("driver \(id) twice") }
            guard let meters = trueMeters[id] else { fail("driver \(id) is not eligible (stale, status or radius)"); continue }
            if abs(meters - g.distanceMeters) > tolerance { fail("driver \(id) reported at \(g.distanceMeters) m, is at \(meters) m") }
            if i > 0 {
                let p = got[i - 1]
                let ordered = p.distanceMeters < g.distanceMeters
                    || (p.distanceMeters == g.distanceMeters && p.state.id.rawValue < id)
                if !ordered { fail("position \(i): \(p.state.id) at \(p.distanceMeters) m before \(id) at \(g.distanceMeters) m") }
            }
            guard i < want.count else { continue }
            let w = want[want.startIndex + i]
            if abs(w.meters - g.distanceMeters) > tolerance { fail("position \(i) at \(g.distanceMeters) m, want \(w.meters) m") }
            // Only a driver as near as the reference's i-th (within the tolerance) may stand in for it.
            if id != w.id && abs(meters - w.meters) > tolerance { fail("position \(i) is driver \(id), want \(w.id)") }
        }
        return problems
    }
}
