import Foundation

/// Where the shared data folder is: `HEXFLEET_SHARED_DATA`, else `../shared/data` beside the repo.
public enum SharedData {
    /// The repository root, found from this source file's path.
    public static let repoRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }   // Tests/TestSupport/VectorFile.swift
        return url
    }()

    /// The shared data directory.
    public static var directory: URL {
        if let env = ProcessInfo.processInfo.environment["HEXFLEET_SHARED_DATA"] { return URL(fileURLWithPath: env) }
        return repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
    }

    /// A file under the shared data directory.
    public static func url(_ relative: String) -> URL { directory.appendingPathComponent(relative) }
}

/// A CSV vector file, read whole; rows keep their 1-based line numbers for failure messages.
public struct VectorFile: Sendable {
    /// One line split on commas.
    public struct Row: Sendable {
        public let number: Int
        public let fields: [Substring]
        public func text(_ i: Int) -> String { String(fields[i]) }
        public func double(_ i: Int) throws -> Double {
            guard let v = Double(fields[i]) else { throw VectorError.badField(line: number, column: i) }
            return v
        }
        public func int(_ i: Int) throws -> Int {
            guard let v = Int(fields[i]) else { throw VectorError.badField(line: number, column: i) }
            return v
        }
        public func hex(_ i: Int) throws -> UInt64 {
            guard let v = UInt64(fields[i], radix: 16) else { throw VectorError.badField(line: number, column: i) }
            return v
        }
    }

    public enum VectorError: Error { case badField(line: Int, column: Int) }

    public let rows: [Row]

    /// Reads `relative` under the shared data directory.
    public init(_ relative: String) throws {
        let text = try String(contentsOf: SharedData.url(relative), encoding: .utf8)
        var rows: [Row] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            rows.append(Row(number: i + 1, fields: line.split(separator: ",", omittingEmptySubsequences: false)))
        }
        self.rows = rows
    }
}
