/// Which JSON Web Tokens from the platform's own identity service the engine accepts, beside its own tokens
/// (docs/auth.md). Empty `keyFiles` turns platform tokens off.
public struct JWTConfiguration: Sendable, Equatable {
    /// Key files, each one of: an HS256 shared secret (the file's bytes, one trailing newline dropped), a PEM public
    /// key (RSA → RS256, P-256 → ES256), or a JWKS (`{"keys":[…]}`, every key with a `kid`).
    public var keyFiles: [String] = []
    /// When set, `iss` must equal it.
    public var issuer: String?
    /// When set, `aud` (a string or an array) must contain it.
    public var audience: String?
    /// The claim that holds the role: `driver`, `customer`, `dispatcher` or `admin`.
    public var roleClaim = "role"
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    public var leewaySeconds: Int64 = 30

    /// Platform tokens off.
    public init() {}

    /// Whether any key was configured.
    public var isEnabled: Bool { !keyFiles.isEmpty }
}
