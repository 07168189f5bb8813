import Foundation
@testable import Storage
import Testing
import TestSupport
@testable import Marketplace

@Suite("Webhooks over real sockets")
struct WebhookSinkTests {
    let secret = Array("whsec-test".utf8)

    func config(_ url: String, maxAttempts: Int) -> WebhookSink.Configuration {
        var c = WebhookSink.Configuration(endpoints: [url])
        c.maxAttempts = maxAttempts
        c.baseDelayMs = 10
        c.maxDelayMs = 50
        c.timeoutMs = 2_000
        return c
    }

    func sampleOrder(_ m: Market) throws -> OrderRecord { try m.order() }

    @Test("a receiver failing the first two attempts gets the third; every attempt carries the same signed body")
    func retriesThenDelivers() throws {
        let m = try Market()
        defer { m.close() }
        let receiver = try LocalHTTPReceiver { n in n < 2 ? 503 : 204 }
        defer { receiver.stop() }
        let sink = WebhookSink(configuration: config(receiver.url, maxAttempts: 5), store: m.store,
                               transport: HTTPWebhookTransport(), signer: .hmacSHA256(secret: secret))
        try sink.start()
        defer { sink.stop() }
        let order = try sampleOrder(m)
        sink.deliver(NotificationTemplates().render(.orderCreated(order)))
        #expect(receiver.waitForRequests(3))
        #expect(waitUntil { sink.counters.delivered == 1 })
        m.store.flush()
        let reqs = receiver.requests
        #expect(reqs.count == 3)
        #expect(Set(reqs.map(\.body)).count == 1)
        for r in reqs {
            #expect(r.method == "POST" && r.path == "/hooks")
            #expect(r.headers["content-type"] == "application/json")
            #expect(r.headers["x-hexfleet-event"] == "order.created")
            let sig = try #require(r.headers["x-hexfleet-signature"])
            #expect(sig.hasPrefix("sha256=") && sig.count == 7 + 64)
            #expect(WebhookSigner.verify(header: sig, body: r.body, secret: secret))
            #expect(!WebhookSigner.verify(header: sig, body: r.body, secret: Array("other".utf8)))
        }
        let body = String(decoding: reqs[0].body, as: UTF8.self)
        #expect(body.contains("\"order_id\":\(order.id)") && body.contains("\"event\":\"order.created\""))
        #expect(sink.counters == WebhookCounters(attempts: 3, delivered: 1, failures: 2, deadLetters: 0, enqueueFailures: 0, pending: 0))
        let id = try #require(reqs[0].headers["x-hexfleet-delivery"].flatMap { Int64($0) })
        let row = try #require(try m.store.webhookDelivery(WebhookDeliveryID(id)))
        #expect(row.state == .delivered && row.attempts == 3)
        #expect(try m.store.deadLetters(limit: 10).isEmpty)
    }

    @Test("after maxAttempts failures the delivery is dead-lettered with its body and last error")
    func deadLetters() throws {
        let m = try Market()
        defer { m.close() }
        let receiver = try LocalHTTPReceiver { _ in 500 }
        defer { receiver.stop() }
        let sink = WebhookSink(configuration: config(receiver.url, maxAttempts: 3), store: m.store,
                               transport: HTTPWebhookTransport(), signer: .hmacSHA256(secret: secret))
        try sink.start()
        defer { sink.stop() }
        let order = try sampleOrder(m)
        let note = NotificationTemplates().render(.orderCreated(order))
        sink.deliver(note)
        #expect(receiver.waitForRequests(3))
        // The dead-letter write follows the third answer; wait for it with a deadline.
        #expect(waitUntil { m.store.flush(); return sink.counters.deadLetters == 1 })
        let dead = try m.store.deadLetters(limit: 10)
        #expect(dead.count == 1)
        #expect(dead.first?.attempts == 3 && dead.first?.lastError == "HTTP 500" && dead.first?.body == note.payload)
        #expect(sink.counters == WebhookCounters(attempts: 3, delivered: 0, failures: 3, deadLetters: 1, enqueueFailures: 0, pending: 0))
        #expect(receiver.requests.count == 3)
        #expect(try m.store.pendingWebhooks().isEmpty)
    }

