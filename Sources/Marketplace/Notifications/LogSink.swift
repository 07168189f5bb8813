import Foundation
import Synchronization

/// The default sink: one JSON line per notification appended to a file (or standard error).
///
/// Line: `{"event":…,"recipients":["customer:7","courier:3","operators"],"title":…,"text":…,"payload":{…}}`.
public final class LogSink: NotificationSink {
    public let name = "log"
    private let handle: FileHandle
    private let lock = Mutex(())
    private let failedWrites = Atomic<UInt64>(0)

    /// Lines lost to write errors.
    public var writeFailures: UInt64 { failedWrites.load(ordering: .relaxed) }

    /// Appends to `path`, creating it.
    /// - Throws: `invalid_config` when the file cannot be opened.
    public init(path: String) throws(MarketplaceError) {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw MarketplaceError(.invalidConfig, "cannot create \(path)")
            }
        }
        guard let h = FileHandle(forWritingAtPath: path) else { throw MarketplaceError(.invalidConfig, "cannot open \(path)") }
        _ = try? h.seekToEnd()
        handle = h
    }

    /// Writes to standard error.
    public init() { handle = FileHandle.standardError }

    public func deliver(_ notification: OutboundNotification) {
        write(Self.line(notification))
    }

    /// Appends one raw line (used by the SMS and push log adapters too).
    func write(_ line: String) {
        // The throwing write: an I/O error (disk full) loses the line instead of trapping.
        let ok = lock.withLock { _ in (try? handle.write(contentsOf: Data((line + "\n").utf8))) != nil }
        if !ok { failedWrites.add(1, ordering: .relaxed) }
    }

    static func line(_ n: OutboundNotification) -> String {
        let recipients = n.recipients.map { r -> String in
            switch r {
            case .customer(let c): return "\"customer:\(c)\""
            case .courier(let c): return "\"courier:\(c)\""
            case .operators: return "\"operators\""
            }
        }.joined(separator: ",")
        return "{\"event\":\(jsonString(n.event)),\"recipients\":[\(recipients)],\"title\":\(jsonString(n.title)),"
            + "\"text\":\(jsonString(n.text)),\"payload\":\(String(decoding: n.payload, as: UTF8.self))}"
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
