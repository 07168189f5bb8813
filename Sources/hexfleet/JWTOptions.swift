import ArgumentParser
import Engine

/// `serve`'s flags for the platform's own JWTs (docs/auth.md), mapped onto `JWTConfiguration`.
struct JWTOptions: ParsableArguments {
    @Option(name: .customLong("jwt-key"),
            help: ArgumentHelp("Accept platform JWTs signed with this key (repeatable): an HS256 secret file, an RS256 or ES256 PEM public key, or a JWKS file (each key with a kid).",
                               valueName: "file"))
    var keyFiles: [String] = []
    @Option(name: .customLong("jwt-issuer"), help: "Platform JWTs must carry this issuer (iss).")
    var issuer: String?
    @Option(name: .customLong("jwt-audience"), help: "Platform JWTs' audience (aud) must include this.")
    var audience: String?
    @Option(name: .customLong("jwt-role-claim"), help: "The claim holding the role: driver, customer, dispatcher or admin.")
    var roleClaim = "role"

    func validate() throws {
        guard !roleClaim.isEmpty else { throw ValidationError("--jwt-role-claim must not be empty") }
        if keyFiles.isEmpty && (issuer != nil || audience != nil) {
            throw ValidationError("--jwt-issuer and --jwt-audience need at least one --jwt-key")
        }
    }

    /// The engine's configuration for these flags.
    var configuration: JWTConfiguration {
        var c = JWTConfiguration()
        c.keyFiles = keyFiles
        c.issuer = issuer
        c.audience = audience
        c.roleClaim = roleClaim
        return c
    }
}
