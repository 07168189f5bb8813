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
    /// The actor's id within its role (customer id, courier id, …); 0 for `system`.
    public var id: UInt64

    /// An actor from role and id.
    public init(_ role: Role, _ id: UInt64) {
        self.role = role
        self.id = id
    }

    /// The engine itself (dispatch, timeouts).
    public static let system = ActorRef(.system, 0)

    public var description: String { "\(role.rawValue):\(id)" }
}
