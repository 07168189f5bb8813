import Foundation
import HTTPServer
import Vocabulary

/// Who is calling: verifies bearer tokens on requests and WebSocket upgrades, and issues tokens
/// (`POST /v1/auth/token`). Every service that checks a caller is given this. Loop-owned.
final class Authenticator: EngineService {
    private let authority: TokenAuthority
    private let keys: PingKeys
    private let clock: EngineClock

    init(authority: TokenAuthority, keys: PingKeys, clock: EngineClock) {
        self.authority = authority
        self.keys = keys
        self.clock = clock
    }

    func registerRoutes(_ routes: RouteTable) {
        routes.add(.post, "/v1/auth/token", issueToken)
    }

    /// The caller of a request, from `Authorization: Bearer <token>`.
    /// - Throws: `unauthorized` without a token, `invalid_token` for a bad or expired one.
    func principal(_ request: HTTPRequest) throws(APIError) -> Principal {
        guard let header = request.header("authorization") else {
            throw APIError(.unauthorized, "missing bearer token")
        }
        return try verify(token: try Self.bearerToken(header))
    }

    /// Requires one of `roles` (admin always passes).
    func require(_ request: HTTPRequest, _ roles: Set<Role>) throws(APIError) -> Principal {
        let p = try principal(request)
        guard p.isAdmin || roles.contains(p.role) else { throw APIError(.forbidden, "role \(p.role.rawValue) may not do this") }
        return p
    }

    /// The caller of a WebSocket upgrade, from `?token=` or `Authorization: Bearer`; nil when neither is given.
    /// - Throws: `invalid_token` for a bad or expired token.
    func webSocketPrincipal(_ request: HTTPRequest) throws(APIError) -> Principal? {
        var token = request.query("token")
        if token == nil, let header = request.header("authorization") { token = try Self.bearerToken(header) }
        guard let token, !token.isEmpty else { return nil }
        return try verify(token: token)
    }

    /// The token of an `Authorization: Bearer …` header.
    private static func bearerToken(_ header: String) throws(APIError) -> String {
        let prefix = "bearer "
        guard header.count > prefix.count, header.lowercased().hasPrefix(prefix) else {
            throw APIError(.unauthorized, "authorization must be a bearer token")
        }
        return String(header.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
    }

    private func verify(token: String) throws(APIError) -> Principal {
        guard let p = authority.verify(token, nowSeconds: clock.nowMs / 1000) else {
            throw APIError(.invalidToken, "invalid or expired token")
        }
        return p
    }

    /// `POST /v1/auth/token` (admin or dispatcher for drivers/customers): `{"role","subject","ttl_s"}` →
    /// `{"token","role","subject","expires_at"[,"udp_key"]}`; a driver's answer carries its UDP signing key.
    func issueToken(_ request: HTTPRequest, _ responder: Responder) throws {
        let caller = try principal(request)
        let body = try request.json()
        guard let roleName = body["role"]?.string, let role = Role(rawValue: roleName) else {
            throw APIError(.invalidParameter, "role must be one of admin, dispatcher, driver, customer")
        }
        guard let subject = body["subject"]?.string ?? body["subject"]?.uint64.map(String.init),
              TokenAuthority.isValidSubject(subject) else {
            throw APIError(.invalidParameter, "subject must be 1-64 characters of [A-Za-z0-9_-]")
        }
        let issued = Principal(role: role, subject: subject)
        if role == .driver && issued.driverID == nil { throw APIError(.invalidParameter, "a driver subject is its numeric id") }
        let allowed = caller.isAdmin || (caller.role == .dispatcher && (role == .driver || role == .customer))
        guard allowed else { throw APIError(.forbidden, "role \(caller.role.rawValue) may not issue \(role.rawValue) tokens") }
        var ttl: Int64 = 86_400
        if let v = body["ttl_s"], !v.isNull {
            // A ttl_s that is not an integer (a string, an object) is refused, not replaced by the default.
            guard let n = v.int64, n > 0 && n <= 30 * 86_400 else { throw APIError(.invalidParameter, "ttl_s must be an integer 1…2592000") }
            ttl = n
        }
        let expires = clock.nowMs / 1000 + ttl
        let token = authority.issue(role: role, subject: subject, expiresAt: expires)
        responder.respond(.json(status: 201) { w in
            w.beginObject()
            w.key("token"); w.string(token)
            w.key("role"); w.string(role.rawValue)
            w.key("subject"); w.string(subject)
            w.key("expires_at"); w.number(expires)
            if let driver = issued.driverID { w.key("udp_key"); w.string(keys.driverKeyHex(driver.rawValue)) }
            w.endObject()
        })
    }
}
