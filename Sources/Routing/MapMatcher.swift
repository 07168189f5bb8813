import Foundation
import HexGeo
import Vocabulary

/// One GPS fix of a trace to match.
public struct TracePoint: Sendable {
    /// The reported position.
    public var position: LatLng
    /// When it was taken (milliseconds since the epoch), when known.
    public var timestampMs: Int64?

    /// A fix at `position`, taken at `timestampMs` when known.
    public init(position: LatLng, timestampMs: Int64? = nil) {
        self.position = position
        self.timestampMs = timestampMs
    }
}

/// Where one fix was placed on the road: the point, the directed edge and the meters from that edge's tail.
public struct MatchedPoint: Sendable, Equatable {
    /// The point on the road.
    public var position: LatLng
    /// The directed edge it lies on.
    public var edge: Int
    /// Meters from the edge's tail to `position`.
    public var offsetMeters: Double
}

/// A place where the hidden Markov model restarted: no road path joined the fixes before it to the fix at `index`.
public struct MatchBreak: Sendable, Equatable {
    /// Why the model restarted.
    public enum Reason: String, Sendable {
        /// The fix lies farther than `breakMeters` from the previous matched fix (a gap in the trace).
        case gap
        /// No candidate of the fix was reachable by road within the search bound from any candidate before it.
        case unreachable
    }
    /// Index (in the input trace) of the first fix after the break.
    public var index: Int
    /// Why.
    public var reason: Reason
    /// Whether the matched path was joined across the break by a road route (else it jumps).
    public var bridged: Bool
}

/// The most likely driven path of a trace.
public struct MapMatch: Sendable {
    /// Length of the driven path, meters (routes bridging breaks included).
    public var distanceMeters: Double
    /// Its duration under the matcher's edge durations, seconds.
    public var durationSeconds: Double
    /// The path's geometry: the first matched point, every node passed, the last matched point.
    public var points: [LatLng]
    /// The directed edges driven, in order (an edge driven in part is listed).
    public var edges: [Int]
    /// Per input fix: where it was placed, or nil when it was not matched (no road within the candidate radius, or
    /// an outlier no road path could reach).
    public var matched: [MatchedPoint?]
    /// 0…1: how sure the model is of the path (see docs/routing.md, Map matching).
    public var confidence: Double
    /// Where the model restarted, in trace order.
    public var breaks: [MatchBreak]
    /// The GPS noise σ used (meters): given, or estimated from the trace.
    public var sigmaMeters: Double
    /// `points` as an encoded polyline, precision 5.
    public var polyline: String { Polyline.encode(points) }
}

/// Map matching by a hidden Markov model over candidate road positions (Newson and Krumm, 2009), solved by Viterbi.
///
/// Each fix's candidates are the nearest points of the edges within a radius (points at an edge's end merge into
/// one node candidate); the emission cost is Gaussian in the fix-to-road distance, the transition cost exponential in
/// |great-circle distance between the fixes − road distance between the candidates|, the road distances coming from a
/// bounded one-to-many Dijkstra on edge lengths per candidate. Fixes within 2σ of the previous kept fix are left out
/// of the model (as the paper does) and placed on the path afterwards. Where no candidate can be reached, up to
/// `maxOutliers` fixes in a row are skipped; after that the model restarts (a reported break). When σ is not given
/// it is measured from a pilot match's residuals, and the path's ends are fitted to the fixes' motion (docs/routing.md).
///
/// Owns its search scratch (sized to the graph once); one per thread. Not `Sendable`.
public struct MapMatcher {
    /// Tuning; the defaults suit city traces with GPS noise of 3–30 m.
    public struct Options: Sendable {
        /// GPS noise σ in meters; nil estimates it from the trace (a multiple of the median distance to the nearest road).
        public var sigmaMeters: Double?
        /// Scale of the transition cost in meters; nil uses `max(4, 1.4σ)` (see `betaPerSigma`).
        public var betaMeters: Double?
        /// Candidate radius in meters; nil uses `min(150, max(40, 3.5σ))` (a road farther than 3.5σ from a fix has an
        /// emission cost over 6 nats; 4σ matched the same traces at 1.6 × the time).
        public var radiusMeters: Double?
        /// Candidates kept per fix (the nearest places). Within 3.5σ of a fix in a dense grid, the short edges and
        /// nodes of a nearby junction or a two-way road's two directions can fill 24 places and leave the driven road
        /// out, and the path then detours to the nearest candidate it has (seeds 1–200: 24 → 48 met the target
        /// 5–8 more times per city in Monaco and Helsinki, at about 1.05 × the time).
        public var maxCandidates = 48
        /// Consecutive fixes farther apart than this (meters) start a new piece of the model.
        public var breakMeters = 2_000.0
        /// Fixes in a row that may be skipped as outliers before the model restarts.
        public var maxOutliers = 3
        /// Extra cost (nats) of reading a fix that fell behind the previous one as jitter rather than as motion.
        public var jitterNats = 1.0
        /// Road meters added to a step that turns back on the edge it starts or ends on (U-turns are rare; GPS jitter
        /// along a two-way road is not).
        public var uTurnMeters = 100.0
        /// The least a U-turn costs, in nats (the penalty is `max(uTurnMeters, uTurnNats × β)`): 100 m is 4.8 nats at
        /// σ = 15 m, but at σ = 30–40 m (β = 42–56 m) it fell under 2.5 nats, and a stretch driven out and back became
        /// a cheaper reading of fixes that fell behind than the noise they carry (at σ = 30 m, seeds 1–100 met the
        /// target 10, 16, 23 times in Monaco, Andorra, Helsinki without this floor and 65, 81, 46 with it).
        public var uTurnNats = 5.0
        /// Cost (nats) of turning back, charged per turn as `(1 − cos θ) / 2` of it for a heading change θ (a right
        /// angle costs half): drivers follow the road rather than zig-zag, and a U-turn over a dual carriageway's
        /// crossing (two right angles) is no longer free. In meters it is `turnNats × β`; 3 nats is about 60 m at
        /// σ = 15 m, where 0, 20, 40, 60, 80 m met the target on Monaco's first 30 seeds 24, 27, 29, 29, 29 times.
        public var turnNats = 3.0
        /// Candidates whose cost exceeds the step's best by more than this (nats) are not expanded (12 matched the
        /// same traces as 8 at 1.15 × the time).
        public var beamNats = 8.0
        /// Fixes closer than this many σ to the last kept fix are left out of the model and placed afterwards. The
        /// paper's 2σ dropped every other fix of a trace sampled every 30 m at σ = 15 m, and with it most fixes of a
        /// short loop; jitter steps (which charge standing still for what it is) make the model's own reading of
        /// fixes that fall behind safe enough to keep more of them.
        public var stillSigmas = 1.0
        /// Whether a fix may be left unexplained (the path staying where it was) at the cost of a fix at the candidate
        /// radius, rather than followed onto whatever road lies near it: a fix 3σ off the driven road has no candidate
        /// on it, and its only candidates on a road beside drew the path there and back (seeds 1–200 at σ = 15 m:
        /// 3 more traces met the target in Monaco and Andorra, 2 in Helsinki; at σ = 25 m 8 more in Monaco).
        public var skipsOutliers = true
        /// Whether the path's ends are fitted to the first and last fixes' motion (`correctEnds`) rather than placed on
        /// the end fixes' own projections.
        public var fitEnds = true
        /// Whether σ, when not given, is measured from a pilot match's residuals (else the nearest-road estimate).
        public var measureSigma = true
        /// The defaults.
        public init() {}
    }

