import Testing
@testable import Routing

@Suite struct RoutingModuleTests {
    @Test("the module links and names itself")
    func links() { #expect(RoutingModule.name == "Routing") }
}
