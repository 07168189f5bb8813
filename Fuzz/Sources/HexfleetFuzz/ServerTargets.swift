import Engine
import EventLoop
import Foundation
import Glibc
import HTTPServer
import Routing

/// A real engine (every service, its routes and WebSocket endpoints, a small road graph, a store in a temporary
/// directory) on a loop this thread runs, fed each input over one end of a `socketpair` that the HTTP server adopts
/// as a connection: http-parser, the router, query strings, JSON bodies and the WebSocket frames are all the
/// server's own, and no port is involved.
final class EngineHarness {
    static let adminToken = "fuzz-admin"
    static let tokenSecret = [UInt8](repeating: 0x33, count: 32)
    /// A driver token for driver 42, valid until 2100 (the token format is deterministic, so seeds can carry it).
    static let driverToken = TokenAuthority(secret: tokenSecret, adminToken: nil)
        .issue(role: .driver, subject: "42", expiresAt: 4_102_444_800)

    /// `HEXFLEET_FUZZ_SHOW=1` copies the server's answers to stderr (to check what seeds reach).
    static let showReplies = ProcessInfo.processInfo.environment["HEXFLEET_FUZZ_SHOW"] != nil
    let loop: Loop
    let engine: Engine
    private var reply = [UInt8](repeating: 0, count: 1 << 16)

    init() throws {
        let graphPath = NSTemporaryDirectory() + "hexfleet-fuzz-\(getpid()).graph"
        try RoadNetwork.build(graph: SyntheticGraphs.grid(columns: 12, rows: 12)).save(to: graphPath)
        var config = EngineConfiguration(udpSecret: fuzzUDPSecret, tokenSecret: Self.tokenSecret)
        config.httpPort = 0
        config.udpPort = 0
        config.demo = false
        config.adminToken = Self.adminToken
        config.webSocketEcho = true
        config.graphPath = graphPath
        config.storeSynchronousFull = false   // a throw-away store: an fsync per order would cap the exec rate
        loop = try Loop()
        engine = try Engine(configuration: config, loop: loop)
        try engine.start()
        unlink(graphPath)
    }

    /// Sends `bytes` as one client connection, half-closes, and runs the loop until the server closed its side
    /// (or two seconds passed: a hang is reported by libFuzzer's own timeout long before a test would notice).
    func exchange(_ bytes: UnsafeRawBufferPointer) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { fatalError("socketpair: \(errno)") }
        let client = fds[1]
        _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
        do {
            engine.http!.serve(try TCPConnection.adopt(loop: loop, descriptor: fds[0]))
        } catch {
            fatalError("adopt: \(error)")
        }
        var sent = 0, halfClosed = false
        let deadline = Loop.nanoseconds + 2_000_000_000
        while Loop.nanoseconds < deadline {
            if sent < bytes.count {
                let n = write(client, bytes.baseAddress! + sent, bytes.count - sent)
                if n > 0 { sent += n }
            } else if !halfClosed {
                shutdown(client, Int32(SHUT_WR))
                halfClosed = true
            }
            loop.runOnce()
            let n = reply.withUnsafeMutableBytes { read(client, $0.baseAddress!, $0.count) }
            if n > 0 && Self.showReplies { FileHandle.standardError.write(Data(reply[0..<n])) }
            if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { break }
        }
        close(client)
        for _ in 0..<4 { loop.runOnce() }
    }
}

nonisolated(unsafe) var engineHarness: EngineHarness?

func startEngineHarness() {
    guard engineHarness == nil else { return }
    do { engineHarness = try EngineHarness() } catch { fatalError("engine harness: \(error)") }
}

/// An HTTP/1.1 request with the admin token.
func request(_ method: String, _ target: String, body: String? = nil, headers: [String] = [],
             token: String = EngineHarness.adminToken) -> [UInt8] {
    var head = "\(method) \(target) HTTP/1.1\r\nHost: fuzz\r\nAuthorization: Bearer \(token)\r\n"
    for h in headers { head += h + "\r\n" }
    if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
    return Array((head + "\r\n" + (body ?? "")).utf8)
}

