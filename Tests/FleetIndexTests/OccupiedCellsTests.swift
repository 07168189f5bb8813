@testable import FleetIndex
import HexGeo
import Testing
import Vocabulary

@Suite struct OccupiedCellsTests {
    @Test("occupiedCells lists each cell holding a driver once, whatever its status, and forgets a cell its last driver left")
    func occupied() throws {
        let table = DriverTable(scheme: H3CellScheme(resolution: 9), staleAfterMs: 3_600_000)
        let points: [(UInt64, Double, Double, DriverStatus)] = [
            (1, 43.7347, 7.4206, .available), (2, 43.7347, 7.4206, .onTrip), (3, 60.1699, 24.9384, .offline), (4, 42.5063, 1.5218, .onBreak),
        ]
        for (id, lat, lng, status) in points {
            _ = table.upsert(DriverState(id: DriverID(id), latE7: Int32(lat * 1e7), lngE7: Int32(lng * 1e7), timestampMs: 1_000, status: status))
        }
        let expected = Set(try points.map { try H3.latLngToCell(LatLng(degrees: Double(Int32($0.1 * 1e7)) / 1e7, Double(Int32($0.2 * 1e7)) / 1e7), resolution: 9).rawValue })
        #expect(expected.count == 3)
        #expect(table.occupiedCells().count == 3)
        #expect(Set(table.occupiedCells()) == expected)
        _ = table.remove(DriverID(3))
        #expect(table.occupiedCells().count == 2)
    }
}
