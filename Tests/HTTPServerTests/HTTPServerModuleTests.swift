import Testing
@testable import HTTPServer

@Suite struct HTTPServerModuleTests {
    @Test("the module links and names itself")
    func links() { #expect(HTTPServerModule.name == "HTTPServer") }
}
