import JSON
import Testing
@testable import Engine

private func memberNames(_ v: JSONValue) -> [String] {
    guard case .object(let members) = v else { return [] }
    return members.map(\.0)
}

@Suite("a fence's shape reads back with its type's members only")
struct FenceShapeEchoTests {
    @Test("members of other shape types or of none are not kept (schemathesis found a circle echoing max_s 3601)")
    func strayMembersDropped() throws {
        let body = #"{"shape":{"type":"near_driver","driver":7,"radius_m":50,"max_s":3601,"cells":["x"],"junk":1}}"#
        let d = try FenceDefinition.parse(try JSONReader.parse(body), nowMs: 0) { "f" }
        #expect(memberNames(d.shapeJSON) == ["type", "driver", "radius_m"])
        let drive = #"{"shape":{"type":"drive_time","center":{"lat":43.73,"lng":7.42},"max_s":600,"radius_m":9}}"#
        let t = try FenceDefinition.parse(try JSONReader.parse(drive), nowMs: 0) { "g" }
        #expect(memberNames(t.shapeJSON) == ["type", "center", "max_s"])
        #expect(t.shapeJSON["max_s"]?.double == 600)
    }
}
