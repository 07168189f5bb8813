import Vocabulary

extension OrderStatus {
    /// The SQL list used by the schema's CHECK constraints.
    static let sqlList = allCases.map { "'\($0.rawValue)'" }.joined(separator: ",")
}
