import Vocabulary

/// The order state machine: which status may follow which (the graph, here), and which edges each actor may take
/// (`OrderLifecycle+Rules.swift`).
///
/// ```
///  created ──► quoted ──► dispatched ──► accepted ──► picked_up ──► delivered
///                 ▲            │
///                 └────────────┘ (declined / offer timed out)
///  any non-terminal ──► cancelled | failed
/// ```
/// `delivered`, `cancelled` and `failed` are terminal (`OrderStatus.isTerminal`): no edge leaves them.
///
/// The store knows no graph: it compares the committed status with the set a request names
/// (`OrderTransitionRequest.from`), which `OrderLifecycle.Permit` computes from these edges and the actor's
/// rules. So the check stays atomic in the store's write transaction while the rules live here.
///
/// - Complexity: every answer is a switch or a lookup in a table built once; nothing here is on a hot path
///   (one call per status change, which costs a SQLite commit).
public enum OrderLifecycle {
    /// The statuses a transition may lead to from `status` (the graph above), whoever asks.
    public static func successors(of status: OrderStatus) -> Set<OrderStatus> {
        switch status {
        case .created: return [.quoted, .cancelled, .failed]
        case .quoted: return [.dispatched, .cancelled, .failed]
        case .dispatched: return [.accepted, .quoted, .cancelled, .failed]
        case .accepted: return [.pickedUp, .cancelled, .failed]
        case .pickedUp: return [.delivered, .cancelled, .failed]
        case .delivered, .cancelled, .failed: return []
        }
    }

    /// The statuses with an edge to `status`: where an order may be for a transition to `status`.
    public static func predecessors(of status: OrderStatus) -> Set<OrderStatus> {
        incoming[status] ?? []
    }

    /// Whether the graph has an edge from `from` to `to`.
    public static func canTransition(from: OrderStatus, to: OrderStatus) -> Bool {
        successors(of: from).contains(to)
    }

    /// `predecessors(of:)` for every status, inverted once from `successors(of:)` so the two never disagree.
    private static let incoming: [OrderStatus: Set<OrderStatus>] = {
        var table: [OrderStatus: Set<OrderStatus>] = [:]
        for from in OrderStatus.allCases {
            for to in successors(of: from) { table[to, default: []].insert(from) }
        }
        return table
    }()
}
