import Dispatcher
import Testing

/// The two names each policy goes by are interfaces (the engine's stats JSON, the simulator's flag and report).
@Suite struct DispatchPolicyTests {
    @Test("the engine's names are greedy and optimal; the simulator's are greedy and batch")
    func names() {
        #expect(DispatchPolicy.allCases.map(\.rawValue) == ["greedy", "optimal"])
        #expect(DispatchPolicy.allCases.map(\.simulatorName) == ["greedy", "batch"])
    }

    @Test("a simulator name parses back to its policy; anything else, the engine's optimal included, does not")
    func parsing() {
        for policy in DispatchPolicy.allCases { #expect(DispatchPolicy(simulatorName: policy.simulatorName) == policy) }
        for other in ["optimal", "fastest", "", "Batch", "greedy "] { #expect(DispatchPolicy(simulatorName: other) == nil) }
    }
}
