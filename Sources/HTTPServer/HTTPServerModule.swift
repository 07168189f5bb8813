// The HTTPServer module's home. Its content grows with the issue that owns it (Engine core); see docs/architecture.md.
/// Facts about the HTTPServer module.
public enum HTTPServerModule {
    /// The module's name, for logs.
    public static let name = "HTTPServer"
}
