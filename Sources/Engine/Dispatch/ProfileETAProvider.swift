import Dispatcher
import Routing
import Vocabulary

/// Pickup ETAs that route each courier on its vehicle's profile: a bicycle courier on the bicycle graph, a scooter on
/// the scooter graph, cars and vans on the car graph. Sources are grouped by profile and each group gets one
/// many-to-many matrix from that profile's `RoutingETAProvider`; a vehicle whose profile has no graph loaded routes
/// on the car graph (`fallback`).
final class ProfileETAProvider: ETAProvider {
    /// The provider for cars and for vehicles whose profile is not loaded.
    let fallback: RoutingETAProvider
    /// Providers of the other loaded profiles.
    let byProfile: [RoutingProfile: RoutingETAProvider]

    init(fallback: RoutingETAProvider, byProfile: [RoutingProfile: RoutingETAProvider]) {
        self.fallback = fallback
        self.byProfile = byProfile
    }

    func etaSeconds(from sources: [LatLng], to targets: [LatLng]) throws(ETAProviderError) -> [Double] {
        try fallback.etaSeconds(from: sources, to: targets)
    }

    func etaSeconds(from sources: [LatLng], vehicles: [VehicleType], to targets: [LatLng]) throws(ETAProviderError) -> [Double] {
        guard vehicles.count == sources.count else { throw ETAProviderError("\(vehicles.count) vehicles for \(sources.count) sources") }
        var groups: [RoutingProfile: [Int]] = [:]
        for (i, vehicle) in vehicles.enumerated() {
            let profile = vehicle.routingProfile
            groups[byProfile[profile] == nil ? .car : profile, default: []].append(i)
        }
        if groups.count == 1, groups[.car] != nil { return try fallback.etaSeconds(from: sources, to: targets) }
        var out = [Double](repeating: .infinity, count: sources.count * targets.count)
        for (profile, rows) in groups {
            let provider = byProfile[profile] ?? fallback
            let part = try provider.etaSeconds(from: rows.map { sources[$0] }, to: targets)
            for (r, i) in rows.enumerated() {
                for t in 0..<targets.count { out[i * targets.count + t] = part[r * targets.count + t] }
            }
        }
        return out
    }
}

extension VehicleType {
    /// The road profile this vehicle routes on: bicycles and scooters on their own, cars and vans on the car's.
    var routingProfile: RoutingProfile {
        switch self {
        case .bicycle: .bicycle
        case .scooter: .scooter
        case .car, .van: .car
        }
    }

    /// The vehicle an order or courier names (`car`, `van`, `bike`/`bicycle`, `scooter`; any case), nil otherwise.
    init?(name: String) {
        switch name.lowercased() {
        case "car": self = .car
        case "van": self = .van
        case "bike", "bicycle": self = .bicycle
        case "scooter": self = .scooter
        default: return nil
        }
    }
}
