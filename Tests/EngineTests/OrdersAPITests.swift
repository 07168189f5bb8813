import Foundation
import Testing
import TestSupport

/// Orders over real sockets with a real SQLite file: roles, idempotency, the state machine's refusals, quotes,
/// bad input. Each test runs its own engine on the Monaco graph.
@Suite(.serialized) struct OrdersAPITests {
    typealias F = OrdersFixture

    @Test("create, get, list and cancel with roles: customers see and cancel only their own")
    func rolesAndCancel() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        let alice = try F.token(engine, "customer", "11"), bob = try F.token(engine, "customer", "12")
        let driver = try F.token(engine, "driver", "5"), dispatcher = try F.token(engine, "dispatcher", "ops")

        let created = try F.request(engine, "POST", "/v1/orders", F.orderBody(), token: alice)
        #expect(created.status == 201, "\(created.text)")
        let order = try F.object(created)
        let id = try F.id(created)
        #expect(order["status"] as? String == "quoted")
        #expect(order["customer_id"] as? String == "11")
        #expect(((order["price_cents"] as? NSNumber)?.intValue ?? 0) >= 600, "at least the car's minimum fare")
        #expect(((order["distance_m"] as? NSNumber)?.intValue ?? 0) > 0)

        #expect(try F.request(engine, "GET", "/v1/orders/\(id)", token: alice).status == 200)
        #expect(try F.request(engine, "GET", "/v1/orders/\(id)", token: bob).errorCode == "order_not_found")
        #expect(try F.request(engine, "GET", "/v1/orders/\(id)", token: driver).errorCode == "order_not_found")
        #expect(try F.request(engine, "GET", "/v1/orders/\(id)", token: dispatcher).status == 200)

        let mine = try F.object(try F.request(engine, "GET", "/v1/orders?customer_id=12", token: alice))
        #expect((mine["orders"] as? [[String: Any]])?.count == 1, "a customer's list is always its own, whatever it asks")
        let theirs = try F.object(try F.request(engine, "GET", "/v1/orders", token: bob))
        #expect((theirs["orders"] as? [Any])?.isEmpty == true)
        let all = try F.object(try F.request(engine, "GET", "/v1/orders?status=quoted,dispatched&limit=10"))
        #expect((all["orders"] as? [[String: Any]])?.first?["id"] as? NSNumber == NSNumber(value: id))

