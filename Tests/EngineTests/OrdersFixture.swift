import Engine
import Synchronization
import Foundation
import Testing
import TestSupport

/// Helpers for the orders tests: an engine on the Monaco graph with a real SQLite file in a data directory of
/// the test's own, tokens per role, and JSON requests with extra headers.
enum OrdersFixture {
    static let monaco = SharedData.url("osm/monaco.osm.pbf").path
    /// Monaco points on roads: a pick-up near the port and a drop-off near the casino.
    static let pickup = (lat: 43.7347, lng: 7.4206)
    static let dropoff = (lat: 43.7396, lng: 7.4270)

    /// A fresh data directory; the contracted Monaco graph, once built by an earlier test, is copied in so
    /// each engine skips the contraction.
    static func dataDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hexfleet-orders-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let cacheName = "graph-monaco.osm.pbf.hfg"
        if let cached = graphCache.withLock({ $0 }), FileManager.default.fileExists(atPath: cached) {
            try? FileManager.default.copyItem(atPath: cached, toPath: dir + "/" + cacheName)
        }
        return dir
    }

    private static let graphCache = Mutex<String?>(nil)

    /// Removes a test's data directory (after its engine closed).
    static func remove(_ dir: String) { try? FileManager.default.removeItem(atPath: dir) }

    /// Remembers a data directory's graph cache for the next engines.
    static func noteGraphCache(in dir: String) {
        let path = dir + "/graph-monaco.osm.pbf.hfg"
        guard FileManager.default.fileExists(atPath: path) else { return }
        let keep = FileManager.default.temporaryDirectory.appendingPathComponent("hexfleet-orders-graph-\(getpid()).hfg").path
        if (try? FileManager.default.copyItem(atPath: path, toPath: keep)) != nil || FileManager.default.fileExists(atPath: keep) {
            graphCache.withLock { $0 = keep }
        }
    }

    /// An engine on Monaco with its store in `dir`, fast dispatch rounds and straight-line pickup ETAs; `stacking`
    /// false gives the one-order-per-courier rounds.
    static func engine(dir: String, graph: Bool = true, stacking: Bool = true) throws -> TestEngine {
        let engine = try TestEngine(configure: {
            $0.dataDirectory = dir
            $0.dispatchStacking = stacking
            if graph { $0.graphPath = monaco }
            $0.straightLineETA = true
            $0.dispatchIntervalMs = 100
            $0.trackTickMs = 20
        })
        if graph { noteGraphCache(in: dir) }
        return engine
    }

    static func token(_ engine: TestEngine, _ role: String, _ subject: String) throws -> String {
        let r = try engine.post("/v1/auth/token", #"{"role":"\#(role)","subject":"\#(subject)"}"#)
        return try #require((r.json as? [String: Any])?["token"] as? String, "\(r.text)")
    }

    static func request(_ engine: TestEngine, _ method: String, _ path: String, _ json: String? = nil, token: String? = TestEngine.admin,
                        headers extra: [(String, String)] = []) throws -> TestHTTPResponse {
        var headers = extra
        if json != nil { headers.append(("Content-Type", "application/json")) }
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        return try httpRequest(port: engine.http, method: method, path: path, headers: headers, body: Array((json ?? "").utf8))
    }

    static func orderBody(customer: String? = nil, quote: String? = nil, notes: String? = nil) -> String {
        var fields: [String] = []
        if let customer { fields.append(#""customer_id":"\#(customer)""#) }
        fields.append(#""pickup":{"lat":\#(pickup.lat),"lng":\#(pickup.lng)}"#)
        fields.append(#""dropoff":{"lat":\#(dropoff.lat),"lng":\#(dropoff.lng)}"#)
        if let quote { fields.append(#""quote_id":"\#(quote)""#) }
        if let notes { fields.append(#""notes":"\#(notes)""#) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func object(_ r: TestHTTPResponse) throws -> [String: Any] {
        try #require(r.json as? [String: Any], "\(r.status) \(r.text)")
    }

    static func id(_ r: TestHTTPResponse) throws -> UInt64 {
        try #require((try object(r)["id"] as? NSNumber)?.uint64Value, "\(r.text)")
    }

    static func status(_ engine: TestEngine, _ order: UInt64) throws -> String? {
        try object(try request(engine, "GET", "/v1/orders/\(order)"))["status"] as? String
    }
}
