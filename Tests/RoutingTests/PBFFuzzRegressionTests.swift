import Foundation
import Testing
@testable import Routing

/// Fuzzing regressions of the OSM PBF reader (docs/fuzzing.md, finding 7).
@Suite("PBF reader: fuzzing regressions")
struct PBFFuzzRegressionTests {
    /// Found by the `pbf` target: the raw-blob seed cut from Monaco with a mutated longitude offset, so a node lies
    /// at 23,238.7° E. The reader passed it on, the importer built a graph from it, and `RoadGraph.build` trapped on
    /// the graph check that refuses coordinates off the globe. The input is kept as found.
    static let nodeOffTheGlobe =
        "AAAADgoJT1NNSGVhZGVyGLkBEKsBGrMBeJzjkuJouHvsgZlAw+0/z80lGk6t7DvGpNCwrvfqUSYlPv/i3ODkjNTcRN0wAz0zJS6X1LziVL/8lN" +
        "RiLcHg/KISvZDKgtT4kozUvHhPFy25kszc1OKSxNwCWyMDQzNdA2NdA9MQAwMrIzMrA6OoJkb+/OLc5Py8stSiEgUDPfOQLkaVjJKSAit9/fLy" +
        "cr38AqDpJUWpqSW5iQV6+UXp+okFmfpAexuYZp1/sY0VADOqPRcAAAAMCgdPU01EYXRhGJ8DCpwDCoIBCgAKBG5hbWUKBm9uZXdheQoHaGlnaH" +
        "dheQoTQXZlbnVlIGRlcyBQYXBhbGlucwoDeWVzCgtyZXNpZGVudGlhbAoQQXZlbnVlIEFsYsRydCBJSQoEdHlwZQoLcmVzdHJpY3Rpb24KDG5v" +
        "X2xlZnRfdHVybgoEZnJvbQoDdmlhCgJ0bxJnEmUKGuq0gRgqCJQGBrycAFIMHg4IILACGuQD7IkEQiOmloWhA8EP9imPH6YQsgLpD/0B+wH8Ds" +
        "QLsAWNAtMd/gW2B0oiupvetcMN9A45Rsgd4yiOFvUUqDSVAv0KhwexEs4R8yTHARKFARoWCMzvgQISAwECAxoDBAUGQgWUtYEYKRobCJmRggIS" +
        "AwECAxoDBAUGQgrqtIEYkqQDxZ0DGhwImpGCAhIDAQIDGgMEBQZCC8TYhBiqA/8C2aMDGjAIjJaCAhICAQMaAgcGQiGctYEYuKYD4QPMkQTriQ" +
        "SBB5+dA5RQA42dA86dAyCHpAMSJCIiCAESAggJGgIJCkIDCwwNSgyY34ME0tX9E7eS/RNSAwEAAQ=="

    @Test("a node off the globe is refused by the reader, naming the node, instead of trapping in the graph build")
    func nodeOffTheGlobe() throws {
        let bytes = try #require(Data(base64Encoded: Self.nodeOffTheGlobe))
        var collector = OSMImporter.Collector(profile: CarProfile())
        do {
            _ = try PBFReader.read(bytes: bytes, into: &collector)
            Issue.record("a node at 23,238° E was read without error")
        } catch {
            #expect(error.code == .badProtobuf)
            #expect(error.message.contains("not on the globe"), "\(error.message)")
        }
    }

    /// From the crash-budget audit (docs/fuzzing.md, finding 8): an edge's duration is its length over its speed in
    /// milliseconds as a UInt32, so a PBF way with two nodes thousands of kilometers apart and `maxspeed=1` (or a
    /// graph file's huge length under an observed live speed) trapped in the conversion. It now saturates.
    @Test("an edge too long for its speed saturates its duration instead of trapping")
    func durationSaturates() {
        #expect(OSMImporter.durationMs(100, 36) == 10_000)
        #expect(OSMImporter.durationMs(0, 50) == 1)
        #expect(OSMImporter.durationMs(20_000_000, 3) == UInt32.max)
        #expect(OSMImporter.durationMs(1e300, 3) == UInt32.max)
    }
}
