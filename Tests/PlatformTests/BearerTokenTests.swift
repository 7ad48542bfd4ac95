import Hummingbird
import Platform
import Testing

@Suite struct BearerTokenTests {
    @Test func theTokenOfABearerHeaderIsFoundInAnyCaseAndSpacing() {
        #expect(Request.bearerToken(authorization: "Bearer abc.def") == "abc.def")
        #expect(Request.bearerToken(authorization: "bearer abc") == "abc")
        #expect(Request.bearerToken(authorization: "BEARER   abc  ") == "abc")
        #expect(Request.bearerToken(authorization: "Bearer\tabc") == "abc")
        #expect(Request.bearerToken(authorization: "Basic abc") == nil)
        #expect(Request.bearerToken(authorization: "Bearer") == nil)
        #expect(Request.bearerToken(authorization: "Bearer   ") == nil)
        #expect(Request.bearerToken(authorization: "Bearerx abc") == nil)
        #expect(Request.bearerToken(authorization: "") == nil)
    }
}