    /// The network matched on.
    public let network: RoadNetwork
    /// Edge durations (milliseconds) that `durationSeconds` is reported under.
    public let edgeDurationsMs: [UInt32]
    var search: LengthSearch
    private var seenEdges: [Bool]
    // Per-step scratch, reused so a step allocates only the column it returns.
    private var emissions: [Double] = []
    private var targets: [Int] = []
    private var backTargets: [Int] = []
    private var order: [Int] = []
    private var searchedAnchors: [AnchorKey] = []

    /// A matcher on `network`, reporting durations under `edgeDurationsMs` (free flow when nil).
    public init(network: RoadNetwork, edgeDurationsMs: [UInt32]? = nil) {
        self.network = network
        self.edgeDurationsMs = edgeDurationsMs ?? Array(network.graph.durationsMs)
        search = LengthSearch(graph: network.graph)
        seenEdges = [Bool](repeating: false, count: network.graph.edgeCount)
    }

    // MARK: Candidates

    /// A place a fix may have been taken on: inside a directed edge, or at a node (any edge through it).
    struct Candidate: Sendable {
        /// The edge, when the point is inside one (else -1).
        var edge: Int32
        /// The node, when the point is at one (else -1).
        var node: Int32
        /// Meters from the edge's tail (0 at a node).
        var offset: Double
        var point: LatLng
        /// Meters from the fix.
        var distance: Double
    }

    /// The model's parameters for one trace.
    struct Parameters {
        var sigma: Double
        var beta: Double
        var radius: Double
        var options: Options
        /// How far back along the road a fix may fall behind the previous one as jitter (meters), and its cost.
        var jitterMeters: Double { 2.5 * sigma }
        var jitterNats: Double { options.jitterNats }
        var uTurnMeters: Double { max(options.uTurnMeters, options.uTurnNats * beta) }
        var turnMeters: Double { options.turnNats * beta }
    }

    /// Candidates within `radius` of `p`, nearest first, at most `limit`.
    mutating func candidates(near p: LatLng, radius: Double, limit: Int) -> [Candidate] {
        let g = network.graph
        var found: [Candidate] = []
        var nodes: [Int32] = []
        network.snapIndex.forEachEdge(near: p, withinMeters: radius, seen: &seenEdges) { e, u, d, t, q in
            let length = g.lengthsMeters[e]
            let offset = t * length
            // An end point stands for its node: every edge through it would give the same point and distance.
            if offset < 0.01 || offset > length - 0.01 {
                let v = Int32(offset < 0.01 ? u : Int(g.forwardHeads[e]))
                if nodes.contains(v) { return }
                nodes.append(v)
                found.append(Candidate(edge: -1, node: v, offset: 0, point: g.coordinate(Int(v)), distance: d))
            } else {
                found.append(Candidate(edge: Int32(e), node: -1, offset: offset, point: q, distance: d))
            }
        }
        found.sort { $0.distance < $1.distance }
        // The limit counts places, not graph elements: the copies of a junction split for turn costs (and their
        // parallel edges) are one place on the road and would otherwise crowd other roads out of the list.
        var places = Set<Int64>(), kept: [Candidate] = []
        let osm = g.osmNodeIds
        for c in found {
            let place = c.node >= 0 ? osm[Int(c.node)]
                : osm[network.snapIndex.tail(of: Int(c.edge))] &* 1_000_003 &+ osm[Int(g.forwardHeads[Int(c.edge)])]
            if places.contains(place) || places.count < max(1, limit) {
                places.insert(place)
                kept.append(c)
            }
        }
        return kept
    }

