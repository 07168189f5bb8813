import Dispatcher
import Foundation
import Testing
import TestSupport
@testable import Engine
import Routing
import Vocabulary

@Suite(.serialized) struct EngineProfileTests {
    @Test("serve --graph car=… --graph bicycle=…: routes and matrices pick the profile's graph; bad profiles are refused")
    func routesPerProfile() throws {
        let engine = try TestEngine {
            $0.graphPath = EngineRoutingTests.monaco
            $0.profileGraphPaths = [.bicycle: EngineRoutingTests.monaco]
        }
        defer { engine.close() }
        let a = "43.7384,7.4246", c = "43.7502,7.4363"
        let car = try #require(try engine.get("/v1/route?from=\(a)&to=\(c)").json as? [String: Any])
        let bike = try #require(try engine.get("/v1/route?from=\(a)&to=\(c)&profile=bicycle").json as? [String: Any])
        #expect(car["profile"] as? String == "car" && bike["profile"] as? String == "bicycle")
        let carSeconds = try #require(car["duration_s"] as? Double), bikeSeconds = try #require(bike["duration_s"] as? Double)
        #expect(bikeSeconds > carSeconds * 1.5, "bicycle \(bikeSeconds) s vs car \(carSeconds) s")
        let m = try engine.post("/v1/route/matrix", #"{"sources":[[\#(a)]],"targets":[[\#(c)]],"profile":"bicycle"}"#)
        #expect(m.status == 200, "\(m.text)")
        let cell = try #require(((m.json as? [String: Any])?["durations_s"] as? [[Double]])?.first?.first)
        #expect(abs(cell - bikeSeconds) < 1e-6)
        #expect(try engine.get("/v1/route?from=\(a)&to=\(c)&profile=truck").errorCode == "invalid_parameter")
        #expect(try engine.get("/v1/route?from=\(a)&to=\(c)&profile=foot").errorCode == "profile_unavailable")
        #expect(try engine.post("/v1/route/matrix", #"{"sources":[[\#(a)]],"targets":[[\#(c)]],"profile":3}"#).errorCode == "invalid_parameter")
    }

    @Test("the graph setting reads bare files as the car's and PROFILE=FILE for the others, each at most once")
    func graphSetting() throws {
        let setting = try #require(ServeSettings.setting("graph"))
        func parse(_ items: [String]) throws -> (String?, [RoutingProfile: String]) {
            try SettingValue(key: "graph", items: items, source: .defaultValue).profileGraphs()
        }
        let (car, others) = try parse(["a.hxg", "bicycle=b.hxg", "scooter=s=x.hxg"])
        #expect(setting.isList && car == "a.hxg" && others == [.bicycle: "b.hxg", .scooter: "s=x.hxg"])
        #expect(try parse(["car=c.hxg"]).0 == "c.hxg")
        #expect(try parse(["weird=name.hxg"]).0 == "weird=name.hxg")
        #expect(throws: ConfigurationError.self) { try parse(["a.hxg", "car=b.hxg"]) }
        #expect(throws: ConfigurationError.self) { try parse(["bicycle="]) }
    }

    @Test("couriers route on their vehicle's profile: a bicycle courier's pickup ETA comes from the bicycle graph")
    func vehicleETAs() throws {
        let car = try RoadNetwork.open(path: EngineRoutingTests.monaco)
        let bike = try RoadNetwork.open(path: EngineRoutingTests.monaco, profile: .bicycle)
        let provider = ProfileETAProvider(fallback: RoutingETAProvider(network: car),
                                          byProfile: [.bicycle: RoutingETAProvider(network: bike)])
        let from = [LatLng(degrees: 43.7384, 7.4246), LatLng(degrees: 43.7384, 7.4246), LatLng(degrees: 43.7384, 7.4246)]
        let to = [LatLng(degrees: 43.7502, 7.4363)]
        let mixed = try provider.etaSeconds(from: from, vehicles: [.car, .bicycle, .scooter], to: to)
        let byCar = try RoutingETAProvider(network: car).etaSeconds(from: [from[0]], to: to)
        let byBike = try RoutingETAProvider(network: bike).etaSeconds(from: [from[0]], to: to)
        #expect(mixed[0] == byCar[0] && mixed[1] == byBike[0])
        #expect(mixed[2] == byCar[0], "a scooter without a scooter graph routes on the car graph")
        #expect(byBike[0] > byCar[0])
    }
}

@Suite(.serialized) struct DepartAtTests {
    @Test("depart_at_ms: an hour nobody drove is free flow; matrix equals route; bad values are refused")
    func departAt() throws {
        let engine = try TestEngine { $0.graphPath = EngineRoutingTests.monaco }
        defer { engine.close() }
        let a = "43.7384,7.4246", c = "43.7502,7.4363", at = 1_704_096_000_000   // a Monday, 08:00 UTC
        let free = try #require(try engine.get("/v1/route?from=\(a)&to=\(c)&weights=free_flow").json as? [String: Any])
        let r = try engine.get("/v1/route?from=\(a)&to=\(c)&depart_at_ms=\(at)")
        #expect(r.status == 200, "\(r.text)")
        let timed = try #require(r.json as? [String: Any])
        #expect(timed["weights"] as? String == "hour_of_week")
        #expect(timed["duration_s"] as? Double == free["duration_s"] as? Double)
        let m = try engine.post("/v1/route/matrix", #"{"sources":[[\#(a)]],"targets":[[\#(c)]],"depart_at_ms":\#(at)}"#)
        #expect(m.status == 200, "\(m.text)")
        #expect(((m.json as? [String: Any])?["durations_s"] as? [[Double]])?.first?.first == timed["duration_s"] as? Double)
        for bad in ["-1", "1.5", "x", "99999999999999999"] {
            #expect(try engine.get("/v1/route?from=\(a)&to=\(c)&depart_at_ms=\(bad)").errorCode == "invalid_parameter", "\(bad)")
        }
        #expect(try engine.post("/v1/route/matrix", #"{"sources":[[\#(a)]],"targets":[[\#(c)]],"depart_at_ms":"soon"}"#).errorCode == "invalid_parameter")
    }
}
