import HTTPServer
import JSON

/// The subscribers of `/v1/ws/events`: each names the fences it follows with `{"op":"subscribe","fences":[…]}`
/// (or `"fences":"*"` for all) and `{"op":"unsubscribe","fences":[…]}`; every event of a followed fence is sent
/// as one text message. A subscriber whose unsent bytes pass the soft budget misses events (counted); past the
/// hard budget it is closed with 1013, so a slow reader never holds the loop or unbounded memory. Loop-owned.
final class FenceEventHub {
    final class Subscriber {
        let connection: WebSocketConnection
        var fences: Set<String> = []
        var all = false
        init(connection: WebSocketConnection) { self.connection = connection }
    }

    private let configuration: TrackingConfiguration
    private var subscribers: [ObjectIdentifier: Subscriber] = [:]
    /// Subscribers by fence id, and those following every fence.
    private var byFence: [String: [ObjectIdentifier: Subscriber]] = [:]
    private var followAll: [ObjectIdentifier: Subscriber] = [:]
    /// Events not sent to a subscriber over its soft budget.
    private(set) var skipped: UInt64 = 0
    /// Subscribers closed past the hard budget.
    private(set) var evicted: UInt64 = 0
    static let maxFencesPerConnection = 10_000

    init(configuration: TrackingConfiguration) {
        self.configuration = configuration
    }

    var connectionCount: Int { subscribers.count }

    /// Whether anyone follows events of this fence.
    @inline(__always)
    func hasSubscribers(_ fence: String) -> Bool { !followAll.isEmpty || byFence[fence] != nil }

    func open(_ connection: WebSocketConnection) {
        let sub = Subscriber(connection: connection)
        let key = ObjectIdentifier(sub)
        subscribers[key] = sub
        connection.onText = { [unowned self, unowned sub] text in self.command(text, sub) }
        connection.onBinary = { [unowned sub] _ in
            sub.connection.send(textBytes: SocketErrorMessage.bytes(APIError(.badRequest, "commands are JSON text messages")))
        }
        connection.onClose = { [unowned self, unowned sub] _, _ in self.remove(sub) }
    }

    private func remove(_ sub: Subscriber) {
        let key = ObjectIdentifier(sub)
        guard subscribers.removeValue(forKey: key) != nil else { return }
        for f in sub.fences { drop(f, key) }
        followAll.removeValue(forKey: key)
    }

    private func drop(_ fence: String, _ key: ObjectIdentifier) {
        byFence[fence]?.removeValue(forKey: key)
        if byFence[fence]?.isEmpty == true { byFence.removeValue(forKey: fence) }
    }

    func stop() {
        for sub in Array(subscribers.values) { sub.connection.close(code: 1001, reason: "server shutting down") }
    }

    private func command(_ text: String, _ sub: Subscriber) {
        let message: JSONValue
        do { message = try JSONReader.parse(text) } catch {
            sub.connection.send(textBytes: SocketErrorMessage.bytes(APIError(.invalidJSON, "not JSON: \(error)")))
            return
        }
        do throws(APIError) {
            guard let op = message["op"]?.string, op == "subscribe" || op == "unsubscribe" else {
                throw APIError(.unknownOp, "op must be subscribe or unsubscribe")
            }
            guard let fences = message["fences"] else { throw APIError(.invalidParameter, "fences is a list of ids or \"*\"") }
            let key = ObjectIdentifier(sub)
            if fences.string == "*" {
                sub.all = op == "subscribe"
                if sub.all { followAll[key] = sub } else { followAll.removeValue(forKey: key) }
            } else {
                guard let list = fences.array else { throw APIError(.invalidParameter, "fences is a list of ids or \"*\"") }
                var ids: [String] = []
                for v in list {
                    guard let id = v.string, !id.isEmpty, id.utf8.count <= FenceDefinition.maxIDBytes else {
                        throw APIError(.invalidFenceID, "a fence id is a string of 1–64 bytes")
                    }
                    ids.append(id)
                }
                if op == "subscribe" {
                    guard sub.fences.count + ids.count <= Self.maxFencesPerConnection else {
                        throw APIError(.tooManySubscriptions, "at most \(Self.maxFencesPerConnection) fences per connection")
                    }
                    for id in ids where sub.fences.insert(id).inserted { byFence[id, default: [:]][key] = sub }
                } else {
                    for id in ids where sub.fences.remove(id) != nil { drop(id, key) }
                }
            }
            var w = JSONWriter(capacity: 64)
            w.beginObject()
            w.key("type"); w.string(op == "subscribe" ? "subscribed" : "unsubscribed")
            w.key("fences"); if sub.all { w.string("*") } else { w.number(sub.fences.count) }
            w.endObject()
            sub.connection.send(textBytes: w.bytes)
        } catch {
            sub.connection.send(textBytes: SocketErrorMessage.bytes(error))
        }
    }

    /// Sends an event's JSON to everyone following its fence.
    func publish(fence: String, _ json: [UInt8]) {
        if let subs = byFence[fence] { for sub in subs.values where !sub.all { send(sub, json) } }
        for sub in followAll.values { send(sub, json) }
    }

    private func send(_ sub: Subscriber, _ json: [UInt8]) {
        let c = sub.connection
        guard c.isOpen else { return }
        let queued = c.queuedBytes
        if queued > configuration.hardBudgetBytes {
            evicted &+= 1
            c.close(code: configuration.evictionCloseCode, reason: "client too slow")
            return
        }
        if queued > configuration.softBudgetBytes {
            skipped &+= 1
            return
        }
        c.send(textBytes: json)
    }
}