    /// σ per meter of median fix-to-nearest-road distance. For noise across a single road the factor is 1.4826 (the
    /// paper's); in a dense street grid the nearest road is often not the driven one, so the median runs low, and
    /// traces with σ = 15 m in Monaco measure a median of 6–8 m. 2.5 brings those to about 15–20 m.
    static let sigmaPerMedian = 2.5

    /// β per meter of σ. |Δ| (fixes' distance − road distance) is mostly the two fixes' noise along the road, a
    /// normal of deviation √2 σ, whose median is 0.674 × √2 σ; Newson and Krumm's β = median |Δ| / ln 2 gives 1.375 σ.
    /// A smaller β trusts the fixes' straight distance more than the noise allows, and favours detours and U-turns
    /// whose length happens to match it (σ/2 did: 22/30 Monaco traces met the target against 24/30 with 1.4 σ).
    static let betaPerSigma = 1.4

    /// The parameters for `trace` under `options` (σ estimated from up to 64 evenly spread fixes when not given).
    func parameters(_ trace: [TracePoint], _ options: Options) -> Parameters {
        var sigma = options.sigmaMeters ?? 0
        if options.sigmaMeters == nil {
            let step = max(1, trace.count / 64)
            var distances: [Double] = []
            var i = 0
            while i < trace.count {
                if let s = network.snapIndex.snap(trace[i].position), s.distanceMeters < 200 { distances.append(s.distanceMeters) }
                i += step
            }
            distances.sort()
            sigma = distances.isEmpty ? 10 : Self.sigmaPerMedian * distances[distances.count / 2]
        }
        sigma = min(40, max(3, sigma))
        let beta = options.betaMeters ?? max(4, Self.betaPerSigma * sigma)
        let radius = options.radiusMeters ?? min(150, max(40, 3.5 * sigma))
        return Parameters(sigma: sigma, beta: beta, radius: radius, options: options)
    }

    // MARK: Road distances between candidates

    /// The node a search from `c` starts at and the meters already driven to it.
    func seed(_ c: Candidate) -> (node: Int, meters: Double) {
        if c.node >= 0 { return (Int(c.node), 0) }
        let g = network.graph
        return (Int(g.forwardHeads[Int(c.edge)]), g.lengthsMeters[Int(c.edge)] - c.offset)
    }

    /// The node a search must reach for `c` and the meters from it to `c`.
    func entry(_ c: Candidate) -> (node: Int, meters: Double) {
        c.node >= 0 ? (Int(c.node), 0) : (network.snapIndex.tail(of: Int(c.edge)), c.offset)
    }

    /// The node a search from `c` would U-turn to on its first hop: the tail of its edge, or for a node candidate
    /// the node its path arrived from (`arrival`, -1 when unknown).
    func uTurnNode(_ c: Candidate, arrival: Int32 = -1) -> Int { c.node >= 0 ? Int(arrival) : network.snapIndex.tail(of: Int(c.edge)) }

    /// The turn penalty of entering `c`'s edge where the last search reached its tail: the U-turn penalty when it came
    /// off the edge's reverse, else the turn cost of the heading change.
    func arrivalPenalty(_ c: Candidate, _ parameters: Parameters) -> Double {
        guard c.edge >= 0 else { return 0 }
        let tail = network.snapIndex.tail(of: Int(c.edge)), head = Int(network.graph.forwardHeads[Int(c.edge)])
        guard let before = search.predecessor(of: tail) else { return 0 }
        if before == head || network.graph.osmNodeIds[before] == network.graph.osmNodeIds[head] { return parameters.uTurnMeters }
        return parameters.turnMeters * network.graph.turnShare(before, tail, head)
    }

    /// The node a backward search from `c` starts at and the meters behind `c` it lies.
    func backwardSeed(_ c: Candidate) -> (node: Int, meters: Double) {
        c.node >= 0 ? (Int(c.node), 0) : (network.snapIndex.tail(of: Int(c.edge)), c.offset)
    }

    /// The node a backward search must reach for `c` and the meters from `c` on to it.
    func backwardEntry(_ c: Candidate) -> (node: Int, meters: Double) {
        if c.node >= 0 { return (Int(c.node), 0) }
        let g = network.graph
        return (Int(g.forwardHeads[Int(c.edge)]), g.lengthsMeters[Int(c.edge)] - c.offset)
    }

