@testable import Engine
import FleetIndex
import HexGeo
import HTTPServer
import Vocabulary

/// The fleet a decoded query is answered from: 300 drivers on a 2 km square around Monaco, statuses mixed, all
/// fresh at `fuzzNowMs`. Built once; queries only read it.
nonisolated(unsafe) var clusterFleet: DriverTable?

/// The messages engines send each other over NATS (docs/cluster.md) as a shard receives them. The first byte picks
/// the message, the rest is its bytes:
/// - 0: on `hexfleet.ping.<node>`: a claims message (hand-off notices) or a records message, whose records go
///   through the same relayed-ingest checks a shard applies (`PingIngest.ingestRelayed`) into a table that is walked
///   for its invariants and emptied;
/// - 1: a fleet query, answered from a populated table as a shard answers it; the answer is encoded and decoded
///   back, and merged with itself as the asker merges shards' answers;
/// - 2: a shard's answer as the asker decodes it;
/// - 3: a relayed order request, then 4: the owner's response;
/// - 5: on `hexfleet.track.<node>`: a shard's moved drivers (positions) or a watching notice; or on
///   `hexfleet.push.<node>`, a message for a driver whose WebSocket is on another engine.
/// Every message that decodes must survive encode → decode unchanged (what one engine writes, another reads).
let clusterTarget = FuzzTarget(
    name: "cluster",
    setUp: {
        guard clusterFleet == nil else { return }
        let table = DriverTable(scheme: H3CellScheme(resolution: 9), staleAfterMs: 120_000)
        var state: UInt64 = 0x9E37_79B9
        func next() -> UInt64 { state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return state >> 33 }
        for id in 1...300 {
            let s = DriverState(id: DriverID(UInt64(id)), latE7: 437_300_000 + Int32(next() % 200_000),
                                lngE7: 74_150_000 + Int32(next() % 250_000), timestampMs: fuzzNowMs - Int64(next() % 30_000),
                                status: DriverStatus(rawValue: UInt8(next() % 4)) ?? .available)
            _ = table.upsert(s)
        }
        clusterFleet = table
        _ = fuzzTable.count
    },
    run: { input in
        guard let mode = input.first, let fleet = clusterFleet else { return }
        let message = Array(input.dropFirst())
        switch mode % 6 {
        case 0:
            if let (node, claims) = ClusterWire.claims(message) {
                let again = ClusterWire.claims(ClusterWire.claims(claims, from: node))
                precondition(again?.node == node && again?.claims == claims, "claims changed through encode/decode")
                return
            }
            message.withUnsafeBytes { bytes in
                guard let (transport, records) = ClusterWire.records(bytes) else { return }
                let ingest = PingIngest(table: fuzzTable, keys: fuzzKeys, keyCacheSize: 16)
                let taken = ingest.ingestRelayed(records, transport: transport, nowMs: fuzzNowMs)
                precondition(taken >= 0 && taken <= records.count / PingWire.recordBytes, "took \(taken) records")
            }
            fuzzTable.checkInvariants()
            fuzzTable.evictStale(nowMs: fuzzNowMs + 1_000_000_000)
            precondition(fuzzTable.count == 0, "rows left after evicting everything")
        case 1:
            guard let query = ClusterWire.query(message) else { return }
            precondition(ClusterWire.query(ClusterWire.encode(query)) == query, "a query changed through encode/decode")
            let answer = query.answer(from: fleet, nowMs: fuzzNowMs)
            if case let .nearby(_, k, _, _) = query { precondition(answer.count <= k, "\(answer.count) drivers for k = \(k)") }
            guard let decoded = ClusterWire.answer(ClusterWire.encode(answer)) else {
                preconditionFailure("a shard's own answer does not decode")
            }
            precondition(decoded == answer, "an answer changed through encode/decode")
            let merged = query.merge([answer, decoded])
            precondition(merged.count == answer.count, "merging an answer with itself gave \(merged.count) of \(answer.count)")
            precondition(Set(merged.map(\.state.id)).count == merged.count, "a driver twice in a merged answer")
        case 2:
            guard let answer = ClusterWire.answer(message) else { return }
            precondition(ClusterWire.answer(ClusterWire.encode(answer)) == answer, "an answer changed through encode/decode")
        case 3:
            guard let (from, request) = ClusterWire.httpRequest(message) else { return }
            guard let (again, copy) = ClusterWire.httpRequest(ClusterWire.encode(request, from: from)) else {
                preconditionFailure("a relayed request does not decode after encoding")
            }
            precondition(again == from && copy.methodName == request.methodName && copy.target == request.target
                         && copy.path == request.path && copy.body == request.body
                         && copy.headers.map(\.0) == request.headers.map(\.0) && copy.headers.map(\.1) == request.headers.map(\.1),
                         "a relayed request changed through encode/decode")
        case 5:
            if let (driver, json) = ClusterWire.driverPush(message) {
                let copy = ClusterWire.driverPush(ClusterWire.driverPush(driver, json))
                precondition(copy?.driver == driver && copy?.json == json, "a relayed driver message changed")
                return
            }
            if let node = ClusterWire.watching(message) {
                precondition(ClusterWire.watching(ClusterWire.watching(from: node)) == node, "a watching notice changed")
                return
            }
            guard let (node, states) = ClusterWire.positions(message) else { return }
            var again: [UInt8] = []
            ClusterWire.beginPositions(&again, from: node)
            for s in states { ClusterWire.appendPosition(s, to: &again) }
            ClusterWire.finishPositions(&again)
            guard let copy = ClusterWire.positions(again) else { preconditionFailure("re-encoded positions do not decode") }
            precondition(copy.node == node && copy.states == states, "positions changed through encode/decode")
        default:
            guard let response = ClusterWire.httpResponse(message) else { return }
            guard let copy = ClusterWire.httpResponse(ClusterWire.encode(response)) else {
                preconditionFailure("a relayed response does not decode after encoding")
            }
            precondition(copy.status == response.status && copy.body == response.body
                         && copy.headers.map(\.0) == response.headers.map(\.0) && copy.headers.map(\.1) == response.headers.map(\.1),
                         "a relayed response changed through encode/decode")
        }
    },
    seeds: {
        let monaco = LatLng(degrees: 43.7384, 7.4246)
        func record(_ driver: UInt64, _ dt: Int64) -> PingRecord {
            PingRecord(driverID: driver, timestampMs: fuzzNowMs + dt, latE7: 437_384_000, lngE7: 74_246_000,
                       speedCmPerSecond: 500, headingCentidegrees: 18_000, accuracyDecimetres: 40, status: 1)
        }
        var records: [UInt8] = []
        ClusterWire.beginRecords(&records, transport: .udp)
        for i in 1...3 { ClusterWire.appendRecord(record(UInt64(i), -Int64(i) * 100), to: &records) }
        ClusterWire.appendRecord(record(2, -1_000), to: &records)   // older than the first: a replay
        ClusterWire.finishRecords(&records)
        let claims = ClusterWire.claims([.init(driver: DriverID(5), timestampMs: fuzzNowMs)], from: "node-b")
        let square = [LatLng(degrees: 43.73, 7.41), LatLng(degrees: 43.73, 7.44),
                      LatLng(degrees: 43.75, 7.44), LatLng(degrees: 43.75, 7.41)]
        let hole = [LatLng(degrees: 43.735, 7.42), LatLng(degrees: 43.735, 7.43), LatLng(degrees: 43.74, 7.43)]
        let cell = (try? H3.latLngToCell(monaco, resolution: 8)) ?? H3Cell(rawValue: 0)
        let queries: [(String, FleetQuery)] = [
            ("nearby", .nearby(monaco, k: 10, radiusMeters: 1_500, .all)),
            ("nearby-available", .nearby(monaco, k: 1_000, radiusMeters: 50_000, StatusFilter(rawValue: 1 << 1))),
            ("cells", .cells([cell], .all)),
            ("polygon", .polygon(GeoPolygon(outer: square, holes: [hole]), .all)),
            ("driver", .driver(DriverID(7))),
        ]
        let answer = ClusterWire.encode(FleetQuery.nearby(monaco, k: 5, radiusMeters: 2_000, .all)
            .answer(from: clusterFleet ?? DriverTable(scheme: H3CellScheme(resolution: 9)), nowMs: fuzzNowMs))
        let request = HTTPRequest(method: .post, methodName: "POST", target: "/v1/orders?x=1", path: "/v1/orders",
                                  query: [("x", "1")],
                                  headers: [("authorization", "Bearer t"), ("idempotency-key", "k1"), ("content-type", "application/json")],
                                  body: Array(#"{"customer":"c1","pickup":{"lat":43.73,"lng":7.42},"dropoff":{"lat":43.74,"lng":7.43}}"#.utf8),
                                  keepAlive: true)
        let response = HTTPResponse(status: 201, headers: [("Content-Type", "application/json")], body: Array(#"{"id":"1"}"#.utf8))
        var positions: [UInt8] = []
        ClusterWire.beginPositions(&positions, from: "node-b")
        for i in 1...3 {
            let r = record(UInt64(i), -Int64(i) * 100)
            ClusterWire.appendPosition(DriverState(id: DriverID(r.driverID), latE7: r.latE7, lngE7: r.lngE7, timestampMs: r.timestampMs,
                                                   status: .available), to: &positions)
        }
        ClusterWire.finishPositions(&positions)
        return [("records", [0] + records), ("claims", [0] + claims),
                ("track-positions", [5] + positions), ("track-watching", [5] + ClusterWire.watching(from: "node-a"))]
            + queries.map { ("query-\($0.0)", [1] + ClusterWire.encode($0.1)) }
            + [("answer", [2] + answer),
               ("relayed-request", [3] + ClusterWire.encode(request, from: "node-a")),
               ("relayed-response", [4] + ClusterWire.encode(response))]
    })
