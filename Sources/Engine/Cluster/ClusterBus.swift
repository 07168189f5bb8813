import CNats
import EventLoop
import Foundation
import Logging

/// A message that arrived on one of the bus's subscriptions, copied off libnats' buffer.
struct ClusterMessage: Sendable {
    /// The subscription it came in on (the tag given to `subscribe`).
    var tag: Int
    var subject: String
    /// Where to send an answer (a request), or nil.
    var reply: String?
    var data: [UInt8]
}

/// Core NATS (no JetStream) between the engines of a cluster: publish, subscribe, and request/reply that never waits.
///
/// libnats (Debian's libnats-dev, through the `CNats` shim) connects in the background (`RetryOnFailedConnect`, so
/// the constructor returns at once and publishes made before the connection are buffered), reconnects for ever, and
/// delivers each subscription's messages on a thread of its own; the bus copies every message and hands it to the
/// loop through an `AsyncWakeup`, so handlers run on the loop. Publishing only copies into libnats' buffer (its
/// flusher thread writes the socket), so it is safe on the loop.
///
/// A request is a publish with a reply subject under the bus's own inbox (one wildcard subscription for all of
/// them); its answer, or its timeout (a loop timer), completes it exactly once. Loop-owned.
final class ClusterBus {
    /// What a request came to.
    enum Reply: Sendable {
        case answer([UInt8])
        case timedOut
    }

    /// Shared with libnats' threads: where their messages go.
    private final class Mailbox: Sendable {
        let sender: AsyncSender<ClusterMessage>
        let tag: Int
        init(sender: AsyncSender<ClusterMessage>, tag: Int) {
            self.sender = sender
            self.tag = tag
        }
    }

    private let loop: Loop
    private let logger: Logger
    private var connection: OpaquePointer?
    private var subscriptions: [OpaquePointer] = []
    private var mailboxes: [Mailbox] = []
    private var wakeup: AsyncWakeup<ClusterMessage>?
    private var handlers: [Int: (ClusterMessage) -> Void] = [:]
    private let inbox: String
    private var pending: [UInt64: (reply: (Reply) -> Void, deadlineMs: UInt64)] = [:]
    private var nextRequest: UInt64 = 1
    private var sweep: EventLoop.Timer?
    private static let inboxTag = -1

    /// Starts connecting to `servers` (any of them, and those the cluster announces) as `name`; returns at once.
    /// - Throws: `EventRelayError` for malformed URLs or options libnats refuses.
    init(servers: [String], name: String, loop: Loop, logger: Logger) throws {
        self.loop = loop
        self.logger = logger
        inbox = "_INBOX.hexfleet.\(name).\(UInt64.random(in: 1...UInt64.max))"
        var options: OpaquePointer?
        try JetStreamPublisher.check(natsOptions_Create(&options), "creating connection options")
        defer { natsOptions_Destroy(options) }
        let cStrings = servers.map { UnsafePointer<CChar>?(strdup($0)) }
        defer { for s in cStrings { free(UnsafeMutablePointer(mutating: s)) } }
        var status = cStrings.withUnsafeBufferPointer { buffer in
            natsOptions_SetServers(options, UnsafeMutablePointer(mutating: buffer.baseAddress), Int32(buffer.count))
        }
        try JetStreamPublisher.check(status, "reading the server URLs")
        try JetStreamPublisher.check(natsOptions_SetName(options, "hexfleet-cluster-\(name)"), "naming the connection")
        try JetStreamPublisher.check(natsOptions_SetTimeout(options, 2_000), "setting the connect timeout")
        try JetStreamPublisher.check(natsOptions_SetMaxReconnect(options, -1), "setting reconnects")
        try JetStreamPublisher.check(natsOptions_SetReconnectWait(options, 100), "setting the reconnect wait")
        // An engine never needs its own broadcasts back (claims go to every other live node).
        try JetStreamPublisher.check(natsOptions_SetNoEcho(options, true), "turning echo off")
        try JetStreamPublisher.check(natsOptions_SetRetryOnFailedConnect(options, true, nil, nil), "connecting in the background")
        status = natsConnection_Connect(&connection, options)
        guard status == NATS_OK || status == NATS_NOT_YET_CONNECTED else {
            throw EventRelayError(JetStreamPublisher.describe(status, "connecting to \(servers.joined(separator: ","))"))
        }
        let wakeup = try AsyncWakeup<ClusterMessage>(loop: loop) { [unowned self] message in self.deliver(message) }
        self.wakeup = wakeup
        try subscribe(inbox + ".*", tag: Self.inboxTag) { [unowned self] message in self.answered(message) }
        let timer = try EventLoop.Timer(loop: loop)
        try timer.start(afterMs: 5, repeatMs: 5) { [unowned self] in self.expireRequests() }
        sweep = timer
    }

    deinit { close() }

