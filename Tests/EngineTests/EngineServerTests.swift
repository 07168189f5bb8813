import Crypto
import Engine
import FleetIndex
import Foundation
import Testing
import TestSupport

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
        // The server is still healthy after all of it.
        #expect(try engine.get("/healthz", token: nil).status == 200)
    }

    @Test("cell and polygon queries over HTTP")
    func regions() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        let now = engine.nowMs
        #expect(try engine.post("/v1/drivers/5/location", #"{"lat":43.7300,"lng":7.4200,"ts":\#(now)}"#).status == 202)
        #expect(try engine.post("/v1/drivers/6/location", #"{"lat":43.7500,"lng":7.4500,"ts":\#(now)}"#).status == 202)
        let poly = try engine.get("/v1/drivers/within?polygon=43.72,7.41;43.72,7.43;43.74,7.43;43.74,7.41")
        #expect(((poly.json as? [String: Any])?["drivers"] as? [[String: Any]])?.map { ($0["id"] as? NSNumber)?.intValue } == [5])
        let cellQuery = try engine.post("/v1/drivers/within", #"{"cells":["851f96b3fffffff","8a1f96b3ffffff0"]}"#)
        #expect(cellQuery.status == 200 || cellQuery.errorCode == "invalid_cell")
    }

    @Test("stop closes every listener and returns")
    func gracefulShutdown() throws {
        let engine = try TestEngine()
        #expect(try engine.get("/healthz", token: nil).status == 200)
        engine.close()
        #expect(throws: LoopbackError.self) { _ = try connectLoopback(port: engine.http) }
    }
}
