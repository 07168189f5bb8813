import ArgumentParser
import HexGeo

import Foundation

/// `hexfleet h3 <function>`: CSV lines on stdin, one answer line per input line on stdout.
struct H3Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "h3",
        abstract: "Batch H3 functions: CSV lines on stdin, one answer line per input line on stdout.",
        discussion: """
            Functions and their lines (angles in degrees, cells in hex):
              latlng-to-cell    lat,lng,res  -> cell
              cell-to-latlng    cell         -> lat,lng
              cell-to-boundary  cell         -> lat lng;lat lng;...
              grid-disk         cell,k       -> cells within k steps, sorted, space-separated
              cell-to-parent    cell,res     -> parent
              cell-to-children  cell,res     -> children, sorted, space-separated
              grid-distance     a,b          -> distance, or -1 where H3 reports an error
              is-valid-cell     hex          -> true/false
            A bad line stops the run with its line number on stderr and exit status 1.
            """)

    @Argument(help: ArgumentHelp("The function to apply to each line.",
                                 valueName: H3Line.Function.allCases.map(\.rawValue).joined(separator: "|")))
    var function: String

    func validate() throws {
        guard H3Line.Function(rawValue: function) != nil else {
            throw ValidationError("unknown function '\(function)'; one of: "
                + H3Line.Function.allCases.map(\.rawValue).joined(separator: ", "))
        }
    }

    func run() throws {
        guard let f = H3Line.Function(rawValue: function) else { throw ExitCode.validationFailure }
        var n = 0
        var out = ""
        out.reserveCapacity(1 << 16)
        while let line = readLine(strippingNewline: true) {
            n += 1
            do {
                out += try H3Line.evaluate(f, line[...])
                out += "\n"
            } catch {
                flush(&out)
                FileHandle.standardError.write(Data("line \(n): \(error)\n".utf8))
                throw ExitCode.failure
            }
            if out.utf8.count >= 1 << 16 { flush(&out) }
        }
        flush(&out)
    }

    private func flush(_ out: inout String) {
        guard !out.isEmpty else { return }
        FileHandle.standardOutput.write(Data(out.utf8))
        out.removeAll(keepingCapacity: true)
    }
}
