import Testing
@testable import Marketplace

@Suite struct MarketplaceModuleTests {
    @Test("the module links and names itself")
    func links() { #expect(MarketplaceModule.name == "Marketplace") }
}
