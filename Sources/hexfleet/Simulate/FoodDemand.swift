import Engine
import Foundation
import Routing
import Vocabulary

/// The food scenario's orders, all drawn up front from the seed: restaurants on the road graph, a lunch-peak
/// arrival curve, preparation times, delivery deadlines (docs/simulator.md, "Food scenario", gives the figures and
/// why).
///
/// Restaurants sit in the densest H3 zones of `DemandModel` (town centres); their popularity follows a Zipf law. Arrivals are a non-homogeneous Poisson process
/// (drawn by thinning) whose rate rises from `baseShare × peak` to the peak in the middle of the window and falls
/// back, a Gaussian bump. Each order gets its restaurant's preparation time with ±30 % noise and a customer 0.4–3 km
/// away (straight line) and at most 10 minutes' free-flow drive, on the part of the graph every courier reaches.
struct FoodDemand {
    /// The scenario's parameters; the defaults are the documented food scenario.
    struct Parameters: Sendable, Equatable {
        /// Orders per minute at the lunch peak.
        var peakOrdersPerMinute = 3.0
        /// Rate at the edges of the window as a share of the peak.
        var baseShare = 0.25
        /// Width (σ) of the lunch bump as a share of the window.
        var peakWidthShare = 0.2
        var restaurants = 40
        /// Restaurants lie in this many of the densest H3 zones.
        var restaurantZones = 8
        /// Zipf exponent of restaurant popularity.
        var popularityExponent = 0.8
        /// Each restaurant's mean preparation time is uniform in this range, seconds.
        var meanPreparationSeconds = 480.0...960.0
        /// An order's preparation is its restaurant's mean times a uniform factor in this range.
        var preparationNoise = 0.7...1.3
        /// Straight-line distance from restaurant to customer, meters.
        var deliveryRadiusMeters = 400.0...3_000.0
        /// ... and at most this many seconds' free-flow drive (a platform's delivery area is an isochrone).
        var deliveryAreaSeconds = 600.0
        /// Promised delivery: drop-off by creation + this, seconds.
        var deadlineSeconds = 2_700.0
        /// Longest ride, pickup service start to drop-off, seconds.
        var maxRideSeconds = 2_400.0
        /// Seconds at each stop (counter handover, door handover).
        var serviceSeconds = 120.0
    }

    /// One order as drawn; times are milliseconds on the run's clock.
    struct Order: Sendable, Equatable {
        var createdMs: Int64
        var restaurant: Int
        var pickupNode: Int
        var dropoffNode: Int
        var readyMs: Int64
        var deadlineMs: Int64
    }

    /// Road node of each restaurant.
    let restaurantNodes: [Int]
    /// Every order of the window, by creation time.
    let orders: [Order]

    /// Draws the restaurants and the orders of `[startMs, startMs + windowSeconds)`.
    /// `driveMs` gives free-flow driving milliseconds between two nodes (the delivery area is an isochrone).
    init(graph: RoadGraph, zones: DemandModel, reachableNodes: [Int32], parameters p: Parameters,
         startMs: Int64, windowSeconds: Double, seed: UInt64, driveMs: (Int, Int) -> Double) {
        var rng = SimRandom(seed: seed, stream: 11)
        // Restaurant districts: the densest zones by road nodes (town centres, not hill villages), each drawn in
        // proportion to its density.
        let byDensity = zones.zones.indices.sorted {
            (zones.nodes(ofZone: $0).count, $1) > (zones.nodes(ofZone: $1).count, $0)
        }.prefix(p.restaurantZones)
        var zoneWeights = [Double](), zoneAcc = 0.0
        for z in byDensity { zoneAcc += Double(zones.nodes(ofZone: z).count); zoneWeights.append(zoneAcc) }
        var nodes = [Int](), meanPrep = [Double]()
        for _ in 0..<max(1, p.restaurants) {
            let u = rng.unit() * zoneAcc
            let pick = zoneWeights.firstIndex { $0 > u }.map { byDensity[byDensity.startIndex + $0] }
            let candidates = pick.map { zones.nodes(ofZone: $0) } ?? reachableNodes
            nodes.append(Int(candidates[rng.index(candidates.count)]))
            meanPrep.append(p.meanPreparationSeconds.lowerBound
                            + (p.meanPreparationSeconds.upperBound - p.meanPreparationSeconds.lowerBound) * rng.unit())
        }
        restaurantNodes = nodes
        var popularity = [Double]()
        var acc = 0.0
        for k in 0..<nodes.count { acc += 1 / pow(Double(k + 1), p.popularityExponent); popularity.append(acc) }

        let peakPerMs = p.peakOrdersPerMinute / 60_000
        let windowMs = windowSeconds * 1000
        let centre = windowMs / 2, sigma = max(1, p.peakWidthShare * windowMs)
        func rate(_ x: Double) -> Double {
            let z = (x - centre) / sigma
            return peakPerMs * (p.baseShare + (1 - p.baseShare) * exp(-0.5 * z * z))
        }
        var drawn = [Order]()
        var x = 0.0
        while peakPerMs > 0 {
            x += rng.exponential(mean: 1 / peakPerMs)
            guard x < windowMs else { break }
            guard rng.unit() * peakPerMs < rate(x) else { continue }
            let u = rng.unit() * acc
            let r = popularity.firstIndex { $0 > u } ?? popularity.count - 1
            let pickup = nodes[r]
            let at = graph.coordinate(pickup)
            var dropoff = Int(reachableNodes[rng.index(reachableNodes.count)])
            for _ in 0..<200 {
                if dropoff != pickup, p.deliveryRadiusMeters.contains(Geodesy.distanceMeters(at, graph.coordinate(dropoff))),
                   driveMs(pickup, dropoff) <= p.deliveryAreaSeconds * 1000 { break }
                dropoff = Int(reachableNodes[rng.index(reachableNodes.count)])
            }
            let prep = meanPrep[r] * (p.preparationNoise.lowerBound + (p.preparationNoise.upperBound - p.preparationNoise.lowerBound) * rng.unit())
            let created = startMs + Int64(x)
            drawn.append(Order(createdMs: created, restaurant: r, pickupNode: pickup, dropoffNode: dropoff,
                               readyMs: created + Int64(prep * 1000), deadlineMs: created + Int64(p.deadlineSeconds * 1000)))
        }
        orders = drawn
    }
}
