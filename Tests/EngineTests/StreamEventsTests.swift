@testable import Dispatcher
@testable import Engine
import Foundation
import Testing
import Vocabulary

/// The offer and fence messages of `HEXFLEET_EVENTS` (docs/events.md): subjects, ids that name the event (the same
/// on a retry), and payloads.
@Suite struct StreamEventsTests {
    private func object(_ message: JetStreamPublisher.Message) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any])
    }

    private func offer(order: UInt64, courier: UInt64, at: Int64) -> Offer {
        Offer(order: WaitingOrder(id: OrderID(order), pickup: LatLng(lat: 43.73, lng: 7.42), createdAtMs: at - 1_000),
              courier: CourierID(courier), offeredAtMs: at, expiresAtMs: at + 15_000)
    }

    @Test("an offer's events share its offer id; each has its own subject and message id; keys are sorted")
    func offerLifecycle() throws {
        var events = StreamEvents(prefix: "00112233aabbccdd")
        let sentMessage = events.message(for: .offered(offer(order: 7, courier: 42, at: 1_000)))
        let sent = try #require(sentMessage)
        let declinedMessage = events.message(for: .declined(order: OrderID(7), courier: CourierID(42), atMs: 4_000))
        let declined = try #require(declinedMessage)
        let requeued = events.message(for: .returnedToQueue(offer(order: 7, courier: 42, at: 1_000).order))
        #expect(requeued == nil)
        let againMessage = events.message(for: .offered(offer(order: 7, courier: 43, at: 5_000)))
        let again = try #require(againMessage)
        let expiredMessage = events.message(for: .expired(order: OrderID(7), courier: CourierID(43), atMs: 20_000))
        let expired = try #require(expiredMessage)
        #expect([sent, declined, again, expired].map(\.subject)
                == ["hexfleet.offer.sent", "hexfleet.offer.declined", "hexfleet.offer.sent", "hexfleet.offer.expired"])
        #expect(sent.messageID == "00112233aabbccdd-offer-7-42-1000-sent")
        #expect(declined.messageID == "00112233aabbccdd-offer-7-42-1000-declined")
        #expect(expired.messageID == "00112233aabbccdd-offer-7-43-5000-expired")
        let s = try object(sent)
        #expect(s["event"] as? String == "offer.sent" && s["event_id"] as? String == sent.messageID)
        #expect(s["order_id"] as? Int == 7 && s["courier_id"] as? Int == 42 && s["offer_id"] as? String == "7-42-1000")
        #expect(s["at_ms"] as? Int == 1_000 && s["offered_at_ms"] as? Int == 1_000 && s["expires_at_ms"] as? Int == 16_000)
        let d = try object(declined)
        #expect(d["at_ms"] as? Int == 4_000 && d["offered_at_ms"] as? Int == 1_000 && d["expires_at_ms"] == nil)
        let text = try #require(String(bytes: sent.payload, encoding: .utf8))
        let keys = ["at_ms", "courier_id", "event", "event_id", "expires_at_ms", "offer_id", "offered_at_ms", "order_id"]
        let positions = keys.compactMap { text.range(of: "\"\($0)\"")?.lowerBound }
        #expect(positions.count == keys.count && positions == positions.sorted())
    }

    @Test("the same offer event twice gets the same message id (the stream stores it once)")
    func stableIDs() throws {
        var a = StreamEvents(prefix: "p"), b = StreamEvents(prefix: "p")
        let firstMessage = a.message(for: .offered(offer(order: 1, courier: 2, at: 10)))
        let first = try #require(firstMessage)
        let secondMessage = b.message(for: .offered(offer(order: 1, courier: 2, at: 10)))
        let second = try #require(secondMessage)
        #expect(first.messageID == second.messageID && first.payload == second.payload)
        let acceptedAMessage = a.message(for: .accepted(order: OrderID(1), courier: CourierID(2), atMs: 20))
        let acceptedA = try #require(acceptedAMessage)
        let acceptedBMessage = b.message(for: .accepted(order: OrderID(1), courier: CourierID(2), atMs: 20))
        let acceptedB = try #require(acceptedBMessage)
        #expect(acceptedA.messageID == acceptedB.messageID && acceptedA.messageID == "p-offer-1-2-10-accepted")
    }

    @Test("fence transitions go to hexfleet.fence.<event>; inside and outside do not; odd fence ids stay header-safe")
    func fences() throws {
        let events = StreamEvents(prefix: "p")
        func event(_ fence: String, _ kind: FenceEventKind, ts: Int64 = 5_000) -> FenceEvent {
            FenceEvent(fence: fence, driver: DriverID(9), kind: kind, timestampMs: ts, latE7: 437_300_000, lngE7: 74_200_000)
        }
        let enterMessage = events.message(for: event("zone-1", .enter))
        let enter = try #require(enterMessage)
        #expect(enter.subject == "hexfleet.fence.enter" && enter.messageID == "p-fence-zone%2D1-9-5000-enter")
        let o = try object(enter)
        #expect(o["event"] as? String == "fence.enter" && o["fence"] as? String == "zone-1" && o["driver_id"] as? Int == 9)
        #expect(o["at_ms"] as? Int == 5_000 && (o["lat"] as? Double).map { abs($0 - 43.73) < 1e-9 } == true)
        #expect(events.message(for: event("zone-1", .exit))?.subject == "hexfleet.fence.exit")
        #expect(events.message(for: event("zone-1", .cross))?.subject == "hexfleet.fence.cross")
        #expect(events.message(for: event("zone-1", .inside)) == nil && events.message(for: event("zone-1", .outside)) == nil)
        let oddMessage = events.message(for: event("a b\r\nc-é", .exit))
        let odd = try #require(oddMessage)
        #expect(odd.messageID == "p-fence-a%20b%0D%0Ac%2D%C3%A9-9-5000-exit")
        // Distinct ids never share a token.
        #expect(StreamEvents.idToken("a-b") != StreamEvents.idToken("a%2Db"))
    }
}
