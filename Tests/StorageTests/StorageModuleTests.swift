import Testing
@testable import Storage

@Suite struct StorageModuleTests {
    @Test("the module links and names itself")
    func links() { #expect(StorageModule.name == "Storage") }
}
