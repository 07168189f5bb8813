import Foundation
import JSON
import Storage
import Synchronization
import Testing
@testable import Marketplace
import Vocabulary

/// Records pushes as the Engine's WebSocket hub would receive them.
final class RecordingPushTransport: WebSocketPushTransport {
    let pushes = Mutex<[(String, Recipient)]>([])
    func push(text: String, to recipient: Recipient) { pushes.withLock { $0.append((text, recipient)) } }
}

@Suite("Notifications")
struct NotificationTests {
    func sampleRecord(status: OrderStatus = .accepted, courier: UInt64? = 3) -> OrderRecord {
        OrderRecord(id: OrderID(41), customerID: CustomerID(7), courierID: courier.map { CourierID($0) }, status: status,
                    vehicle: "car", pickup: casino, dropoff: port, quoteID: "q_1", priceCents: 1234, currency: "EUR",
                    surgeMilli: 1000, distanceMeters: 1000, durationSeconds: 100, createdAtMs: 5, updatedAtMs: 9)
    }

    @Test("templates fill placeholders, pick recipients and build a JSON payload per event")
    func templates() throws {
        let t = NotificationTemplates()
        let created = t.render(.orderCreated(sampleRecord(status: .quoted, courier: nil)))
        #expect(created.title == "Order 41 received" && created.text == "Your order 41 is booked for 12.34 EUR.")
        #expect(created.recipients == [.operators, .customer(CustomerID(7))])
        let changed = t.render(.orderStatusChanged(sampleRecord(), from: .dispatched))
        #expect(changed.text == "Order 41 went from dispatched to accepted.")
        #expect(changed.recipients.contains(.courier(CourierID(3))))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(changed.payload)) as? [String: Any])
        #expect(json["event"] as? String == "order.status_changed" && json["from"] as? String == "dispatched")
        #expect(json["order_id"] as? Int == 41 && json["courier_id"] as? Int == 3)
        let offer = t.render(.offerSent(orderID: OrderID(41), courierID: CourierID(9), expiresAtMs: 77))
        #expect(offer.recipients == [.operators, .courier(CourierID(9))])
        let custom = NotificationTemplates(["offer.expired": .init(title: "T {order_id}", text: "{courier_id} {unknown}")])
        let expired = custom.render(.offerExpired(orderID: OrderID(41), courierID: CourierID(9)))
        #expect(expired.title == "T 41" && expired.text == "9 {unknown}")
        #expect(NotificationTemplates.money(5, "EUR") == "0.05 EUR" && NotificationTemplates.money(-1250, "USD") == "-12.50 USD")
    }

    @Test("the notifier fans out to the log file, WebSocket pushes, SMS and push adapters")
    func fanOut() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let logPath = dir.url.appendingPathComponent("notifications.log").path
        let log = try LogSink(path: logPath)
        let ws = RecordingPushTransport()
        let adapterLog = try LogSink(path: dir.url.appendingPathComponent("adapters.log").path)
        let notifier = Notifier(sinks: [log, WebSocketPushSink(transport: ws), SMSSink(adapter: LogAdapter(log: adapterLog)),
                                        PushSink(adapter: LogAdapter(log: adapterLog))])
        #expect(notifier.publish(.orderCreated(sampleRecord(status: .quoted, courier: nil))))
        #expect(notifier.publish(.orderStatusChanged(sampleRecord(), from: .dispatched)))
        notifier.drain()
        let lines = try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        for line in lines { #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "\(line)") }
        #expect(lines[1].contains("\"recipients\":[\"operators\",\"customer:7\",\"courier:3\"]"))
        let pushed = ws.pushes.withLock { $0 }
        #expect(pushed.count == 3)   // customer for the first; customer and courier for the second
        #expect(pushed.allSatisfy { $0.0.hasPrefix("{\"type\":\"notification\"") })
        let adapters = try String(contentsOfFile: dir.url.appendingPathComponent("adapters.log").path, encoding: .utf8)
            .split(separator: "\n")
        #expect(adapters.filter { $0.contains("\"channel\":\"sms\"") }.count == 2)    // status change only
        #expect(adapters.filter { $0.contains("\"channel\":\"push\"") }.count == 3)
        #expect(notifier.counters.published == 2 && notifier.counters.dropped == 0)
    }

