@testable import Engine
import HTTPServer
import Testing

/// Relayed order writes on the wire (ClusterWire+HTTP).
@Suite struct ClusterHTTPWireTests {
    @Test("a relayed request keeps method, target, the relayed headers and body; other headers stay at the edge")
    func requestRoundTrip() throws {
        let request = HTTPRequest(method: .post, methodName: "POST", target: "/v1/orders?x=a%20b", path: "/v1/orders",
                                  query: [("x", "a b")],
                                  headers: [("authorization", "Bearer t"), ("idempotency-key", "k1"), ("cookie", "secret"),
                                            ("content-type", "application/json")],
                                  body: Array(#"{"a":1}"#.utf8))
        let (from, back) = try #require(ClusterWire.httpRequest(ClusterWire.encode(request, from: "edge-1")))
        #expect(from == "edge-1")
        #expect(back.method == .post && back.target == request.target && back.path == "/v1/orders")
        #expect(back.query.map { "\($0.0)=\($0.1)" } == ["x=a b"])
        #expect(back.headers.map(\.0) == ["authorization", "idempotency-key", "content-type"])
        #expect(back.body == request.body)
    }

    @Test("responses round-trip; truncated, trailing or nonsense bytes are refused")
    func responsesAndMalformed() throws {
        let response = HTTPResponse(status: 409, headers: [("Content-Type", "application/json")], body: Array("{}".utf8))
        let bytes = ClusterWire.encode(response)
        let back = try #require(ClusterWire.httpResponse(bytes))
        #expect(back.status == 409 && back.body == response.body && back.headers.map(\.0) == ["Content-Type"])
        #expect(ClusterWire.httpResponse(Array(bytes.dropLast())) == nil)
        #expect(ClusterWire.httpResponse(bytes + [0]) == nil)
        #expect(ClusterWire.httpResponse([0xFF, 0xFF, 0, 0]) == nil)
        let request = ClusterWire.encode(HTTPRequest(method: .get, methodName: "GET", target: "/v1/x", path: "/v1/x", query: [],
                                                     headers: [], body: []), from: "a")
        for cut in 0..<request.count { #expect(ClusterWire.httpRequest(Array(request.prefix(cut))) == nil) }
        #expect(ClusterWire.httpRequest([UInt8](repeating: 0xFF, count: 16)) == nil)
    }
}
