import Crypto
import Engine
import FleetIndex
import Foundation
import HexGeo
import Testing
import TestSupport
import Vocabulary

/// A running engine on ephemeral loopback ports; stopped by `close()`.
final class TestEngine: @unchecked Sendable {   // immutable after init; the engine itself lives on its loop thread
    static let admin = "test-admin-token-0123456789"
    static let secret = [UInt8](repeating: 0x5A, count: 32)
    let runner: EngineRunner
    let http: Int
    let udp: Int
    let keys = PingKeys(secret: TestEngine.secret)

    init(configure: (inout EngineConfiguration) -> Void = { _ in },
         setup: @escaping @Sendable (Engine) throws -> Void = { _ in }) throws {
        var config = EngineConfiguration(udpSecret: Self.secret, tokenSecret: [UInt8](repeating: 0x33, count: 32))
        config.httpPort = 0
        config.udpPort = 0
        config.demo = false
        config.adminToken = Self.admin
        configure(&config)
        (runner, (http: http, udp: udp)) = try {
            let (r, e) = try EngineRunner.startInBackground(config, setup: setup)
            return (r, (e.httpPort, e.udpPort))
        }()
    }

    func close() { runner.stop() }

    func get(_ path: String, token: String? = TestEngine.admin) throws -> TestHTTPResponse {
        try httpRequest(port: http, method: "GET", path: path, headers: token.map { [("Authorization", "Bearer \($0)")] } ?? [])
    }

    func post(_ path: String, _ json: String, token: String? = TestEngine.admin) throws -> TestHTTPResponse {
        var headers = [("Content-Type", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        return try httpRequest(port: http, method: "POST", path: path, headers: headers, body: Array(json.utf8))
    }

    /// The value of a metric line, e.g. `hexfleet_udp_dropped_total{reason="bad_tag"}`.
    func metric(_ series: String) throws -> Double? {
        let text = try get("/metrics", token: nil).text
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.split(separator: " ").last!)
        }
        return nil
    }

    var nowMs: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

@Suite(.serialized) struct EngineServerTests {
    @Test("a signed UDP datagram reaches the index and /metrics over real sockets")
    func udpToIndex() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        let now = engine.nowMs
        let record = PingRecord(driverID: 7, timestampMs: now, latE7: 437_300_000, lngE7: 74_200_000, status: 1)
        try sendUDP(port: engine.udp, [PingWire.encode([record], signerID: 7, gateway: false, key: engine.keys.driverKey(7))])
        #expect(try eventually { try engine.get("/v1/drivers/7").status == 200 })
        let body = try #require(try engine.get("/v1/drivers/7").json as? [String: Any])
        #expect(body["lat"] as? Double == 43.73 && body["lng"] as? Double == 7.42 && body["status"] as? String == "available")
        #expect(body["ts"] as? Int64 == now || (body["ts"] as? NSNumber)?.int64Value == now)
        #expect(try engine.metric("hexfleet_pings_accepted_total{transport=\"udp\"}") == 1)
        let last = try #require(try engine.metric("hexfleet_udp_last_datagram_timestamp_seconds"))
        #expect(abs(last - Double(now) / 1000) < 60, "the feed's last datagram time is the engine clock's")
    }

