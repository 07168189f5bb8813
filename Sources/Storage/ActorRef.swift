import Vocabulary

/// Who acted, as written in the event log.
public struct ActorRef: Hashable, Sendable, CustomStringConvertible {
    /// The kind of actor; raw values are the column and wire spelling.
    public enum Role: String, Sendable, CaseIterable, Hashable {
        case customer, courier, dispatcher, admin, system
        /// The SQL list used by the schema's CHECK constraint.
        static let sqlList = allCases.map { "'\($0.rawValue)'" }.joined(separator: ",")
    }

    /// The actor's role.
    public var role: Role
    /// The actor's id within its role as text: a customer's opaque id, a courier's decimal id, an operator's
    /// number or name; `"0"` for `system`.
    public var id: String

    /// An actor from role and numeric id (couriers, operators, the system).
    public init(_ role: Role, _ id: UInt64) {
        self.role = role
        self.id = String(id)
    }

    /// An actor from role and id text, as read back from the event log.
    public init(_ role: Role, text: String) {
        self.role = role
        self.id = text
    }

    /// A customer acting for itself.
    public init(customer: CustomerID) {
        role = .customer
        id = customer.rawValue
    }

    /// The engine itself (dispatch, timeouts).
    public static let system = ActorRef(.system, 0)

    /// The customer this actor is, when its role is `customer` and its id a valid customer id.
    public var customerID: CustomerID? { role == .customer ? CustomerID(rawValue: id) : nil }
    /// The courier this actor is, when its role is `courier` and its id a decimal courier id.
    public var courierID: CourierID? { role == .courier ? UInt64(id).map { CourierID($0) } : nil }

    public var description: String { "\(role.rawValue):\(id)" }
}
