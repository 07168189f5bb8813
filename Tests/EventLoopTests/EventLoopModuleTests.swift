import Testing
@testable import EventLoop

@Suite struct EventLoopModuleTests {
    @Test("the module links and names itself")
    func links() { #expect(EventLoopModule.name == "EventLoop") }
}
