import Testing
import TestSupport
@testable import Marketplace

@Suite struct KeyTallyTests {
    @Test("counts equal a Dictionary's for skewed random keys, through several growths, zero and max keys included")
    func matchesDictionary() {
        var rng = SeededRandom(seed: 77)
        for distinctKeys in [1, 5, 63, 64, 65, 1_000, 20_000] {
            let pool = (0..<distinctKeys).map { i -> UInt64 in
                i == 0 ? 0 : i == 1 ? UInt64.max : UInt64.random(in: 0...UInt64.max, using: &rng)
            }
            var tally = KeyTally()
            var expected: [UInt64: Int] = [:]
            for _ in 0..<(3 * distinctKeys + 10) {
                // Squared index: a few keys are frequent, as couriers crowd a few cells.
                let u = Double.random(in: 0..<1, using: &rng)
                let key = pool[Int(u * u * Double(distinctKeys))]
                tally.add(key)
                expected[key, default: 0] += 1
            }
            var seen: [UInt64: Int] = [:]
            tally.forEach { key, n in
                #expect(seen[key] == nil, "key \(key) reported twice")
                seen[key] = n
            }
            #expect(seen == expected, "\(distinctKeys) distinct keys")
            #expect(tally.distinct == expected.count)
        }
    }
}
