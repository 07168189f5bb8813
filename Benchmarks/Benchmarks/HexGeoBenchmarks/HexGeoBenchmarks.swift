import Benchmark
import Foundation
import HexGeo
import Vocabulary

// HexGeo benchmarks. Each H3 figure has a baseline in the same run (`<op>/<impl>`):
// `latLngToCell/h3` vs `latLngToCell/geohash` (the cheapest spatial key), `cellToLatLng/h3` vs
// `cellToLatLng/geohash`, `gridDisk-k1/h3` vs `gridDisk-k1/geohash` (8 neighbours), and so on.
// The outside baseline, H3 C 4.5 at -O3, is timed by hand (see docs/h3.md).
// Inputs: the points and cells of shared/data/h3 (real cities, pentagon neighbourhoods, poles), loaded once.

/// Real inputs loaded once, outside every measurement.
enum HexGeoFixtures {
    static let repoRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }   // Benchmarks/Benchmarks/HexGeoBenchmarks/HexGeoBenchmarks.swift
        return url
    }()
    static var sharedData: URL {
        if let env = ProcessInfo.processInfo.environment["HEXFLEET_SHARED_DATA"] { return URL(fileURLWithPath: env) }
        return repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
    }

    /// Points (radians) from the reference vectors, or a fixed grid of points when the data is absent.
    static let points: [LatLng] = {
        let url = sharedData.appendingPathComponent("h3/latlng_to_cell.csv")
        if let text = try? String(contentsOf: url, encoding: .utf8) {
            let pts = text.split(separator: "\n").compactMap { line -> LatLng? in
                let f = line.split(separator: ",")
                guard f.count >= 2, let lat = Double(f[0]), let lng = Double(f[1]) else { return nil }
                return LatLng(degrees: lat, lng)
            }
            if !pts.isEmpty { return pts }
        }
        return (0..<4096).map { LatLng(degrees: Double($0 % 160) - 80, Double($0 % 359) - 179.5) }
    }()
    static let cells9: [H3Cell] = points.map { try! H3.latLngToCell($0, resolution: 9) }
    static let cells15: [H3Cell] = points.map { try! H3.latLngToCell($0, resolution: 15) }
    static let geohashes: [UInt64] = points.map { Geohash.encode($0, bits: 40) ?? 0 }
}

let benchmarks: @Sendable () -> Void = {
    let config = Benchmark.Configuration(
        metrics: [.wallClock, .instructions, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(2))
    let points = HexGeoFixtures.points, cells9 = HexGeoFixtures.cells9, cells15 = HexGeoFixtures.cells15
    let geohashes = HexGeoFixtures.geohashes

    Benchmark("latLngToCell-res9/h3", configuration: config) { b in
        for i in b.scaledIterations { blackHole(try! H3.latLngToCell(points[i % points.count], resolution: 9)) }
    }
    Benchmark("latLngToCell-res15/h3", configuration: config) { b in
        for i in b.scaledIterations { blackHole(try! H3.latLngToCell(points[i % points.count], resolution: 15)) }
    }
    Benchmark("latLngToCell/geohash", configuration: config) { b in
        for i in b.scaledIterations { blackHole(Geohash.encode(points[i % points.count], bits: 40)) }
    }
    Benchmark("cellToLatLng-res9/h3", configuration: config) { b in
        for i in b.scaledIterations { blackHole(try! H3.cellToLatLng(cells9[i % cells9.count])) }
    }
    Benchmark("cellToLatLng/geohash", configuration: config) { b in
        for i in b.scaledIterations { blackHole(Geohash.decodeCenter(geohashes[i % geohashes.count], bits: 40)) }
    }
    Benchmark("cellToBoundary-res9/h3", configuration: config) { b in
        for i in b.scaledIterations { blackHole(try! H3.cellToBoundary(cells9[i % cells9.count])) }
    }
    Benchmark("cellToBoundary/geohash", configuration: config) { b in
        for i in b.scaledIterations { blackHole(Geohash.decode(geohashes[i % geohashes.count], bits: 40)) }
    }
    Benchmark("cellToParent-15to9/h3", configuration: config) { b in
        for i in b.scaledIterations { blackHole(try! H3.cellToParent(cells15[i % cells15.count], resolution: 9)) }
    }
    Benchmark("cellToParent/geohash", configuration: config) { b in
        for i in b.scaledIterations { blackHole(geohashes[i % geohashes.count] >> 10) }
    }
    Benchmark("gridDisk-k1/h3", configuration: config) { b in
        var out: [H3Cell] = []
        out.reserveCapacity(H3.maxGridDiskSize(k: 1))
        for i in b.scaledIterations {
            out.removeAll(keepingCapacity: true)
            try! H3.gridDisk(cells9[i % cells9.count], k: 1, into: &out)
            blackHole(out.count)
        }
    }
    Benchmark("gridDisk-k1/geohash", configuration: config) { b in
        for i in b.scaledIterations {
            for d in Geohash.Direction.allCases { blackHole(Geohash.neighbour(geohashes[i % geohashes.count], bits: 40, d)) }
        }
    }
    Benchmark("gridDistance-res9/h3", configuration: config) { b in
        for i in b.scaledIterations {
            blackHole(try? H3.gridDistance(cells9[i % cells9.count], cells9[(i + 1) % cells9.count]))
        }
    }
    Benchmark("gridDistance/haversine", configuration: config) { b in
        for i in b.scaledIterations {
            blackHole(Geodesy.distanceMeters(points[i % points.count], points[(i + 1) % points.count]))
        }
    }
    Benchmark("cellAreaM2-res9/h3", configuration: config) { b in
        for i in b.scaledIterations { blackHole(try! H3.cellAreaM2(cells9[i % cells9.count])) }
    }
}