    /// Whether the connection is up now (publishes made while it is not are buffered by libnats, up to its limit).
    var isConnected: Bool {
        guard let connection else { return false }
        return natsConnection_Status(connection) == NATS_CONN_STATUS_CONNECTED
    }

    /// Calls `handler` on the loop for every message on `subject` (wildcards allowed); `tag` tells them apart.
    func subscribe(_ subject: String, tag: Int, handler: @escaping (ClusterMessage) -> Void) throws {
        guard let connection, let wakeup else { throw EventRelayError("the cluster bus is closed") }
        let mailbox = Mailbox(sender: wakeup.sender, tag: tag)
        var subscription: OpaquePointer?
        let status = natsConnection_Subscribe(&subscription, connection, subject, { _, _, msg, closure in
            guard let msg else { return }
            defer { natsMsg_Destroy(msg) }
            guard let closure else { return }
            let mailbox = Unmanaged<Mailbox>.fromOpaque(closure).takeUnretainedValue()
            let count = Int(natsMsg_GetDataLength(msg))
            var data = [UInt8](repeating: 0, count: count)
            if count > 0, let bytes = natsMsg_GetData(msg) {
                data.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(start: bytes, count: count)) }
            }
            let subject = natsMsg_GetSubject(msg).map { String(cString: $0) } ?? ""
            let reply = natsMsg_GetReply(msg).map { String(cString: $0) }
            mailbox.sender.send(ClusterMessage(tag: mailbox.tag, subject: subject, reply: reply, data: data))
        }, Unmanaged.passUnretained(mailbox).toOpaque())
        try JetStreamPublisher.check(status, "subscribing to \(subject)")
        // A burst of forwarded pings must not be dropped as a slow consumer at libnats' default 65,536 messages.
        if let subscription {
            _ = natsSubscription_SetPendingLimits(subscription, 1 << 20, 1 << 30)
            subscriptions.append(subscription)
        }
        mailboxes.append(mailbox)   // outlives the subscription: released only in `close`, after it
        handlers[tag] = handler
    }

    /// Publishes `data` on `subject`; false (and a log line) when libnats refused it.
    @discardableResult
    func publish(_ subject: String, _ data: UnsafeRawBufferPointer, reply: String? = nil) -> Bool {
        guard let connection else { return false }
        let status = data.withMemoryRebound(to: UInt8.self) { bytes in
            if let reply {
                return natsConnection_PublishRequest(connection, subject, reply, bytes.baseAddress, Int32(bytes.count))
            }
            return natsConnection_Publish(connection, subject, bytes.baseAddress, Int32(bytes.count))
        }
        if status != NATS_OK {
            logger.debug("cluster publish failed", metadata: ["subject": "\(subject)", "status": "\(String(cString: natsStatus_GetText(status)))"])
        }
        return status == NATS_OK
    }

    /// Publishes `data` on `subject` as a request: `completion` runs once on the loop with the first answer, or with
    /// `.timedOut` after `timeoutMs` (at once when the publish fails).
    func request(_ subject: String, _ data: [UInt8], timeoutMs: UInt64, completion: @escaping (Reply) -> Void) {
        let id = nextRequest
        nextRequest &+= 1
        let sent = data.withUnsafeBytes { publish(subject, $0, reply: "\(inbox).\(id)") }
        guard sent else { completion(.timedOut); return }
        pending[id] = (completion, loop.now + timeoutMs)
    }

    private func deliver(_ message: ClusterMessage) {
        handlers[message.tag]?(message)
    }

    private func answered(_ message: ClusterMessage) {
        guard let dot = message.subject.lastIndex(of: "."), let id = UInt64(message.subject[message.subject.index(after: dot)...]),
              let waiting = pending.removeValue(forKey: id) else { return }   // late: its timeout already answered
        waiting.reply(.answer(message.data))
    }

    private func expireRequests() {
        guard !pending.isEmpty else { return }
        let now = loop.now
        let due = pending.filter { $0.value.deadlineMs <= now }
        for (id, waiting) in due.sorted(by: { $0.key < $1.key }) {
            pending[id] = nil
            waiting.reply(.timedOut)
        }
    }

    /// Unsubscribes, closes the connection and answers every waiting request with `.timedOut`.
    func close() {
        sweep?.close()
        sweep = nil
        for s in subscriptions {
            natsSubscription_Unsubscribe(s)
            natsSubscription_Destroy(s)
        }
        subscriptions.removeAll()
        if let connection {
            natsConnection_Close(connection)
            natsConnection_Destroy(connection)
        }
        connection = nil
        wakeup?.close()
        wakeup = nil
        let waiting = pending
        pending.removeAll()
        for (_, w) in waiting.sorted(by: { $0.key < $1.key }) { w.reply(.timedOut) }
        handlers.removeAll()
    }
}
