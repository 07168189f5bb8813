import Testing
import TestSupport
@testable import Engine

@Suite struct DriverIDSetTests {
    @Test("insert, contains and forEach agree with Set<UInt64> through growth and removeAll, 0 and UInt64.max included")
    func matchesSet() {
        var rng = SeededRandom(seed: 515)
        var ours = DriverIDSet()
        for size in [0, 1, 7, 8, 9, 100, 5_000, 3] {
            var reference = Set<UInt64>()
            for i in 0..<(2 * size) {
                let id: UInt64 = i % 97 == 5 ? .max : i % 89 == 3 ? 0 : UInt64.random(in: 0...UInt64(size + 1), using: &rng)
                #expect(ours.insert(id) == reference.insert(id).inserted)
            }
            #expect(ours.count == reference.count)
            var listed: [UInt64] = []
            ours.forEach { listed.append($0) }
            #expect(listed.count == reference.count && Set(listed) == reference)
            for probe in [0, 1, 2, UInt64(size), UInt64(size + 1), UInt64(size + 2), .max] {
                #expect(ours.contains(probe) == reference.contains(probe), "probe \(probe)")
            }
            ours.removeAll()
            #expect(ours.isEmpty && !ours.contains(0) && !ours.contains(.max))
        }
    }
}
