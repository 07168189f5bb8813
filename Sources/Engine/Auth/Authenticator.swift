import Foundation
import HTTPServer
import Vocabulary

/// Who is calling: verifies bearer tokens on requests and WebSocket upgrades (the engine's own `hf1.` tokens, the
/// static admin token, and, when keys are configured, the platform's JWTs), issues tokens (`POST /v1/auth/token`)
/// and hands drivers their UDP signing key (`POST /v1/auth/udp-key`). Every service that checks a caller is given
/// this. Loop-owned.
final class Authenticator: EngineService {
    private let authority: TokenAuthority
    private let platform: PlatformTokenVerifier
    private let keys: PingKeys
    private let clock: EngineClock

    init(authority: TokenAuthority, platform: PlatformTokenVerifier, keys: PingKeys, clock: EngineClock) {
        self.authority = authority
        self.platform = platform
        self.keys = keys
        self.clock = clock
    }

    func registerRoutes(_ routes: RouteTable) {
        routes.add(.post, "/v1/auth/token", issueToken)
        routes.add(.post, "/v1/auth/udp-key", issueUDPKey)
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
        guard let token = try Self.webSocketToken(request) else { return nil }
        return try verify(token: token)
    }

    /// The token a WebSocket upgrade carries, from `?token=` or `Authorization: Bearer`; nil when neither is given.
    /// - Throws: `unauthorized` for an Authorization header that is not a bearer token.
    static func webSocketToken(_ request: HTTPRequest) throws(APIError) -> String? {
        var token = request.query("token")
        if token == nil, let header = request.header("authorization") { token = try bearerToken(header) }
        guard let token, !token.isEmpty else { return nil }
        return token
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
        let now = clock.nowMs / 1000
        if !platform.keys.isEmpty && PlatformTokenVerifier.looksLikeJWT(token) {
            return try platform.verify(token, nowSeconds: now)
        }
        guard let p = authority.verify(token, nowSeconds: now) else {
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
            throw APIError(.invalidParameter, "subject must be 1-64 characters of [A-Za-z0-9._:@-]")
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

    /// `POST /v1/auth/udp-key` (a driver's token, the engine's or the platform's): `{"driver_id","udp_key"}`, the
    /// driver's id and its UDP signing key in hex: the same key `POST /v1/auth/token` hands out with a driver token.
    func issueUDPKey(_ request: HTTPRequest, _ responder: Responder) throws {
        let caller = try principal(request)
        guard caller.role == .driver, let driver = caller.driverID else {
            throw APIError(.forbidden, "only a driver's token gets a UDP signing key")
        }
        responder.respond(.json { w in
            w.beginObject()
            w.key("driver_id"); w.number(driver.rawValue)
            w.key("udp_key"); w.string(keys.driverKeyHex(driver.rawValue))
            w.endObject()
        })
    }
}
