import Foundation
import Testing
import TestSupport

@Suite(.serialized) struct EngineRoutingTests {
    static let monaco = SharedData.url("osm/monaco.osm.pbf").path

    @Test("route, ETA and matrix endpoints answer on the real Monaco graph, matrix equal to one-to-one")
    func routeAndMatrix() throws {
        let engine = try TestEngine { $0.graphPath = Self.monaco }
        defer { engine.close() }
        let a = "43.7384,7.4246", b = "43.7311,7.4197", c = "43.7502,7.4363"
        let route = try engine.get("/v1/route?from=\(a)&to=\(b)")
        #expect(route.status == 200, "\(route.text)")
        let r = try #require(route.json as? [String: Any])
        let distance = try #require(r["distance_m"] as? Double)
        #expect(distance > 700 && distance < 5_000, "\(distance)")
        #expect((r["polyline"] as? String)?.isEmpty == false)

        var eta: [String: Double] = [:]
        for (name, from, to) in [("ab", a, b), ("ac", a, c), ("bb", b, b), ("bc", b, c)] {
            let e = try #require(try engine.get("/v1/eta?from=\(from)&to=\(to)").json as? [String: Any])
            eta[name] = e["duration_s"] as? Double
        }
        let m = try engine.post("/v1/route/matrix", #"{"sources":[[\#(a)],[\#(b)]],"targets":[[\#(b)],[\#(c)]]}"#)
        #expect(m.status == 200, "\(m.text)")
        let rows = try #require((m.json as? [String: Any])?["durations_s"] as? [[Double]])
        let want = [[eta["ab"]!, eta["ac"]!], [eta["bb"]!, eta["bc"]!]]
        for i in 0..<2 { for j in 0..<2 { #expect(abs(rows[i][j] - want[i][j]) < 1e-6, "[\(i)][\(j)]") } }

        let roads = try engine.get("/v1/map/roads", token: nil)
        #expect(((roads.json as? [String: Any])?["segments"] as? [Any])?.count ?? 0 > 1_000)
        #expect(try engine.get("/v1/route?from=0,0&to=\(b)").errorCode == "no_road_nearby")
        #expect(try engine.get("/v1/route?from=91,0&to=\(b)").errorCode == "invalid_coordinate")
        #expect(try engine.get("/v1/route?from=\(a)").errorCode == "invalid_parameter")
        #expect(try engine.post("/v1/route/matrix", #"{"sources":[],"targets":[[1,1]]}"#).errorCode == "invalid_parameter")
        #expect(try engine.get("/v1/route?from=\(a)&to=\(b)", token: nil).status == 401)
    }

    @Test("without a graph the routing endpoints say so")
    func noGraph() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        #expect(try engine.get("/v1/route?from=1,1&to=1,2").errorCode == "routing_unavailable")
    }
}
