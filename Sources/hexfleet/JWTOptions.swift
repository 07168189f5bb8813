import ArgumentParser
import Engine

/// `serve`'s flags for the platform's own JWTs (docs/auth.md), applied onto a `JWTConfiguration`: a flag that is
/// given replaces what a config file said (`jwt.keys`, `jwt.issuer`, `jwt.audience`, `jwt.role_claim`).
struct JWTOptions: ParsableArguments {
    @Option(name: .customLong("jwt-key"),
            help: ArgumentHelp("Accept platform JWTs signed with this key (repeatable): an HS256 secret file, an RS256 or ES256 PEM public key, or a JWKS file (each key with a kid).",
                               valueName: "file"))
    var keyFiles: [String] = []
    @Option(name: .customLong("jwt-issuer"), help: "Platform JWTs must carry this issuer (iss).")
    var issuer: String?
    @Option(name: .customLong("jwt-audience"), help: "Platform JWTs' audience (aud) must include this.")
    var audience: String?
    @Option(name: .customLong("jwt-role-claim"),
            help: "The claim holding the role: driver, customer, dispatcher or admin. (default: role)")
    var roleClaim: String?

    func validate() throws {
        if let roleClaim, roleClaim.isEmpty { throw ValidationError("--jwt-role-claim must not be empty") }
    }

    /// Sets in `configuration` what the flags give, leaving the rest as it was.
    func apply(to configuration: inout JWTConfiguration) {
        if !keyFiles.isEmpty { configuration.keyFiles = keyFiles }
        if let issuer { configuration.issuer = issuer }
        if let audience { configuration.audience = audience }
        if let roleClaim { configuration.roleClaim = roleClaim }
    }
}
