// The Storage module's home. Its content grows with the issue that owns it (Marketplace); see docs/architecture.md.
/// Facts about the Storage module.
public enum StorageModule {
    /// The module's name, for logs.
    public static let name = "Storage"
}
