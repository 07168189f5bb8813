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

    @Test("optimize=distance routes and matrices: distances beside durations, equal to one-to-one on both metrics")
    func optimizeDistance() throws {
        let engine = try TestEngine { $0.graphPath = Self.monaco }
        defer { engine.close() }
        let points = ["43.7384,7.4246", "43.7311,7.4197", "43.7502,7.4363", "43.7275,7.4155"]
        // The first distance query contracts the distance hierarchy (a fraction of a second in a debug build, tens of
        // seconds under ThreadSanitizer on a loaded machine): wait for that one longer than for the rest.
        let first = try httpRequest(port: engine.http, method: "GET", path: "/v1/route?from=\(points[0])&to=\(points[1])&optimize=distance",
                                    headers: [("Authorization", "Bearer \(TestEngine.admin)")], timeoutSeconds: 300)
        #expect(first.status == 200, "\(first.text)")
        for optimize in ["time", "distance"] {
            var one: [[(Double, Double)]] = []
            for a in points {
                var row: [(Double, Double)] = []
                for b in points {
                    let r = try engine.get("/v1/route?from=\(a)&to=\(b)&optimize=\(optimize)")
                    #expect(r.status == 200, "\(r.text)")
                    let body = try #require(r.json as? [String: Any])
                    #expect(body["optimize"] as? String == optimize)
                    row.append((try #require(body["duration_s"] as? Double), try #require(body["distance_m"] as? Double)))
                }
                one.append(row)
            }
            let list = points.map { "[\($0)]" }.joined(separator: ",")
            let m = try engine.post("/v1/route/matrix", #"{"sources":[\#(list)],"targets":[\#(list)],"optimize":"\#(optimize)"}"#)
            #expect(m.status == 200, "\(m.text)")
            let body = try #require(m.json as? [String: Any])
            let durations = try #require(body["durations_s"] as? [[Double]]), distances = try #require(body["distances_m"] as? [[Double]])
            for i in points.indices {
                for j in points.indices {
                    #expect(abs(durations[i][j] - one[i][j].0) < 1e-6, "\(optimize) [\(i)][\(j)]")
                    #expect(abs(distances[i][j] - one[i][j].1) < 1e-6, "\(optimize) [\(i)][\(j)]")
                }
            }
        }
        // Shortest is never longer than fastest, fastest never slower than shortest.
        let fast = try #require(try engine.get("/v1/route?from=\(points[0])&to=\(points[2])").json as? [String: Any])
        let short = try #require(try engine.get("/v1/route?from=\(points[0])&to=\(points[2])&optimize=distance").json as? [String: Any])
        #expect((short["distance_m"] as? Double ?? .infinity) <= (fast["distance_m"] as? Double ?? 0) + 1e-6)
        #expect((short["duration_s"] as? Double ?? 0) >= (fast["duration_s"] as? Double ?? .infinity) - 1e-6)
        #expect(try engine.get("/v1/route?from=\(points[0])&to=\(points[1])&optimize=fastest").errorCode == "invalid_parameter")
        #expect(try engine.post("/v1/route/matrix", #"{"sources":[[43.73,7.42]],"targets":[[43.73,7.42]],"optimize":"x"}"#).errorCode == "invalid_parameter")
        #expect(try engine.post("/v1/route/matrix", #"{"sources":[[43.73,7.42]],"targets":[[43.73,7.42]],"optimize":1}"#).errorCode == "invalid_parameter")
    }

    @Test("isochrone cells hold the nodes reached in time; GeoJSON outlines them; bad input is refused")
    func isochrone() throws {
        let engine = try TestEngine { $0.graphPath = Self.monaco }
        defer { engine.close() }
        let centre = "lat=43.7384&lng=7.4246"
        let r = try engine.get("/v1/isochrone?\(centre)&max_s=120")
        #expect(r.status == 200, "\(r.text)")
        let body = try #require(r.json as? [String: Any])
        #expect(body["resolution"] as? Int == 9)
        let cells = try #require(body["cells"] as? [String])
        #expect(cells.count > 3)
        let bigger = try #require(try engine.get("/v1/isochrone?\(centre)&max_s=300&resolution=10").json as? [String: Any])
        #expect((bigger["cells"] as? [String])?.count ?? 0 > cells.count)
        let geo = try engine.get("/v1/isochrone?\(centre)&max_s=120&format=geojson")
        #expect(geo.status == 200, "\(geo.text)")
        let shape = try #require(geo.json as? [String: Any])
        #expect(shape["type"] as? String == "MultiPolygon")
        let polygons = try #require(shape["coordinates"] as? [[[[Double]]]])
        #expect(!polygons.isEmpty)
        for polygon in polygons { for ring in polygon { #expect(ring.count >= 4 && ring.first! == ring.last!) } }
        for bad in ["max_s=120", "\(centre)", "\(centre)&max_s=-5", "\(centre)&max_s=abc", "\(centre)&max_s=99999",
                    "\(centre)&max_s=60&format=svg", "\(centre)&max_s=60&resolution=16", "\(centre)&max_s=60&resolution=x"] {
            #expect(try engine.get("/v1/isochrone?\(bad)").errorCode == "invalid_parameter", "\(bad)")
        }
        #expect(try engine.get("/v1/isochrone?lat=95&lng=7&max_s=60").errorCode == "invalid_coordinate")
        #expect(try engine.get("/v1/isochrone?lat=0&lng=0&max_s=60").errorCode == "no_road_nearby")
        #expect(try engine.get("/v1/isochrone?\(centre)&max_s=60", token: nil).status == 401)
    }

    @Test("map matching: a route's own geometry matches back to its length; long traces on a worker; bad input is refused")
    func match() throws {
        let engine = try TestEngine { $0.graphPath = Self.monaco }
        defer { engine.close() }
        let route = try #require(try engine.get("/v1/route?from=43.7384,7.4246&to=43.7311,7.4197").json as? [String: Any])
        let length = try #require(route["distance_m"] as? Double)
        let polyline = try #require(route["polyline"] as? String)
        // Points every ~10 m along the route's geometry, one second apart.
        let corners = try #require(Self.decode(polyline))
        var points: [(Double, Double)] = []
        for i in 1..<corners.count {
            let (a, b) = (corners[i - 1], corners[i])
            let steps = max(1, Int(Self.meters(a, b) / 10))
            for k in 0..<steps { let f = Double(k) / Double(steps); points.append((a.0 + f * (b.0 - a.0), a.1 + f * (b.1 - a.1))) }
        }
        points.append(corners[corners.count - 1])
        func body(_ list: [(Double, Double)]) -> String {
            "{\"points\":[" + list.enumerated().map { i, p in "{\"lat\":\(p.0),\"lng\":\(p.1),\"ts\":\(1_700_000_000_000 + i * 1_000)}" }.joined(separator: ",") + "]}"
        }
        for trace in [points, Array(repeating: points, count: 3).flatMap { $0 }.prefix(250).map { $0 }] where trace.count > 1 {
            let r = try engine.post("/v1/match", body(trace))
            #expect(r.status == 200, "\(r.text)")
            let m = try #require(r.json as? [String: Any])
            let matched = try #require(m["matched"] as? [Any])
            #expect(matched.count == trace.count)
            #expect(m["confidence"] as? Double ?? -1 >= 0)
            #expect((m["polyline"] as? String)?.isEmpty == false)
            if trace.count == points.count {
                let distance = try #require(m["distance_m"] as? Double)
                #expect(abs(distance - length) <= 0.01 * length, "\(distance) vs \(length)")
                #expect(m["duration_s"] as? Double ?? 0 > 0)
                let first = try #require(matched.first as? [String: Any])
                #expect(first["edge_offset_m"] is Double)
            }
        }
        let many = "{\"points\":[" + Array(repeating: "{\"lat\":43.73,\"lng\":7.42}", count: 10_001).joined(separator: ",") + "]}"
        for (bad, code) in [(#"{"points":[]}"#, "empty_trace"), (many, "too_many_points"),
                            (#"{"points":[{"lat":91,"lng":7.42}]}"#, "invalid_point"), (#"{"points":[{"lat":43.7}]}"#, "invalid_point"),
                            (#"{"points":[{"lat":43.73,"lng":7.42,"ts":"x"}]}"#, "invalid_point"),
                            (#"{"points":[{"lat":43.73,"lng":7.42,"ts":2000},{"lat":43.731,"lng":7.42,"ts":1000}]}"#, "non_monotonic_ts"),
                            (#"{"points":5}"#, "invalid_parameter"), (#"[1]"#, "invalid_parameter")] {
            let r = try engine.post("/v1/match", bad)
            #expect(r.status == 400, "\(r.text)")
            #expect(r.errorCode == code, "\(r.text)")
        }
    }

    static func meters(_ a: (Double, Double), _ b: (Double, Double)) -> Double {
        let k = Double.pi / 180, r = 6_371_008.8
        let x = (b.1 - a.1) * k * cos((a.0 + b.0) / 2 * k), y = (b.0 - a.0) * k
        return (x * x + y * y).squareRoot() * r
    }

    /// Decodes an encoded polyline (precision 5) into (lat, lng) pairs.
    static func decode(_ text: String) -> [(Double, Double)]? {
        let bytes = Array(text.utf8)
        var i = 0, lat = 0, lng = 0
        var out: [(Double, Double)] = []
        func next() -> Int? {
            var result = 0, shift = 0
            while i < bytes.count {
                let b = Int(bytes[i]) - 63
                i += 1
                result |= (b & 0x1F) << shift
                shift += 5
                if b < 0x20 { return (result & 1) != 0 ? ~(result >> 1) : result >> 1 }
            }
            return nil
        }
        while i < bytes.count {
            guard let a = next(), let b = next() else { return nil }
            lat += a; lng += b
            out.append((Double(lat) / 1e5, Double(lng) / 1e5))
        }
        return out
    }

    @Test("without a graph the routing endpoints say so")
    func noGraph() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        #expect(try engine.get("/v1/route?from=1,1&to=1,2").errorCode == "routing_unavailable")
    }
}
