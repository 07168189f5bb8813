import Foundation
import HexGeo
import Vocabulary

/// The line logic of the batch subcommands (`route`, `matrix`), kept in the library so tests exercise it.
///
/// Every function takes one input line and returns one output line or throws a `RoutingError` naming the problem;
/// `run` numbers the lines and stops at the first bad one.
public enum RoutingBatch {
    /// A failure on one input line.
    public struct LineError: Error, CustomStringConvertible, Sendable {
        /// 1-based line number.
        public var line: Int
        /// What was wrong.
        public var error: RoutingError
        public var description: String { "line \(line): \(error.message)" }
    }

    /// Parses `lat,lng` in degrees.
    public static func parseLatLng(_ text: some StringProtocol) throws(RoutingError) -> LatLng {
        let fields = String(text).split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count == 2 else { throw RoutingError(.badInput, "expected lat,lng, got \(fields.count) fields") }
        return try latLng(fields[0], fields[1])
    }

    private static func latLng(_ a: Substring, _ b: Substring) throws(RoutingError) -> LatLng {
        // Plain numbers parse directly; only fields with spaces pay for trimming.
        guard let lat = Double(a) ?? Double(a.trimmingCharacters(in: .whitespaces)),
              let lng = Double(b) ?? Double(b.trimmingCharacters(in: .whitespaces)),
              LatLng.isValidDegrees(lat: lat, lng: lng) else {
            throw RoutingError(.badInput, "'\(a),\(b)' is not a valid lat,lng in degrees")
        }
        return LatLng(degrees: lat, lng)
    }

    /// Formats a route as `distance_m,duration_s`, or `-1,-1` when unreachable.
    public static func format(_ route: Route?) -> String {
        guard let route else { return "-1,-1" }
        return fixed(route.distanceMeters, decimals: 2) + "," + fixed(route.durationSeconds, decimals: 3)
    }

    /// `value` with `decimals` (0…6) digits after the point, like `%.Nf` for the finite non-negative figures the batch
    /// commands print, without Foundation's formatter (which costs more than the route itself).
    public static func fixed(_ value: Double, decimals: Int) -> String {
        let scale = [1.0, 10, 100, 1_000, 10_000, 100_000, 1_000_000][min(max(decimals, 0), 6)]
        guard value.isFinite, abs(value) * scale < 9e15 else { return String(format: "%.\(decimals)f", value) }
        let scaled = Int64((abs(value) * scale).rounded())
        let unit = Int64(scale)
        var text = value < 0 && scaled != 0 ? "-" : ""
        text += String(scaled / unit)
        guard decimals > 0 else { return text }
        let fraction = String(scaled % unit)
        return text + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }

    /// One `lat1,lng1,lat2,lng2` line → `distance_m,duration_s`.
    public static func routeCoordinatesLine(_ line: String, query: inout RouteQuery) throws(RoutingError) -> String {
        let f = line.split(separator: ",", omittingEmptySubsequences: false)
        guard f.count == 4 else { throw RoutingError(.badInput, "expected lat1,lng1,lat2,lng2, got \(f.count) fields") }
        let a = try latLng(f[0], f[1]), b = try latLng(f[2], f[3])
        do {
            // Only the figures are printed: no path unpacking, no geometry.
            guard let found = try query.routeFigures(from: a, to: b) else { return "-1,-1" }
            return fixed(found.distanceMeters, decimals: 2) + "," + fixed(found.durationSeconds, decimals: 3)
        } catch RoutingError.Code.noRoad {
            return format(nil)   // a valid point far from every road: unreachable
        }
    }

    /// Snaps points for a matrix; a point far from every road gets no edges, so its row or column is all `-1`.
    public static func snapOrEmpty(_ points: [LatLng], query: RouteQuery) throws(RoutingError) -> [Snap] {
        var out: [Snap] = []
        out.reserveCapacity(points.count)
        for p in points {
            do { out.append(try query.snap(p)) }
            catch RoutingError.Code.noRoad { out.append(Snap(point: p, distanceMeters: .infinity, edges: [])) }
        }
        return out
    }

    /// One `from_node,to_node` line → `distance_m,duration_s` of the fastest path.
    public static func routeNodesLine(_ line: String, query: inout RouteQuery) throws(RoutingError) -> String {
        let f = line.split(separator: ",", omittingEmptySubsequences: false)
        guard f.count == 2, let a = Int(f[0].trimmingCharacters(in: .whitespaces)),
              let b = Int(f[1].trimmingCharacters(in: .whitespaces)) else {
            throw RoutingError(.badInput, "expected from_node,to_node as integers")
        }
        return format(try query.route(fromNode: a, toNode: b))
    }

    /// One matrix row: `duration_s,distance_m` per cell, `-1,-1` where unreachable.
    public static func formatRow(durations: [Double?], distances: [Double?]) -> String {
        zip(durations, distances).map { d, m in
            guard let d, let m else { return "-1,-1" }
            return fixed(d, decimals: 3) + "," + fixed(m, decimals: 2)
        }.joined(separator: ",")
    }

    /// Reads `lat,lng` lines from `text`; a bad line throws `LineError` with its number.
    public static func readPoints(_ text: String) throws(LineError) -> [LatLng] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }   // the final newline ends the last line
        var points: [LatLng] = []
        for (i, line) in lines.enumerated() {
            let trimmed = line.hasSuffix("\r") ? line.dropLast() : line
            do { points.append(try parseLatLng(trimmed)) }
            catch { throw LineError(line: i + 1, error: error) }
        }
        return points
    }

    /// Feeds numbered lines from `next` through `transform` to `emit`, stopping at the first bad line.
    public static func run(next: () -> String?, emit: (String) -> Void,
                           transform: (String) throws(RoutingError) -> String) throws(LineError) {
        var number = 0
        while let raw = next() {
            number += 1
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : raw
            do { emit(try transform(line)) }
            catch { throw LineError(line: number, error: error) }
        }
    }
}
