import Testing
@testable import Engine

@Suite struct EngineModuleTests {
    @Test("the module links and names itself")
    func links() { #expect(EngineModule.name == "Engine") }
}