    /// Road meters from `a` to `b` without a search: along one edge, forward (`backward` false) or a small step back
    /// (GPS jitter: the fix fell behind the previous one; `backward` true). Nil when they are not on one edge.
    static func alongEdge(_ a: Candidate, _ b: Candidate, tolerance: Double) -> (meters: Double, backward: Bool)? {
        guard a.edge >= 0, a.edge == b.edge else { return nil }
        if b.offset >= a.offset { return (b.offset - a.offset, false) }
        return a.offset - b.offset <= tolerance ? (a.offset - b.offset, true) : nil
    }

    // MARK: Viterbi

    /// One column of the trellis: a kept fix's candidates, their best costs and back pointers, and where the path
    /// ends for each: the candidate itself after a move, or (after a step back read as GPS jitter) the end the path
    /// already had. The next step searches from that end, so the model charges exactly the road the path will drive.
    struct Column: Sendable {
        var fix: Int
        var candidates: [Candidate]
        var cost: [Double]
        /// Index of the best predecessor in the previous column (-1 at the start of a piece).
        var back: [Int32]
        /// Where the path ends when this candidate is chosen.
        var anchor: [Candidate]
        /// For a node anchor, the node its path arrived from (-1 if none): leaving back there is a U-turn.
        var arrival: [Int32]
        /// Whether the step into this candidate moved the path (false: a step back read as jitter; it stays).
        var moved: [Bool]

        /// The first column of a piece: every candidate is its own anchor.
        init(fix: Int, candidates: [Candidate], cost: [Double]) {
            self.fix = fix
            self.candidates = candidates
            self.cost = cost
            back = [Int32](repeating: -1, count: candidates.count)
            anchor = candidates
            arrival = [Int32](repeating: -1, count: candidates.count)
            moved = [Bool](repeating: true, count: candidates.count)
        }
    }

    /// Matches `trace` (fixes in time order) to the most likely driven path.
    public mutating func match(_ trace: [TracePoint], options: Options = Options()) -> MapMatch {
        let initial = parameters(trace, options)
        guard options.sigmaMeters == nil, options.measureSigma else { return match(trace, initial) }
        // The nearest-road estimate is only a start (in a dense grid the nearest road is often not the driven one);
        // the fixes' distances to the path they were matched to measure the noise itself. A pilot match of the first
        // `pilotFixes` fixes measures them (the whole trace when it is that short), and the trace is matched at the
        // measured σ when it differs by more than 10 %.
        let pilotTrace = trace.count <= Self.pilotFixes ? trace : Array(trace.prefix(Self.pilotFixes))
        let pilot = match(pilotTrace, initial)
        guard let sigma = Self.residualSigma(pilotTrace, pilot), abs(sigma - initial.sigma) > 0.1 * initial.sigma else {
            return pilotTrace.count == trace.count ? pilot : match(trace, initial)
        }
        var measured = options
        measured.sigmaMeters = sigma
        let second = match(trace, parameters(trace, measured))
        guard !second.breaks.isEmpty else { return second }
        // A narrower σ shrinks the candidate radius; where that leaves a fix without its road the model breaks, and
        // a match at the first estimate that holds together better is the better answer.
        let first = pilotTrace.count == trace.count ? pilot : match(trace, initial)
        return second.breaks.count > first.breaks.count ? first : second
    }

    /// Fixes of the pilot match that measures σ from its residuals (see `match(_:options:)`).
    static let pilotFixes = 200

    /// σ from a match's residuals: 1.4826 × the median distance from the fixes to where they were matched (the
    /// distance to the driven road across it is |N(0, σ)| for Gaussian noise of σ per axis); nil for fewer than 8.
    static func residualSigma(_ trace: [TracePoint], _ match: MapMatch) -> Double? {
        var distances: [Double] = []
        distances.reserveCapacity(trace.count)
        for (fix, m) in zip(trace, match.matched) { if let m { distances.append(Geodesy.distanceMeters(fix.position, m.position)) } }
        guard distances.count >= 8 else { return nil }
        distances.sort()
        return min(40, max(3, 1.4826 * distances[distances.count / 2]))
    }

    /// Matches `trace` under fixed parameters.
    mutating func match(_ trace: [TracePoint], _ parameters: Parameters) -> MapMatch {
        let options = parameters.options
        var pieces: [[Column]] = []
        var current: [Column] = []
        var breaks: [MatchBreak] = []
        var skipped = 0
        var lastKept: LatLng?
        var filtered = [Bool](repeating: false, count: trace.count)
        for i in trace.indices {
            let p = trace[i].position
            // Fixes within 2σ of the last kept one add nothing the model can trust (Newson and Krumm, §4.1); the
            // last fix is always kept so the path ends where the trace does.
            if let last = lastKept, i != trace.count - 1, skipped == 0,
               Geodesy.distanceMeters(last, p) < options.stillSigmas * parameters.sigma {
                filtered[i] = true
                continue
            }
            let found = candidates(near: p, radius: parameters.radius, limit: options.maxCandidates)
            if found.isEmpty { continue }
            guard let previous = current.last else {
                current.append(Column(fix: i, candidates: found, cost: found.map { emission($0, parameters) }))
                lastKept = p
                continue
            }
            let gapMeters = Geodesy.distanceMeters(trace[previous.fix].position, p)
            var next: Column?
            if gapMeters <= options.breakMeters {
                next = advance(previous, from: trace[previous.fix].position, to: i, at: p, candidates: found, parameters,
                               skippable: options.skipsOutliers)
            }
            if let next {
                current.append(next)
                lastKept = p
                skipped = 0
                continue
            }
            if gapMeters <= options.breakMeters && skipped < options.maxOutliers {
                skipped += 1
                continue
            }
            // Restart the model at this fix.
            breaks.append(MatchBreak(index: i, reason: gapMeters > options.breakMeters ? .gap : .unreachable, bridged: false))
            pieces.append(current)
            current = [Column(fix: i, candidates: found, cost: found.map { emission($0, parameters) })]
            lastKept = p
            skipped = 0
        }
        if !current.isEmpty { pieces.append(current) }
        return assemble(pieces, breaks: breaks, filtered: filtered, trace: trace, parameters)
    }

