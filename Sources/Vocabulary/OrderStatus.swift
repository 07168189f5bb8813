/// Where an order is in its life.
///
/// ```
///  created ──► quoted ──► dispatched ──► accepted ──► picked_up ──► delivered
///                 ▲            │
///                 └────────────┘ (declined / offer timed out)
///  any non-terminal ──► cancelled | failed
/// ```
/// `delivered`, `cancelled` and `failed` are terminal. Raw values are the wire and column spelling.
public enum OrderStatus: String, Sendable, CaseIterable, Hashable {
    case created
    case quoted
    case dispatched
    case accepted
    case pickedUp = "picked_up"
    case delivered
    case cancelled
    case failed

    /// Whether no transition leaves this status.
    public var isTerminal: Bool {
        switch self {
        case .delivered, .cancelled, .failed: return true
        default: return false
        }
    }

    /// The statuses a transition may lead to from this one (the graph above), whoever asks.
    public var successors: Set<OrderStatus> {
        switch self {
        case .created: return [.quoted, .cancelled, .failed]
        case .quoted: return [.dispatched, .cancelled, .failed]
        case .dispatched: return [.accepted, .quoted, .cancelled, .failed]
        case .accepted: return [.pickedUp, .cancelled, .failed]
        case .pickedUp: return [.delivered, .cancelled, .failed]
        case .delivered, .cancelled, .failed: return []
        }
    }

    /// Whether the graph has an edge from this status to `next`.
    public func canTransition(to next: OrderStatus) -> Bool { successors.contains(next) }
}
