import Foundation
import HexGeo
import Storage
import Testing
@testable import Marketplace
import Vocabulary

@Suite("Pricing and quotes")
struct PricerTests {
    let car = VehicleFare(baseCents: 250, perKmCents: 110, perMinuteCents: 30, minimumCents: 600)

    @Test("fare = max(minimum, base + per-km + per-minute), rounded to cents, then × surge")
    func fareMath() {
        // 5.0 km, 12 min: 250 + 550 + 360 = 1160.
        let a = Pricer.price(car, distanceMeters: 5_000, durationSeconds: 720, surgeMilli: 1000)
        #expect(a.totalCents == 1160)
        #expect(a.breakdown == FareBreakdown(baseCents: 250, distanceCents: 550, timeCents: 360, fareCents: 1160,
                                             minimumApplied: false, surgeCents: 0))
        // 1.0 km, 2 min: 250 + 110 + 60 = 420 < 600 minimum.
        let b = Pricer.price(car, distanceMeters: 1_000, durationSeconds: 120, surgeMilli: 1000)
        #expect(b.totalCents == 600 && b.breakdown.minimumApplied)
        // Surge 1.5 on 1160 → 1740; 1.234 on 600 → 740.4 → 740.
        #expect(Pricer.price(car, distanceMeters: 5_000, durationSeconds: 720, surgeMilli: 1500).totalCents == 1740)
        let c = Pricer.price(car, distanceMeters: 1_000, durationSeconds: 120, surgeMilli: 1234)
        #expect(c.totalCents == 740 && c.breakdown.surgeCents == 140)
        // 1,234 m → 135.74 → 136 cents; 61 s → 30.5 → 31 cents (half up).
        let d = Pricer.price(car, distanceMeters: 1_234, durationSeconds: 61, surgeMilli: 1000)
        #expect(d.breakdown.distanceCents == 136 && d.breakdown.timeCents == 31)
    }

    @Test("fixtures/pricing.json parses and equals the embedded defaults; a missing file gives the defaults")
    func fixtureFile() throws {
        let path = repoRoot.appendingPathComponent("fixtures/pricing.json").path
        #expect(FileManager.default.fileExists(atPath: path))
        let loaded = try FareConfig.load(path: path)
        #expect(loaded == FareConfig.defaults)
        #expect(Set(loaded.vehicles.keys) == ["car", "bike", "scooter", "van"])
        #expect(try FareConfig.load(path: "/nonexistent/pricing.json") == FareConfig.defaults)
    }

    @Test("malformed fare tables are refused with invalid_config, never a trap", arguments: [
        "", "{", "[]", #"{"currency":"EUR"}"#, #"{"currency":"EURO","vehicles":{"car":{"base_cents":1,"per_km_cents":1,"per_minute_cents":1,"minimum_cents":1}}}"#,
        #"{"currency":"EUR","vehicles":{}}"#, #"{"currency":"EUR","vehicles":{"car":{"base_cents":-1,"per_km_cents":1,"per_minute_cents":1,"minimum_cents":1}}}"#,
        #"{"currency":"EUR","vehicles":{"car":{"base_cents":1,"per_km_cents":1,"per_minute_cents":1,"minimum_cents":1}},"surge":{"cap":0.5}}"#,
        #"{"currency":"EUR","quote_ttl_s":0,"vehicles":{"car":{"base_cents":1,"per_km_cents":1,"per_minute_cents":1,"minimum_cents":1}}}"#,
    ])
    func badConfig(json: String) {
        expectCode("invalid_config", json) { try FareConfig.parse(Array(json.utf8)) }
    }

    @Test("a quote carries id, cents, currency, breakdown, surge, zone and a 5-minute expiry")
    func quoteFields() throws {
        let clock = TestClock()
        let pricer = Pricer(config: .defaults, routes: FixedRoute(cost: RouteCost(distanceMeters: 5_000, durationSeconds: 720)),
                            surge: nil, keyer: GridKeyer(), nowMs: clock.closure)
        let q = try pricer.quote(customer: CustomerID(7), vehicle: "car", pickup: casino, dropoff: port)
        #expect(q.id.hasPrefix("q_") && q.id.count == 18)
        #expect(q.priceCents == 1160 && q.currency == "EUR" && q.surgeMilli == 1000)
        #expect(q.expiresAtMs == clock.now + 300_000)
        #expect(q.zone == GridKeyer().zone(for: LatLng(degrees: casino.latDegrees, casino.lngDegrees))?.id)
        #expect(try pricer.liveQuote(q.id) == q)
        let other = try pricer.quote(customer: CustomerID(7), vehicle: "car", pickup: casino, dropoff: port)
        #expect(other.id != q.id)
    }

    @Test("quotes refuse unknown vehicles, bad coordinates and missing routes with their codes")
    func quoteErrors() {
        let pricer = Pricer(config: .defaults, routes: FixedRoute(cost: nil), surge: nil, keyer: nil)
        expectCode("unknown_vehicle") { try pricer.quote(customer: CustomerID(1), vehicle: "horse", pickup: casino, dropoff: port) }
        expectCode("invalid_coordinate") {
            try pricer.quote(customer: CustomerID(1), vehicle: "car", pickup: E7Point(latE7: 900_000_001, lngE7: 0), dropoff: port)
        }
        expectCode("no_route") { try pricer.quote(customer: CustomerID(1), vehicle: "car", pickup: casino, dropoff: port) }
        let absurd = Pricer(config: .defaults, routes: FixedRoute(cost: RouteCost(distanceMeters: -5, durationSeconds: 1)),
                            surge: nil, keyer: nil)
        expectCode("invalid_input") { try absurd.quote(customer: CustomerID(1), vehicle: "car", pickup: casino, dropoff: port) }
        expectCode("quote_not_found") { try pricer.liveQuote("q_nope") }
    }

    @Test("a quote expires after its TTL: quote_expired, then it is gone")
    func expiry() throws {
        let clock = TestClock()
        let pricer = Pricer(config: .defaults, routes: GreatCircleRoutes(), surge: nil, keyer: nil, nowMs: clock.closure)
        let q = try pricer.quote(customer: CustomerID(1), vehicle: "bike", pickup: casino, dropoff: port)
        clock.advance(seconds: 299)
        #expect(try pricer.liveQuote(q.id).id == q.id)
        clock.advance(seconds: 1)
        expectCode("quote_expired") { try pricer.liveQuote(q.id) }
        expectCode("quote_not_found") { try pricer.liveQuote(q.id) }
    }

    @Test("the quote map is bounded: expired quotes make room, live ones are refused with quote_capacity")
    func capacity() throws {
        let clock = TestClock()
        let pricer = Pricer(config: .defaults, routes: GreatCircleRoutes(), surge: nil, keyer: nil, capacity: 3,
                            nowMs: clock.closure)
        for _ in 0..<3 { _ = try pricer.quote(customer: CustomerID(1), vehicle: "car", pickup: casino, dropoff: port) }
        expectCode("quote_capacity") { try pricer.quote(customer: CustomerID(1), vehicle: "car", pickup: casino, dropoff: port) }
        clock.advance(seconds: 301)
        _ = try pricer.quote(customer: CustomerID(1), vehicle: "car", pickup: casino, dropoff: port)
        #expect(pricer.quoteCount == 1)
    }

    @Test("the quote's price carries the pick-up zone's surge")
    func surgedQuote() throws {
        var sc = SurgeConfig()
        sc.alpha = 1
        sc.neighbourWeight = 0
        let keyer = GridKeyer()
        let surge = SurgeMap(config: sc, keyer: keyer)
        let p = LatLng(degrees: casino.latDegrees, casino.lngDegrees)
        surge.tick(waitingPickups: Array(repeating: p, count: 10), availableCouriers: [])
        let m = surge.multiplier(at: p)
        #expect(m == sc.cap)
        let pricer = Pricer(config: .defaults, routes: FixedRoute(cost: RouteCost(distanceMeters: 5_000, durationSeconds: 720)),
                            surge: surge, keyer: keyer)
        let q = try pricer.quote(customer: CustomerID(1), vehicle: "car", pickup: casino, dropoff: port)
        #expect(q.surgeMilli == 2500 && q.priceCents == 2900 && q.breakdown.surgeCents == 1740)
    }
}
