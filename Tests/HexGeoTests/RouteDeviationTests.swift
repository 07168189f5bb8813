import HexGeo
import Testing
import Vocabulary

/// A path 2 km due east from (60.17, 24.90), and fixes offset north of it.
private let start = LatLng(degrees: 60.17, 24.90)
private let path = [start, Geodesy.destination(from: start, bearing: Double.pi / 2, distanceMeters: 1_000),
                    Geodesy.destination(from: start, bearing: Double.pi / 2, distanceMeters: 2_000)]

/// The point `along` meters east of the start and `off` meters north of that.
private func fix(_ along: Double, _ off: Double) -> LatLng {
    Geodesy.destination(from: Geodesy.destination(from: start, bearing: Double.pi / 2, distanceMeters: along),
                        bearing: 0, distanceMeters: off)
}

@Suite struct RouteDeviationTests {
    private let settings = RouteDeviationDetector.Settings(offRouteMeters: 100, graceMs: 20_000, rejoinMeters: 40)

    @Test("distance to the path is to its nearest segment, and to the end points beyond them")
    func distance() {
        let d = RouteDeviationDetector(path: path, settings: settings)
        #expect(abs(d.distanceMeters(from: fix(500, 70)) - 70) < 0.5)
        #expect(abs(d.distanceMeters(from: fix(1_500, -30)) - 30) < 0.5)
        #expect(abs(d.distanceMeters(from: fix(-300, 0)) - 300) < 1)
        #expect(d.distanceMeters(from: fix(1_000, 0)) < 0.5)
    }

    @Test("off route only after the grace time away; one event per excursion; back on route within the rejoin distance")
    func hysteresis() {
        var d = RouteDeviationDetector(path: path, settings: settings)
        var events: [RouteDeviationDetector.Event] = []
        func feed(_ along: Double, _ off: Double, _ s: Int64) { if let e = d.observe(fix(along, off), atMs: s * 1_000) { events.append(e) } }
        feed(0, 10, 0)
        feed(100, 150, 5)          // away, timer starts at 5 s
        feed(200, 150, 15)         // 10 s away: not yet
        feed(300, 60, 20)          // back within 100 m: the timer resets
        feed(400, 150, 22)
        feed(500, 200, 41)         // 19 s away
        #expect(events.isEmpty)
        feed(600, 220, 42)         // 20 s away: off route
        #expect(events.count == 1)
        if case .offRoute(let at, let m)? = events.first { #expect(at == 42_000 && abs(m - 220) < 1) } else { Issue.record("\(events)") }
        feed(700, 300, 80)         // still away: nothing more
        feed(800, 70, 81)          // inside the band (40…100 m): still off route
        #expect(events.count == 1 && d.isOffRoute)
        feed(900, 20, 82)          // within 40 m: back on route
        #expect(events.count == 2)
        if case .backOnRoute(let at, _)? = events.last { #expect(at == 82_000) } else { Issue.record("\(events)") }
        feed(1_000, 150, 90)       // a second excursion fires again after its own grace time
        feed(1_100, 150, 111)
        #expect(events.count == 3)
    }

    @Test("jitter around the threshold never fires; a stale fix is ignored; an empty path never fires")
    func jitter() {
        var d = RouteDeviationDetector(path: path, settings: settings)
        var fired = 0
        for s in 0..<300 { if d.observe(fix(Double(s) * 5, s % 2 == 0 ? 95 : 105), atMs: Int64(s) * 1_000) != nil { fired += 1 } }
        #expect(fired == 0)
        #expect(d.observe(fix(0, 500), atMs: 0) == nil, "older than the last fix")
        var empty = RouteDeviationDetector(path: [], settings: settings)
        #expect(empty.observe(fix(0, 5_000), atMs: 0) == nil && empty.observe(fix(0, 5_000), atMs: 100_000) == nil)
    }
}
