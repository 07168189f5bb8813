@testable import Engine
import Foundation
import JSON
import Routing
import Vocabulary

/// The network traces are matched on: the same kind of 12×12 synthetic grid (100 m blocks from 45° N 7° E, some
/// one-way streets) that the `http` target's engine serves, so JSON seeds reach the matcher there too.
nonisolated(unsafe) var mapMatchNetwork: RoadNetwork?

/// Traces longer than this are still parsed but not matched: the matcher's cost grows with the trace, not its code.
private let mapMatchMaxPoints = 64

/// `POST /v1/match`'s reader and the map matcher behind it. The first byte picks the form of the rest:
/// - even: the request body, as the route reads it (`JSONReader.parse`, then `RoutingService.tracePoints` with its
///   checks), then the matcher on the trace and the answer's JSON (`RoutingService.write`);
/// - odd: a binary trace of 6-byte fixes (north and east offsets from the grid's corner in meters as Int16, then a
///   UInt16 time step in tenths of a second, 0xFFFF for a fix without a time), which puts hostile geometry on the
///   roads far more often than mutated JSON numbers would: loops, jitter, backwards steps, repeated and distant
///   fixes. The same fixes then go through the online matcher (`step`) that attributes live pings to roads.
/// Either way the answer must place each fix at most once, report a finite, non-negative length and duration, and a
/// confidence in 0…1.
let mapMatchTarget = FuzzTarget(
    name: "mapmatch",
    setUp: { if mapMatchNetwork == nil { mapMatchNetwork = smallNetwork(12, 12) } },
    run: { input in
        guard let mode = input.first, let network = mapMatchNetwork else { return }
        let body = UnsafeRawBufferPointer(rebasing: input.dropFirst())
        let trace: [TracePoint]
        if mode & 1 == 0 {
            guard let json = try? JSONReader.parse(Array(body)),
                  let parsed = try? RoutingService.tracePoints(json) else { return }
            trace = parsed
        } else {
            trace = binaryTrace(body)
            guard !trace.isEmpty else { return }
        }
        guard trace.count <= mapMatchMaxPoints else { return }
        var matcher = MapMatcher(network: network)
        let match = matcher.match(trace)
        checkMatch(match, of: trace)
        var writer = JSONWriter()
        RoutingService.write(match, to: &writer)
        precondition(!writer.bytes.isEmpty, "an empty answer")
        if mode & 1 == 1 {
            var state: MapMatcher.OnlineState?
            var options = MapMatcher.Options()
            options.sigmaMeters = 10
            for fix in trace {
                if case .moved(let meters, let edges) = matcher.step(&state, at: fix.position, options: options) {
                    precondition(meters.isFinite && meters >= 0, "online step of \(meters) m")
                    precondition(edges.allSatisfy { network.graph.edgeCount > $0 && $0 >= 0 }, "online step names an edge the graph does not have")
                }
            }
        }
    },
    seeds: {
        func binary(_ fixes: [(north: Int16, east: Int16, tenths: UInt16)]) -> [UInt8] {
            var out: [UInt8] = [1]
            for f in fixes {
                for v in [UInt16(bitPattern: f.north), UInt16(bitPattern: f.east), f.tenths] {
                    out += [UInt8(v & 0xFF), UInt8(v >> 8)]
                }
            }
            return out
        }
        return [
            ("json-along-a-street", [0] + Array("""
                {"points":[{"lat":45.00001,"lng":7.0002,"ts":0},{"lat":45.00002,"lng":7.0010,"ts":8000},\
                {"lat":45.0001,"lng":7.0020,"ts":16000},{"lat":45.0005,"lng":7.0028,"ts":30000}]}
                """.utf8)),
            ("json-no-times", [0] + Array(#"{"points":[{"lat":45.0009,"lng":7.0014},{"lat":45.0018,"lng":7.0014,"ts":null}]}"#.utf8)),
            ("json-bad-point", [0] + Array(#"{"points":[{"lat":91,"lng":7}]}"#.utf8)),
            ("binary-turns", binary([(0, 0, 0), (0, 150, 100), (0, 300, 100), (100, 300, 100), (200, 310, 100), (200, 500, 200)])),
            ("binary-jitter-back", binary([(0, 100, 0), (0, 104, 10), (0, 96, 10), (0, 130, 0xFFFF), (5, 131, 50)])),
            ("binary-far-apart", binary([(0, 0, 0), (1_100, 1_400, 30), (-5_000, 20_000, 10), (550, 700, 600)])),
        ]
    })

/// Decodes the binary trace form (see `mapMatchTarget`); a partial last fix is ignored.
private func binaryTrace(_ bytes: UnsafeRawBufferPointer) -> [TracePoint] {
    let metersPerDegreeLat = 111_195.0, metersPerDegreeLng = 111_195.0 * 0.7071
    var out: [TracePoint] = []
    var ts: Int64 = 0
    var o = 0
    func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    while o + 6 <= bytes.count {
        let north = Double(Int16(bitPattern: u16(o))), east = Double(Int16(bitPattern: u16(o + 2))), step = u16(o + 4)
        let position = LatLng(degrees: 45 + north / metersPerDegreeLat, 7 + east / metersPerDegreeLng)
        if step == 0xFFFF {
            out.append(TracePoint(position: position))
        } else {
            ts += Int64(step) * 100
            out.append(TracePoint(position: position, timestampMs: ts))
        }
        o += 6
    }
    return out
}

/// Traps (a finding) when a match breaks what its answer promises.
private func checkMatch(_ match: MapMatch, of trace: [TracePoint]) {
    precondition(match.matched.count == trace.count, "\(match.matched.count) placements for \(trace.count) fixes")
    precondition(match.distanceMeters.isFinite && match.distanceMeters >= 0, "distance \(match.distanceMeters)")
    precondition(match.durationSeconds.isFinite && match.durationSeconds >= 0, "duration \(match.durationSeconds)")
    precondition(match.confidence >= 0 && match.confidence <= 1, "confidence \(match.confidence)")
    for b in match.breaks { precondition(b.index >= 0 && b.index < trace.count, "break at \(b.index) of \(trace.count)") }
}
