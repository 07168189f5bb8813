/// Matches method + path to a handler. Patterns are `/`-separated segments, each a literal or a `{name}`
/// parameter that matches one non-empty segment: `/v1/drivers/{id}/location`.
///
/// Literal segments win over parameters at the same position (`/v1/drivers/nearby` before `/v1/drivers/{id}`).
/// A path that matches with another method answers 405 `method_not_allowed`; no match answers 404 `not_found`.
public struct Router {
    /// A route handler: runs on the loop thread; answers through the responder now or later. A thrown
    /// ``APIError`` becomes its JSON error response; any other error becomes 500 `internal_error`.
    public typealias Handler = (HTTPRequest, Responder) throws -> Void

    private enum Segment: Equatable { case literal(String), parameter(String) }
    private struct Route {
        let method: HTTPMethod
        let segments: [Segment]
        let handler: Handler
        var literalCount: Int { segments.reduce(0) { if case .literal = $1 { $0 + 1 } else { $0 } } }
    }
    private var routes: [Route] = []

    /// An empty router.
    public init() {}

    /// Adds a route for `method` and `pattern`.
    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping Handler) {
        let segments: [Segment] = pattern.split(separator: "/", omittingEmptySubsequences: true).map { s in
            if s.hasPrefix("{"), s.hasSuffix("}"), s.count > 2 { return .parameter(String(s.dropFirst().dropLast())) }
            return .literal(String(s))
        }
        routes.append(Route(method: method, segments: segments, handler: handler))
        // Most literal segments first, so literals beat parameters; stable for equal counts.
        routes = routes.enumerated().sorted { a, b in
            a.element.literalCount != b.element.literalCount ? a.element.literalCount > b.element.literalCount
                : a.offset < b.offset
        }.map(\.element)
    }

    /// The outcome of a lookup.
    public enum Match {
        /// A handler and its decoded path parameters.
        case found(Handler, [String: String])
        /// The path exists, but not for this method; `allowed` lists the methods it has (HEAD wherever GET is), for
        /// the `Allow` header a 405 must carry (RFC 9110 §15.5.6).
        case methodNotAllowed(allowed: [HTTPMethod])
        /// No route has this path.
        case notFound
    }

    /// Looks up `method` and the still percent-encoded `path`: segments split on `/` first, then parameters are
    /// decoded, so `%2F` inside an id stays part of that id.
    public func match(_ method: HTTPMethod, path: String) -> Match {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        var allowed: [HTTPMethod] = []
        for route in routes where route.segments.count == parts.count {
            var parameters: [String: String] = [:]
            var ok = true
            for (segment, part) in zip(route.segments, parts) {
                switch segment {
                case .literal(let text):
                    if part != text { ok = false }
                case .parameter(let name):
                    guard let decoded = QueryString.decode(part) else { ok = false; break }
                    parameters[name] = decoded
                }
                if !ok { break }
            }
            guard ok else { continue }
            let sameMethod = route.method == method || (method == .head && route.method == .get)
            if sameMethod { return .found(route.handler, parameters) }
            allowed.append(route.method)
            if route.method == .get { allowed.append(.head) }
        }
        guard !allowed.isEmpty else { return .notFound }
        var seen = Set<HTTPMethod>()
        return .methodNotAllowed(allowed: allowed.filter { seen.insert($0).inserted })
    }

    /// Runs the handler `request` matches (its method and the still percent-encoded `rawPath`) with its path
    /// parameters set; a thrown ``APIError`` is answered as itself. No handler: 405 with `Allow`, or 404. Answers
    /// false when the handler threw anything else (answered 500 `internal_error`), for the caller's statistics.
    @discardableResult
    public func dispatch(_ request: HTTPRequest, rawPath: Substring, _ responder: Responder) -> Bool {
        switch match(request.method, path: String(rawPath)) {
        case .found(let handler, let parameters):
            var request = request
            request.pathParameters = parameters
            do {
                try handler(request, responder)
            } catch let error as APIError {
                responder.fail(error)
            } catch {
                responder.fail(APIError(.internalError, "internal error"))
                return false
            }
        case .methodNotAllowed(let allowed):
            var response = HTTPResponse.error(APIError(.methodNotAllowed, "\(request.methodName) is not allowed on \(request.path)"))
            response.headers.append(("Allow", allowed.map(\.rawValue).joined(separator: ", ")))
            responder.respond(response)
        case .notFound:
            responder.fail(APIError(.notFound, "no route for \(request.path)"))
        }
        return true
    }
}
