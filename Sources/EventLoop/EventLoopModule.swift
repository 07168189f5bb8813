// The EventLoop module's home. Its content grows with the issue that owns it (Engine core); see docs/architecture.md.
/// Facts about the EventLoop module.
public enum EventLoopModule {
    /// The module's name, for logs.
    public static let name = "EventLoop"
}
