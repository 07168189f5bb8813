/// Where an order is in its life.
///
/// Which status may follow which, and who may ask, is the Marketplace's order state machine
/// (`OrderLifecycle`); this type only names the statuses. `delivered`, `cancelled` and `failed` are terminal.
/// Raw values are the wire and column spelling.
public enum OrderStatus: String, Sendable, CaseIterable, Hashable {
    case created
    case quoted
    case dispatched
    case accepted
    case pickedUp = "picked_up"
    case delivered
    case cancelled
    case failed

    /// Whether the order's life is over: no transition leaves this status (the state machine's tests check
    /// that its graph agrees).
    public var isTerminal: Bool {
        switch self {
        case .delivered, .cancelled, .failed: return true
        default: return false
        }
    }
}
