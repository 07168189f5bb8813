import Foundation
import Testing
import TestSupport

/// `/v1/openapi.json` documents exactly the endpoints the engine registers: every `routes.add(.method, "/path")`
/// and WebSocket route in Sources/Engine has its operation, and the document has nothing else.
@Suite struct OrdersOpenAPITests {
    /// (method, path) of every route registration in the Engine's sources.
    static func registeredRoutes() throws -> Set<String> {
        let root = SharedData.repoRoot.appendingPathComponent("Sources/Engine").resolvingSymlinksInPath()
        let files = try #require(FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil))
        let http = try NSRegularExpression(pattern: #"routes\.add\(\.(get|post|put|delete|patch), "([^"]+)""#)
        let ws = try NSRegularExpression(pattern: #"addWebSocket(?:Echo)?Route\("([^"]+)""#)
        var found = Set<String>()
        for case let url as URL in files where url.pathExtension == "swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            let range = NSRange(text.startIndex..., in: text)
            for m in http.matches(in: text, range: range) {
                found.insert("\(text[Range(m.range(at: 1), in: text)!]) \(text[Range(m.range(at: 2), in: text)!])")
            }
            for m in ws.matches(in: text, range: range) { found.insert("get \(text[Range(m.range(at: 1), in: text)!])") }
        }
        return found
    }

    @Test("the served OpenAPI document lists every registered endpoint and no other")
    func documentMatchesRoutes() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        let r = try engine.get("/v1/openapi.json", token: nil)
        #expect(r.status == 200)
        let doc = try #require(r.json as? [String: Any])
        #expect((doc["openapi"] as? String)?.hasPrefix("3.") == true)
        let paths = try #require(doc["paths"] as? [String: [String: Any]])
        var documented = Set<String>()
        for (path, ops) in paths {
            for method in ops.keys where ["get", "post", "put", "delete", "patch"].contains(method) { documented.insert("\(method) \(path)") }
        }
        let registered = try Self.registeredRoutes()
        #expect(registered.count > 20, "the source scan found the registrations")
        #expect(registered.subtracting(documented).isEmpty, "undocumented: \(registered.subtracting(documented).sorted())")
        #expect(documented.subtracting(registered).isEmpty, "documented but not served: \(documented.subtracting(registered).sorted())")
        // Every operation documents its error shape.
        for (path, ops) in paths {
            for (method, op) in ops {
                let responses = (op as? [String: Any])?["responses"] as? [String: Any]
                #expect(responses?["default"] != nil, "\(method) \(path) has no default (error) response")
            }
        }
    }
}
