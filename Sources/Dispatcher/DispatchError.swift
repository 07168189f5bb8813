/// A dispatch round could not run.
public enum DispatchError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The ETA provider failed.
    case eta(ETAProviderError)
    /// The ETA provider returned the wrong number of entries.
    case etaShape(expected: Int, got: Int)
    /// The matching failed (cannot happen with the unassigned option; kept typed rather than trapping).
    case assignment(AssignmentError)

    public var description: String {
        switch self {
        case .eta(let e): "\(e)"
        case let .etaShape(expected, got): "ETA provider returned \(got) entries, expected \(expected)"
        case .assignment(let e): "assignment failed: \(e)"
        }
    }
}