    @Test("ordinary notifications keep their exact wire bytes: payloads, log lines, pushes and adapter lines")
    func exactBytes() throws {
        let t = NotificationTemplates()
        let created = t.render(.orderCreated(sampleRecord(status: .quoted, courier: nil)))
        let changed = t.render(.orderStatusChanged(sampleRecord(), from: .dispatched))
        let offered = t.render(.offerSent(orderID: OrderID(41), courierID: CourierID(9), expiresAtMs: 77))
        let expired = t.render(.offerExpired(orderID: OrderID(41), courierID: CourierID(9)))
        let createdPayload = #"{"at_ms":5,"currency":"EUR","customer_id":"7","event":"order.created","order_id":41,"#
            + #""price_cents":1234,"status":"quoted"}"#
        let changedPayload = #"{"at_ms":9,"courier_id":3,"customer_id":"7","event":"order.status_changed","#
            + #""from":"dispatched","order_id":41,"status":"accepted"}"#
        #expect(String(decoding: created.payload, as: UTF8.self) == createdPayload)
        #expect(String(decoding: changed.payload, as: UTF8.self) == changedPayload)
        #expect(String(decoding: offered.payload, as: UTF8.self)
                == #"{"courier_id":9,"event":"offer.sent","expires_at_ms":77,"order_id":41}"#)
        #expect(String(decoding: expired.payload, as: UTF8.self)
                == #"{"courier_id":9,"event":"offer.expired","order_id":41}"#)

        let ws = RecordingPushTransport()
        WebSocketPushSink(transport: ws).deliver(created)
        #expect(ws.pushes.withLock { $0.map(\.0) } == [#"{"type":"notification","event":"order.created","#
                + #""title":"Order 41 received","text":"Your order 41 is booked for 12.34 EUR.","payload":"#
                + createdPayload + "}"])

        let dir = try TempDir()
        defer { dir.remove() }
        let logPath = dir.url.appendingPathComponent("notifications.log").path
        try LogSink(path: logPath).deliver(changed)
        #expect(try String(contentsOfFile: logPath, encoding: .utf8) == #"{"event":"order.status_changed","#
                + #""recipients":["operators","customer:7","courier:3"],"title":"Order 41: accepted","#
                + #""text":"Order 41 went from dispatched to accepted.","payload":"# + changedPayload + "}\n")
        let path = dir.url.appendingPathComponent("adapters.log").path
        let adapter = LogAdapter(log: try LogSink(path: path))
        adapter.sendSMS(to: .customer(CustomerID(7)), text: "On its way")
        adapter.sendPush(to: .courier(CourierID(3)), title: "New offer", text: "Order 41 is offered to you.")
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == [#"{"channel":"sms","to":"customer(7)","text":"On its way"}"#,
                          #"{"channel":"push","to":"courier(3)","title":"New offer","#
                            + #""text":"Order 41 is offered to you."}"#])
    }

    @Test("publish never blocks: past the queue bound events are dropped and counted")
    func boundedQueue() {
        let gate = DispatchSemaphore(value: 0)
        let blocking = BlockingSink(gate: gate)
        let notifier = Notifier(sinks: [blocking], capacity: 2)
        let event = NotificationEvent.offerExpired(orderID: OrderID(1), courierID: CourierID(2))
        #expect(notifier.publish(event))
        #expect(notifier.publish(event))
        #expect(!notifier.publish(event))
        #expect(!notifier.publish(event))
        gate.signal(); gate.signal()
        notifier.drain()
        #expect(notifier.counters.published == 2 && notifier.counters.dropped == 2)
        #expect(notifier.publish(event))
        gate.signal()
        notifier.drain()
        #expect(blocking.count.withLock { $0 } == 3)
    }

    @Test("a log sink whose file cannot be created is invalid_config, not a trap")
    func badLogPath() {
        expectCode("invalid_config") { try LogSink(path: "/nonexistent-dir/x/notifications.log") }
    }

    @Test("log lines escape quotes and control characters")
    func escaping() {
        let n = OutboundNotification(event: "e", recipients: [], title: "a\"b\\c\nd\u{1}", text: "",
                                     payload: Array("{}".utf8))
        #expect(String(decoding: LogSink.line(n), as: UTF8.self).contains(#""title":"a\"b\\c\nd\u0001""#))
    }

    @Test("every wire message escapes its strings: quotes, backslashes, control characters, non-ASCII read back equal")
    func escapingRoundTrip() throws {
        let title = "\"quoted\" \\ back\\slash / é ü → 😀 \u{2028}"
        let text = String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) }) + "\u{7F} naïve \"end\""
        let event = "order.\"odd\"\n"
        let payload = Array(#"{"event":"x","n":1}"#.utf8)
        let n = OutboundNotification(event: event, recipients: [.operators, .customer(CustomerID(7))], title: title,
                                     text: text, payload: payload)
        let expectedPayload = try JSONReader.parse(payload)

        let line = try JSONReader.parse(LogSink.line(n))
        #expect(line["event"]?.string == event)
        #expect(line["recipients"] == .array([.string("operators"), .string("customer:7")]))
        #expect(line["title"]?.string == title)
        #expect(line["text"]?.string == text)
        #expect(line["payload"] == expectedPayload)

        let push = try JSONReader.parse(WebSocketPushSink.message(n))
        #expect(push["type"]?.string == "notification")
        #expect(push["event"]?.string == event)
        #expect(push["title"]?.string == title)
        #expect(push["text"]?.string == text)
        #expect(push["payload"] == expectedPayload)

        let sms = try JSONReader.parse(LogAdapter.smsLine(to: .courier(CourierID(3)), text: text))
        #expect(sms["channel"]?.string == "sms" && sms["to"]?.string == "courier(3)" && sms["text"]?.string == text)
        let pushLine = try JSONReader.parse(LogAdapter.pushLine(to: .customer(CustomerID(7)), title: title, text: text))
        #expect(pushLine["channel"]?.string == "push" && pushLine["to"]?.string == "customer(7)")
        #expect(pushLine["title"]?.string == title && pushLine["text"]?.string == text)
    }

    @Test("a payload with awkward strings (a currency from an order) is escaped and reads back equal")
    func payloadEscaping() throws {
        var order = sampleRecord(status: .quoted, courier: nil)
        order.currency = "E\"U\\R\u{1}é"
        let n = NotificationTemplates().render(.orderCreated(order))
        let payload = try JSONReader.parse(n.payload)
        #expect(payload["currency"]?.string == order.currency)
        #expect(payload["event"]?.string == "order.created" && payload["order_id"]?.uint64 == 41)
    }
}

/// A sink that waits for a signal per notification, so the notifier's queue fills up.
final class BlockingSink: NotificationSink {
    let name = "blocking"
    let gate: DispatchSemaphore
    let count = Mutex(0)
    init(gate: DispatchSemaphore) { self.gate = gate }
    func deliver(_ notification: OutboundNotification) {
        gate.wait()
        count.withLock { $0 += 1 }
    }
}
