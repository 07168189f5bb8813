// The Routing module's home. Its content grows with the issue that owns it (Routing); see docs/architecture.md.
/// Facts about the Routing module.
public enum RoutingModule {
    /// The module's name, for logs.
    public static let name = "Routing"
}
