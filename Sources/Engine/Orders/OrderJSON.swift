import HTTPServer
import HexGeo
import JSON
import Marketplace
import Storage
import Vocabulary

/// JSON renderings of orders, quotes, ratings and surge zones (the shapes in openapi.json).
enum OrderJSON {
    static func point(_ w: inout JSONWriter, _ p: E7Point) {
        w.beginObject()
        w.key("lat"); w.number(p.latDegrees)
        w.key("lng"); w.number(p.lngDegrees)
        w.endObject()
    }

    /// `{"id","customer_id","courier_id","status","vehicle","pickup","dropoff","quote_id","price_cents","currency",
    /// "surge","distance_m","duration_s","created_at_ms","updated_at_ms","ready_in_s","deadline_s","max_ride_s"}`
    /// (the last three null when not given); `customer_id` is a string (a token subject), `courier_id` the driver's
    /// number or null. With `eta`, also `"eta_pickup_ms"` and `"eta_dropoff_ms"` (null when not planned).
    static func write(_ w: inout JSONWriter, _ o: OrderRecord, eta: OrderETA? = nil) {
        w.beginObject()
        w.key("id"); w.number(o.id.rawValue)
        w.key("customer_id"); w.string(o.customerID.rawValue)
        w.key("courier_id"); if let c = o.courierID { w.number(c.rawValue) } else { w.null() }
        w.key("status"); w.string(o.status.rawValue)
        w.key("vehicle"); w.string(o.vehicle)
        w.key("pickup"); point(&w, o.pickup)
        w.key("dropoff"); point(&w, o.dropoff)
        w.key("quote_id"); if let q = o.quoteID { w.string(q) } else { w.null() }
        w.key("price_cents"); w.number(o.priceCents)
        w.key("currency"); w.string(o.currency)
        w.key("surge"); w.number(Double(o.surgeMilli) / 1000)
        w.key("distance_m"); w.number(o.distanceMeters)
        w.key("duration_s"); w.number(o.durationSeconds)
        w.key("created_at_ms"); w.number(o.createdAtMs)
        w.key("updated_at_ms"); w.number(o.updatedAtMs)
        w.key("ready_in_s"); if let v = o.timing.readyInSeconds { w.number(v) } else { w.null() }
        w.key("deadline_s"); if let v = o.timing.deadlineSeconds { w.number(v) } else { w.null() }
        w.key("max_ride_s"); if let v = o.timing.maxRideSeconds { w.number(v) } else { w.null() }
        if let eta {
            w.key("eta_pickup_ms"); if let v = eta.pickupMs { w.number(v) } else { w.null() }
            w.key("eta_dropoff_ms"); if let v = eta.dropoffMs { w.number(v) } else { w.null() }
        }
        w.endObject()
    }

    /// One event of an order's log: `{"seq","from","to","actor":{"role","id"},"reason","at_ms"}`; the actor's id
    /// is a string (null for the system and admins, which have none).
    static func write(_ w: inout JSONWriter, _ e: OrderEvent) {
        w.beginObject()
        w.key("seq"); w.number(e.sequence)
        w.key("from"); if let f = e.from { w.string(f.rawValue) } else { w.null() }
        w.key("to"); w.string(e.to.rawValue)
        w.key("actor"); w.beginObject()
        w.key("role"); w.string(e.actor.role.rawValue)
        w.key("id")
        switch e.actor.role {
        case .system, .admin: w.null()
        default: w.string(String(e.actor.id))
        }
        w.endObject()
        w.key("reason"); if let r = e.reason { w.string(r) } else { w.null() }
        w.key("at_ms"); w.number(e.atMs)
        w.endObject()
    }

    /// A quote: id, price, currency, breakdown, surge, distance, duration, zone and expiry.
    /// With `promiseMs`, `"promise_ms"`: when the order could be delivered if placed now (null without a courier).
    static func write(_ w: inout JSONWriter, _ q: Quote, promiseMs: Int64?? = nil) {
        w.beginObject()
        w.key("id"); w.string(q.id)
        w.key("customer_id"); w.string(q.customerID.rawValue)
        w.key("vehicle"); w.string(q.vehicle)
        w.key("pickup"); point(&w, q.pickup)
        w.key("dropoff"); point(&w, q.dropoff)
        w.key("price_cents"); w.number(q.priceCents)
        w.key("currency"); w.string(q.currency)
        w.key("surge"); w.number(q.surge)
        w.key("distance_m"); w.number(q.distanceMeters)
        w.key("duration_s"); w.number(q.durationSeconds)
        w.key("zone"); if let z = q.zone { w.string(String(z, radix: 16)) } else { w.null() }
        w.key("breakdown")
        w.beginObject()
        w.key("base_cents"); w.number(q.breakdown.baseCents)
        w.key("distance_cents"); w.number(q.breakdown.distanceCents)
        w.key("time_cents"); w.number(q.breakdown.timeCents)
        w.key("fare_cents"); w.number(q.breakdown.fareCents)
        w.key("minimum_applied"); w.bool(q.breakdown.minimumApplied)
        w.key("surge_cents"); w.number(q.breakdown.surgeCents)
        w.endObject()
        w.key("created_at_ms"); w.number(q.createdAtMs)
        w.key("expires_at_ms"); w.number(q.expiresAtMs)
        w.key("expires_at"); w.number(q.expiresAtMs / 1000)
        if let promiseMs { w.key("promise_ms"); if let p = promiseMs { w.number(p) } else { w.null() } }
        w.endObject()
    }

    /// A rating: order, direction, rater, subject, stars, comment, time.
    static func write(_ w: inout JSONWriter, _ r: RatingRecord) {
        w.beginObject()
        w.key("order_id"); w.number(r.orderID.rawValue)
        w.key("direction"); w.string(r.direction.rawValue)
        w.key("rater_id"); w.string(r.raterID)
        w.key("subject_id"); w.string(r.subjectID)
        w.key("stars"); w.number(r.stars)
        w.key("comment"); if let c = r.comment { w.string(c) } else { w.null() }
        w.key("created_at_ms"); w.number(r.createdAtMs)
        w.endObject()
    }

    /// A subject's rating summary: count, plain mean, Bayesian score.
    static func write(_ w: inout JSONWriter, kind: String, id: String, _ s: RatingSummary) {
        w.beginObject()
        w.key("id"); w.string(id)
        w.key("kind"); w.string(kind)
        w.key("count"); w.number(s.count)
        w.key("mean"); w.number(s.mean)
        w.key("score"); w.number(s.bayesian)
        w.endObject()
    }

    /// A surge zone with its H3 cell boundary (`[[lat,lng],…]`) for the live map.
    static func write(_ w: inout JSONWriter, _ z: SurgeZone) {
        w.beginObject()
        w.key("cell"); w.string(String(z.zone, radix: 16))
        w.key("multiplier"); w.number(z.multiplier)
        w.key("demand"); w.number(z.demand)
        w.key("supply"); w.number(z.supply)
        w.key("boundary"); w.beginArray()
        if let b = try? H3.cellToBoundary(H3Cell(rawValue: z.zone)) {
            for p in b { w.beginArray(); w.number(p.latDegrees); w.number(p.lngDegrees); w.endArray() }
        }
        w.endArray()
        w.endObject()
    }
}
