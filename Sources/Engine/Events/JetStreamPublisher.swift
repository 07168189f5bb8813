import CNats
import Storage
import Synchronization

/// One connection to a NATS cluster and its JetStream context, used by one thread (the relay's): it makes sure the
/// events stream exists and publishes outbox batches, each message with its event id as `Nats-Msg-Id`.
///
/// libnats runs its own threads (socket reader, flusher, reconnects); the acknowledgments of asynchronous publishes
/// arrive on one of them, in `ackReceived`, and are collected by message id. The libuv adapter would put the
/// socket on the engine's loop, but a JetStream call that waits (creating the stream, waiting for acks) would then
/// wait for the loop it runs on, so the connection stays off the loop.
final class JetStreamPublisher {
    /// One message to publish: its subject, its id (`Nats-Msg-Id`) and its JSON.
    struct Message: Sendable {
        var subject: String
        var messageID: String
        var payload: [UInt8]
    }

    /// What a batch came to.
    struct BatchResult {
        /// Positions, in the batch, of the messages the stream acknowledged (stored now, or earlier under the same
        /// message id).
        var acknowledged: [Int] = []
        /// Of those, acknowledged as duplicates (stored by an earlier publish).
        var duplicates = 0
        /// Entries not acknowledged (refused, timed out, or not sent).
        var failed = 0
        /// The first failure's description.
        var firstError: String?
    }

    /// Acks by message id, filled on a libnats thread; read once the batch is complete.
    final class AckCollector: Sendable {
        struct Ack { var stored: Bool; var duplicate: Bool; var error: String? }
        let acks = Mutex<[String: Ack]>([:])
    }

    private var connection: OpaquePointer?
    private var jetStream: OpaquePointer?
    private let collector = AckCollector()
    private let ackWaitMs: Int64

    /// Called on a libnats thread after each reconnection; kept alive here for the connection's life.
    private let reconnected: ReconnectHandler

    /// What the connection calls when it reconnected: counts it (a batch waiting for acknowledgments sent before the
    /// disconnection stops waiting for them) and runs the owner's action (the relay retries at once).
    final class ReconnectHandler: Sendable {
        let action: (@Sendable () -> Void)?
        let count = Atomic<UInt64>(0)
        init(_ action: (@Sendable () -> Void)?) { self.action = action }
        func reconnected() {
            count.add(1, ordering: .relaxed)
            action?()
        }
    }

