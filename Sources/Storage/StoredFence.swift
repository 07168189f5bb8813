/// A fence as stored in `fences`: its id and canonical JSON definition (the Engine owns the format).
public struct StoredFence: Sendable, Equatable {
    /// The fence id (1–64 bytes).
    public var id: String
    /// The definition as JSON text.
    public var definition: [UInt8]
    /// When it stops firing, ms since the epoch, or nil.
    public var expiresAtMs: Int64?

    /// A stored fence.
    public init(id: String, definition: [UInt8], expiresAtMs: Int64?) {
        self.id = id
        self.definition = definition
        self.expiresAtMs = expiresAtMs
    }
}
