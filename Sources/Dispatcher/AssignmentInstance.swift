/// A matching instance in the shared text format: a first line `R C`, then `R` lines of `C`
/// whitespace-separated costs, `-` marking a forbidden pair. Blank trailing lines and `\r` are allowed.
public struct AssignmentInstance: Sendable {
    /// The costs, `.infinity` where forbidden.
    public let matrix: CostMatrix
    /// Number of forbidden pairs.
    public let forbiddenCount: Int

    /// Fraction of pairs allowed, in [0, 1] (1 for an empty instance).
    public var density: Double {
        let total = matrix.rows * matrix.cols
        return total == 0 ? 1 : Double(total - forbiddenCount) / Double(total)
    }

    /// Whether the sparse solver should be used: some pair is forbidden and at most half are allowed.
    public var prefersSparse: Bool { forbiddenCount > 0 && density <= 0.5 }

    /// Solves with the dense or sparse solver, whichever `prefersSparse` picks.
    public func solve() throws(AssignmentError) -> Assignment {
        if prefersSparse { return try LinearAssignment.solve(SparseCostMatrix(matrix)) }
        return try LinearAssignment.solve(matrix)
    }

    /// Parses the text in `bytes`.
    /// - Throws: `AssignmentParseError` naming the 1-based line of the first problem.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(AssignmentParseError) {
        var s = ByteScanner(bytes)
        s.skipBlankLines()
        guard let r = s.integer(), let c = s.integer() else {
            throw AssignmentParseError(line: s.line, message: "expected a header `R C` with two non-negative integers")
        }
        guard s.atEndOfLine() else { throw AssignmentParseError(line: s.line, message: "extra text after `R C`") }
        let (count, overflow) = r.multipliedReportingOverflow(by: c)
        // Every cost takes at least two bytes ("7 "), so a header promising more than the file can
        // hold is refused before allocating anything.
        guard !overflow, count <= bytes.count / 2 + 1 else {
            throw AssignmentParseError(line: s.line, message: "header promises \(r)x\(c) costs, more than the file can hold")
        }
        var costs = [Double](repeating: 0, count: count)
        var forbidden = 0
        try costs.withUnsafeMutableBufferPointer { (out) throws(AssignmentParseError) in
            for i in 0..<r {
                s.nextLine()
                if s.isAtEnd {
                    throw AssignmentParseError(line: s.line, message: "expected \(r) cost rows, found \(i)")
                }
                for j in 0..<c {
                    switch s.cost() {
                    case .value(let x):
                        if x.isNaN || x == -.infinity {
                            throw AssignmentParseError(line: s.line, message: "cost \(j + 1) is not a usable number")
                        }
                        out[i * c + j] = x
                        if x == .infinity { forbidden += 1 }
                    case .forbidden:
                        out[i * c + j] = .infinity
                        forbidden += 1
                    case .missing:
                        throw AssignmentParseError(line: s.line, message: "expected \(c) costs, found \(j)")
                    case .bad(let token):
                        throw AssignmentParseError(line: s.line, message: "cost \(j + 1) `\(token)` is not a number or `-`")
                    }
                }
                guard s.atEndOfLine() else {
                    throw AssignmentParseError(line: s.line, message: "more than \(c) costs")
                }
            }
            s.nextLine()
            s.skipBlankLines()
            if !s.isAtEnd {
                throw AssignmentParseError(line: s.line, message: "unexpected text after the \(r) cost rows")
            }
        }
        do {
            self.matrix = try CostMatrix(rows: r, cols: c, costs: costs)
        } catch {
            throw AssignmentParseError(line: 1, message: "\(error)")
        }
        self.forbiddenCount = forbidden
    }

    /// Parses a string (convenience for tests and small inputs).
    public init(parsing text: String) throws(AssignmentParseError) {
        var copy = text
        let result = copy.withUTF8 { p in
            Result { () throws(AssignmentParseError) in try AssignmentInstance(parsing: UnsafeRawBufferPointer(p)) }
        }
        self = try result.get()
    }
}
