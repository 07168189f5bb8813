import Foundation
import Testing
import TestSupport

/// `POST /v1/auth/udp-key` with the engine's own tokens (platform JWTs: tests/python/test_platform_jwt.py): a
/// driver gets the key `POST /v1/auth/token` handed it; other roles and bad tokens are refused.
@Suite struct UDPKeyEndpointTests {
    @Test("a driver's token gets its UDP key; other roles 403; no token 401; a JWT without configured keys invalid_token")
    func udpKey() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        let issued = try #require(try engine.post("/v1/auth/token", #"{"role":"driver","subject":"314"}"#).json as? [String: Any])
        let token = try #require(issued["token"] as? String)
        let answer = try engine.post("/v1/auth/udp-key", "{}", token: token)
        #expect(answer.status == 200, "\(answer.text)")
        let body = try #require(answer.json as? [String: Any])
        #expect((body["driver_id"] as? NSNumber)?.uint64Value == 314)
        #expect(body["udp_key"] as? String == issued["udp_key"] as? String)
        #expect((body["udp_key"] as? String)?.count == 64)

        let customer = try #require(try engine.post("/v1/auth/token", #"{"role":"customer","subject":"c.1@x"}"#).json as? [String: Any])
        #expect(try engine.post("/v1/auth/udp-key", "{}", token: customer["token"] as? String).errorCode == "forbidden")
        #expect(try engine.post("/v1/auth/udp-key", "{}").errorCode == "forbidden", "the admin token names no driver")
        #expect(try engine.post("/v1/auth/udp-key", "{}", token: nil).status == 401)
        let jwtShaped = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIzMTQiLCJyb2xlIjoiZHJpdmVyIn0.c2ln"
        #expect(try engine.post("/v1/auth/udp-key", "{}", token: jwtShaped).errorCode == "invalid_token")
    }
}
