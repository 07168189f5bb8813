import CryptoExtras
import Foundation
import JWTKit
import Testing
@testable import Engine

/// Platform JWTs through the verifier: HS256 (secret file), RS256 (PEM), ES256 (JWKS with kid) minted by jwt-kit
/// with keys made here, every role, and one stable code per refusal.
@Suite struct PlatformTokenVerifierTests {
    let now: Int64 = 1_800_000_000

    /// Key files in a fresh directory and signers for them.
    struct Keys {
        let directory: String
        let hs256File: String, rs256File: String, es256File: String
        let signers = JWTKeyCollection()
        let strangers = JWTKeyCollection()
        let ecKey = ES256PrivateKey()

        init() async throws {
            directory = NSTemporaryDirectory() + "hexfleet-jwt-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // Printable, as shared secrets are in practice (a binary one ending in a newline would lose it).
            let secret = Array((0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined().utf8)
            hs256File = directory + "/hs256.secret"
            try Data(secret + [UInt8(ascii: "\n")]).write(to: URL(fileURLWithPath: hs256File))
            await signers.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: "hs")
            await strangers.add(hmac: HMACKey(from: Array(secret.reversed())), digestAlgorithm: .sha256, kid: "hs")

            let rsa = try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
            rs256File = directory + "/rs256.pem"
            try rsa.publicKey.pemRepresentation.write(toFile: rs256File, atomically: true, encoding: .utf8)
            await signers.add(rsa: rsa, digestAlgorithm: .sha256, kid: "rs")
            await strangers.add(rsa: try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048)),
                                digestAlgorithm: .sha256, kid: "rs")

