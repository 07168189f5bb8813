import HTTPServer
import JSON
import Testing

@Suite("API errors")
struct APIErrorTests {
    @Test("an API error renders as the documented envelope")
    func apiErrorBody() throws {
        let e = APIError(.notFound, "no \"driver\" 7")
        let v = try JSONReader.parse(e.jsonBody)
        #expect(v["error"]?["code"]?.string == "not_found")
        #expect(v["error"]?["message"]?.string == "no \"driver\" 7")
        #expect(e.code.status == 404)
    }
}
