// The Dispatcher module's home. Its content grows with the issue that owns it (Dispatch); see docs/architecture.md.
/// Facts about the Dispatcher module.
public enum DispatcherModule {
    /// The module's name, for logs.
    public static let name = "Dispatcher"
}
