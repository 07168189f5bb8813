@testable import Engine
import Testing
import Vocabulary

@Suite struct FenceSquareMapTests {
    @Test("the square map lists what a dictionary of sets would, through growth, removals, compaction and rehashing")
    func agreesWithDictionary() {
        var map = FenceSquareMap()
        var model: [UInt64: Set<Int32>] = [:]
        var rng = SplitMix64(seed: 7)
        for round in 0..<60_000 {
            let key = UInt64.random(in: 0..<3_000, using: &rng) << 32 | UInt64.random(in: 0..<4, using: &rng)
            let slot = Int32.random(in: 0..<200, using: &rng)
            // Grow for the first half, then mostly shrink, so empty squares and waste pile up.
            if Double.random(in: 0..<1, using: &rng) < (round < 30_000 ? 0.75 : 0.2) {
                guard model[key, default: []].insert(slot).inserted else { continue }
                map.append(slot, to: key)
            } else if model[key]?.remove(slot) != nil {
                map.remove(slot, from: key)
                if model[key]?.isEmpty == true { model[key] = nil }
            }
        }
        #expect(map.count == model.count)
        for (key, slots) in model { #expect(Set(map.list(key)) == slots && map.list(key).count == slots.count) }
        #expect(map.list(UInt64.max - 1).isEmpty)
        #expect(map.range(12_345 << 32).isEmpty)
    }
}