    /// The emission cost (negative log likelihood, constants dropped) of `c`.
    @inline(__always)
    func emission(_ c: Candidate, _ parameters: Parameters) -> Double { emission(c.distance, parameters) }

    /// The emission cost of a fix `meters` from where the vehicle is.
    @inline(__always)
    func emission(_ meters: Double, _ parameters: Parameters) -> Double {
        let z = meters / parameters.sigma
        return 0.5 * z * z
    }

    /// The next column from `previous` (fix at `from`) to the candidates of fix `fix` (at `to`), or nil when none
    /// is reachable. Each transition starts where the previous entry's path ends (its anchor), so what the model
    /// charges is what the assembled path drives.
    mutating func advance(_ previous: Column, from: LatLng, to fix: Int, at to: LatLng, candidates found: [Candidate],
                          _ parameters: Parameters, skippable: Bool = false) -> Column? {
        let straight = Geodesy.distanceMeters(from, to)
        let beta = parameters.beta
        var next = Column(fix: fix, candidates: found, cost: [Double](repeating: .infinity, count: found.count))
        emissions.removeAll(keepingCapacity: true)
        targets.removeAll(keepingCapacity: true)
        backTargets.removeAll(keepingCapacity: true)
        for c in found {
            emissions.append(emission(c, parameters))
            targets.append(entry(c).node)
            backTargets.append(backwardEntry(c).node)
        }
        let minEmission = emissions.min() ?? 0
        // A road path longer than this is not a plausible step between two fixes.
        let limit = 2 * straight + 2 * parameters.radius + 50
        let tolerance = parameters.jitterMeters
        order.removeAll(keepingCapacity: true)
        order.append(contentsOf: previous.cost.indices)
        order.sort { previous.cost[$0] < previous.cost[$1] }
        guard let bestPrevious = order.first.map({ previous.cost[$0] }), bestPrevious.isFinite else { return nil }
        var bestNext = Double.infinity
        searchedAnchors.removeAll(keepingCapacity: true)
        func take(_ j: Int, _ c: Double, from a: Int, anchor: Candidate, arrival: Int32, moved: Bool) {
            guard c < next.cost[j] else { return }
            next.cost[j] = c; next.back[j] = Int32(a); next.anchor[j] = anchor; next.arrival[j] = arrival; next.moved[j] = moved
            bestNext = min(bestNext, c)
        }
        for a in order {
            let base = previous.cost[a]
            if base > bestPrevious + parameters.options.beamNats { break }
            let from = previous.anchor[a], arrivedFrom = previous.arrival[a]
            // A step read as jitter leaves the vehicle at the anchor: the fix is observed from there (its own
            // candidate behind is only where it is reported), and the vehicle moved nothing while the fixes moved
            // `straight`. Charging the candidate's emission and |straight − back| instead made a loop's fixes, or a
            // stretch driven back and forth, as cheap to explain by standing still as by driving them.
            let stayCost = emission(Geodesy.distanceMeters(to, from.point), parameters) + straight / beta + parameters.jitterNats
            // Entries whose paths end at the same place lead to the same transitions; the cheapest (first) decides.
            let key = AnchorKey(edge: from.edge, node: from.node, offset: from.offset, arrival: arrivedFrom)
            if searchedAnchors.contains(key) { continue }
            searchedAnchors.append(key)
            // Same edge: no search needed for these targets.
            for (j, b) in found.enumerated() {
                if let (meters, backward) = Self.alongEdge(from, b, tolerance: tolerance) {
                    if backward {
                        take(j, base + stayCost, from: a, anchor: from, arrival: arrivedFrom, moved: false)
                    } else {
                        take(j, base + abs(straight - meters) / beta + emissions[j], from: a, anchor: b, arrival: -1, moved: true)
                    }
                }
            }
            // Stop once no target reached farther could come within the beam of the best column cost so far.
            // (Penalties count toward this bound, as they do toward the cost; `limit` bounds the length alone.)
            var cutoff = Double.infinity
            if bestNext.isFinite {
                let slack = (bestNext + parameters.options.beamNats - base - minEmission) * beta
                cutoff = max(0, straight + slack)
            }
            let (node, meters) = seed(from)
            search.run(from: node, startMeters: meters, maxMeters: limit, targets: targets,
                       avoid: uTurnNode(from, arrival: arrivedFrom), penalty: parameters.uTurnMeters, turnPenalty: parameters.turnMeters,
                       maxPenalized: cutoff)
            for (j, b) in found.enumerated() {
                guard let d = search.meters(to: targets[j]) else { continue }
                // U-turn penalties steer the search and add to the cost, but are no road: the length compared with
                // the fixes' distance leaves them out (else a U-turn could make a too-short step look right).
                let penalty = search.penaltyMeters(to: targets[j]) + arrivalPenalty(b, parameters)
                let route = d - search.penaltyMeters(to: targets[j]) + (b.node >= 0 ? 0 : b.offset)
                let c = base + (abs(straight - route) + penalty) / beta + emissions[j]
                let arrival = b.node >= 0 ? Int32(search.predecessor(of: targets[j]) ?? -1) : -1
                take(j, c, from: a, anchor: b, arrival: arrival, moved: true)
            }
            // A fix that fell a little behind the path's end along the road is GPS jitter, not a loop around the block:
            // the path stays where it is.
            let (behind, behindMeters) = backwardSeed(from)
            search.run(from: behind, startMeters: behindMeters, maxMeters: tolerance, targets: backTargets, backward: true)
            for (j, b) in found.enumerated() {
                guard let d = search.meters(to: backTargets[j]) else { continue }
                let back = d + (b.node >= 0 ? 0 : network.graph.lengthsMeters[Int(b.edge)] - b.offset)
                guard back <= tolerance else { continue }
                take(j, base + stayCost, from: a, anchor: from, arrival: arrivedFrom, moved: false)
            }
        }
        guard bestNext.isFinite else { return nil }
        // An outlier: the fix may be left unexplained, the path staying where the best entry left it, at the cost of
        // a fix lying at the candidate radius from every road (what a fix with no candidate on the driven road costs
        // at least); else an outlier whose only candidates lie on a road beside the driven one drags the path there
        // and back.
        if skippable, let a = order.first {
            var stay = previous.anchor[a]
            stay.distance = Geodesy.distanceMeters(to, stay.point)
            let r = parameters.radius / parameters.sigma
            let cost = previous.cost[a] + 0.5 * r * r + parameters.jitterNats
            next.candidates.append(stay)
            next.cost.append(cost)
            next.back.append(Int32(a))
            next.anchor.append(stay)
            next.arrival.append(previous.arrival[a])
            next.moved.append(false)
        }
        return next
    }

