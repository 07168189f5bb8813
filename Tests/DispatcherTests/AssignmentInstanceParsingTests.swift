import Testing
@testable import Dispatcher

@Suite("Assignment instance parsing")
struct AssignmentInstanceParsingTests {
    @Test("a small instance with forbidden pairs, CRLF and trailing blank lines parses")
    func parsesWellFormed() throws {
        let inst = try AssignmentInstance(parsing: "2 3\r\n1 - 2.5\r\n-3 4e2 0.125\r\n\r\n\n")
        #expect(inst.matrix.rows == 2 && inst.matrix.cols == 3)
        #expect(inst.matrix.costs == [1, .infinity, 2.5, -3, 400, 0.125])
        #expect(inst.forbiddenCount == 1)
    }

    @Test("seventeen-digit decimals round exactly as Double's own parser does")
    func exactDecimals() throws {
        let texts = ["1773.6967728124262", "0.1", "24552.45984186346", "123456789012345.6", "0.000001"]
        let inst = try AssignmentInstance(parsing: "1 \(texts.count)\n" + texts.joined(separator: " ") + "\n")
        #expect(inst.matrix.costs == texts.map { Double($0)! })
    }

    @Test("malformed input names its line", arguments: [
        ("", 1), ("2\n", 1), ("x 2\n1 2\n", 1), ("2 2\n1 2\n3\n", 3), ("2 2\n1 2\n3 4 5\n", 3),
        ("2 2\n1 2\n", 3), ("2 2\n1 abc\n3 4\n", 2), ("1 1\n5\n6\n", 3), ("1 2\n1 nan\n", 2), ("1 1\n--\n", 2),
        ("99999 99999\n1\n", 1),
    ])
    func namesTheLine(text: String, line: Int) {
        do {
            _ = try AssignmentInstance(parsing: text)
            Issue.record("\(text.debugDescription) parsed")
        } catch {
            #expect(error.line == line, "\(text.debugDescription): \(error)")
        }
    }
}
