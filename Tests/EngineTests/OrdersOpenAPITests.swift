import Foundation
import Testing
import TestSupport

/// `/v1/openapi.json` documents exactly the endpoints the engine registers: every `routes.add(.method, "/path")`
/// and WebSocket route anywhere in Sources/ has its operation, and the document has nothing else. A registration
/// the scan cannot read (a path that is not a string literal, a call split over lines) fails the test too, so no
/// endpoint can slip past it unseen.
@Suite struct OrdersOpenAPITests {
    struct Registration: Hashable, CustomStringConvertible {
        let method: String
        let path: String
        var description: String { "\(method) \(path)" }
    }

    static func text(_ m: NSTextCheckingResult, _ i: Int, in s: String) -> String {
        Range(m.range(at: i), in: s).map { String(s[$0]) } ?? ""
    }

    /// Every route registration in Sources/: the readable ones, and the places of calls the scan could not read.
    static func registeredRoutes() throws -> (routes: Set<Registration>, unreadable: [String]) {
        let root = SharedData.repoRoot.appendingPathComponent("Sources").resolvingSymlinksInPath()
        let files = try #require(FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil))
        let anyCall = try NSRegularExpression(pattern: #"(?:\broutes\.add|\.addWebSocket(?:Echo)?Route)\("#)
        let http = try NSRegularExpression(pattern: #"\Aroutes\.add\(\.(get|post|put|delete|patch|head), "(/[^"\\]*)""#)
        let ws = try NSRegularExpression(pattern: #"\A\.addWebSocket(?:Echo)?Route\("(/[^"\\]*)""#)
        let echoDefault = try NSRegularExpression(pattern: #"\A\.addWebSocketEchoRoute\(\)"#)
        var found = Set<Registration>()
        var unreadable: [String] = []
        for case let url as URL in files where url.pathExtension == "swift" {
            let source = try String(contentsOf: url, encoding: .utf8)
            let ns = source as NSString
            for call in anyCall.matches(in: source, range: NSRange(location: 0, length: ns.length)) {
                // The declarations themselves (`func add(`, `public func addWebSocketRoute(`) are not calls.
                let lineStart = ns.lineRange(for: NSRange(location: call.range.location, length: 0)).location
                let before = ns.substring(with: NSRange(location: lineStart, length: call.range.location - lineStart))
                if before.contains("func ") || before.trimmingCharacters(in: .whitespaces).hasPrefix("//") { continue }
                let rest = ns.substring(from: call.range.location)
                let restRange = NSRange(location: 0, length: (rest as NSString).length)
                if let m = http.firstMatch(in: rest, range: restRange) {
                    found.insert(Registration(method: text(m, 1, in: rest), path: text(m, 2, in: rest)))
                } else if let m = ws.firstMatch(in: rest, range: restRange) {
                    found.insert(Registration(method: "get", path: text(m, 1, in: rest)))
                } else if echoDefault.firstMatch(in: rest, range: restRange) != nil {
                    found.insert(Registration(method: "get", path: "/v1/ws/echo"))
                } else {
                    let line = ns.substring(to: call.range.location).reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
                    unreadable.append("\(url.lastPathComponent):\(line)")
                }
            }
        }
        return (found, unreadable)
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
        var documented = Set<Registration>()
        for (path, ops) in paths {
            for method in ops.keys where ["get", "post", "put", "delete", "patch", "head"].contains(method) {
                documented.insert(Registration(method: method, path: path))
            }
        }
        let (registered, unreadable) = try Self.registeredRoutes()
        #expect(unreadable.isEmpty, "route registrations the scan cannot read (write the method and path literally, on one line): \(unreadable)")
        #expect(registered.count > 30, "the source scan found the registrations")
        #expect(registered.contains(Registration(method: "get", path: "/v1/ws/track")))
        #expect(registered.contains(Registration(method: "get", path: "/healthz")))
        #expect(registered.subtracting(documented).isEmpty, "undocumented: \(registered.subtracting(documented).map(\.description).sorted())")
        #expect(documented.subtracting(registered).isEmpty,
                "documented but not served: \(documented.subtracting(registered).map(\.description).sorted())")
    }

    @Test("every operation is complete: an error response, a success response, its path parameters, a unique operationId, refs that resolve")
    func operationsAreComplete() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        let doc = try #require(try engine.get("/v1/openapi.json", token: nil).json as? [String: Any])
        let paths = try #require(doc["paths"] as? [String: [String: Any]])
        let schemas = try #require((doc["components"] as? [String: Any])?["schemas"] as? [String: Any])
        var operationIDs: [String: String] = [:]
        let placeholder = try NSRegularExpression(pattern: #"\{([^}/]+)\}"#)
        for (path, ops) in paths {
            let names = Set(placeholder.matches(in: path, range: NSRange(path.startIndex..., in: path)).map { Self.text($0, 1, in: path) })
            for (method, value) in ops {
                guard let op = value as? [String: Any] else { continue }
                let where_ = "\(method) \(path)"
                let responses = op["responses"] as? [String: Any] ?? [:]
                #expect(responses["default"] != nil, "\(where_) has no default (error) response")
                #expect(responses.keys.contains { $0.hasPrefix("2") || $0 == "101" }, "\(where_) has no success response")
                let parameters = (op["parameters"] as? [[String: Any]] ?? []) + ((ops["parameters"] as? [[String: Any]]) ?? [])
                let declared = Set(parameters.filter { $0["in"] as? String == "path" }.compactMap { $0["name"] as? String })
                #expect(declared == names, "\(where_): path parameters \(declared.sorted()) vs the path's \(names.sorted())")
                for p in parameters where p["in"] as? String == "path" {
                    #expect(p["required"] as? Bool == true, "\(where_): path parameter \(p["name"] ?? "?") must be required")
                }
                if let id = op["operationId"] as? String {
                    #expect(operationIDs[id] == nil, "operationId \(id) of \(where_) is also \(operationIDs[id] ?? "")'s")
                    operationIDs[id] = where_
                } else {
                    Issue.record("\(where_) has no operationId")
                }
            }
        }
        // Every `$ref` anywhere in the document names a schema that exists.
        let raw = try engine.get("/v1/openapi.json", token: nil).text
        let refs = try NSRegularExpression(pattern: ##""\$ref":\s*"#/components/schemas/([^"]+)""##)
        let named = Set(refs.matches(in: raw, range: NSRange(raw.startIndex..., in: raw)).map { Self.text($0, 1, in: raw) })
        #expect(!named.isEmpty)
        #expect(named.subtracting(schemas.keys).isEmpty, "dangling refs: \(named.subtracting(schemas.keys).sorted())")
    }
}
