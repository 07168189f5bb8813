import Foundation
import HTTPServer
import JWTKit
import Synchronization
import Vocabulary

/// Verifies JSON Web Tokens issued by the platform's own identity service (HS256, RS256, ES256) into a `Principal`,
/// with one stable error code per reason (docs/auth.md). Signatures, key parsing (PEM, JWKS) and token parsing are
/// vapor/jwt-kit's; this type picks the key, checks the claims, and caches verified tokens.
///
/// Per request it is synchronous and cheap: keys are parsed once at start into jwt-kit's algorithm objects, and a
/// token that verified once is answered from a cache (its signature cannot stop verifying, since the keys never
/// change while the engine runs; `exp` and `nbf` are checked again on every hit). Loop-owned (the cache).
final class PlatformTokenVerifier {
    /// A configured key: its algorithm (`HS256`, `RS256`, `ES256`: `algorithm.name`) and, from a JWKS, its `kid`.
    struct Key: Sendable {
        let kid: String?
        let algorithm: any JWTAlgorithm
        /// Where it came from, for messages.
        let source: String
    }

    private struct Verified {
        let principal: Principal
        let expiresAt: Double
        let notBefore: Double?
    }

    let keys: [Key]
    private let configuration: JWTConfiguration
    private let parser = DefaultJWTParser()
    private var cache: [String: Verified] = [:]
    /// Entries kept before the cache starts over; a token string is at most a few kilobytes (header limits).
    static let cacheCapacity = 4096

    init(keys: [Key], configuration: JWTConfiguration) {
        self.keys = keys
        self.configuration = configuration
    }

    /// Reads and parses every key file of `configuration` on the calling thread (the engine's synchronous `init`):
    /// the async loading runs as a task whose jobs this thread runs itself (`CallerThreadExecutor`).
    /// - Throws: `JWTKeyFileError` naming the file and the reason.
    static func loading(_ configuration: JWTConfiguration) throws -> PlatformTokenVerifier {
        guard configuration.isEnabled else { return PlatformTokenVerifier(keys: [], configuration: configuration) }
        let outcome = Mutex<Result<[Key], any Error>?>(nil)
        let executor = CallerThreadExecutor()
        Task(executorPreference: executor) {
            let result: Result<[Key], any Error>
            do { result = .success(try await loadKeys(configuration.keyFiles)) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
        }
        executor.drain { outcome.withLock { $0 != nil } }
        guard let result = outcome.withLock({ $0 }) else { throw JWTKeyFileError(file: "", reason: "key loading did not finish") }
        return PlatformTokenVerifier(keys: try result.get(), configuration: configuration)
    }

    /// Reads and parses key files (jwt-kit's key collection is an actor, so this is async).
    static func loadKeys(_ files: [String]) async throws -> [Key] {
        var keys: [Key] = []
        for file in files { keys += try await loadKeys(file: file) }
        return keys
    }

    private static func loadKeys(file: String) async throws -> [Key] {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw JWTKeyFileError(file: file, reason: "cannot be read")
        }
        let text = String(decoding: data, as: UTF8.self)
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let collection = JWTKeyCollection()
        if trimmed.hasPrefix("{") {
            let jwks: JWKS
            do { jwks = try JSONDecoder().decode(JWKS.self, from: Data(trimmed.utf8)) } catch {
                throw JWTKeyFileError(file: file, reason: "is JSON but not a JWKS ({\"keys\":[…]})")
            }
            guard !jwks.keys.isEmpty else { throw JWTKeyFileError(file: file, reason: "is a JWKS without keys") }
            var keys: [Key] = []
            for jwk in jwks.keys {
                guard let kid = jwk.keyIdentifier else { throw JWTKeyFileError(file: file, reason: "has a key without kid") }
                guard jwk.privateExponent == nil else {
                    throw JWTKeyFileError(file: file, reason: "holds a private key (kid \(kid.string)); give the public key")
                }
                let alg = jwk.algorithm?.rawValue ?? defaultAlgorithm(jwk)
                guard ["RS256", "ES256"].contains(alg) else {
                    throw JWTKeyFileError(file: file, reason: "key \(kid.string) is \(alg); RS256 and ES256 are accepted")
                }
                do {
                    try await collection.add(jwk: jwk)
                    keys.append(Key(kid: kid.string, algorithm: try await collection.getKey(for: kid, alg: alg), source: file))
                } catch {
                    throw JWTKeyFileError(file: file, reason: "key \(kid.string) cannot be used (\(error))")
                }
            }
            return keys
        }
        if trimmed.hasPrefix("-----BEGIN") {
            guard !trimmed.contains("PRIVATE KEY") else {
                throw JWTKeyFileError(file: file, reason: "holds a private key; give the public key")
            }
            if let rsa = try? Insecure.RSA.PublicKey(pem: trimmed) {
                await collection.add(rsa: rsa, digestAlgorithm: .sha256)
            } else if let ec = try? ES256PublicKey(pem: trimmed) {
                await collection.add(ecdsa: ec)
            } else {
                throw JWTKeyFileError(file: file, reason: "is PEM but neither an RSA (2048 bits or more) nor a P-256 public key")
            }
            return [Key(kid: nil, algorithm: try await collection.getKey(), source: file)]
        }
        // A shared secret: the file's bytes, without the one newline (LF or CRLF) an editor or `echo` adds.
        var secret = Array(data)
        if secret.last == UInt8(ascii: "\n") {
            secret.removeLast()
            if secret.last == UInt8(ascii: "\r") { secret.removeLast() }
        }
        guard secret.count >= 16 else {
            throw JWTKeyFileError(file: file, reason: "is an HS256 secret of \(secret.count) bytes; at least 16 are needed")
        }
        await collection.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return [Key(kid: nil, algorithm: try await collection.getKey(), source: file)]
    }

