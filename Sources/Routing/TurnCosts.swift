import Foundation

/// Turn penalties for the car profile: a U-turn and a cost that grows with the turn's angle, larger for turns across
/// oncoming traffic (left turns where traffic keeps right).
///
/// The angle model is OSRM's car profile (`profiles/car.lua`, `process_turn`): a logistic curve of the turn angle
/// reaching `turnPenaltyMs` (7.5 s) for a full turn, biased by `turnBias` (1.075) toward the side traffic keeps to, plus
/// `uTurnPenaltyMs` (20 s) for turning back. A right angle then costs about 5.4 s across traffic and 2.1 s with it;
/// going straight costs nothing measurable. `OSMImporter` builds these penalties into the graph (see
/// `OSMImporter.applyTurnCosts`), only at junctions that touch a road of rank `maxRoadClassRank` or better.
public struct TurnCosts: Sendable, Equatable {
    /// The largest penalty of a turn (a turn of 180°), before the U-turn penalty, in milliseconds.
    public var turnPenaltyMs: Double = 7_500
    /// Added when the turn leaves toward the node it came from, in milliseconds.
    public var uTurnPenaltyMs: Double = 20_000
    /// How much cheaper turns on the traffic side are (OSRM's `turn_bias`).
    public var turnBias: Double = 1.075
    /// Whether traffic keeps left (then right turns cross it).
    public var leftHandTraffic = false
    /// Junctions are charged only when one of their roads has this rank or better (`CarProfile.roadClassRanks`:
    /// 0 motorway, 1 trunk, 2 primary, 3 secondary, 4 tertiary, 5 residential and unclassified, 7 service and
    /// track). Primary by default: with the U-turn guards, secondary junctions no longer fit the graph's memory
    /// budget (±10 % per OSM node; docs/routing.md, "Turn costs").
    public var maxRoadClassRank: UInt8 = 2
    /// How many of a junction's neighbours must be reached by such roads for it to be charged (1: any junction on a
    /// major road; 3: junctions between major roads only).
    public var minMajorNeighbours = 1
    /// How far (free-flow milliseconds) from a charged junction turning back on a two-way road is made impossible
    /// (`OSMImporter.addUTurnGuards`), so a route cannot dodge a turn by turning back just past the junction; 0: no
    /// guards.
    public var guardMs: UInt32 = 3_500

    /// OSRM's defaults for right-hand traffic.
    public static let rightHandTraffic = TurnCosts()

    public init() {}

    /// The penalty in milliseconds (a multiple of `RoadGraph.turnPenaltyUnitMs`, at most 51 s) of a turn by `degrees` (−180…180, positive counter-clockwise, i.e. to the left as
    /// seen by the driver), with `uTurn` when the turn goes back to the node it came from.
    public func penaltyMs(turnDegrees degrees: Double, uTurn: Bool) -> UInt32 {
        let acrossTraffic = leftHandTraffic ? degrees < 0 : degrees > 0
        let share = abs(degrees) / 180
        let exponent = acrossTraffic ? (13 * turnBias) * share - 6.5 / turnBias : (13 / turnBias) * share - 6.5 * turnBias
        var ms = turnPenaltyMs / (1 + exp(-exponent))
        if uTurn { ms += uTurnPenaltyMs }
        guard ms.isFinite else { return 0 }   // a degenerate angle (NaN) charges nothing rather than trap below
        // The graph stores penalties in whole units of 0.2 s (one byte per edge).
        let unit = Double(RoadGraph.turnPenaltyUnitMs)
        return UInt32(min(255, max(0, (ms / unit).rounded())) * unit)
    }

    /// The signed turn angle in degrees from the direction `a → b` to `b → c` (positive counter-clockwise), on a local
    /// flat projection at `b`; 0 when either step has no length.
    static func turnDegrees(_ a: (lat: Double, lng: Double), _ b: (lat: Double, lng: Double), _ c: (lat: Double, lng: Double)) -> Double {
        let k = cos(b.lat * .pi / 180)
        let inX = (b.lng - a.lng) * k, inY = b.lat - a.lat
        let outX = (c.lng - b.lng) * k, outY = c.lat - b.lat
        guard inX != 0 || inY != 0, outX != 0 || outY != 0 else { return 0 }
        var d = (atan2(outY, outX) - atan2(inY, inX)) * 180 / .pi
        if d > 180 { d -= 360 } else if d <= -180 { d += 360 }
        return d
    }
}

extension RoutingWeights {
    /// The turn penalty inside `edge`'s weight: its `RoadGraph.turnPenaltyMs` for time weights (never more than the
    /// weight), 0 for distance weights.
    @inline(__always)
    func turnPenalty(_ edge: Int, graph: RoadGraph) -> Double {
        metric == .time ? Double(min(graph.turnPenaltyMs(edge), edgeWeights[edge])) : 0
    }

    /// Weight of the part of `edge` from `fraction` to its head, for a route starting there: the turn onto the edge
    /// was not made, so its penalty is left out.
    @inline(__always)
    func startCost(_ edge: Int, fraction: Double, graph: RoadGraph) -> Double {
        (1 - fraction) * (Double(edgeWeights[edge]) - turnPenalty(edge, graph: graph))
    }

    /// Weight of the part of `edge` from its tail to `fraction`, for a route ending there: the turn onto the edge is
    /// paid in full, the road in part.
    @inline(__always)
    func endCost(_ edge: Int, fraction: Double, graph: RoadGraph) -> Double {
        let penalty = turnPenalty(edge, graph: graph)
        return penalty + fraction * (Double(edgeWeights[edge]) - penalty)
    }

    /// Weight of the part of `edge` between two fractions of it (start and end on the same edge: no turn).
    @inline(__always)
    func alongCost(_ edge: Int, from a: Double, to b: Double, graph: RoadGraph) -> Double {
        (b - a) * (Double(edgeWeights[edge]) - turnPenalty(edge, graph: graph))
    }
}
