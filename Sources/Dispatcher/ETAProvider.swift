import Vocabulary

/// Pickup travel times for a dispatch round: the Engine implements this with the Routing
/// many-to-many matrix; `StraightLineETAProvider` is the explicit fallback.
public protocol ETAProvider: Sendable {
    /// Travel seconds from every source to every target, row-major: entry `s * targets.count + t`.
    /// `.infinity` where a target cannot be reached. The result must have `sources.count * targets.count` entries.
    func etaSeconds(from sources: [LatLng], to targets: [LatLng]) throws(ETAProviderError) -> [Double]
    /// The same matrix with the vehicle each source travels by (`vehicles[i]` for `sources[i]`), so a provider with
    /// several road profiles routes a bicycle courier on bicycle roads. The default ignores the vehicles.
    func etaSeconds(from sources: [LatLng], vehicles: [VehicleType], to targets: [LatLng]) throws(ETAProviderError) -> [Double]
}

extension ETAProvider {
    public func etaSeconds(from sources: [LatLng], vehicles: [VehicleType], to targets: [LatLng]) throws(ETAProviderError) -> [Double] {
        try etaSeconds(from: sources, to: targets)
    }
}

/// An ETA provider could not answer (no graph loaded, a point far from any road, …).
public struct ETAProviderError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong, for logs.
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "ETA provider failed: \(message)" }
}
