import HTTPServer

extension Engine {
    /// The caller of a request, from `Authorization: Bearer <token>`.
    /// - Throws: `unauthorized` without a token, `invalid_token` for a bad or expired one.
    func principal(_ request: HTTPRequest) throws(APIError) -> Principal {
        guard let header = request.header("authorization") else {
            throw APIError(.unauthorized, "missing bearer token")
        }
        let prefix = "bearer "
        guard header.count > prefix.count, header.lowercased().hasPrefix(prefix) else {
            throw APIError(.unauthorized, "authorization must be a bearer token")
        }
        let token = String(header.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
        guard let p = auth.verify(token, nowSeconds: nowMs / 1000) else { throw APIError(.invalidToken, "invalid or expired token") }
        return p
    }

    /// Requires one of `roles` (admin always passes).
    func require(_ request: HTTPRequest, _ roles: Set<Role>) throws(APIError) -> Principal {
        let p = try principal(request)
        guard p.isAdmin || roles.contains(p.role) else { throw APIError(.forbidden, "role \(p.role.rawValue) may not do this") }
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
        if role == .driver && UInt64(subject) == nil { throw APIError(.invalidParameter, "a driver subject is its numeric id") }
        let allowed = caller.isAdmin || (caller.role == .dispatcher && (role == .driver || role == .customer))
        guard allowed else { throw APIError(.forbidden, "role \(caller.role.rawValue) may not issue \(role.rawValue) tokens") }
        let ttl = body["ttl_s"]?.int64 ?? 86_400
        guard ttl > 0 && ttl <= 30 * 86_400 else { throw APIError(.invalidParameter, "ttl_s must be 1…2592000") }
        let expires = nowMs / 1000 + ttl
        let token = auth.issue(role: role, subject: subject, expiresAt: expires)
        responder.respond(.json(status: 201) { w in
            w.beginObject()
            w.key("token"); w.string(token)
            w.key("role"); w.string(role.rawValue)
            w.key("subject"); w.string(subject)
            w.key("expires_at"); w.number(expires)
            if role == .driver, let id = UInt64(subject) { w.key("udp_key"); w.string(keys.driverKeyHex(id)) }
            w.endObject()
        })
    }
}
