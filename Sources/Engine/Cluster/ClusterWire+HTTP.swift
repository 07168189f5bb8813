import HTTPServer

/// Order writes relayed to the shard owning the pick-up's partition (docs/cluster.md): the request as the edge
/// parsed it and the owner's response, length-prefixed little-endian fields.
extension ClusterWire {
    static func httpSubject(_ node: String) -> String { "hexfleet.http." + node }

    /// Headers a relayed request keeps: who asks, the retry key, the body's type. Others stay at the edge.
    static let relayedHeaders: Set<String> = ["authorization", "idempotency-key", "content-type", "x-request-id"]

    /// Bodies and headers above this are not relayed (the edge's own limits are far below it).
    static let maxRelayedBytes = 4 << 20

    static func encode(_ r: HTTPRequest, from node: String) -> [UInt8] {
        var w = ByteWriter()
        w.string(node)
        w.string(r.methodName)
        w.string(r.target)
        let headers = r.headers.filter { relayedHeaders.contains($0.0) }
        w.u16(UInt16(min(headers.count, Int(UInt16.max))))
        for (name, value) in headers.prefix(Int(UInt16.max)) { w.string(name); w.string(value) }
        w.blob(r.body)
        return w.bytes
    }

    /// The relayed request, parsed as the HTTP server parses its target; nil when malformed.
    static func httpRequest(_ d: [UInt8]) -> (from: String, request: HTTPRequest)? {
        var r = ByteReader(d)
        guard let from = r.string(), let methodName = r.string(), let method = HTTPMethod(rawValue: methodName),
              let target = r.string(), target.hasPrefix("/"), let count = r.u16() else { return nil }
        var headers: [(String, String)] = []
        for _ in 0..<count {
            guard let name = r.string(), let value = r.string(), relayedHeaders.contains(name) else { return nil }
            headers.append((name, value))
        }
        guard let body = r.blob(), r.isAtEnd else { return nil }
        let (rawPath, rawQuery) = HTTPRequest.splitTarget(target)
        guard let path = QueryString.decode(rawPath), let query = try? QueryString.parse(rawQuery) else { return nil }
        return (from, HTTPRequest(method: method, methodName: methodName, target: target, path: path, query: query,
                                  headers: headers, body: body, keepAlive: true))
    }

    static func encode(_ response: HTTPResponse) -> [UInt8] {
        var w = ByteWriter()
        w.u16(response.status)
        w.u16(UInt16(min(response.headers.count, Int(UInt16.max))))
        for (name, value) in response.headers.prefix(Int(UInt16.max)) { w.string(name); w.string(value) }
        w.blob(response.body)
        return w.bytes
    }

    static func httpResponse(_ d: [UInt8]) -> HTTPResponse? {
        var r = ByteReader(d)
        guard let status = r.u16(), (100...599).contains(status), let count = r.u16() else { return nil }
        var headers: [(String, String)] = []
        for _ in 0..<count {
            guard let name = r.string(), let value = r.string() else { return nil }
            headers.append((name, value))
        }
        guard let body = r.blob(), r.isAtEnd else { return nil }
        return HTTPResponse(status: status, headers: headers, body: body)
    }
}

extension ByteWriter {
    mutating func blob(_ b: [UInt8]) { u32(UInt32(min(b.count, Int(UInt32.max)))); bytes.append(contentsOf: b) }
    mutating func string(_ s: String) { blob(Array(s.utf8)) }
}

extension ByteReader {
    mutating func blob() -> [UInt8]? {
        guard let n = u32(), Int(n) <= ClusterWire.maxRelayedBytes, let slice = take(Int(n)) else { return nil }
        return Array(slice)
    }
    mutating func string() -> String? { blob().flatMap { String(validating: $0, as: UTF8.self) } }
}
