/// An order identifier, as Marketplace assigns it.
public struct OrderID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: OrderID, b: OrderID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "order \(rawValue)" }
}