            let ec = ecKey
            let point = try #require(ec.publicKey.parameters)
            es256File = directory + "/jwks.json"
            let jwks = #"{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":"platform-1","x":"\#(point.x)","y":"\#(point.y)"}]}"#
            try jwks.write(toFile: es256File, atomically: true, encoding: .utf8)
            await signers.add(ecdsa: ec, kid: "platform-1")
            await strangers.add(ecdsa: ES256PrivateKey(), kid: "platform-1")
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }

        func verifier(issuer: String? = "https://id.example", audience: String? = "hexfleet",
                      roleClaim: String = "role") async throws -> PlatformTokenVerifier {
            var c = JWTConfiguration()
            c.keyFiles = [hs256File, rs256File, es256File]
            c.issuer = issuer
            c.audience = audience
            c.roleClaim = roleClaim
            return PlatformTokenVerifier(keys: try await PlatformTokenVerifier.loadKeys(c.keyFiles), configuration: c)
        }
    }

    /// Claims as JSON values, decoded into the payload type the verifier reads.
    func claims(_ fields: [String: Any]) throws -> PlatformTokenClaims {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970   // as JWTs write times
        return try decoder.decode(PlatformTokenClaims.self, from: JSONSerialization.data(withJSONObject: fields))
    }

    func standard(role: String = "customer", sub: String = "3f2c9a1e-7b4d-4c1a-9e2f-0a1b2c3d4e5f") -> [String: Any] {
        ["sub": sub, "role": role, "iss": "https://id.example", "aud": "hexfleet", "exp": now + 600, "nbf": now - 5]
    }

    func mint(_ fields: [String: Any], kid: String, with signers: JWTKeyCollection) async throws -> String {
        try await signers.sign(try claims(fields), kid: JWKIdentifier(string: kid))
    }

    func code(_ verifier: PlatformTokenVerifier, _ token: String, at time: Int64? = nil) -> String? {
        do { _ = try verifier.verify(token, nowSeconds: time ?? now); return nil } catch { return error.code.name }
    }

    @Test("each algorithm verifies, for each role; the subject is the role's id")
    func algorithmsAndRoles() async throws {
        let keys = try await Keys()
        defer { keys.remove() }
        let verifier = try await keys.verifier()
        #expect(verifier.keys.map(\.algorithm.name) == ["HS256", "RS256", "ES256"])
        for kid in ["hs", "rs", "platform-1"] {
            let driver = try verifier.verify(try await mint(standard(role: "driver", sub: "42"), kid: kid, with: keys.signers), nowSeconds: now)
            #expect(driver.role == .driver && driver.driverID?.rawValue == 42, "\(kid)")
            let customer = try verifier.verify(try await mint(standard(), kid: kid, with: keys.signers), nowSeconds: now)
            #expect(customer.customerID?.rawValue == "3f2c9a1e-7b4d-4c1a-9e2f-0a1b2c3d4e5f", "\(kid)")
            let dispatcher = try verifier.verify(try await mint(standard(role: "dispatcher", sub: "ops.eu"), kid: kid, with: keys.signers),
                                                 nowSeconds: now)
            #expect(dispatcher.role == .dispatcher && dispatcher.name == "ops.eu", "\(kid)")
            let admin = try verifier.verify(try await mint(standard(role: "admin", sub: "alice@example.com"), kid: kid, with: keys.signers),
                                            nowSeconds: now)
            #expect(admin.isAdmin, "\(kid)")
        }
        #expect(PlatformTokenVerifier.looksLikeJWT(try await mint(standard(), kid: "hs", with: keys.signers)))
        #expect(!PlatformTokenVerifier.looksLikeJWT("hf1.customer.a.b.1800000000.c2ln"), "an engine token whose subject has a dot")
        #expect(!PlatformTokenVerifier.looksLikeJWT("hf1.customer.ab.1800000000.c2ln"))
                var multiple = standard()
        multiple["aud"] = ["billing", "hexfleet"]
        #expect(code(verifier, try await mint(multiple, kid: "rs", with: keys.signers)) == nil, "aud as an array including ours")
    }

    @Test("refusals: one stable code each, for each algorithm")
    func refusals() async throws {
        let keys = try await Keys()
        defer { keys.remove() }
        let verifier = try await keys.verifier()
        for kid in ["hs", "rs", "platform-1"] {
            func minted(_ change: (inout [String: Any]) -> Void) async throws -> String {
                var fields = standard()
                change(&fields)
                return try await mint(fields, kid: kid, with: keys.signers)
            }
            #expect(code(verifier, try await mint(standard(), kid: kid, with: keys.strangers)) == "token_bad_signature", "\(kid)")
            #expect(code(verifier, try await minted { $0["iss"] = "https://evil.example" }) == "token_wrong_issuer", "\(kid)")
            #expect(code(verifier, try await minted { $0["iss"] = nil }) == "token_wrong_issuer", "\(kid)")
            #expect(code(verifier, try await minted { $0["aud"] = "someone-else" }) == "token_wrong_audience", "\(kid)")
            #expect(code(verifier, try await minted { $0["exp"] = now - 31 }) == "token_expired", "\(kid)")
            #expect(code(verifier, try await minted { $0["exp"] = now - 10 }) == nil, "within the 30 s leeway: \(kid)")
            #expect(code(verifier, try await minted { $0["nbf"] = now + 60 }) == "token_not_yet_valid", "\(kid)")
            #expect(code(verifier, try await minted { $0["nbf"] = now + 10 }) == nil, "within the 30 s leeway: \(kid)")
            #expect(code(verifier, try await minted { $0["role"] = "pilot" }) == "token_unknown_role", "\(kid)")
            #expect(code(verifier, try await minted { $0["role"] = nil }) == "token_unknown_role", "\(kid)")
            #expect(code(verifier, try await minted { $0["exp"] = nil }) == "token_malformed", "\(kid)")
            #expect(code(verifier, try await minted { $0["role"] = "driver"; $0["sub"] = "not-a-number" }) == "token_bad_subject", "\(kid)")
            #expect(code(verifier, try await minted { $0["sub"] = "has space" }) == "token_bad_subject", "\(kid)")
        }
        for garbage in ["eyJ.e30.e30", "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln", "a.b", "eyJhbGciOiJIUzI1NiJ9.e30"] {
            #expect(code(verifier, garbage) == "token_malformed", "\(garbage)")
        }
        // The JWKS key verifies only tokens that name its kid (kid-less keys, HS256 and PEM, are tried for any kid).
        let renamed = JWTKeyCollection()
        await renamed.add(ecdsa: keys.ecKey, kid: "platform-2")
        #expect(code(verifier, try await mint(standard(), kid: "platform-2", with: renamed)) == "token_bad_signature")
    }

    @Test("an HS256 token made with an RSA public key's PEM as its secret is refused (no algorithm confusion)")
    func algorithmConfusion() async throws {
        let keys = try await Keys()
        defer { keys.remove() }
        var c = JWTConfiguration()
        c.keyFiles = [keys.rs256File]
        let verifier = PlatformTokenVerifier(keys: try await PlatformTokenVerifier.loadKeys(c.keyFiles), configuration: c)
        let pem = try String(contentsOfFile: keys.rs256File, encoding: .utf8)
        let forger = JWTKeyCollection()
        await forger.add(hmac: HMACKey(from: Array(pem.utf8)), digestAlgorithm: .sha256)
        #expect(code(verifier, try await forger.sign(try claims(standard()))) == "token_bad_signature")
    }

    @Test("a cached token is still checked for expiry on every use; the role claim's name is configurable")
    func cacheAndRoleClaim() async throws {
        let keys = try await Keys()
        defer { keys.remove() }
        let verifier = try await keys.verifier(issuer: nil, audience: nil, roleClaim: "https://hexfleet/role")
        var fields = standard()
        fields["role"] = nil
        fields["https://hexfleet/role"] = "customer"
        let token = try await mint(fields, kid: "hs", with: keys.signers)
        #expect(code(verifier, token) == nil)
        #expect(code(verifier, token) == nil, "second use, from the cache")
        #expect(code(verifier, token, at: now + 600 + 31) == "token_expired")
        #expect(code(verifier, token, at: now - 5 - 31) == "token_not_yet_valid")
        #expect(code(verifier, try await mint(standard(), kid: "hs", with: keys.signers)) == "token_unknown_role",
                "a plain role claim is not read when another name is configured")
    }

    @Test("unusable key files are refused at start, naming the file")
    func badKeyFiles() async throws {
        let keys = try await Keys()
        defer { keys.remove() }
        func refusal(_ contents: String?) async -> String? {
            let file = keys.directory + "/bad-\(UUID().uuidString)"
            if let contents { try? contents.write(toFile: file, atomically: true, encoding: .utf8) }
            do { _ = try await PlatformTokenVerifier.loadKeys([file]); return nil } catch let e as JWTKeyFileError {
                return e.file == file ? e.reason : "wrong file"
            } catch { return "\(error)" }
        }
        #expect(await refusal(nil) == "cannot be read")
        #expect(await refusal("short\n")?.contains("at least 16") == true)
        #expect(await refusal("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")?.contains("private key") == true)
        #expect(await refusal("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")?.contains("neither") == true)
        #expect(await refusal(#"{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}"#)?.contains("kid") == true)
        #expect(await refusal(#"{"not":"jwks"}"#)?.contains("JWKS") == true)
    }

    @Test("an engine with --jwt-key files answers platform JWTs over HTTP, beside its own tokens")
    func engineOverHTTP() async throws {
        let keys = try await Keys()
        defer { keys.remove() }
        let engine = try TestEngine(configure: {
            $0.jwt.keyFiles = [keys.hs256File, keys.rs256File, keys.es256File]
            $0.jwt.issuer = "https://id.example"
            $0.jwt.audience = "hexfleet"
        })
        defer { engine.close() }
        let wallNow = Int64(Date().timeIntervalSince1970)
        func timed(_ fields: [String: Any]) -> [String: Any] {
            var f = fields
            f["exp"] = wallNow + 600
            f["nbf"] = wallNow - 5
            return f
        }
        for kid in ["hs", "rs", "platform-1"] {
            let driver = try await mint(timed(standard(role: "driver", sub: "77")), kid: kid, with: keys.signers)
            let answer = try engine.post("/v1/auth/udp-key", "{}", token: driver)
            #expect(answer.status == 200, "\(kid): \(answer.text)")
            #expect(((answer.json as? [String: Any])?["driver_id"] as? NSNumber)?.intValue == 77)
            var late = timed(standard())
            late["exp"] = wallNow - 120
            let expired = try engine.get("/v1/orders", token: try await mint(late, kid: kid, with: keys.signers))
            #expect(expired.status == 401 && expired.errorCode == "token_expired", "\(kid): \(expired.text)")
            let forged = try engine.get("/v1/orders", token: try await mint(timed(standard()), kid: kid, with: keys.strangers))
            #expect(forged.errorCode == "token_bad_signature", "\(kid)")
        }
        let own = try #require((try engine.post("/v1/auth/token", #"{"role":"driver","subject":"78"}"#).json as? [String: Any])?["token"] as? String)
        #expect(try engine.post("/v1/auth/udp-key", "{}", token: own).status == 200, "the engine's own tokens keep working")
    }
}
