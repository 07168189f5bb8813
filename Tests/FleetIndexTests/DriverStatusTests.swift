import Testing
@testable import FleetIndex
import Vocabulary

@Suite struct DriverStatusTests {
    @Test("every status round-trips through its wire name", arguments: DriverStatus.allCases)
    func roundTrip(_ s: DriverStatus) {
        #expect(DriverStatus(name: s.name) == s)
    }

    @Test("filters admit exactly their members")
    func filter() {
        let f: StatusFilter = [StatusFilter(.available), StatusFilter(.toPickup)]
        #expect(f.admits(DriverStatus.available.rawValue))
        #expect(f.admits(DriverStatus.toPickup.rawValue))
        #expect(!f.admits(DriverStatus.onTrip.rawValue))
        #expect(StatusFilter.all.admits(DriverStatus.onBreak.rawValue))
    }
}