/// The HTTP request path: any bytes as one connection (pipelined requests, bodies, chunked encoding, upgrades).
let httpTarget = FuzzTarget(
    name: "http",
    setUp: startEngineHarness,
    run: { input in engineHarness!.exchange(input) },
    seeds: {
        let order = #"{"customer_id":"7","pickup":{"lat":45.001,"lng":7.001},"dropoff":{"lat":45.008,"lng":7.009},"notes":"ring twice"}"#
        let quote = #"{"customer_id":"7","pickup":{"lat":45.001,"lng":7.001},"dropoff":{"lat":45.008,"lng":7.009},"vehicle":"car"}"#
        return [
            ("healthz", request("GET", "/healthz")),
            ("nearby", request("GET", "/v1/drivers/nearby?lat=45.003&lng=7.004&k=5&radius_m=800&status=available")),
            ("within-cells", request("GET", "/v1/drivers/within?cells=891f8d7a49bffff,891f8d7a4b3ffff")),
            ("within-post", request("POST", "/v1/drivers/within", body: #"{"polygon":[[45.0,7.0],[45.0,7.01],[45.01,7.01],[45.01,7.0]],"holes":[]}"#)),
            ("location", request("POST", "/v1/drivers/42/location",
                                 body: #"{"lat":45.002,"lng":7.003,"speed":830,"heading":9000,"accuracy":50,"status":"available"}"#)),
            ("driver", request("GET", "/v1/drivers/42") + request("GET", "/v1/drivers/42/offers")),
            ("token", request("POST", "/v1/auth/token", body: #"{"role":"driver","subject":"42","ttl_s":3600}"#)),
            ("route", request("GET", "/v1/route?from=45.001,7.001&to=45.009,7.012&weights=live")),
            ("eta", request("GET", "/v1/eta?from=45.001,7.001&to=45.009,7.012")),
            ("matrix", request("POST", "/v1/route/matrix",
                               body: #"{"sources":[[45.001,7.001]],"targets":[[45.009,7.012],[45.005,7.002]]}"#)),
            ("quote", request("POST", "/v1/quotes", body: quote)),
            ("order", request("POST", "/v1/orders", body: order, headers: ["Idempotency-Key: fuzz-1"])
                + request("GET", "/v1/orders/1") + request("POST", "/v1/orders/1/cancel", body: #"{"reason":"changed my mind"}"#)),
            ("orders-list", request("GET", "/v1/orders?customer_id=7&status=quoted,dispatched,picked_up&limit=10&before_id=100")),
            ("rating", request("POST", "/v1/orders/1/rating", body: #"{"stars":5,"comment":"fine"}"#)
                + request("GET", "/v1/couriers/42/rating") + request("GET", "/v1/customers/7/rating")),
            ("accept", request("POST", "/v1/orders/1/accept?driver=42") + request("POST", "/v1/orders/1/decline?driver=42")),
            ("surge", request("GET", "/v1/surge") + request("GET", "/v1/dispatch/stats")),
            ("chunked", Array("POST /v1/quotes HTTP/1.1\r\nHost: f\r\nAuthorization: Bearer fuzz-admin\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"pickup\":{\"lat\":\r\n0\r\n\r\n".utf8)),
            ("http10-close", Array("GET /healthz?x=%41%zz&y=+a+ HTTP/1.0\r\nConnection: close\r\n\r\n".utf8)),
            ("expect", request("POST", "/v1/auth/token", body: "{}", headers: ["Expect: 100-continue"])),
            ("garbage", Array("GETT / HTTP/1.1\r\n\r\n".utf8)),
            // Endpoints and parameters added after the first campaign (map matching, profiles, hour-of-week weights,
            // order timing, fences, history, isochrones, stacked routes).
            ("map-match", request("POST", "/v1/match", body: #"{"points":[{"lat":45.00001,"lng":7.0002,"ts":0},{"lat":45.00002,"lng":7.001,"ts":8000},{"lat":45.0001,"lng":7.002}]}"#)),
            ("route-profile", request("GET", "/v1/route?from=45.001,7.001&to=45.009,7.012&profile=bicycle&optimize=distance")
                + request("GET", "/v1/route?from=45.001,7.001&to=45.009,7.012&depart_at_ms=1765000000000")),
            ("matrix-profile", request("POST", "/v1/route/matrix?optimize=distance",
                                       body: #"{"sources":[[45.001,7.001]],"targets":[[45.009,7.012]],"profile":"car","depart_at_ms":1765000000000}"#)),
            ("isochrone", request("GET", "/v1/isochrone?lat=45.004&lng=7.004&max_s=120&format=cells&resolution=9")
                + request("GET", "/v1/isochrone?lat=45.004&lng=7.004&max_s=60")),
            ("order-timing", request("POST", "/v1/orders", body: #"{"customer_id":"7","pickup":{"lat":45.001,"lng":7.001},"dropoff":{"lat":45.008,"lng":7.009},"ready_in_s":300,"deadline_s":2700,"max_ride_s":2400}"#)
                + request("POST", "/v1/orders/1/pickup", body: "{}") + request("POST", "/v1/orders/1/deliver", body: #"{"reason":null}"#)
                + request("POST", "/v1/orders/1/fail", body: #"{"reason":"closed"}"#) + request("GET", "/v1/orders/1/events")
                + request("GET", "/v1/orders/1/track")),
            ("driver-route", request("GET", "/v1/drivers/42/route") + request("GET", "/v1/drivers/42/history?from_ms=0&to_ms=4102444800000&limit=10")
                + request("GET", "/v1/drivers/42/trips?from_ms=0&to_ms=4102444800000")),
            ("fences", request("POST", "/v1/fences", body: #"{"id":"depot","shape":{"type":"circle","center":{"lat":45.003,"lng":7.004},"radius_m":300},"detect":["enter","exit","inside"],"dwell_s":30,"statuses":["available"],"meta":{"k":1}}"#)
                + request("POST", "/v1/fences", body: #"{"shape":{"type":"polygon","rings":[[[45.0,7.0],[45.0,7.01],[45.01,7.01]]]}}"#)
                + request("POST", "/v1/fences", body: #"{"shape":{"type":"cells","cells":["891f8d7a49bffff"]}}"#)
                + request("POST", "/v1/fences", body: #"{"shape":{"type":"drive_time","center":{"lat":45.003,"lng":7.004},"max_s":60}}"#)
                + request("GET", "/v1/fences?limit=5") + request("GET", "/v1/fences/containing?lat=45.003&lng=7.004")
                + request("GET", "/v1/fences/depot") + request("DELETE", "/v1/fences/depot")),
            ("udp-key-metrics", request("POST", "/v1/auth/udp-key", body: "{}") + request("GET", "/metrics") + request("GET", "/v1/map/roads")),
        ]
    })

/// The WebSocket upgrade request for one of the endpoints an input's first byte picks.
func upgrade(_ endpoint: UInt8) -> [UInt8] {
    let targets = ["/v1/ws/track?token=\(EngineHarness.adminToken)",
                   "/v1/ws/track?format=binary&token=\(EngineHarness.adminToken)",
                   "/v1/ws/driver?token=\(EngineHarness.driverToken)",
                   "/v1/ws/driver?driver=42&token=\(EngineHarness.adminToken)",
                   "/v1/ws/echo"]
    let target = targets[Int(endpoint) % targets.count]
    return Array(("GET \(target) HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8)
}

/// A client frame (masked, as RFC 6455 requires of clients).
func clientFrame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
    var frame: [UInt8] = [(fin ? 0x80 : 0) | opcode]
    let n = payload.count
    if n < 126 {
        frame.append(0x80 | UInt8(n))
    } else if n <= 0xFFFF {
        frame += [0x80 | 126, UInt8(n >> 8), UInt8(n & 0xFF)]
    } else {
        frame.append(0x80 | 127)
        for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((n >> shift) & 0xFF)) }
    }
    let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
    frame += mask
    for (i, b) in payload.enumerated() { frame.append(b ^ mask[i & 3]) }
    return frame
}

func text(_ s: String) -> [UInt8] { clientFrame(0x1, Array(s.utf8)) }

/// The WebSocket path: an upgrade to the endpoint the first byte picks (tracking as JSON or binary, the driver
/// channel with a driver's or the admin's token, echo), then the rest of the input as client frames. Reaches the
/// frame parser (wslay), UTF-8 checks, fragmentation, control frames, and the track/driver JSON and binary messages.
let webSocketTarget = FuzzTarget(
    name: "ws",
    setUp: startEngineHarness,
    run: { input in
        guard let endpoint = input.first else { return }
        let bytes = upgrade(endpoint) + Array(input.dropFirst())
        bytes.withUnsafeBytes { engineHarness!.exchange($0) }
    },
    seeds: {
        let ping = #"{"lat":45.002,"lng":7.003,"speed":830,"heading":9000,"accuracy":50,"status":"available"}"#
        var record = [UInt8](repeating: 0, count: 32)
        record.withUnsafeMutableBytes { d in
            PingWire.write(PingRecord(driverID: 42, timestampMs: fuzzNowMs, latE7: 450_020_000, lngE7: 70_030_000, status: 1),
                           at: 0, into: d)
        }
        let close = clientFrame(0x8, [0x03, 0xE8] + Array("bye".utf8))
        return [
            ("track-bbox", [0] + text(#"{"op":"subscribe","bbox":[44.99,6.99,45.02,7.02]}"#)
                + text(#"{"op":"unsubscribe","bbox":[44.99,6.99,45.02,7.02]}"#) + close),
            ("track-driver-order", [0] + text(#"{"op":"subscribe","driver":42}"#) + text(#"{"op":"subscribe","order":1}"#)
                + text(#"{"op":"unsubscribe","driver":42}"#) + close),
            ("track-cells", [1] + text(#"{"op":"subscribe","cells":["891f8d7a49bffff","851f8d7bfffffff"]}"#)
                + text(#"{"op":"unsubscribe","cells":["891f8d7a49bffff"]}"#) + close),
            ("driver-json", [2] + text(ping) + text(#"{"op":"ping","lat":45.0021,"lng":7.0031}"#)
                + text(#"{"op":"accept","offer":1}"#) + text(#"{"op":"decline","offer":2}"#) + close),
            ("driver-binary", [2] + clientFrame(0x2, record + record) + clientFrame(0x9, Array("hi".utf8)) + close),
            ("driver-admin", [3] + text(ping) + close),
            ("driver-vehicle", [2] + text(#"{"op":"vehicle","vehicle":"bicycle"}"#) + text(ping) + close),
            ("echo-fragments", [4] + clientFrame(0x1, Array("hel".utf8), fin: false) + clientFrame(0x9, [])
                + clientFrame(0x0, Array("lo".utf8)) + clientFrame(0x2, [0, 1, 2]) + close),
        ]
    })