    @Test("every UDP drop reason shows in /metrics")
    func udpDrops() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        let now = engine.nowMs
        let k7 = engine.keys.driverKey(7)
        let good = PingWire.encode([PingRecord(driverID: 7, timestampMs: now, latE7: 0, lngE7: 0, status: 1)], signerID: 7, gateway: false, key: k7)
        var version = good; version[0] = 9
        var tag = good; tag[30] ^= 0xFF
        try sendUDP(port: engine.udp, [
            Array(good.prefix(40)), version, tag,
            PingWire.encode([PingRecord(driverID: 8, timestampMs: now, latE7: 0, lngE7: 0, status: 1)], signerID: 7, gateway: false, key: k7),
            PingWire.encode([PingRecord(driverID: 7, timestampMs: now, latE7: 950_000_000, lngE7: 0, status: 1)], signerID: 7, gateway: false, key: k7),
            PingWire.encode([PingRecord(driverID: 7, timestampMs: now + 3_600_000, latE7: 0, lngE7: 0, status: 1)], signerID: 7, gateway: false, key: k7),
            good, good,
        ])
        for reason in ["truncated", "version", "bad_tag", "foreign_driver", "range", "skew", "replay"] {
            #expect(try eventually { try engine.metric("hexfleet_udp_dropped_total{reason=\"\(reason)\"}") == 1 }, "\(reason)")
        }
        #expect(try engine.metric("hexfleet_pings_accepted_total{transport=\"udp\"}") == 1)
    }

    @Test("HTTP location ingest, nearby and permissions")
    func httpAPI() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        let now = engine.nowMs
        for (i, (lat, lng)) in [(43.7300, 7.4200), (43.7310, 7.4210), (43.7400, 7.4300), (43.7000, 7.3000)].enumerated() {
            let r = try engine.post("/v1/drivers/\(i + 1)/location", #"{"lat":\#(lat),"lng":\#(lng),"ts":\#(now),"status":"available"}"#)
            #expect(r.status == 202, "\(r.text)")
        }
        let near = try engine.get("/v1/drivers/nearby?lat=43.7301&lng=7.4201&k=2")
        #expect(near.status == 200)
        let drivers = try #require((near.json as? [String: Any])?["drivers"] as? [[String: Any]])
        #expect(drivers.map { ($0["id"] as? NSNumber)?.intValue } == [1, 2])
        #expect(drivers.allSatisfy { $0["distance_m"] is Double })
        let radius = try engine.get("/v1/drivers/nearby?lat=43.7301&lng=7.4201&k=10&radius_m=2000&status=available")
        #expect(((radius.json as? [String: Any])?["drivers"] as? [Any])?.count == 3)

        // Tokens: a driver may move only itself and see only itself.
        let issued = try engine.post("/v1/auth/token", #"{"role":"driver","subject":"2"}"#)
        #expect(issued.status == 201)
        let token = try #require((issued.json as? [String: Any])?["token"] as? String)
        #expect(((issued.json as? [String: Any])?["udp_key"] as? String) == engine.keys.driverKeyHex(2))
        #expect(try engine.post("/v1/drivers/2/location", #"{"lat":43.7311,"lng":7.4211,"ts":\#(now + 1)}"#, token: token).status == 202)
        #expect(try engine.post("/v1/drivers/3/location", #"{"lat":43.7311,"lng":7.4211}"#, token: token).errorCode == "forbidden")
        #expect(try engine.get("/v1/drivers/3", token: token).errorCode == "forbidden")
        #expect(try engine.get("/v1/drivers/nearby?lat=0&lng=0", token: token).errorCode == "forbidden")
        #expect(try engine.get("/v1/drivers/2", token: nil).status == 401)
        #expect(try engine.get("/v1/drivers/2", token: "hf1.admin.x.99999999999.forged").errorCode == "invalid_token")
    }

    @Test("bad input gets a clear 4xx with a stable code")
    func badInput() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        #expect(try engine.get("/v1/drivers/12345").errorCode == "driver_not_found")
        #expect(try engine.get("/v1/drivers/not-a-number").errorCode == "invalid_parameter")
        #expect(try engine.post("/v1/drivers/1/location", "{not json").errorCode == "invalid_json")
        #expect(try engine.post("/v1/drivers/1/location", #"{"lat":91,"lng":0}"#).errorCode == "invalid_coordinate")
        #expect(try engine.post("/v1/drivers/1/location", #"{"lat":"NaN","lng":0}"#).errorCode == "invalid_coordinate")
        #expect(try engine.post("/v1/drivers/1/location", #"{"lat":1,"lng":1,"status":"flying"}"#).errorCode == "invalid_status")
        #expect(try engine.post("/v1/drivers/1/location", #"{"lat":1,"lng":1,"ts":1000}"#).errorCode == "timestamp_skew")
        let now = engine.nowMs
        #expect(try engine.post("/v1/drivers/1/location", #"{"lat":1,"lng":1,"ts":\#(now)}"#).status == 202)
        #expect(try engine.post("/v1/drivers/1/location", #"{"lat":1,"lng":1,"ts":\#(now)}"#).errorCode == "stale_timestamp")
        #expect(try engine.get("/v1/drivers/nearby?lat=200&lng=0").errorCode == "invalid_coordinate")
        #expect(try engine.get("/v1/drivers/nearby?lat=1").errorCode == "invalid_parameter")
        #expect(try engine.get("/v1/drivers/nearby?lat=1&lng=1&k=0").errorCode == "invalid_parameter")
        #expect(try engine.get("/v1/drivers/within?cells=zzz").errorCode == "invalid_cell")
        #expect(try engine.get("/v1/drivers/within?polygon=1,1;2,2").errorCode == "invalid_polygon")
        let huge = [UInt8](repeating: UInt8(ascii: "a"), count: 2 << 20)
        let big = try httpRequest(port: engine.http, method: "POST", path: "/v1/drivers/1/location",
                                  headers: [("Authorization", "Bearer \(TestEngine.admin)")], body: huge)
        #expect(big.status == 413)
        #expect(try engine.get("/no/such/route").status == 404)
        for ttl in [#"{}"#, #""600""#, "0", "2592001", "1.5", "[1]"] {
            let r = try engine.post("/v1/auth/token", #"{"role":"dispatcher","subject":"ops","ttl_s":\#(ttl)}"#)
            #expect(r.errorCode == "invalid_parameter", "ttl_s \(ttl): \(r.status) \(r.text)")
        }
        #expect(try engine.post("/v1/auth/token", #"{"role":"dispatcher","subject":"ops","ttl_s":null}"#).status == 201, "null: the default")
        #expect(try engine.post("/v1/auth/token", #"{"role":"dispatcher","subject":"ops","ttl_s":60}"#).status == 201)
        // The server is still healthy after all of it.
        #expect(try engine.get("/healthz", token: nil).status == 200)
    }

    /// Drivers 1…36 on a 6 × 6 lattice over central Monaco (rows 0.0012° of latitude apart, columns 0.0016° of
    /// longitude, about 130 m each way), pinged over HTTP; returns each one's position.
    func pingLattice(_ engine: TestEngine) throws -> [Int: (lat: Double, lng: Double)] {
        let now = engine.nowMs
        var positions: [Int: (lat: Double, lng: Double)] = [:]
        for i in 0..<6 {
            for j in 0..<6 {
                let id = 1 + i * 6 + j
                let lat = 43.7270 + 0.0012 * Double(i), lng = 7.4160 + 0.0016 * Double(j)
                let r = try engine.post("/v1/drivers/\(id)/location", #"{"lat":\#(lat),"lng":\#(lng),"ts":\#(now),"status":"available"}"#)
                #expect(r.status == 202, "\(r.text)")
                positions[id] = (lat, lng)
            }
        }
        return positions
    }

    /// The ids of a `within` answer, in the answer's order (nil when the body is not a driver list).
    func ids(_ r: TestHTTPResponse) -> [Int]? {
        ((r.json as? [String: Any])?["drivers"] as? [[String: Any]])?.compactMap { ($0["id"] as? NSNumber)?.intValue }
    }

    @Test("cell queries over HTTP return exactly the drivers H3 puts in those cells; an invalid cell is invalid_cell")
    func cellsQuery() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        let positions = try pingLattice(engine)
        // A resolution-9 cell among the drivers and two of its neighbours (a res-9 cell is ~350 m across; the
        // lattice spans about nine of them).
        var disk: [H3Cell] = []
        try H3.gridDisk(try H3.latLngToCell(LatLng(degrees: 43.7300, 7.4200), resolution: 9), k: 1, into: &disk)
        let cells = Array(disk.sorted().prefix(3))
        let cellSet = Set(cells)
        let want = try positions.keys.sorted().filter { id in
            let p = positions[id]!
            return cellSet.contains(try H3.latLngToCell(LatLng(degrees: p.lat, p.lng), resolution: 9))
        }
        // The lattice straddles the cells' edge, so the answer must leave drivers out as well as take some in.
        #expect(want.count >= 3 && want.count <= positions.count - 3, "\(want.count) of \(positions.count) drivers in the cells")
        let list = cells.map(\.description)
        let viaGet = try engine.get("/v1/drivers/within?cells=" + list.joined(separator: ","))
        #expect(viaGet.status == 200, "\(viaGet.text)")
        #expect(ids(viaGet) == want)
        let viaPost = try engine.post("/v1/drivers/within", #"{"cells":[\#(list.map { "\"\($0)\"" }.joined(separator: ","))]}"#)
        #expect(viaPost.status == 200, "\(viaPost.text)")
        #expect(ids(viaPost) == want)
        // One cell alone: a sub-answer, and a driver listed once even when two cells are asked for twice.
        let single = try engine.get("/v1/drivers/within?cells=\(list[0]),\(list[0])")
        let wantSingle = try want.filter { id in
            let p = positions[id]!
            return try H3.latLngToCell(LatLng(degrees: p.lat, p.lng), resolution: 9) == cells[0]
        }
        #expect(ids(single) == wantSingle)

        // An invalid cell refuses the whole query: 8a1f96b3ffffff0 claims resolution 10, but its digits 6…10 are 7
        // (H3's "unused" digit) and its unused digits 14 and 15 are not.
        #expect(!H3.isValidCell(try #require(H3Cell(string: "8a1f96b3ffffff0"))))
        let bad = try engine.post("/v1/drivers/within", #"{"cells":["\#(list[0])","8a1f96b3ffffff0"]}"#)
        #expect(bad.status == 422 && bad.errorCode == "invalid_cell", "\(bad.status) \(bad.text)")
        #expect(try engine.get("/v1/drivers/within?cells=\(list[0]),zzz").errorCode == "invalid_cell")
    }

    @Test("polygon queries over HTTP: a GET ring, and a POSTed ring with a hole")
    func polygonQuery() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        let positions = try pingLattice(engine)
        let now = engine.nowMs
        #expect(try engine.post("/v1/drivers/100/location", #"{"lat":43.7500,"lng":7.4500,"ts":\#(now)}"#).status == 202)
        // Boxes whose edges fall between lattice rows and columns, so no driver sits on an edge. Over 500 m a
        // great-circle edge bulges from its parallel by millimetres, far less than the 55 m to the nearest driver.
        func inside(_ p: (lat: Double, lng: Double), _ box: (Double, Double, Double, Double)) -> Bool {
            p.lat > box.0 && p.lat < box.1 && p.lng > box.2 && p.lng < box.3
        }
        let outer = (43.7275, 43.7325, 7.4170, 7.4230), hole = (43.7290, 43.7310, 7.4185, 7.4215)
        func ring(_ b: (Double, Double, Double, Double)) -> String {
            "[[\(b.0),\(b.2)],[\(b.0),\(b.3)],[\(b.1),\(b.3)],[\(b.1),\(b.2)]]"
        }
        let inOuter = positions.keys.sorted().filter { inside(positions[$0]!, outer) }
        let want = inOuter.filter { !inside(positions[$0]!, hole) }
        #expect(inOuter.count == 16 && want.count == 12)
        let withHole = try engine.post("/v1/drivers/within", #"{"polygon":\#(ring(outer)),"holes":[\#(ring(hole))]}"#)
        #expect(withHole.status == 200, "\(withHole.text)")
        #expect(ids(withHole) == want)
        let noHole = try engine.post("/v1/drivers/within", #"{"polygon":\#(ring(outer))}"#)
        #expect(ids(noHole) == inOuter)
        let viaGet = try engine.get("/v1/drivers/within?polygon=43.7275,7.4170;43.7275,7.4230;43.7325,7.4230;43.7325,7.4170")
        #expect(ids(viaGet) == inOuter)
        let far = try engine.get("/v1/drivers/within?polygon=43.745,7.445;43.745,7.455;43.755,7.455;43.755,7.445")
        #expect(ids(far) == [100])
    }

    @Test("stop closes every listener and returns")
    func gracefulShutdown() throws {
        let engine = try TestEngine()
        #expect(try engine.get("/healthz", token: nil).status == 200)
        engine.close()
        #expect(throws: LoopbackError.self) { _ = try connectLoopback(port: engine.http) }
    }
}
