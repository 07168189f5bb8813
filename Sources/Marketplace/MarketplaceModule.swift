// The Marketplace module's home. Its content grows with the issue that owns it (Marketplace); see docs/architecture.md.
/// Facts about the Marketplace module.
public enum MarketplaceModule {
    /// The module's name, for logs.
    public static let name = "Marketplace"
}