    private static func defaultAlgorithm(_ jwk: JWK) -> String {
        jwk.keyType == .ecdsa ? "ES256" : jwk.keyType == .rsa ? "RS256" : "none"
    }

    /// Whether `token` has a JWT's shape, three dot-separated parts: the engine's own tokens start with `hf1.` and
    /// have at least five.
    static func looksLikeJWT(_ token: String) -> Bool {
        !token.hasPrefix("hf1.") && token.utf8.lazy.filter { $0 == UInt8(ascii: ".") }.count == 2
    }

    /// The principal of a valid platform token at `nowSeconds`.
    /// - Throws: `token_malformed`, `token_bad_signature`, `token_wrong_issuer`, `token_wrong_audience`,
    ///   `token_expired`, `token_not_yet_valid`, `token_unknown_role`, `token_bad_subject` (all 401), in that order
    ///   of checks: nothing about the claims is said before the signature verified.
    func verify(_ token: String, nowSeconds: Int64) throws(APIError) -> Principal {
        let now = Double(nowSeconds)
        if let hit = cache[token] {
            try checkTimes(now: now, expiresAt: hit.expiresAt, notBefore: hit.notBefore)
            return hit.principal
        }
        let bytes = Array(token.utf8)
        let parsed: (header: JWTHeader, payload: PlatformTokenClaims, signature: Data)
        do { parsed = try parser.parse(bytes, as: PlatformTokenClaims.self) } catch {
            throw APIError(.tokenMalformed, "the token is not a well-formed JWT")
        }
        guard let lastDot = bytes.lastIndex(of: UInt8(ascii: ".")) else { throw APIError(.tokenMalformed, "the token is not a JWT") }
        try checkSignature(parsed.signature, signs: bytes[..<lastDot], alg: parsed.header.alg, kid: parsed.header.kid)
        let claims = parsed.payload
        if let issuer = configuration.issuer, claims.issuer?.value != issuer {
            throw APIError(.tokenWrongIssuer, "the token's issuer (iss) is not the configured one")
        }
        if let audience = configuration.audience, !(claims.audience?.value.contains(audience) ?? false) {
            throw APIError(.tokenWrongAudience, "the token's audience (aud) does not include the configured one")
        }
        guard let expiresAt = claims.expiration?.value.timeIntervalSince1970 else {
            throw APIError(.tokenMalformed, "the token has no expiry (exp)")
        }
        let notBefore = claims.notBefore?.value.timeIntervalSince1970
        try checkTimes(now: now, expiresAt: expiresAt, notBefore: notBefore)
        let principal = try Self.principal(claims, roleClaim: configuration.roleClaim)
        if cache.count >= Self.cacheCapacity { cache.removeAll(keepingCapacity: true) }
        cache[token] = Verified(principal: principal, expiresAt: expiresAt, notBefore: notBefore)
        return principal
    }

    /// Tries the keys that can have signed it: the one whose `kid` the header names, else every key without a kid;
    /// only keys of the header's algorithm (so an HS256 token is never checked against an RSA key's bytes).
    private func checkSignature(_ signature: Data, signs input: ArraySlice<UInt8>, alg: String?, kid: String?) throws(APIError) {
        guard let alg else { throw APIError(.tokenMalformed, "the token's header has no alg") }
        var candidates = keys.filter { $0.algorithm.name == alg && kid != nil && $0.kid == kid }
        if candidates.isEmpty { candidates = keys.filter { $0.algorithm.name == alg && (kid == nil || $0.kid == nil) } }
        for key in candidates where (try? key.algorithm.verify(signature, signs: input)) == true { return }
        throw APIError(.tokenBadSignature, "no configured key verifies the token's signature")
    }

    private func checkTimes(now: Double, expiresAt: Double, notBefore: Double?) throws(APIError) {
        let leeway = Double(configuration.leewaySeconds)
        guard now < expiresAt + leeway else { throw APIError(.tokenExpired, "the token has expired") }
        if let notBefore, now + leeway < notBefore { throw APIError(.tokenNotYetValid, "the token is not valid yet (nbf)") }
    }

    /// The principal a token's role and `sub` name: a driver's `sub` is its decimal id, a customer's its opaque id
    /// (1–64 bytes of `[A-Za-z0-9._:@-]`), an operator's any name of 1–64 such bytes.
    static func principal(_ claims: PlatformTokenClaims, roleClaim: String) throws(APIError) -> Principal {
        guard let roleName = claims.strings[roleClaim], let role = Role(rawValue: roleName) else {
            throw APIError(.tokenUnknownRole, "the token's \(roleClaim) claim must be one of driver, customer, dispatcher, admin")
        }
        guard let subject = claims.subject?.value, CustomerID.isValid(subject) else {
            throw APIError(.tokenBadSubject, "the token's sub must be 1–64 bytes of [A-Za-z0-9._:@-]")
        }
        let principal = Principal(role: role, subject: subject)
        if role == .driver && principal.driverID == nil {
            throw APIError(.tokenBadSubject, "a driver token's sub is the driver's decimal id")
        }
        return principal
    }
}

/// A platform key file that cannot be used; the engine refuses to start with it.
public struct JWTKeyFileError: Error, CustomStringConvertible {
    /// The file as configured.
    public let file: String
    /// Why it cannot be used.
    public let reason: String
    public var description: String { "JWT key file \(file) \(reason)" }
}
