import Foundation
import HexGeo
import Routing
import Vocabulary

// CPU time of MapMatcher.match on the 1,000 fixes of `match/1000-points` (Andorra, every 30 m, σ = 15 m; the same
// generator and seed): the default (a pilot match measuring σ, then the whole trace) against one pass with σ given,
// interleaved, 30 rounds. CPU time, not wall clock: on the shared 2-core machine wall clock runs several times CPU.
// Built and run by match-cpu.sh against the release objects of the Routing target.
struct SplitMix: RandomNumberGenerator { var s: UInt64; mutating func next() -> UInt64 { s &+= 0x9E3779B97F4A7C15; var z = s; z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) &* 0x94D049BB133111EB; return z ^ (z >> 31) } }
let network = try RoadNetwork.importPBF(path: CommandLine.arguments[1])
var rng = SplitMix(s: 30)
let g = network.graph
var query = network.makeQuery()
var corners: [LatLng] = []
var from = Int.random(in: 0..<g.nodeCount, using: &rng)
var length = 0.0
while length < 31_000 {
    let to = Int.random(in: 0..<g.nodeCount, using: &rng)
    guard let route = try? query.route(fromNode: from, toNode: to), route.distanceMeters > 500 else { continue }
    corners += route.points; length += route.distanceMeters; from = to
}
func gaussian() -> Double { let u = Double.random(in: Double.ulpOfOne..<1, using: &rng), v = Double.random(in: 0..<1, using: &rng); return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v) }
var points: [TracePoint] = []
var carried = 0.0
for i in 1..<corners.count where points.count < 1_000 {
    let a = corners[i - 1], b = corners[i]; let d = Geodesy.distanceMeters(a, b)
    var s = 30 - carried
    while s <= d && points.count < 1_000 {
        let f = s / d, r = Geodesy.earthRadiusMeters
        let p = LatLng(lat: a.lat + f * (b.lat - a.lat), lng: a.lng + f * (b.lng - a.lng))
        points.append(TracePoint(position: LatLng(lat: p.lat + 15 * gaussian() / r, lng: p.lng + 15 * gaussian() / (r * cos(p.lat))), timestampMs: Int64(points.count) * 3000))
        s += 30
    }
    carried = d - (s - 30)
}
var matcher = MapMatcher(network: network)
func cpu() -> Double { Double(clock()) / Double(CLOCKS_PER_SEC) * 1000 }
var newTimes: [Double] = [], oldTimes: [Double] = []
var m = matcher.match(points)
var given = MapMatcher.Options(); given.sigmaMeters = m.sigmaMeters
print("fixes \(points.count) final σ \(m.sigmaMeters) breaks \(m.breaks.count)")
for _ in 0..<30 {
    var t = cpu(); m = matcher.match(points); newTimes.append(cpu() - t)
    t = cpu(); m = matcher.match(points, options: given); oldTimes.append(cpu() - t)
}
newTimes.sort(); oldTimes.sort()
print(String(format: "CPU ms p0/p50: default %.2f / %.2f, one pass (σ given) %.2f / %.2f", newTimes[0], newTimes[15], oldTimes[0], oldTimes[15]))
