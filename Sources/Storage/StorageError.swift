import GRDB

/// An error from the Storage module, with a stable `snake_case` code the Engine maps to HTTP.
///
/// `code.name` is a contract: add codes, never rename or reuse one. Messages are for people
/// and never hold secrets; they may name ids and statuses.
public struct StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The wire spelling, e.g. `invalid_transition`.
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// No order has that id (HTTP 404).
        public static let orderNotFound = Code("order_not_found")
        /// The order's current status does not allow the requested transition (HTTP 409).
        public static let invalidTransition = Code("invalid_transition")
        /// The idempotency key was used before with a different request body (HTTP 409).
        public static let idempotencyConflict = Code("idempotency_conflict")
        /// The actor may not act on this order (HTTP 403).
        public static let forbidden = Code("forbidden")
        /// This order was already rated in this direction (HTTP 409).
        public static let alreadyRated = Code("already_rated")
        /// The order cannot be rated (not delivered, or the rater took no part in it) (HTTP 409).
        public static let ratingNotAllowed = Code("rating_not_allowed")
        /// A value is out of range or malformed (HTTP 422).
        public static let invalidInput = Code("invalid_input")
        /// No such webhook delivery (HTTP 404).
        public static let deliveryNotFound = Code("delivery_not_found")
        /// SQLite failed (I/O error, corrupt or vanished file) (HTTP 503).
        public static let storageFailure = Code("storage_failure")
        /// The disk under the store is full (SQLITE_FULL): nothing was written; retry once space returns (HTTP 503).
        public static let storageFull = Code("storage_full")
        /// Cluster mode: this engine holds no live lease, under its current epoch, on the order's partition (another
        /// shard owns it now, or the lease lapsed); nothing was written (HTTP 409; docs/cluster.md).
        public static let partitionMoved = Code("partition_moved")
        /// Cluster mode: the courier already holds as many active orders as its capacity, across every shard; the
        /// dispatch was not written (HTTP 409; docs/cluster.md).
        public static let courierAtCapacity = Code("courier_at_capacity")
        /// The store was closed before the operation ran (HTTP 503).
        public static let closed = Code("storage_closed")
    }

    /// The stable code.
    public var code: Code
    /// A human-readable message; may change between versions.
    public var message: String

    /// An error with a code and message.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.name): \(message)" }

    /// Wraps any error thrown by GRDB/SQLite as `storage_failure` (`storage_full` for SQLITE_FULL), keeping
    /// StorageErrors as they are.
    static func wrap(_ error: any Error) -> StorageError {
        if let e = error as? StorageError { return e }
        if let e = error as? DatabaseError, e.resultCode == .SQLITE_FULL {
            return StorageError(.storageFull, "the disk is full: \(e.message ?? "SQLITE_FULL")")
        }
        return StorageError(.storageFailure, "\(error)")
    }
}
