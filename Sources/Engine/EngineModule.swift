// The Engine module's home. Its content grows with the issue that owns it (Engine core); see docs/architecture.md.
/// Facts about the Engine module.
public enum EngineModule {
    /// The module's name, for logs.
    public static let name = "Engine"
}