    /// Connects to the first reachable server of `servers` (reconnecting to any of them, and to those the cluster
    /// announces, for as long as the publisher lives); `onReconnect` runs on a libnats thread after each reconnection.
    /// - Throws: `EventRelayError` when no server answers or a URL is malformed.
    init(servers: [String], name: String, ackWaitMs: Int64, onReconnect: (@Sendable () -> Void)? = nil) throws(EventRelayError) {
        self.ackWaitMs = ackWaitMs
        reconnected = ReconnectHandler(onReconnect)
        var options: OpaquePointer?
        try Self.check(natsOptions_Create(&options), "creating connection options")
        defer { natsOptions_Destroy(options) }
        var cStrings = servers.map { strdup($0) }
        defer { for s in cStrings { free(s) } }
        let status = cStrings.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) {
                natsOptions_SetServers(options, $0, Int32(buffer.count))
            }
        }
        try Self.check(status, "reading the server URLs")
        try Self.check(natsOptions_SetName(options, name), "naming the connection")
        try Self.check(natsOptions_SetTimeout(options, 2_000), "setting the connect timeout")
        // Reconnect for ever, quickly: a cluster losing one server should cost the relay well under a second.
        try Self.check(natsOptions_SetMaxReconnect(options, -1), "setting reconnects")
        try Self.check(natsOptions_SetReconnectWait(options, 100), "setting the reconnect wait")
        try Self.check(natsOptions_SetReconnectedCB(options, { _, closure in
            guard let closure else { return }
            Unmanaged<ReconnectHandler>.fromOpaque(closure).takeUnretainedValue().reconnected()
        }, Unmanaged.passUnretained(reconnected).toOpaque()), "setting the reconnect callback")
        try Self.check(natsConnection_Connect(&connection, options), "connecting to \(servers.joined(separator: ","))")
        var jsOptions = jsOptions()
        jsOptions_Init(&jsOptions)
        jsOptions.Wait = ackWaitMs
        jsOptions.PublishAsync.AckHandler = { _, msg, ack, failure, closure in
            guard let closure else { natsMsg_Destroy(msg); return }
            Unmanaged<AckCollector>.fromOpaque(closure).takeUnretainedValue().received(msg, ack, failure)
            natsMsg_Destroy(msg)
        }
        jsOptions.PublishAsync.AckHandlerClosure = Unmanaged.passUnretained(collector).toOpaque()
        do {
            try Self.check(natsConnection_JetStream(&jetStream, connection, &jsOptions), "opening JetStream")
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Creates the stream over `subjects` unless it exists (an existing one is left as configured).
    func ensureStream(_ name: String, subjects: [String], replicas: Int, duplicateWindowMs: Int64) throws(EventRelayError) {
        var errorCode = jsErrCode(0)
        var cStrings = subjects.map { UnsafePointer<CChar>?(strdup($0)) }
        defer { for s in cStrings { free(UnsafeMutablePointer(mutating: s)) } }
        let status = cStrings.withUnsafeMutableBufferPointer { buffer in
            hf_nats_ensure_stream(jetStream, name, buffer.baseAddress, Int32(buffer.count), Int32(replicas),
                                  duplicateWindowMs, &errorCode)
        }
        try Self.check(status, "creating stream \(name) (JetStream error \(errorCode.rawValue))")
    }

    /// A durable pull subscription on `stream`, to the subjects `filter` matches (made when missing, shared by every
    /// engine using the same `durable` name: each message goes to one of them). Acknowledged explicitly.
    func pullSubscription(stream: String, filter: String, durable: String) throws(EventRelayError) -> OpaquePointer {
        var subscription: OpaquePointer?
        var errorCode = jsErrCode(0)
        let status = stream.withCString { streamName in
            var options = jsSubOptions()
            jsSubOptions_Init(&options)
            options.Stream = streamName
            options.Config.AckPolicy = js_AckExplicit
            options.Config.DeliverPolicy = js_DeliverAll
            return js_PullSubscribe(&subscription, jetStream, filter, durable, nil, &options, &errorCode)
        }
        try Self.check(status, "subscribing \(durable) to \(filter) (JetStream error \(errorCode.rawValue))")
        guard let subscription else { throw EventRelayError("subscribing \(durable): no subscription") }
        return subscription
    }

    /// Publishes the messages in order, then waits (at most `ackWaitMs`, the publisher's own when nil) for every
    /// acknowledgment.
    func publish(_ messages: [Message], ackWaitMs wait: Int64? = nil) -> BatchResult {
        let waitMs = wait ?? ackWaitMs
        collector.acks.withLock { $0.removeAll(keepingCapacity: true) }
        var result = BatchResult()
        var sent = 0
        let reconnects = reconnected.count.load(ordering: .relaxed)
        for message in messages {
            var msg: OpaquePointer?
            var status = message.payload.withUnsafeBytes { bytes in
                natsMsg_Create(&msg, message.subject, nil, bytes.baseAddress?.assumingMemoryBound(to: CChar.self),
                               Int32(bytes.count))
            }
            if status == NATS_OK { status = natsMsgHeader_Set(msg, "Nats-Msg-Id", message.messageID) }
            if status == NATS_OK {
                var options = jsPubOptions()
                jsPubOptions_Init(&options)
                options.MaxWait = waitMs
                status = js_PublishMsgAsync(jetStream, &msg, &options)   // takes the message on success
            }
            if status != NATS_OK {
                natsMsg_Destroy(msg)
                result.firstError = Self.describe(status, "publishing \(message.messageID)")
                break
            }
            sent += 1
        }
        if sent > 0 {
            // Each message times out on its own after `waitMs`. The wait goes in slices so that a reconnection ends
            // it: what was sent on the lost connection is never acknowledged, and the relay publishes it again at
            // once (the stream drops copies by message id) instead of waiting out the timeouts.
            let deadline = ContinuousClock.now + .milliseconds(waitMs + 200)
            var options = jsPubOptions()
            jsPubOptions_Init(&options)
            options.MaxWait = 50
            var status = js_PublishAsyncComplete(jetStream, &options)
            while status == NATS_TIMEOUT, ContinuousClock.now < deadline,
                  reconnected.count.load(ordering: .relaxed) == reconnects {
                status = js_PublishAsyncComplete(jetStream, &options)
            }
            if status != NATS_OK, result.firstError == nil {
                result.firstError = reconnected.count.load(ordering: .relaxed) != reconnects
                    ? "reconnected while waiting for acknowledgments" : Self.describe(status, "waiting for acknowledgments")
            }
        }
        let acks = collector.acks.withLock { $0 }
        for (position, message) in messages.enumerated() {
            guard let ack = acks[message.messageID], ack.stored else {
                result.failed += 1
                if result.firstError == nil, let why = acks[message.messageID]?.error { result.firstError = why }
                continue
            }
            result.acknowledged.append(position)
            if ack.duplicate { result.duplicates += 1 }
        }
        if result.failed > 0, result.firstError == nil { result.firstError = "no acknowledgment within \(waitMs) ms" }
        return result
    }

    /// Closes the connection (pending publishes are abandoned: their rows stay in the outbox).
    func close() {
        // The connection closes first, so no acknowledgment reaches the collector once this object is gone.
        if let nc = connection { natsConnection_Close(nc) }
        if let js = jetStream { jsCtx_Destroy(js); jetStream = nil }
        if let nc = connection {
            natsConnection_Destroy(nc)
            connection = nil
        }
    }

    static func check(_ status: natsStatus, _ doing: String) throws(EventRelayError) {
        guard status == NATS_OK else { throw EventRelayError(describe(status, doing)) }
    }

    /// "doing: status text (last error)", from libnats' thread-local last error.
    static func describe(_ status: natsStatus, _ doing: String) -> String {
        var text = doing + ": " + String(cString: natsStatus_GetText(status))
        var last = NATS_OK
        if let detail = nats_GetLastError(&last), detail.pointee != 0 {
            let d = String(cString: detail)
            if !text.contains(d) { text += " (\(d))" }
        }
        return text
    }
}

extension JetStreamPublisher.AckCollector {
    /// One publish's outcome, on a libnats thread. Keyed by the `Nats-Msg-Id` header, so a late ack of an earlier
    /// attempt counts for the retry of the same event (the stream holds it either way).
    func received(_ msg: OpaquePointer?, _ ack: UnsafeMutablePointer<jsPubAck>?, _ failure: UnsafeMutablePointer<jsPubAckErr>?) {
        var value: UnsafePointer<CChar>?
        guard let msg, natsMsgHeader_Get(msg, "Nats-Msg-Id", &value) == NATS_OK, let value else { return }
        let id = String(cString: value)
        let outcome: Ack
        if let ack, failure == nil {
            outcome = Ack(stored: true, duplicate: ack.pointee.Duplicate, error: nil)
        } else {
            let why = failure.flatMap { $0.pointee.ErrText.map { String(cString: $0) } } ?? "publish failed"
            outcome = Ack(stored: false, duplicate: false, error: why)
        }
        acks.withLock { acks in
            if acks[id]?.stored != true { acks[id] = outcome }
        }
    }
}

/// Why the relay could not connect, create its stream or publish.
struct EventRelayError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
