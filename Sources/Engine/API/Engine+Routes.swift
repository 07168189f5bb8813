import EventLoop
import Foundation
import Synchronization
import HTTPServer

extension Engine {
    /// Adds a route whose handler time lands in `hexfleet_http_request_duration_seconds`.
    func route(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping (Engine) -> (HTTPRequest, Responder) throws -> Void) {
        router.add(method, pattern) { [unowned self] request, responder in
            let start = Loop.nanoseconds
            defer { self.metrics.recordRequest(nanoseconds: Loop.nanoseconds &- start) }
            try handler(self)(request, responder)
        }
    }

    func registerRoutes() {
        route(.get, "/healthz", Engine.healthz)
        route(.get, "/metrics", Engine.metricsText)
        route(.get, "/v1/openapi.json", Engine.openAPI)
        route(.post, "/v1/auth/token", Engine.issueToken)
        route(.post, "/v1/drivers/{id}/location", Engine.postLocation)
        route(.get, "/v1/drivers/nearby", Engine.nearby)
        route(.get, "/v1/drivers/within", Engine.within)
        route(.post, "/v1/drivers/within", Engine.within)
        route(.get, "/v1/drivers/{id}", Engine.getDriver)
        route(.get, "/", Engine.staticFile)
        route(.get, "/static/{file}", Engine.staticFile)
        for extra in extraRoutes { extra(self) }
    }

    func healthz(_ request: HTTPRequest, _ responder: Responder) throws {
        responder.respond(.json { w in
            w.beginObject()
            w.key("status"); w.string("ok")
            w.key("drivers"); w.number(table.count)
            w.endObject()
        })
    }

    func metricsText(_ request: HTTPRequest, _ responder: Responder) throws {
        metrics.flush(ingest.counters, liveDriverCount: table.count)
        responder.respond(HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4")],
                                       body: metrics.render()))
    }

    func openAPI(_ request: HTTPRequest, _ responder: Responder) throws {
        guard let body = StaticAssets.bytes(named: "openapi.json") else {
            throw APIError(.notFound, "openapi.json is not bundled")
        }
        responder.respond(HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: body))
    }

    func staticFile(_ request: HTTPRequest, _ responder: Responder) throws {
        let name = request.parameter("file") ?? "index.html"
        guard let body = StaticAssets.bytes(named: name) else { throw APIError(.notFound, "no such file") }
        responder.respond(HTTPResponse(status: 200, headers: [("Content-Type", StaticAssets.contentType(name)),
                                                              ("Cache-Control", "no-cache")], body: body))
    }
}

/// The live map's files, embedded as package resources (`Resources/www`), read once and kept.
enum StaticAssets {
    private static let cache = Mutex<[String: [UInt8]]>([:])

    /// A file's bytes; names are plain file names (no slashes, no dot-dot).
    static func bytes(named name: String) -> [UInt8]? {
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("."), name.utf8.count < 128 else { return nil }
        if let hit = cache.withLock({ $0[name] }) { return hit }
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "www"),
              let data = try? Data(contentsOf: url) else { return nil }
        let bytes = [UInt8](data)
        cache.withLock { $0[name] = bytes }
        return bytes
    }

    static func contentType(_ name: String) -> String {
        if name.hasSuffix(".html") { return "text/html; charset=utf-8" }
        if name.hasSuffix(".js") { return "text/javascript; charset=utf-8" }
        if name.hasSuffix(".css") { return "text/css; charset=utf-8" }
        if name.hasSuffix(".json") { return "application/json" }
        if name.hasSuffix(".svg") { return "image/svg+xml" }
        if name.hasSuffix(".png") { return "image/png" }
        return "application/octet-stream"
    }
}
