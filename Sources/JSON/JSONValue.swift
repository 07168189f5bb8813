/// A parsed JSON document: a small tree, off the hot path (request bodies, WebSocket commands).
///
/// Numbers keep their text, so a 64-bit id survives exactly (`uint64`), and a coordinate reads as `double`.
/// Objects keep member order as written; lookups scan, which beats hashing at API body sizes.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    /// The member named `key` of an object (the first one, if repeated), else nil.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    /// The string, if this is one.
    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    /// The number as a double, if this is a number.
    public var double: Double? { if case .number(let n) = self { return n.double } else { return nil } }
    /// The number as an exact Int64, if this is an integer number in range.
    public var int64: Int64? { if case .number(let n) = self { return n.int64 } else { return nil } }
    /// The number as an exact UInt64, if this is a non-negative integer number in range.
    public var uint64: UInt64? { if case .number(let n) = self { return n.uint64 } else { return nil } }
    /// The Boolean, if this is one.
    public var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    /// The elements, if this is an array.
    public var array: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    /// The members, if this is an object.
    public var object: [(String, JSONValue)]? { if case .object(let o) = self { return o } else { return nil } }
    /// Whether this is `null`.
    public var isNull: Bool { if case .null = self { return true } else { return false } }

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a.double == b.double
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}
