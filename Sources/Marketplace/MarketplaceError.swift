import Storage

/// An error from the Marketplace module, with a stable `snake_case` code the Engine maps to HTTP.
///
/// Storage errors pass through with their own code (`invalid_transition`, `idempotency_conflict`, …),
/// so the Engine's one `switch` on `code.name` covers both modules.
public struct MarketplaceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable error code; add codes, never rename or reuse one.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The wire spelling.
        public let name: String
        init(_ name: String) { self.name = name }
        public var description: String { name }

        /// No live quote has that id (HTTP 404).
        public static let quoteNotFound = Code("quote_not_found")
        /// The quote is past its expiry (HTTP 409 or 410).
        public static let quoteExpired = Code("quote_expired")
        /// The order does not match its quote (other customer, vehicle or points) (HTTP 409).
        public static let quoteMismatch = Code("quote_mismatch")
        /// No route joins pick-up and drop-off (HTTP 422).
        public static let noRoute = Code("no_route")
        /// The vehicle type is not in the fare table (HTTP 422).
        public static let unknownVehicle = Code("unknown_vehicle")
        /// A coordinate is not finite or out of range (HTTP 422).
        public static let invalidCoordinate = Code("invalid_coordinate")
        /// The actor's role may not do this (HTTP 403).
        public static let forbidden = Code("forbidden")
        /// Too many live quotes held (HTTP 503).
        public static let quoteCapacity = Code("quote_capacity")
        /// The fare configuration is malformed (start-up error).
        public static let invalidConfig = Code("invalid_config")
        /// A value is out of range (HTTP 422).
        public static let invalidInput = Code("invalid_input")
        /// The order does not exist, or the viewer may not see it (HTTP 404).
        public static let orderNotFound = Code("order_not_found")
    }

    /// The stable code.
    public var code: Code
    /// For people; may change between versions.
    public var message: String

    /// An error with a code and message.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// A Storage error, keeping its code name.
    public init(_ storage: StorageError) {
        self.code = Code(storage.code.name)
        self.message = storage.message
    }

    public var description: String { "\(code.name): \(message)" }
}
