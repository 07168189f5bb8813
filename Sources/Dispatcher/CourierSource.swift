import Vocabulary

/// Where a dispatch round finds candidate couriers: the Engine adapts FleetIndex to this, or builds
/// a `CourierSnapshotIndex` from it once per round.
///
/// A round may run on a worker thread, so the value handed to `DispatchRound` must be `Sendable`
/// and must not change while the round runs (a snapshot, not the live table).
public protocol CourierSource {
    /// Couriers within `radiusMeters` (great-circle) of `point` whose status is in `statuses` and
    /// vehicle in `vehicles`, nearest first, at most `limit`.
    func candidates(
        near point: LatLng, radiusMeters: Double, statuses: StatusFilter, vehicles: VehicleSet, limit: Int
    ) -> [CourierSnapshot]
}
