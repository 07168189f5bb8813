/// Why a planning instance was refused: the JSON path of the offending value and what is wrong with it.
///
/// `path` is written as in the input (`orders[3].deadline`, `couriers[0].stops[1].order`, `matrix[2][5]`); an
/// empty path means the document itself. Malformed JSON, wrong types, out-of-range values and promised stops
/// that cannot be kept all land here; an order the planner merely cannot serve is not an error but `unassigned`.
public struct PlanInstanceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where in the document, e.g. `orders[3].deadline`.
    public var path: String
    /// What is wrong, for people.
    public var message: String
    /// An error at `path`.
    public init(_ path: String, _ message: String) { self.path = path; self.message = message }
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}
