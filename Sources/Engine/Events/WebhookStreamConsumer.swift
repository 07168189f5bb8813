import CNats
import Foundation
import JSON
import Logging
import Marketplace
import Synchronization

/// With `--nats` and webhook URLs: order events reach the webhooks from the stream, through the durable pull
/// consumer `hexfleet-webhooks` (shared by every engine on the stream, so each event is sent by one of them). A
/// message is acknowledged once its delivery to every endpoint is written to the webhook queue (which signs,
/// retries and dead-letters as without NATS); a failed write leaves it unacknowledged, and JetStream delivers it
/// again after the ack wait. At least once: a crash between the write and the ack sends that event again.
final class WebhookStreamConsumer: Sendable {
    /// Event names the stream carries to webhooks; the webhook sink leaves them to this consumer.
    static let eventNames: Set<String> = ["order.created", "order.status_changed", "order.arrived_pickup", "order.arrived_dropoff"]
    static let durable = "hexfleet-webhooks"

    private let settings: EventRelay.Settings
    private let endpoints: [String]
    private let sink: WebhookSink
    private let logger: Logger
    private let started = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    /// Messages handed to the webhook queue and acknowledged.
    let forwarded = Atomic<UInt64>(0)

    init(settings: EventRelay.Settings, endpoints: [String], sink: WebhookSink, logger: Logger) {
        self.settings = settings
        self.endpoints = endpoints
        self.sink = sink
        self.logger = logger
    }

    func start() {
        guard !started.exchange(true, ordering: .relaxed), !stopped.load(ordering: .relaxed) else { return }
        let thread = Thread { [self] in run() }
        thread.name = "hexfleet.events.webhooks"
        thread.start()
    }

    /// Stops the thread after its current fetch (at most a second).
    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed), started.load(ordering: .relaxed) else { return }
        finished.wait()
    }

    private func run() {
        var connection: JetStreamPublisher?
        var subscription: OpaquePointer?
        var failing = false
        while !stopped.load(ordering: .relaxed) {
            do throws(EventRelayError) {
                if connection == nil {
                    connection = try JetStreamPublisher(servers: settings.servers, name: "hexfleet-webhook-consumer",
                                                        ackWaitMs: settings.ackWaitMs)
                }
                guard let nats = connection else { continue }
                if subscription == nil {
                    try nats.ensureStream(settings.stream, subjects: settings.subjects, replicas: settings.replicas,
                                          duplicateWindowMs: settings.duplicateWindowMs)
                    subscription = try nats.pullSubscription(stream: settings.stream, filter: "hexfleet.order.>",
                                                             durable: Self.durable)
                }
                var list = natsMsgList()
                var errorCode = jsErrCode(0)
                let status = natsSubscription_Fetch(&list, subscription, 64, 1_000, &errorCode)
                if status == NATS_TIMEOUT { continue }
                try JetStreamPublisher.check(status, "fetching for webhooks")
                defer { natsMsgList_Destroy(&list) }
                for i in 0..<Int(list.Count) {
                    guard let msg = list.Msgs[i] else { continue }
                    forward(msg)
                }
                if failing { logger.info("webhook consumer: receiving again") }
                failing = false
            } catch {
                if !failing { logger.warning("webhook consumer: \(error.description); retrying") }
                failing = true
                if let s = subscription { natsSubscription_Destroy(s); subscription = nil }
                connection?.close()
                connection = nil
                Thread.sleep(forTimeInterval: 0.25)
            }
        }
        if let s = subscription { natsSubscription_Destroy(s) }
        connection?.close()
        finished.signal()
    }

    /// Writes one message's deliveries to the webhook queue, then acknowledges it (or asks for it again).
    private func forward(_ msg: OpaquePointer) {
        let count = Int(natsMsg_GetDataLength(msg))
        let body: [UInt8] = natsMsg_GetData(msg).map { data in
            [UInt8](UnsafeRawBufferPointer(start: data, count: count))
        } ?? []
        guard let event = (try? JSONReader.parse(body))?["event"]?.string, Self.eventNames.contains(event) else {
            natsMsg_Ack(msg, nil)   // not an event webhooks take: nothing to retry
            return
        }
        let allWritten = Atomic<Bool>(true)
        let group = DispatchGroup()
        for endpoint in endpoints {
            group.enter()
            sink.post(to: endpoint, event: event, body: body) { ok in
                if !ok { allWritten.store(false, ordering: .relaxed) }
                group.leave()
            }
        }
        group.wait()
        if allWritten.load(ordering: .relaxed) {
            natsMsg_Ack(msg, nil)
            forwarded.add(1, ordering: .relaxed)
        } else {
            natsMsg_NakWithDelay(msg, 1_000, nil)
        }
    }
}
