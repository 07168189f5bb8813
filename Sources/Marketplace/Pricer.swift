import HexGeo
import Storage
import Synchronization
import Vocabulary

/// Makes quotes (base + per-km + per-minute, minimum fare, surge) and keeps them until they expire.
///
/// Quotes live in memory only (a bounded map): they are short-lived offers, and an order copies
/// everything it needs from its quote (price, surge, distance, duration) into its own durable row.
/// After a restart an unexpired quote is gone and the client asks again (`quote_not_found`).
/// Thread-safe: one Mutex around the quote map.
public final class Pricer: Sendable {
    /// The fare table in use.
    public let config: FareConfig
    private let routes: any RouteCostProvider
    private let surge: SurgeMap?
    private let keyer: (any ZoneKeyer)?
    private let nowMs: @Sendable () -> Int64
    private let capacity: Int
    private let quotes = Mutex<[String: Quote]>([:])

    /// A pricer.
    /// - Parameters:
    ///   - surge: the surge map; nil for no surge.
    ///   - keyer: names the pick-up's zone in quotes; nil to leave it out.
    ///   - capacity: most live quotes held; past it, expired ones are dropped, then `quote_capacity`.
    public init(config: FareConfig, routes: any RouteCostProvider, surge: SurgeMap?, keyer: (any ZoneKeyer)?,
                capacity: Int = 200_000, nowMs: @escaping @Sendable () -> Int64 = StoreConfiguration.systemNowMs) {
        self.config = config
        self.routes = routes
        self.surge = surge
        self.keyer = keyer
        self.capacity = max(1, capacity)
        self.nowMs = nowMs
    }

    /// Prices a fare for a route, in integer cents.
    ///
    /// distance part = round(perKm × m / 1000), time part = round(perMinute × s / 60),
    /// fare = max(minimum, base + distance + time), total = round(fare × surgeMilli / 1000).
    public static func price(_ fare: VehicleFare, distanceMeters: Int64, durationSeconds: Int64,
                             surgeMilli: Int64) -> (totalCents: Int64, breakdown: FareBreakdown) {
        let distanceCents = (fare.perKmCents * distanceMeters + 500) / 1000
        let timeCents = (fare.perMinuteCents * durationSeconds + 30) / 60
        let subtotal = fare.baseCents + distanceCents + timeCents
        let fareCents = max(fare.minimumCents, subtotal)
        let total = (fareCents * max(1000, surgeMilli) + 500) / 1000
        return (total, FareBreakdown(baseCents: fare.baseCents, distanceCents: distanceCents, timeCents: timeCents,
                                     fareCents: fareCents, minimumApplied: fare.minimumCents > subtotal,
                                     surgeCents: total - fareCents))
    }

    /// Quotes a trip and keeps the quote for `config.quoteTTLSeconds`.
    /// - Throws: `invalid_coordinate`, `unknown_vehicle`, `no_route`, `invalid_input` (absurd route),
    ///   `quote_capacity`.
    public func quote(customer: CustomerID, vehicle: String, pickup: E7Point, dropoff: E7Point) throws(MarketplaceError) -> Quote {
        guard pickup.isValid, dropoff.isValid else { throw MarketplaceError(.invalidCoordinate, "coordinates out of range") }
        guard let fare = config.vehicles[vehicle] else {
            throw MarketplaceError(.unknownVehicle, "no fares for vehicle type '\(vehicle.prefix(32))'")
        }
        let from = LatLng(degrees: pickup.latDegrees, pickup.lngDegrees)
        let to = LatLng(degrees: dropoff.latDegrees, dropoff.lngDegrees)
        guard let route = routes.routeCost(from: from, to: to, vehicle: vehicle) else {
            throw MarketplaceError(.noRoute, "no route between pick-up and drop-off")
        }
        guard route.distanceMeters >= 0, route.distanceMeters <= 20_000_000,
              route.durationSeconds >= 0, route.durationSeconds <= 30 * 86_400 else {
            throw MarketplaceError(.invalidInput, "route cost out of range")
        }
        let zone = keyer?.zone(for: from)
        let multiplier = zone.map { surge?.multiplier(zone: $0.id) ?? 1 } ?? (surge?.multiplier(at: from) ?? 1)
        let surgeMilli = max(1000, Int64((multiplier * 1000).rounded()))
        let (total, breakdown) = Self.price(fare, distanceMeters: route.distanceMeters,
                                            durationSeconds: route.durationSeconds, surgeMilli: surgeMilli)
        let now = nowMs()
        let q = Quote(id: Self.newQuoteID(), customerID: customer, vehicle: vehicle, pickup: pickup, dropoff: dropoff,
                      distanceMeters: route.distanceMeters, durationSeconds: route.durationSeconds, priceCents: total,
                      currency: config.currency, surgeMilli: surgeMilli, zone: zone?.id, breakdown: breakdown,
                      createdAtMs: now, expiresAtMs: now + config.quoteTTLSeconds * 1000)
        let capacity = self.capacity
        let stored = quotes.withLock { map -> Bool in
            if map.count >= capacity { map = map.filter { $0.value.expiresAtMs > now } }
            guard map.count < capacity else { return false }
            map[q.id] = q
            return true
        }
        guard stored else { throw MarketplaceError(.quoteCapacity, "too many live quotes") }
        return q
    }

    /// The live quote with that id.
    /// - Throws: `quote_not_found`, or `quote_expired` (the quote is then dropped).
    public func liveQuote(_ id: String) throws(MarketplaceError) -> Quote {
        let now = nowMs()
        let found = quotes.withLock { map -> Quote? in map[id] }
        guard let q = found else { throw MarketplaceError(.quoteNotFound, "no quote '\(id.prefix(64))'") }
        guard now < q.expiresAtMs else {
            quotes.withLock { _ = $0.removeValue(forKey: id) }
            throw MarketplaceError(.quoteExpired, "quote \(id) expired")
        }
        return q
    }

    /// Takes the live quote out of the map so that no second order can use it.
    /// - Throws: `quote_not_found` (unknown, already used) or `quote_expired`.
    public func claimQuote(_ id: String) throws(MarketplaceError) -> Quote {
        let now = nowMs()
        let found = quotes.withLock { map -> Quote? in map.removeValue(forKey: id) }
        guard let q = found else {
            throw MarketplaceError(.quoteNotFound, "no live quote '\(id.prefix(64))' (unknown or already used)")
        }
        guard now < q.expiresAtMs else { throw MarketplaceError(.quoteExpired, "quote \(id) expired") }
        return q
    }

    /// Puts back a claimed quote whose order could not be written, so the client may retry with it.
    public func releaseQuote(_ quote: Quote) {
        guard nowMs() < quote.expiresAtMs else { return }
        quotes.withLock { $0[quote.id] = quote }
    }

    /// Live quotes held (expired ones not yet dropped included).
    public var quoteCount: Int { quotes.withLock { $0.count } }

    static func newQuoteID() -> String {
        let hex = String(UInt64.random(in: 0 ... .max), radix: 16)
        return "q_" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}
