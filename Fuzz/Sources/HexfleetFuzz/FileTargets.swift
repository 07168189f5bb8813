import Dispatcher
import Foundation
import Glibc
@testable import HexGeo
@testable import Routing
import Vocabulary

/// The OSM PBF reader and the importer behind it: blobs, zlib, protobuf, dense nodes, ways, relations and turn
/// restrictions, then the graph build (and its contraction, while the graph is small).
let pbfTarget = FuzzTarget(
    name: "pbf",
    run: { input in
        var collector = OSMImporter.Collector(profile: CarProfile())
        guard (try? PBFReader.read(bytes: Data(input), into: &collector)) != nil else { return }
        var summary = ImportSummary()
        let graph = OSMImporter.build(collector, summary: &summary)
        if graph.nodeCount <= 2_000 { _ = RoadNetwork.build(graph: graph) }
    },
    seeds: {
        // Cut from /work/shared/data by Fuzz/make-pbf-seeds (header blob + one small data blob, zlib and raw).
        []
    })

/// A scratch file on tmpfs for targets whose reader takes a path.
let fuzzScratchPath = "/dev/shm/hexfleet-fuzz-\(getpid()).bin"

func writeScratch(_ bytes: UnsafeRawBufferPointer) {
    let fd = open(fuzzScratchPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { fatalError("cannot write \(fuzzScratchPath): \(errno)") }
    var done = 0
    while done < bytes.count {
        let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
        guard n > 0 else { fatalError("short write to \(fuzzScratchPath)") }
        done += n
    }
    close(fd)
}

/// The saved graph file of a small synthetic grid (the graph target's seed, the CSV target's network).
func smallNetwork(_ columns: Int, _ rows: Int) -> RoadNetwork {
    RoadNetwork.build(graph: SyntheticGraphs.grid(columns: columns, rows: rows))
}

/// The graph file loader: sections, offsets, CSR checks; a file it accepts must then be safe to query (snap,
/// route, matrix, draw), since a server maps it and answers from it without further checks.
let graphTarget = FuzzTarget(
    name: "graph",
    run: { input in
        writeScratch(input)
        guard let network = try? RoadNetwork.load(path: fuzzScratchPath) else { return }
        var query = network.makeQuery()
        let n = network.graph.nodeCount
        if n > 0 {
            _ = try? query.route(fromNode: 0, toNode: n - 1)
            _ = query.durationMs(fromNode: n - 1, toNode: 0)
            _ = query.matrixMs(sourceNodes: [0, n / 2], targetNodes: [n - 1])
            let p = network.graph.coordinate(n / 2)
            _ = try? query.route(from: p, to: LatLng(degrees: p.latDegrees + 0.001, p.lngDegrees + 0.001))
        }
        var segments = 0
        network.forEachRoadSegment { _, _ in segments += 1 }
    },
    seeds: {
        var seeds: [(String, [UInt8])] = []
        for (c, r) in [(2, 2), (4, 3)] {
            let path = NSTemporaryDirectory() + "hexfleet-fuzz-seed-\(getpid()).graph"
            guard (try? smallNetwork(c, r).save(to: path)) != nil, let data = FileManager.default.contents(atPath: path) else { continue }
            unlink(path)
            seeds.append(("grid-\(c)x\(r)", Array(data)))
        }
        return seeds
    })

nonisolated(unsafe) var csvQuery: RouteQuery?

/// The CSV line readers of the CLI: `hexfleet h3 <function>` (every function), the `lat,lng` point files of
/// `matrix`, and the `route` lines (coordinates, or node ids with `--nodes`) against a small graph. The first byte
/// picks the reader; the rest is stdin, decoded as `readLine` does, taken line by line until the first bad one.
let csvTarget = FuzzTarget(
    name: "csv",
    setUp: { if csvQuery == nil { csvQuery = smallNetwork(12, 12).makeQuery() } },
    run: { input in
        guard let selector = input.first else { return }
        let text = String(decoding: input.dropFirst(), as: UTF8.self)
        let functions = H3Line.Function.allCases
        let choice = Int(selector) % (functions.count + 3)
        if choice < functions.count {
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if asksForHugeOutput(functions[choice], line) { continue }
                guard (try? H3Line.evaluate(functions[choice], line)) != nil else { break }
            }
        } else if choice == functions.count {
            _ = try? RoutingBatch.readPoints(text)
        } else {
            let byNodes = choice == functions.count + 2
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)[...]
            _ = try? RoutingBatch.run(next: { lines.popFirst() }, emit: { _ in }) { (line: String) throws(RoutingError) -> String in
                byNodes ? try RoutingBatch.routeNodesLine(line, query: &csvQuery!)
                    : try RoutingBatch.routeCoordinatesLine(line, query: &csvQuery!)
            }
        }
    },
    seeds: {
        let functions = H3Line.Function.allCases.map(\.rawValue)
        func seed(_ function: String, _ lines: String) -> [UInt8] {
            let index = functions.firstIndex(of: function) ?? (function == "points" ? functions.count
                : function == "route" ? functions.count + 1 : functions.count + 2)
            return [UInt8(index)] + Array(lines.utf8)
        }
        return [
            ("h3-latlng-to-cell", seed("latlng-to-cell", "43.7311,7.4211,9\n-89.9,179.99,15\n0,0,0\n")),
            ("h3-cell-to-latlng", seed("cell-to-latlng", "891f8d7a49bffff\n8001fffffffffff\n")),
            ("h3-cell-to-boundary", seed("cell-to-boundary", "851f8d7bfffffff\n")),
            ("h3-grid-disk", seed("grid-disk", "891f8d7a49bffff,2\n")),
            ("h3-cell-to-parent", seed("cell-to-parent", "891f8d7a49bffff,4\n")),
            ("h3-cell-to-children", seed("cell-to-children", "851f8d7bfffffff,6\n")),
            ("h3-grid-distance", seed("grid-distance", "891f8d7a49bffff,891f8d7a4b3ffff\n")),
            ("h3-is-valid-cell", seed("is-valid-cell", "891f8d7a49bffff\nzz\n")),
            ("points", seed("points", "45.001,7.001\r\n45.009,7.012\n")),
            ("route", seed("route", "45.001,7.001,45.009,7.012\n45.0,7.0,45.0,7.0\n")),
            ("route-nodes", seed("route-nodes", "0,10\n5,143\n")),
        ]
    })