    /// Identifies where a path ends, for sharing one transition search between entries that end at the same place.
    struct AnchorKey: Equatable {
        var edge: Int32
        var node: Int32
        var offset: Double
        var arrival: Int32
    }

    // MARK: The path

    /// Edges from `a` to `b` by the shortest road path within `maxMeters` (empty when `b` is where the search
    /// starts), or nil.
    mutating func route(from a: Candidate, arrival: Int32 = -1, to b: Candidate, maxMeters: Double, _ parameters: Parameters) -> [Int]? {
        let (node, meters) = seed(a)
        let target = entry(b).node
        search.run(from: node, startMeters: meters, maxMeters: maxMeters, targets: [target], avoid: uTurnNode(a, arrival: arrival),
                   penalty: parameters.uTurnMeters, turnPenalty: parameters.turnMeters)
        return search.pathEdges(to: target)
    }

    /// Road meters of the path `edges` from `a` to `b`.
    func pathMeters(from a: Candidate, _ edges: [Int], to b: Candidate) -> Double {
        let g = network.graph
        var meters = edges.reduce(0.0) { $0 + g.lengthsMeters[$1] }
        if a.edge >= 0 { meters += g.lengthsMeters[Int(a.edge)] - a.offset }
        if b.edge >= 0 { meters += b.offset }
        return meters
    }

