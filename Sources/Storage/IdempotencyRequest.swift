/// An `Idempotency-Key` and the fingerprint of the request body it came with.
///
/// Keys are scoped per customer. The same key with the same fingerprint returns the first order;
/// with another fingerprint it fails with `idempotency_conflict`.
public struct IdempotencyRequest: Sendable, Equatable {
    /// The client's key (1–255 bytes).
    public var key: String
    /// A digest of the request body, computed by the caller (any stable string).
    public var fingerprint: String

    /// A key and its body fingerprint.
    public init(key: String, fingerprint: String) {
        self.key = key
        self.fingerprint = fingerprint
    }
}