/// Whether an `h3` line asks, within the CLI's limits, for an output too large to fuzz: `grid-disk` with k above 40
/// or `cell-to-children` more than 4 resolutions down. The CLI accepts up to k = 1000 (3 million cells, 4 s in a
/// release build) and 8 resolutions (5.8 million cells, 8 s): a user asking for that waits for an answer of that
/// size, which is why the readers keep those bounds (docs/h3.md). Under AddressSanitizer and coverage one such line
/// takes 30 s and more, which libFuzzer reports as a hang, and it runs the same loop as a small one. Lines past the
/// CLI's bounds are still read, so their refusal stays fuzzed.
func asksForHugeOutput(_ function: H3Line.Function, _ line: Substring) -> Bool {
    let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
    guard fields.count == 2, let n = Int(fields[1]) else { return false }
    switch function {
    case .gridDisk: return n > 40 && n <= H3Line.maxK
    case .cellToChildren:
        guard let cell = H3Cell(string: fields[0]) else { return false }
        let resolution = H3.getResolution(cell)   // ≤ 15, so these sums cannot overflow as `n - resolution` would
        return n > resolution + 4 && n <= resolution + 8
    default: return false
    }
}

/// The `hexfleet match` instance reader (`R C`, then R lines of C costs or `-`) and, for small instances, the solver
/// the CLI picks.
let matchTarget = FuzzTarget(
    name: "match",
    run: { input in
        guard let instance = try? AssignmentInstance(parsing: input) else { return }
        guard instance.matrix.rows * instance.matrix.cols <= 4_096 else { return }
        _ = try? instance.solve()
        _ = try? LinearAssignment.solve(instance.matrix)
    },
    seeds: {
        [
            ("square", Array("3 3\n4 1 3\n2 0 5\n3 2 2\n".utf8)),
            ("forbidden", Array("2 3\n1 - 3\n- - 2.5\n".utf8)),
            ("wide-crlf", Array("1 4\r\n7 -1e3 0.5 -\r\n\r\n".utf8)),
            ("empty", Array("0 0\n".utf8)),
        ]
    })