    /// Backtracks each piece, joins the pieces by road where it can, and places every fix.
    mutating func assemble(_ pieces: [[Column]], breaks: [MatchBreak], filtered: [Bool], trace: [TracePoint],
                           _ parameters: Parameters) -> MapMatch {
        var breaks = breaks
        var path = MatchedPath(network: network)
        var matched = [MatchedPoint?](repeating: nil, count: trace.count)
        var kept: [(fix: Int, place: MatchedPath.Place, candidate: Candidate)] = []
        var confidenceSum = 0.0
        var columnCount = 0
        var position: Candidate?
        var positionArrival: Int32 = -1
        let tolerance = parameters.jitterMeters
        for (pieceIndex, piece) in pieces.enumerated() {
            guard let last = piece.last, var k = last.cost.indices.min(by: { last.cost[$0] < last.cost[$1] }) else { continue }
            var chosen = [Int](repeating: 0, count: piece.count)
            for c in stride(from: piece.count - 1, through: 0, by: -1) {
                chosen[c] = k
                if c > 0 { k = max(0, Int(piece[c].back[k])) }
            }
            for (c, column) in piece.enumerated() {
                let best = column.cost[chosen[c]]
                var z = 0.0
                for x in column.cost where x.isFinite { z += exp(best - x) }
                confidenceSum += z > 0 ? 1 / z : 0
                columnCount += 1
            }
            let first = piece[0].candidates[chosen[0]]
            if let from = position, pieceIndex > 0 {
                let straight = Geodesy.distanceMeters(from.point, first.point)
                if let edges = route(from: from, to: first, maxMeters: max(3 * straight, 3_000), parameters) {
                    path.append(edges, to: first)
                    breaks[pieceIndex - 1].bridged = true
                } else {
                    _ = path.start(at: first)
                }
            } else {
                _ = path.start(at: first)
            }
            position = first
            positionArrival = -1
            kept.append((piece[0].fix, path.place(), first))
            for c in 1..<max(1, piece.count) {
                let j = chosen[c]
                let b = piece[c].candidates[j]
                // A step back read as jitter: the path stays where it is (the model's next step starts there too).
                guard piece[c].moved[j], let a = position else { kept.append((piece[c].fix, path.place(), b)); continue }
                if let (_, backward) = Self.alongEdge(a, b, tolerance: tolerance), !backward {
                    path.advance(to: b.offset)
                } else {
                    // The model's search started at `a` with a bound of at most twice the fixes' distance plus the
                    // candidate radius twice and 50 m; a larger bound finds the same shortest path.
                    let straight = Geodesy.distanceMeters(trace[piece[c - 1].fix].position, trace[piece[c].fix].position)
                    let bound = 2 * straight + 2 * parameters.radius + 50 + 2 * parameters.uTurnMeters
                    if let edges = route(from: a, arrival: positionArrival, to: b, maxMeters: bound, parameters) {
                        path.append(edges, to: b)
                    } else {
                        _ = path.start(at: b)
                    }
                }
                position = b
                positionArrival = piece[c].arrival[j]
                kept.append((piece[c].fix, path.place(), b))
            }
        }
        // Kept fixes: their candidate (a node candidate takes the edge the path arrives or leaves by).
        for (fix, place, c) in kept {
            if c.edge >= 0 {
                matched[fix] = MatchedPoint(position: c.point, edge: Int(c.edge), offsetMeters: c.offset)
                continue
            }
            let run = path.runs[place.run]
            if place.index >= 0 {
                let e = run.edges[place.index]
                matched[fix] = MatchedPoint(position: c.point, edge: e, offsetMeters: network.graph.lengthsMeters[e])
            } else if let e = run.edges.first ?? network.graph.outgoing(Int(c.node)).first {
                matched[fix] = MatchedPoint(position: c.point, edge: e, offsetMeters: 0)
            }
        }
        // Fixes left out for being within 2σ of a kept one: the nearest point of the path between their neighbours.
        var next = 0
        for fix in trace.indices where filtered[fix] {
            while next < kept.count && kept[next].fix < fix { next += 1 }
            guard next > 0 else { continue }
            let before = kept[next - 1].place
            let run = path.runs[before.run]
            guard !run.edges.isEmpty else { continue }
            let from = max(0, before.index)
            var to = run.edges.count - 1
            if next < kept.count, kept[next].place.run == before.run { to = max(from, kept[next].place.index) }
            var best: MatchedPoint?
            var bestMeters = Double.infinity
            for e in run.edges[from...to] {
                let (meters, fraction, point) = network.snapIndex.project(trace[fix].position, onto: e, tail: network.snapIndex.tail(of: e))
                if meters < bestMeters {
                    bestMeters = meters
                    best = MatchedPoint(position: point, edge: e, offsetMeters: fraction * network.graph.lengthsMeters[e])
                }
            }
            matched[fix] = best
        }
        if parameters.options.fitEnds { correctEnds(&path, kept: kept.map { ($0.fix, $0.place) }, trace: trace, parameters) }
        let (meters, ms) = path.totals(durationsMs: edgeDurationsMs)
        let matchedCount = matched.reduce(0) { $0 + ($1 == nil ? 0 : 1) }
        let confidence = columnCount == 0 || trace.isEmpty ? 0
            : confidenceSum / Double(columnCount) * Double(matchedCount) / Double(trace.count)
        return MapMatch(distanceMeters: meters, durationSeconds: ms / 1000, points: path.points(), edges: path.edges,
                        matched: matched, confidence: confidence, breaks: breaks, sigmaMeters: parameters.sigma)
    }

    /// Kept fixes fitted at each end of the path: about 300–400 m of a trace sampled every 30 m (6 spanned as much
    /// when the 2σ rule dropped every other fix). On seeds 1–200, windows of 4, 6, 10, 12, 14 and 20 met the target
    /// 563, 567, 571, 573, 574 and 561 times over the three cities (20 spans most of Helsinki's short routes).
    static let endWindow = 12

