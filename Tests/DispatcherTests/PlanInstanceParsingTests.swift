import Testing
import TestSupport
import Vocabulary
@testable import Dispatcher

@Suite("Plan instance reader")
struct PlanInstanceParsingTests {
    static let example = """
        {"matrix":[[0,120,300,400],[120,0,200,350],[null,200,0,150],[400,350,150,0]],
         "couriers":[{"id":1,"start":0,"available_at":0,"capacity":3,"stops":[{"order":7,"type":"dropoff"}]},
                     {"id":2,"start":3,"available_at":60,"capacity":2,"stops":[{"order":8,"type":"pickup"},{"order":8,"type":"dropoff"}]}],
         "orders":[{"id":7,"pickup":2,"dropoff":3,"ready_at":120,"deadline":2400,"max_ride":1800,"service":60},
                   {"id":8,"pickup":1,"dropoff":2,"ready_at":300,"deadline":null,"service":30},
                   {"id":9,"pickup":1,"dropoff":3,"unknown_key":true}]}
        """

    @Test("the issue's format reads with its defaults")
    func readsTheFormat() throws {
        let instance = try PlanInstance.parse(Array(Self.example.utf8))
        #expect(instance.locationCount == 4)
        #expect(instance.matrix[8] == .infinity)
        #expect(instance.couriers.map(\.id) == [CourierID(1), CourierID(2)])
        #expect(instance.couriers[1].stops == [PlanStop(order: OrderID(8), kind: .pickup), PlanStop(order: OrderID(8), kind: .dropoff)])
        #expect(instance.orders[1].deadline == .infinity && instance.orders[1].maxRide == .infinity)
        #expect(instance.orders[2].readyAt == 0 && instance.orders[2].service == 0)
        let plan = try RoutePlanner.plan(instance)
        #expect(PlanChecker.violations(plan, instance).isEmpty)
    }

    @Test("mutated instances never trap: each one is refused with a path, or planned into a valid answer")
    func mutationsNeverTrap() {
        print("PlanInstanceParsingTests.mutationsNeverTrap: seeds 0..<3000")
        let base = Array(Self.example.utf8)
        let alphabet = Array("{}[],:\"0123456789-.eE nulltruefalse".utf8)
        var refused = 0, planned = 0
        for seed in UInt64(0)..<3000 {
            var rng = SeededRandom(seed: seed)
            var bytes = base
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[at] = alphabet.randomElement(using: &rng)!
                case 1: bytes.remove(at: at)
                default: bytes.insert(alphabet.randomElement(using: &rng)!, at: at)
                }
                if bytes.isEmpty { bytes = [UInt8(ascii: "{")] }
            }
            do {
                let instance = try PlanInstance.parse(bytes)
                let plan = try RoutePlanner.plan(instance, options: RoutePlannerOptions(maxIterations: 20, seed: seed))
                #expect(PlanChecker.violations(plan, instance).isEmpty, "seed \(seed)")
                planned += 1
            } catch {
                #expect(!error.description.isEmpty, "seed \(seed)")
                refused += 1
            }
        }
        #expect(refused > 0 && planned > 0)
    }
}
