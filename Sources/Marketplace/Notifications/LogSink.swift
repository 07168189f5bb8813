import Foundation
import JSON
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

    /// Appends one JSON line (used by the SMS and push log adapters too).
    func write(_ line: [UInt8]) {
        // The throwing write: an I/O error (disk full) loses the line instead of trapping.
        let ok = lock.withLock { _ in (try? handle.write(contentsOf: Data(line + [UInt8(ascii: "\n")]))) != nil }
        if !ok { failedWrites.add(1, ordering: .relaxed) }
    }

    /// The log line for `n` (without its newline).
    static func line(_ n: OutboundNotification) -> [UInt8] {
        var w = JSONWriter(capacity: 256 + n.payload.count)
        w.beginObject()
        w.key("event"); w.string(n.event)
        w.key("recipients")
        w.beginArray()
        for r in n.recipients {
            switch r {
            case .customer(let c): w.string("customer:\(c)")
            case .courier(let c): w.string("courier:\(c)")
            case .operators: w.string("operators")
            }
        }
        w.endArray()
        w.key("title"); w.string(n.title)
        w.key("text"); w.string(n.text)
        w.key("payload"); w.raw(n.payload)
        w.endObject()
        return w.bytes
    }
}
