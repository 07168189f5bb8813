import Vocabulary

/// One line of the `hexfleet h3` batch format: parses a CSV input line and formats the answer,
/// exactly as the reference vectors in `shared/data/h3/` write them (input = the file's leading columns).
public enum H3Line {
    /// The batch functions, named as on the command line.
    public enum Function: String, CaseIterable, Sendable {
        /// `lat,lng,res` (degrees) → `cell`
        case latLngToCell = "latlng-to-cell"
        /// `cell` → `lat,lng` (degrees)
        case cellToLatLng = "cell-to-latlng"
        /// `cell` → `lat lng;lat lng;…` (degrees, H3's vertex order)
        case cellToBoundary = "cell-to-boundary"
        /// `cell,k` → every cell within k steps, sorted, space-separated
        case gridDisk = "grid-disk"
        /// `cell,res` → `parent`
        case cellToParent = "cell-to-parent"
        /// `cell,res` → children, sorted, space-separated
        case cellToChildren = "cell-to-children"
        /// `a,b` → grid distance, or `-1` where H3 reports an error
        case gridDistance = "grid-distance"
        /// `hex` → `true`/`false`
        case isValidCell = "is-valid-cell"

        /// How many leading CSV columns the function reads.
        public var inputColumns: Int {
            switch self {
            case .latLngToCell: 3
            case .cellToLatLng, .cellToBoundary, .isValidCell: 1
            case .gridDisk, .cellToParent, .cellToChildren, .gridDistance: 2
            }
        }
    }

    /// Why a line was refused.
    public struct LineError: Error, Sendable, CustomStringConvertible {
        public let message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    /// Largest k accepted by `grid-disk` (bounds the output of one line).
    public static let maxK = 1000

    /// The output for one input line (without newline).
    public static func evaluate(_ function: Function, _ line: Substring) throws(LineError) -> String {
        let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingWhitespace() }
        guard fields.count == function.inputColumns else {
            throw LineError("expected \(function.inputColumns) comma-separated field(s), got \(fields.count)")
        }
        do {
            switch function {
            case .latLngToCell:
                let lat = try double(fields[0], "lat"), lng = try double(fields[1], "lng")
                let res = try int(fields[2], "res")
                return try H3.latLngToCell(LatLng(degrees: lat, lng), resolution: res).description
            case .cellToLatLng:
                let p = try H3.cellToLatLng(try cell(fields[0]))
                return "\(p.latDegrees),\(p.lngDegrees)"
            case .cellToBoundary:
                let b = try H3.cellToBoundary(try cell(fields[0]))
                return b.map { "\($0.latDegrees) \($0.lngDegrees)" }.joined(separator: ";")
            case .gridDisk:
                let c = try cell(fields[0])
                let k = try int(fields[1], "k")
                guard k >= 0 && k <= maxK else { throw LineError("k must be in 0…\(maxK)") }
                var out: [H3Cell] = []
                try H3.gridDisk(c, k: k, into: &out)
                return out.sorted().map(\.description).joined(separator: " ")
            case .cellToParent:
                return try H3.cellToParent(try cell(fields[0]), resolution: try int(fields[1], "res")).description
            case .cellToChildren:
                let c = try cell(fields[0])
                let res = try int(fields[1], "res")
                // Not `res - resolution`: that overflows (a trap) for a res near Int.min.
                guard res <= H3.getResolution(c) + 8 else { throw LineError("at most 8 resolutions below the cell") }
                return try H3.cellToChildren(c, resolution: res).sorted().map(\.description).joined(separator: " ")
            case .gridDistance:
                let a = try cell(fields[0]), b = try cell(fields[1])
                do { return String(try H3.gridDistance(a, b)) } catch { return "-1" }
            case .isValidCell:
                let text = fields[0]
                guard let c = H3Cell(string: text) else { throw LineError("not a 64-bit hex value: \(text)") }
                return H3.isValidCell(c) ? "true" : "false"
            }
        } catch let e as LineError {
            throw e
        } catch let e as HexGeoError {
            throw LineError(e.description)
        } catch {
            throw LineError("\(error)")
        }
    }

    static func double(_ s: Substring, _ name: String) throws(LineError) -> Double {
        guard let v = Double(s), v.isFinite else { throw LineError("\(name) is not a finite number: \(s)") }
        return v
    }

    static func int(_ s: Substring, _ name: String) throws(LineError) -> Int {
        guard let v = Int(s) else { throw LineError("\(name) is not an integer: \(s)") }
        return v
    }

    static func cell(_ s: Substring) throws(LineError) -> H3Cell {
        guard let c = H3Cell(string: s) else { throw LineError("not a hex cell id: \(s)") }
        return c
    }
}

extension Substring {
    /// Drops leading and trailing spaces, tabs and carriage returns.
    func trimmingWhitespace() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return s
    }
}