    @Test("a refused connection counts as a failed attempt; deliveries left pending are retried after a restart")
    func refusedThenRestart() throws {
        let m = try Market()
        defer { m.close() }
        // A port with nothing listening: bind a receiver, note its port, stop it.
        let gone = try LocalHTTPReceiver { _ in 200 }
        let deadURL = gone.url
        gone.stop()
        let first = WebhookSink(configuration: config(deadURL, maxAttempts: 50), store: m.store,
                                transport: HTTPWebhookTransport(), signer: .hmacSHA256(secret: secret))
        try first.start()
        first.deliver(NotificationTemplates().render(.orderCreated(try sampleOrder(m))))
        #expect(waitUntil { first.counters.failures >= 2 })
        first.stop()
        m.store.flush()
        #expect(first.counters.failures >= 2 && first.counters.delivered == 0)
        let pending = try m.store.pendingWebhooks()
        #expect(pending.count == 1 && (pending.first?.attempts ?? 0) >= 1)
        #expect(pending.first?.lastError?.hasPrefix("connect") == true)
        // "Restart" towards a live receiver: the rows are rewritten to point there, as an operator would.
        let receiver = try LocalHTTPReceiver { _ in 200 }
        defer { receiver.stop() }
        try m.store.pool.write { db in try db.execute(sql: "UPDATE webhook_deliveries SET endpoint = ?", arguments: [receiver.url]) }
        let second = WebhookSink(configuration: config(receiver.url, maxAttempts: 50), store: m.store,
                                 transport: HTTPWebhookTransport(), signer: .hmacSHA256(secret: secret))
        try second.start()
        defer { second.stop() }
        #expect(receiver.waitForRequests(1))
        m.store.flush()
        #expect(waitUntil { m.store.flush(); return (try? m.store.pendingWebhooks().isEmpty) == true })
        #expect(try m.store.pendingWebhooks().isEmpty)
        // The counter moves after the store acknowledges the delivered row, on the sink's own thread.
        #expect(waitUntil { second.counters.delivered == 1 })
    }

    @Test("a notification the store cannot record is counted in enqueueFailures and not sent")
    func enqueueFailure() throws {
        let m = try Market()
        defer { m.close() }
        let note = NotificationTemplates().render(.orderCreated(try sampleOrder(m)))
        let sink = WebhookSink(configuration: config("http://127.0.0.1:9/x", maxAttempts: 1), store: m.store,
                               transport: HTTPWebhookTransport(), signer: .hmacSHA256(secret: secret))
        m.store.close()
        sink.deliver(note)
        #expect(sink.counters.enqueueFailures == 1 && sink.counters.attempts == 0)
    }

    @Test("only configured events are sent")
    func eventFilter() throws {
        let m = try Market()
        defer { m.close() }
        var c = config("http://127.0.0.1:9/x", maxAttempts: 1)
        c.events = ["rating.received"]
        let sink = WebhookSink(configuration: c, store: m.store, transport: HTTPWebhookTransport(),
                               signer: .hmacSHA256(secret: secret))
        sink.deliver(NotificationTemplates().render(.orderCreated(try sampleOrder(m))))
        m.store.flush()
        #expect(try m.store.pendingWebhooks().isEmpty)
    }

    @Test("backoff uses full jitter: delays lie in [0, min(max, base·2^(k−1))]")
    func backoff() throws {
        let m = try Market()
        defer { m.close() }
        var c = config("http://127.0.0.1:9/x", maxAttempts: 10)
        c.baseDelayMs = 100
        c.maxDelayMs = 1_000
        let sink = WebhookSink(configuration: c, store: m.store, transport: HTTPWebhookTransport(),
                               signer: .hmacSHA256(secret: secret))
        for k in 1...8 {
            let ceiling = min(1_000, 100 << Int64(k - 1))
            let samples = (0..<200).map { _ in sink.backoffMs(afterFailedAttempts: k) }
            #expect(samples.allSatisfy { $0 >= 0 && $0 <= ceiling }, "attempt \(k)")
            #expect(Set(samples).count > 20, "attempt \(k) is jittered")
        }
    }

    @Test("the transport parses URLs and status lines defensively")
    func transportParsing() {
        #expect(HTTPWebhookTransport.parse("http://127.0.0.1:8080/a/b")! == ("127.0.0.1", 8080, "/a/b"))
        #expect(HTTPWebhookTransport.parse("http://example.test")! == ("example.test", 80, "/"))
        #expect(HTTPWebhookTransport.parse("https://x/y") == nil)
        #expect(HTTPWebhookTransport.parse("http://x:0/") == nil)
        #expect(HTTPWebhookTransport.parse("http://x:99999/") == nil)
        #expect(HTTPWebhookTransport.parse("http://:80/") == nil)
        #expect(HTTPWebhookTransport.status(fromReply: Array("HTTP/1.1 204 No Content\r\n".utf8)) == .status(204))
        #expect(HTTPWebhookTransport.status(fromReply: Array("garbage\n".utf8)) == .failed("malformed HTTP status line"))
        #expect(HTTPWebhookTransport.status(fromReply: []) == .failed("no HTTP status line"))
        #expect(HTTPWebhookTransport().post(WebhookRequest(url: "ftp://x", headers: [:], body: [], timeoutMs: 10)) == .failed("unsupported URL"))
    }
}
