import Foundation
import Testing
import TestSupport

/// `GET /v1/orders/{id}/events` over real sockets with a real SQLite file: the timeline the store logged, who may
/// read it, its pages, and bad parameters.
@Suite(.serialized) struct OrderEventsAPITests {
    typealias F = OrdersFixture

    static func events(_ r: TestHTTPResponse) throws -> [[String: Any]] {
        try #require(try F.object(r)["events"] as? [[String: Any]], "\(r.status) \(r.text)")
    }

    @Test("the timeline lists every status change with its actor and reason, oldest first, to whoever may see the order")
    func timelineAndRoles() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        let alice = try F.token(engine, "customer", "41"), bob = try F.token(engine, "customer", "42")
        let driver = try F.token(engine, "driver", "8"), dispatcher = try F.token(engine, "dispatcher", "ops")
        let id = try F.id(try F.request(engine, "POST", "/v1/orders", F.orderBody(), token: alice))
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/cancel", #"{"reason":"changed my mind"}"#, token: alice).status == 200)

        let page = try F.request(engine, "GET", "/v1/orders/\(id)/events", token: dispatcher)
        #expect(page.status == 200, "\(page.text)")
        let body = try F.object(page)
        #expect((body["order_id"] as? NSNumber)?.uint64Value == id)
        #expect(body["status"] as? String == "cancelled")
        #expect(body["next_after"] is NSNull)
        let list = try Self.events(page)
        #expect(list.map { $0["to"] as? String } == ["created", "quoted", "cancelled"])
        #expect(list.map { $0["from"] as? String } == [nil, "created", "quoted"])
        #expect(list[0]["from"] is NSNull)
        let actor = list[2]["actor"] as? [String: Any]
        #expect(actor?["role"] as? String == "customer" && actor?["id"] as? String == "41", "\(list[2])")
        #expect(list[2]["reason"] as? String == "changed my mind")
        let seqs = list.compactMap { ($0["seq"] as? NSNumber)?.int64Value }
        #expect(seqs.count == 3 && seqs == seqs.sorted() && Set(seqs).count == 3, "increasing sequence numbers")
        let times = list.compactMap { ($0["at_ms"] as? NSNumber)?.int64Value }
        #expect(times.count == 3 && times == times.sorted() && times[0] > 1_600_000_000_000)

        #expect(try Self.events(try F.request(engine, "GET", "/v1/orders/\(id)/events", token: alice)).count == 3, "its customer")
        #expect(try Self.events(try F.request(engine, "GET", "/v1/orders/\(id)/events")).count == 3, "an admin")
        #expect(try F.request(engine, "GET", "/v1/orders/\(id)/events", token: bob).errorCode == "order_not_found",
                "another customer learns nothing, not even that the order exists")
        #expect(try F.request(engine, "GET", "/v1/orders/\(id)/events", token: driver).errorCode == "order_not_found",
                "a courier not assigned to it")
        #expect(try F.request(engine, "GET", "/v1/orders/\(id)/events", token: nil).status == 401)
    }

    @Test("pages: at most `limit` events, `next_after` while a page is full, then the rest after the cursor")
    func paging() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        let other = try F.id(try F.request(engine, "POST", "/v1/orders", F.orderBody(customer: "51")))
        let id = try F.id(try F.request(engine, "POST", "/v1/orders", F.orderBody(customer: "51")))
        #expect(try F.request(engine, "POST", "/v1/orders/\(other)/cancel").status == 200)
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/fail", #"{"reason":"test"}"#).status == 200)

        let first = try F.request(engine, "GET", "/v1/orders/\(id)/events?limit=2")
        let firstEvents = try Self.events(first)
        #expect(firstEvents.map { $0["to"] as? String } == ["created", "quoted"])
        let cursor = try #require((try F.object(first)["next_after"] as? NSNumber)?.int64Value, "\(first.text)")
        #expect(cursor == (firstEvents.last?["seq"] as? NSNumber)?.int64Value)
        let second = try F.request(engine, "GET", "/v1/orders/\(id)/events?limit=2&after=\(cursor)")
        #expect(try Self.events(second).map { $0["to"] as? String } == ["failed"], "only this order's events follow")
        #expect(try F.object(second)["next_after"] is NSNull)
        let admin = try Self.events(try F.request(engine, "GET", "/v1/orders/\(id)/events"))
        let actor = admin.last?["actor"] as? [String: Any]
        #expect(actor?["role"] as? String == "admin" && actor?["id"] is NSNull, "\(admin)")
    }

    @Test("bad ids and parameters are 400 invalid_parameter; an unknown order is 404 order_not_found")
    func badInput() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir, graph: false)
        defer { engine.close() }
        for path in ["/v1/orders/abc/events", "/v1/orders/-1/events", "/v1/orders/18446744073709551616/events",
                     "/v1/orders/1/events?limit=0", "/v1/orders/1/events?limit=1001", "/v1/orders/1/events?limit=x",
                     "/v1/orders/1/events?after=-1", "/v1/orders/1/events?after=9223372036854775808"] {
            let r = try F.request(engine, "GET", path)
            #expect(r.status == 400 && r.errorCode == "invalid_parameter", "\(path): \(r.status) \(r.text)")
        }
        let missing = try F.request(engine, "GET", "/v1/orders/999/events")
        #expect(missing.status == 404 && missing.errorCode == "order_not_found", "\(missing.text)")
    }
}
