import Foundation
import JWTKit

/// The claims of a platform JWT that the engine reads: `sub`, `exp`, `nbf`, `iss`, `aud`, and every other top-level
/// string claim by name (the role claim's name is configured, so it cannot be a fixed key).
struct PlatformTokenClaims: JWTPayload {
    var subject: SubjectClaim?
    var expiration: ExpirationClaim?
    var notBefore: NotBeforeClaim?
    var issuer: IssuerClaim?
    var audience: AudienceClaim?
    /// Other top-level claims whose value is a string, by claim name.
    var strings: [String: String] = [:]

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        subject = try c.decodeIfPresent(SubjectClaim.self, forKey: Key("sub"))
        expiration = try c.decodeIfPresent(ExpirationClaim.self, forKey: Key("exp"))
        notBefore = try c.decodeIfPresent(NotBeforeClaim.self, forKey: Key("nbf"))
        issuer = try c.decodeIfPresent(IssuerClaim.self, forKey: Key("iss"))
        audience = try c.decodeIfPresent(AudienceClaim.self, forKey: Key("aud"))
        for key in c.allKeys where !["sub", "exp", "nbf", "iss", "aud"].contains(key.stringValue) {
            if let text = try? c.decode(String.self, forKey: key) { strings[key.stringValue] = text }
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encodeIfPresent(subject, forKey: Key("sub"))
        try c.encodeIfPresent(expiration, forKey: Key("exp"))
        try c.encodeIfPresent(notBefore, forKey: Key("nbf"))
        try c.encodeIfPresent(issuer, forKey: Key("iss"))
        try c.encodeIfPresent(audience, forKey: Key("aud"))
        for (name, value) in strings { try c.encode(value, forKey: Key(name)) }
    }

    /// Unused: `PlatformTokenVerifier` checks the claims itself, with its leeway and one error code per reason.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
