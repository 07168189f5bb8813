import Foundation
import Synchronization
import HTTPServer

/// The live map's files and the OpenAPI document: public, read from the bundled resources.
final class SiteService: EngineService {
    func registerRoutes(_ routes: RouteTable) {
        routes.add(.get, "/v1/openapi.json", openAPI)
        routes.add(.get, "/", staticFile)
        routes.add(.get, "/static/{file}", staticFile)
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