    /// Places the path's first and last points by a straight-line fit of the fixes' positions along the path against
    /// time over the first (last) `endWindow` kept fixes, instead of on the end fix's own projection: that one is off
    /// by about σ along the road, which on a 1 km trace is already 1.5 % per end, and at the end the path is biased
    /// forward (a last fix falling behind reads as jitter and leaves the path where the fix before took it). The
    /// correction is at most 2.5σ, and the path is only extended within its first and last edges.
    func correctEnds(_ path: inout MatchedPath, kept: [(fix: Int, place: MatchedPath.Place)], trace: [TracePoint],
                     _ parameters: Parameters) {
        guard let firstRun = kept.first?.place.run, let lastRun = kept.last?.place.run else { return }
        let timed = trace.allSatisfy { $0.timestampMs != nil }
        func x(_ fix: Int) -> Double { timed ? Double((trace[fix].timestampMs ?? 0) - (trace[0].timestampMs ?? 0)) / 1000 : Double(fix) }
        /// The fitted position along the path at `window[at]`'s time, less its current position there.
        func shift(_ window: ArraySlice<(fix: Int, place: MatchedPath.Place)>, at end: Int) -> Double? {
            let n = Double(window.count)
            guard window.count >= 3 else { return nil }
            var sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0
            for (fix, place) in window {
                let xi = x(fix), yi = path.meters(to: place)
                sx += xi; sy += yi; sxx += xi * xi; sxy += xi * yi
            }
            let denominator = n * sxx - sx * sx
            guard denominator > 0 else { return nil }
            let slope = (n * sxy - sx * sy) / denominator
            let intercept = (sy - slope * sx) / n
            let fitted = intercept + slope * x(kept[end].fix)
            let correction = fitted - path.meters(to: kept[end].place)
            guard correction.isFinite else { return nil }
            return min(2.5 * parameters.sigma, max(-2.5 * parameters.sigma, correction))
        }
        let w = Self.endWindow
        let head = kept.prefix { $0.place.run == firstRun }.prefix(w)
        let tail = kept.suffix(w).drop { $0.place.run != lastRun }
        guard head.count + tail.count <= kept.count || firstRun != lastRun else { return }
        let startShift = shift(head, at: 0), endShift = shift(tail, at: kept.count - 1)
        if let startShift { path.moveStart(ofRun: firstRun, by: startShift) }
        if let endShift { path.moveEnd(ofRun: lastRun, by: endShift) }
    }

    // MARK: Online form

    /// One vehicle's matching state between fixes: the last fix's column.
    public struct OnlineState: Sendable {
        fileprivate var column: Column
        fileprivate var position: LatLng
    }

    /// What one more fix told the online matcher.
    public enum OnlineStep: Sendable {
        /// The first fix of a vehicle, or the first after a restart: nothing driven yet.
        case started
        /// No road within the candidate radius; the state is cleared.
        case offRoad
        /// No candidate reachable from the previous fix; the model restarted at this one.
        case unreachable
        /// Still at the previous place (or GPS jitter behind it).
        case stationary
        /// The road path driven since the previous fix, as decided now: its length and its edges in order.
        case moved(meters: Double, edges: [Int])
    }

    /// Feeds one fix of a vehicle whose previous state is `state` (nil for a new vehicle) and updates it: the HMM
    /// with a lag of one fix (the step from the previous fix is decided by the best candidate of this one and its
    /// back pointer). `options.sigmaMeters` should be set (a single fix cannot estimate it; 10 m when nil).
    public mutating func step(_ state: inout OnlineState?, at position: LatLng, options: Options = Options()) -> OnlineStep {
        let sigma = min(40, max(3, options.sigmaMeters ?? 10))
        let parameters = Parameters(sigma: sigma, beta: options.betaMeters ?? max(4, Self.betaPerSigma * sigma),
                                    radius: options.radiusMeters ?? min(150, max(40, 3.5 * sigma)), options: options)
        let found = candidates(near: position, radius: parameters.radius, limit: options.maxCandidates)
        guard !found.isEmpty else { state = nil; return .offRoad }
        let fresh = Column(fix: 0, candidates: found, cost: found.map { emission($0, parameters) })
        guard let previous = state else { state = OnlineState(column: fresh, position: position); return .started }
        guard var next = advance(previous.column, from: previous.position, to: 0, at: position, candidates: found, parameters),
              let j = next.cost.indices.min(by: { next.cost[$0] < next.cost[$1] }) else {
            state = OnlineState(column: fresh, position: position)
            return .unreachable
        }
        // Costs only matter relative to each other; keep them small.
        let least = next.cost[j]
        for k in next.cost.indices { next.cost[k] -= least }
        state = OnlineState(column: next, position: position)
        guard next.moved[j] else { return .stationary }
        let before = max(0, Int(next.back[j]))
        let a = previous.column.anchor[before], b = found[j]
        let g = network.graph
        if let (meters, backward) = Self.alongEdge(a, b, tolerance: parameters.jitterMeters) {
            return backward || meters < 0.5 ? .stationary : .moved(meters: meters, edges: [Int(b.edge)])
        }
        let arrival = previous.column.arrival[before]
        // At least the bound the model's search had (see `advance`), so the same shortest path is found.
        let straight = Geodesy.distanceMeters(previous.position, position)
        guard let between = route(from: a, arrival: arrival, to: b, maxMeters: 2 * straight + 2 * parameters.radius + 50 + 2 * parameters.uTurnMeters,
                                  parameters) else { return .stationary }
        var edges: [Int] = []
        var meters = 0.0
        if a.edge >= 0 { edges.append(Int(a.edge)); meters += g.lengthsMeters[Int(a.edge)] - a.offset }
        for e in between { edges.append(e); meters += g.lengthsMeters[e] }
        if b.edge >= 0 { edges.append(Int(b.edge)); meters += b.offset }
        return meters < 0.5 ? .stationary : .moved(meters: meters, edges: edges)
    }
}
