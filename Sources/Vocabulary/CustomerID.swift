/// A customer's identity as the platform names it: an opaque string of 1–64 bytes from `[A-Za-z0-9._:@-]`
/// (a UUID, `cust-42`, an e-mail-like handle), stored and answered exactly as given. Numeric-looking ids are
/// just strings here: `"0042"` and `"42"` are different customers.
public struct CustomerID: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The longest id accepted, in bytes.
    public static let maxBytes = 64

    /// The id as given, as shown on the wire.
    public let rawValue: String

    /// Wraps `rawValue` when it is a valid customer id, else nil.
    public init?(rawValue: String) {
        guard Self.isValid(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// Wraps a text when it is a valid customer id, else nil.
    public init?(_ text: some StringProtocol) { self.init(rawValue: String(text)) }

    /// A numeric customer id, written in decimal (always valid: at most 20 digits).
    public init(_ number: UInt64) { rawValue = String(number) }

    /// Whether `text` is 1–64 bytes, each from `[A-Za-z0-9._:@-]`.
    public static func isValid(_ text: some StringProtocol) -> Bool {
        var count = 0
        for byte in text.utf8 {
            count += 1
            guard count <= maxBytes, isAllowed(byte) else { return false }
        }
        return count > 0
    }

    @inline(__always) static func isAllowed(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    public static func < (a: CustomerID, b: CustomerID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { rawValue }
}