        // Acting for someone else.
        #expect(try F.request(engine, "POST", "/v1/orders", F.orderBody(customer: "12"), token: alice).errorCode == "forbidden")
        #expect(try F.request(engine, "POST", "/v1/orders", F.orderBody(customer: "12"), token: dispatcher).errorCode == "forbidden")
        #expect(try F.request(engine, "POST", "/v1/orders", F.orderBody(), token: TestEngine.admin).errorCode == "invalid_parameter",
                "an admin names the customer")
        #expect(try F.request(engine, "POST", "/v1/orders", F.orderBody(customer: "12")).status == 201, "an admin acts for any customer")
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/cancel", token: bob).errorCode == "forbidden")
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/cancel", token: driver).errorCode == "forbidden")
        #expect(try F.request(engine, "POST", "/v1/orders", F.orderBody(), token: nil).status == 401)

        let cancelled = try F.request(engine, "POST", "/v1/orders/\(id)/cancel", #"{"reason":"changed my mind"}"#, token: alice)
        #expect(cancelled.status == 200, "\(cancelled.text)")
        #expect(try F.object(cancelled)["status"] as? String == "cancelled")
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/cancel", token: alice).errorCode == "invalid_transition")
        #expect(try F.status(engine, id) == "cancelled")

        // Every change is evented: the notification log in the data directory and the metrics.
        let log = dir + "/notifications.log"
        #expect(eventually {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return text.contains(#""event":"order.created""#) && text.contains(#""event":"order.status_changed""#)
        })
        #expect(try eventually { try engine.metric("hexfleet_orders_created_total") == 2 })
        #expect(try eventually { try engine.metric("hexfleet_order_transitions_total{to=\"cancelled\"}") == 1 })
    }

    @Test("Idempotency-Key: the same key and body answer the first order (200), another body is 409")
    func idempotency() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        let alice = try F.token(engine, "customer", "21")
        let key = [("Idempotency-Key", "k-1")]
        let first = try F.request(engine, "POST", "/v1/orders", F.orderBody(notes: "ring twice"), token: alice, headers: key)
        #expect(first.status == 201, "\(first.text)")
        let again = try F.request(engine, "POST", "/v1/orders", F.orderBody(notes: "ring twice"), token: alice, headers: key)
        #expect(again.status == 200)
        #expect(try F.id(again) == F.id(first))
        let other = try F.request(engine, "POST", "/v1/orders", F.orderBody(notes: "ring once"), token: alice, headers: key)
        #expect(other.status == 409)
        #expect(other.errorCode == "idempotency_conflict")
        // Keys are per customer: another customer's identical key is a new order.
        let bob = try F.token(engine, "customer", "22")
        let bobs = try F.request(engine, "POST", "/v1/orders", F.orderBody(notes: "ring twice"), token: bob, headers: key)
        #expect(bobs.status == 201)
        #expect(try F.id(bobs) != F.id(first))
        // With a quote: a retry after the quote was used still answers the first order.
        let quote = try F.object(try F.request(engine, "POST", "/v1/quotes", F.orderBody(), token: alice))
        let qid = try #require(quote["id"] as? String)
        let qkey = [("Idempotency-Key", "k-2")]
        let q1 = try F.request(engine, "POST", "/v1/orders", F.orderBody(quote: qid), token: alice, headers: qkey)
        #expect(q1.status == 201)
        #expect((try F.object(q1)["price_cents"] as? NSNumber) == (quote["price_cents"] as? NSNumber))
        let q2 = try F.request(engine, "POST", "/v1/orders", F.orderBody(quote: qid), token: alice, headers: qkey)
        #expect(q2.status == 200)
        #expect(try F.id(q2) == F.id(q1))
        #expect(try F.request(engine, "POST", "/v1/orders", F.orderBody(quote: qid), token: alice).errorCode == "quote_not_found",
                "a quote buys one order")
        let listed = try F.object(try F.request(engine, "GET", "/v1/orders?customer_id=21"))
        #expect((listed["orders"] as? [Any])?.count == 2, "retries created nothing")
    }

    @Test("every transition the state machine refuses is 409 invalid_transition")
    func invalidTransitions() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        // A quoted order (no couriers: it stays quoted) cannot be picked up or delivered.
        let quoted = try F.id(try F.request(engine, "POST", "/v1/orders", F.orderBody(customer: "31")))
        for action in ["pickup", "deliver"] {
            let r = try F.request(engine, "POST", "/v1/orders/\(quoted)/\(action)")
            #expect(r.status == 409 && r.errorCode == "invalid_transition", "\(action) from quoted: \(r.text)")
        }
        // Terminal orders refuse everything.
        let cancelled = try F.id(try F.request(engine, "POST", "/v1/orders", F.orderBody(customer: "31")))
        #expect(try F.request(engine, "POST", "/v1/orders/\(cancelled)/cancel").status == 200)
        let failed = try F.id(try F.request(engine, "POST", "/v1/orders", F.orderBody(customer: "31")))
        #expect(try F.request(engine, "POST", "/v1/orders/\(failed)/fail", #"{"reason":"test"}"#).status == 200)
        for id in [cancelled, failed] {
            for action in ["cancel", "pickup", "deliver", "fail"] {
                let r = try F.request(engine, "POST", "/v1/orders/\(id)/\(action)")
                #expect(r.status == 409 && r.errorCode == "invalid_transition", "\(action) from terminal: \(r.text)")
            }
        }
        #expect(try F.status(engine, failed) == "failed")
    }

    /// Starts an engine whose data directory prices in EUR with quotes living `ttlSeconds`.
    static func quotingEngine(ttlSeconds: Int) throws -> (engine: TestEngine, dir: String) {
        let dir = try F.dataDirectory()
        let pricing = #"{"currency":"EUR","quote_ttl_s":\#(ttlSeconds),"vehicles":{"car":{"base_cents":250,"per_km_cents":110,"per_minute_cents":30,"minimum_cents":600}}}"#
        try Data(pricing.utf8).write(to: URL(fileURLWithPath: dir + "/pricing.json"))
        return (try F.engine(dir: dir), dir)
    }

    @Test("quotes: fields, the configured lifetime, and a mismatched order is 409 quote_mismatch")
    func quotes() throws {
        // Quotes here live ten minutes, so nothing below races their expiry however slow the machine.
        let (engine, dir) = try Self.quotingEngine(ttlSeconds: 600)
        defer { F.remove(dir) }
        defer { engine.close() }
        let alice = try F.token(engine, "customer", "41")
        let r = try F.request(engine, "POST", "/v1/quotes", F.orderBody(), token: alice)
        #expect(r.status == 201, "\(r.text)")
        let quote = try F.object(r)
        let breakdown = try #require(quote["breakdown"] as? [String: Any])
        let fare = try #require((breakdown["fare_cents"] as? NSNumber)?.intValue)
        let price = try #require((quote["price_cents"] as? NSNumber)?.intValue)
        #expect(price == fare, "no surge without demand")
        #expect(quote["currency"] as? String == "EUR")
        #expect((quote["surge"] as? NSNumber)?.doubleValue == 1)
        #expect(((quote["duration_s"] as? NSNumber)?.intValue ?? 0) > 0)
        let created = try #require((quote["created_at_ms"] as? NSNumber)?.int64Value)
        let expires = try #require((quote["expires_at_ms"] as? NSNumber)?.int64Value)
        #expect(expires - created == 600_000, "quote_ttl_s from the data directory's pricing.json")
        #expect(try F.request(engine, "POST", "/v1/quotes", #"{"pickup":{"lat":43.7347,"lng":7.4206},"dropoff":{"lat":43.7396,"lng":7.4270},"vehicle":"rocket"}"#,
                              token: alice).errorCode == "unknown_vehicle")
        let qid = try #require(quote["id"] as? String)
        let moved = #"{"quote_id":"\#(qid)","pickup":{"lat":43.7350,"lng":7.4206},"dropoff":{"lat":43.7396,"lng":7.4270}}"#
        #expect(try F.request(engine, "POST", "/v1/orders", moved, token: alice).errorCode == "quote_mismatch")
        // The mismatch used nothing up: the matching order still gets the quote.
        let ordered = try F.request(engine, "POST", "/v1/orders", F.orderBody(quote: qid), token: alice)
        #expect(ordered.status == 201, "\(ordered.text)")
        #expect((try F.object(ordered)["price_cents"] as? NSNumber)?.intValue == price)
    }

    @Test("an expired quote is 410 quote_expired")
    func expiredQuote() throws {
        // Quotes here live one second; the test waits for the clock to pass the expiry (a condition, not a sleep),
        // and nothing has to happen within that second.
        let (engine, dir) = try Self.quotingEngine(ttlSeconds: 1)
        defer { F.remove(dir) }
        defer { engine.close() }
        let alice = try F.token(engine, "customer", "42")
        let quote = try F.object(try F.request(engine, "POST", "/v1/quotes", F.orderBody(), token: alice))
        let qid = try #require(quote["id"] as? String)
        let expires = try #require((quote["expires_at_ms"] as? NSNumber)?.int64Value)
        #expect(expires - engine.nowMs <= 1_000, "the one-second lifetime from pricing.json")
        #expect(eventually(within: 30) { engine.nowMs > expires + 50 })
        let late = try F.request(engine, "POST", "/v1/orders", F.orderBody(quote: qid), token: alice)
        #expect(late.status == 410, "\(late.text)")
        #expect(late.errorCode == "quote_expired")
    }

    @Test("bad input is a 4xx with a code: bad JSON, huge body, unknown ids, bad points, wrong role, no graph")
    func badInput() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        let alice = try F.token(engine, "customer", "51"), driver = try F.token(engine, "driver", "7")
        #expect(try F.request(engine, "POST", "/v1/orders", #"{"pickup":"#, token: alice).errorCode == "invalid_json")
        #expect(try F.request(engine, "POST", "/v1/orders", "[1,2]", token: alice).errorCode == "invalid_json")
        let huge = #"{"notes":""# + String(repeating: "x", count: 2 << 20) + #""}"#
        #expect(try F.request(engine, "POST", "/v1/orders", huge, token: alice).status == 413)
        #expect(try F.request(engine, "POST", "/v1/orders", #"{"pickup":{"lat":91,"lng":0},"dropoff":{"lat":0,"lng":0}}"#, token: alice).errorCode == "invalid_coordinate")
        #expect(try F.request(engine, "POST", "/v1/orders", #"{"pickup":{"lat":"x","lng":0},"dropoff":{"lat":0,"lng":0}}"#, token: alice).errorCode == "invalid_parameter")
        #expect(try F.request(engine, "POST", "/v1/orders", #"{"dropoff":{"lat":43.7,"lng":7.4}}"#, token: alice).errorCode == "invalid_parameter")
        #expect(try F.request(engine, "POST", "/v1/orders", F.orderBody(quote: "q_nope"), token: alice).errorCode == "quote_not_found")
        #expect(try F.request(engine, "POST", "/v1/orders", F.orderBody(), token: alice, headers: [("Idempotency-Key", String(repeating: "k", count: 300))]).status == 400)
        #expect(try F.request(engine, "GET", "/v1/orders/999999", token: alice).errorCode == "order_not_found")
        #expect(try F.request(engine, "GET", "/v1/orders/not-a-number").errorCode == "invalid_parameter")
        #expect(try F.request(engine, "POST", "/v1/orders/999999/cancel").errorCode == "order_not_found")
        #expect(try F.request(engine, "GET", "/v1/orders?status=lost").errorCode == "invalid_status")
        #expect(try F.request(engine, "GET", "/v1/orders?limit=0").errorCode == "invalid_parameter")
        #expect(try F.request(engine, "POST", "/v1/orders", F.orderBody(), token: driver).errorCode == "forbidden")
        #expect(try F.request(engine, "POST", "/v1/quotes", F.orderBody(), token: driver).errorCode == "forbidden")
        #expect(try F.request(engine, "POST", "/v1/orders/1/rating", #"{"stars":9}"#, token: alice).errorCode == "invalid_input")
        #expect(try F.request(engine, "POST", "/v1/orders/999999/rating", #"{"stars":5}"#, token: alice).status == 404)
        #expect(try F.request(engine, "GET", "/v1/couriers/x/rating").errorCode == "invalid_parameter")

        let bareDir = try F.dataDirectory()
        defer { F.remove(bareDir) }
        let bare = try F.engine(dir: bareDir, graph: false)
        defer { bare.close() }
        #expect(try F.request(bare, "POST", "/v1/quotes", F.orderBody(customer: "1")).errorCode == "routing_unavailable")
        #expect(try F.request(bare, "POST", "/v1/orders", F.orderBody(customer: "1")).status == 503)
    }
}
