import FleetIndex
import HexGeo
import Vocabulary

/// A fleet query as parsed from a request, in the form one engine answers from its own table and the cluster sends
/// to the other engines (docs/cluster.md): the same value, so every shard answers exactly what one node would.
enum FleetQuery: Sendable, Equatable {
    /// The k nearest within a radius (`GET /v1/drivers/nearby`).
    case nearby(LatLng, k: Int, radiusMeters: Double, StatusFilter)
    /// The drivers in H3 cells (`/v1/drivers/within?cells=`).
    case cells([H3Cell], StatusFilter)
    /// The drivers in a polygon (`/v1/drivers/within?polygon=`, or POSTed with holes).
    case polygon(GeoPolygon, StatusFilter)
    /// One driver (`GET /v1/drivers/{id}`).
    case driver(DriverID)

    /// This table's answer.
    func answer(from table: DriverTable, nowMs: Int64) -> FleetAnswer {
        switch self {
        case let .nearby(point, k, radius, filter):
            return table.nearest(to: point, k: k, maxRadiusMeters: radius, statuses: filter, nowMs: nowMs)
                .map { FleetAnswerDriver(state: $0.state, distanceMeters: $0.distanceMeters) }
        case let .cells(cells, filter):
            // The cells were validated when parsed, so the table cannot refuse them.
            let states = (try? table.drivers(inCells: cells, statuses: filter, nowMs: nowMs)) ?? []
            return states.map { FleetAnswerDriver(state: $0, distanceMeters: nil) }
        case let .polygon(polygon, filter):
            return table.drivers(in: polygon, statuses: filter, nowMs: nowMs).map { FleetAnswerDriver(state: $0, distanceMeters: nil) }
        case let .driver(id):
            return table.state(of: id).map { [FleetAnswerDriver(state: $0, distanceMeters: nil)] } ?? []
        }
    }

    /// Merges the answers of several engines into the answer one engine holding every driver would give: nearest-k
    /// by distance then id (the table's tie rule), cut at k; regions as a set ordered by id; a driver by its newest
    /// fix. A driver two shards report during a hand-off (docs/cluster.md) appears once, with its newest fix.
    func merge(_ answers: [FleetAnswer]) -> FleetAnswer {
        var newest: [DriverID: FleetAnswerDriver] = [:]
        for answer in answers {
            for d in answer {
                if let seen = newest[d.state.id], seen.state.timestampMs >= d.state.timestampMs { continue }
                newest[d.state.id] = d
            }
        }
        let all = Array(newest.values)
        switch self {
        case let .nearby(_, k, _, _):
            let sorted = all.sorted {
                let a = $0.distanceMeters ?? .infinity, b = $1.distanceMeters ?? .infinity
                return a < b || (a == b && $0.state.id.rawValue < $1.state.id.rawValue)
            }
            return Array(sorted.prefix(k))
        case .cells, .polygon, .driver:
            return all.sorted { $0.state.id.rawValue < $1.state.id.rawValue }
        }
    }
}

/// One driver of a fleet answer; `distanceMeters` for nearest-k, `node` (the shard holding it) in a cluster.
struct FleetAnswerDriver: Sendable, Equatable {
    var state: DriverState
    var distanceMeters: Double?
    var node: String? = nil
}

/// Asks the other engines of a cluster and merges their answers with this one's (`ClusterService`).
protocol FleetGatherer: AnyObject {
    /// Whether there is anyone else to ask.
    var gathers: Bool { get }
    /// Sends `query` to every other live engine and calls `completion` on the loop with the merged answer (`local`
    /// included) and the engines that did not answer in time, sorted; never later than the query timeout.
    func gather(_ query: FleetQuery, local: FleetAnswer, completion: @escaping (FleetAnswer, _ missing: [String]) -> Void)
}

/// What an engine answers to a `FleetQuery`.
typealias FleetAnswer = [FleetAnswerDriver]
