import Testing
@testable import Dispatcher

@Suite struct DispatcherModuleTests {
    @Test("the module links and names itself")
    func links() { #expect(DispatcherModule.name == "Dispatcher") }
}
