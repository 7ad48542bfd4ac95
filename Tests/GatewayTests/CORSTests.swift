import Foundation
import Gateway
import HTTPTypes
import Testing

/// CORS policy validation and the Fetch standard rules for preflight and actual-response headers.
@Suite struct CORSTests {
    let app = "https://app.example.com"
    let policy: CORSPolicy

    init() throws {
        policy = try CORSPolicy(
            allowedOrigins: ["https://app.example.com", "https://admin.example.com"],
            allowedMethods: [.get, .post, .patch, .delete],
            allowedHeaders: ["Authorization", "Content-Type", "Idempotency-Key"],
            exposedHeaders: ["ETag", "X-Request-ID"],
            allowCredentials: true,
            maxAge: 600
        )
    }

    func preflight(
        _ policy: CORSPolicy, origin: String? = "https://app.example.com", method: String? = "PATCH",
        headers: String? = nil
    ) -> CORSPreflightResult {
        policy.preflight(method: .options, origin: origin, requestMethod: method, requestHeaders: headers)
    }

    // MARK: Actual requests

    @Test func simpleRequestFromAllowedOriginEchoesThatOriginOnly() {
        let headers = policy.responseHeaders(origin: app)
        #expect(headers[.accessControlAllowOrigin] == app)
        #expect(headers[values: .accessControlAllowOrigin].count == 1)
        #expect(headers[.vary] == "Origin")
        #expect(headers[.accessControlAllowCredentials] == "true")
        #expect(headers[.accessControlExposeHeaders] == "etag, x-request-id")
    }

    @Test func simpleRequestFromDisallowedOriginGetsNoCORSHeadersButVary() {
        let headers = policy.responseHeaders(origin: "https://evil.example")
        #expect(headers == [.vary: "Origin"])
    }

    @Test func requestWithoutOriginStillVariesOnOrigin() {
        #expect(policy.responseHeaders(origin: nil) == [.vary: "Origin"])
    }

    @Test func originComparisonIsExactSoLookalikesFail() {
        for origin in [
            "https://app.example.com.evil.example", "http://app.example.com", "https://app.example.com:8443",
        ] {
            #expect(policy.responseHeaders(origin: origin)[.accessControlAllowOrigin] == nil, "\(origin)")
        }
    }

    @Test func credentialsHeaderOnlyWhenAllowed() throws {
        let withoutCredentials = try CORSPolicy(allowedOrigins: [app])
        #expect(withoutCredentials.responseHeaders(origin: app)[.accessControlAllowCredentials] == nil)
        #expect(
            withoutCredentials.preflight(method: .options, origin: app, requestMethod: "POST", requestHeaders: nil)
                .headers[.accessControlAllowCredentials] == nil)
        #expect(policy.responseHeaders(origin: app)[.accessControlAllowCredentials] == "true")
    }

    @Test func nullOriginIsRefusedUnlessListed() throws {
        #expect(policy.responseHeaders(origin: "null")[.accessControlAllowOrigin] == nil)
        let sandboxed = try CORSPolicy(allowedOrigins: ["null"])
        #expect(sandboxed.responseHeaders(origin: "null")[.accessControlAllowOrigin] == "null")
        #expect(throws: CORSPolicyError.nullOriginWithCredentials) {
            try CORSPolicy(allowedOrigins: ["null"], allowCredentials: true)
        }
    }

    // MARK: Wildcard

    @Test func wildcardWithoutCredentialsAnswersStarWithoutVary() throws {
        let open = try CORSPolicy(allowedOrigins: ["*"], exposedHeaders: ["ETag"])
        for origin in ["https://anyone.example", "null", nil] {
            let headers = open.responseHeaders(origin: origin)
            #expect(headers[.accessControlAllowOrigin] == "*")
            #expect(headers[.vary] == nil)
            #expect(headers[.accessControlAllowCredentials] == nil)
            #expect(headers[.accessControlExposeHeaders] == "etag")
        }
        let answer = preflight(open, origin: "https://anyone.example", method: "GET", headers: nil)
        #expect(answer.status == .noContent)
        #expect(answer.headers[.accessControlAllowOrigin] == "*")
    }

    @Test func wildcardWithCredentialsIsRejectedAtValidation() {
        #expect(throws: CORSPolicyError.wildcardWithCredentials) {
            try CORSPolicy(allowedOrigins: ["*"], allowCredentials: true)
        }
    }

    @Test func wildcardWithCredentialsIsRejectedWhenDecodingWithAClearMessage() {
        let json = #"{"allowed_origins": ["*"], "allow_credentials": true}"#
        #expect {
            try JSONDecoder().decode(CORSPolicy.self, from: Data(json.utf8))
        } throws: { error in
            (error as? CORSPolicyError) == .wildcardWithCredentials
                && String(describing: error).contains("credentials")
        }
    }

    @Test func malformedPoliciesAreRejected() {
        #expect(throws: CORSPolicyError.invalidOrigin("https://app.example.com/")) {
            try CORSPolicy(allowedOrigins: ["https://app.example.com/"])
        }
        #expect(throws: CORSPolicyError.invalidOrigin("app.example.com")) {
            try CORSPolicy(allowedOrigins: ["app.example.com"])
        }
        #expect(throws: CORSPolicyError.wildcardMixedWithOrigins) {
            try CORSPolicy(allowedOrigins: ["*", "https://app.example.com"])
        }
        #expect(throws: CORSPolicyError.invalidHeaderName("bad header")) {
            try CORSPolicy(allowedOrigins: [app], allowedHeaders: ["bad header"])
        }
        #expect(throws: CORSPolicyError.negativeMaxAge(-1)) { try CORSPolicy(allowedOrigins: [app], maxAge: -1) }
        #expect(throws: CORSPolicyError.invalidMethod("*")) {
            try JSONDecoder().decode(
                CORSPolicy.self,
                from: Data(#"{"allowed_origins": ["https://a.example"], "allowed_methods": ["*"]}"#.utf8))
        }
    }

    @Test func policyDecodesFromRouteTableJSON() throws {
        let json = #"""
            {"allowed_origins": ["HTTPS://App.Example.com"], "allowed_methods": ["GET", "PUT"],
             "allowed_headers": ["X-Custom"], "max_age": 60}
            """#
        let decoded = try JSONDecoder().decode(CORSPolicy.self, from: Data(json.utf8))
        #expect(decoded.allowedOrigins == [app])
        #expect(decoded.allowedMethods == [.get, .put])
        #expect(decoded.allowedHeaders == ["x-custom"])
        #expect(!decoded.allowCredentials)
        #expect(try JSONDecoder().decode(CORSPolicy.self, from: JSONEncoder().encode(decoded)) == decoded)
    }

    // MARK: Preflight

    @Test func allowedPreflightAnswers204WithAllowHeaders() {
        let answer = preflight(policy, method: "PATCH", headers: "authorization, content-type")
        #expect(answer.status == .noContent)
        let headers = answer.headers
        #expect(headers[.accessControlAllowOrigin] == app)
        #expect(headers[.vary] == "Origin")
        #expect(headers[.accessControlAllowCredentials] == "true")
        #expect(headers[.accessControlAllowMethods] == "GET, POST, PATCH, DELETE")
        #expect(headers[.accessControlAllowHeaders] == "authorization, content-type, idempotency-key")
        #expect(headers[.accessControlMaxAge] == "600")
    }

    @Test func preflightFromDisallowedOriginIs403WithoutAllowHeaders() {
        let answer = preflight(policy, origin: "https://evil.example")
        #expect(answer == .rejected(.originNotAllowed("https://evil.example"), headers: [.vary: "Origin"]))
        #expect(answer.status == .forbidden)
    }

    @Test func preflightForDisallowedMethodIsRejected() {
        let answer = preflight(policy, method: "PUT")
        #expect(answer == .rejected(.methodNotAllowed("PUT"), headers: [.vary: "Origin"]))
        #expect(answer.headers[.accessControlAllowMethods] == nil)
    }

    @Test func methodsCompareCaseSensitivelyAsInFetch() {
        #expect(preflight(policy, method: "patch").status == .forbidden)
    }

    @Test func safelistedMethodsAlwaysPassPreflight() throws {
        let deleteOnly = try CORSPolicy(allowedOrigins: [app], allowedMethods: [.delete], allowedHeaders: ["x-a"])
        for method in ["GET", "HEAD", "POST", "DELETE"] {
            #expect(preflight(deleteOnly, method: method, headers: "x-a").status == .noContent, "\(method)")
        }
    }

    @Test func preflightForDisallowedHeaderIsRejected() {
        let answer = preflight(policy, method: "POST", headers: "content-type, x-secret")
        #expect(answer == .rejected(.headerNotAllowed("x-secret"), headers: [.vary: "Origin"]))
    }

    @Test func requestedHeaderNamesMatchCaseInsensitively() {
        #expect(
            preflight(policy, method: "POST", headers: "AUTHORIZATION,Content-Type ,  idempotency-KEY").status
                == .noContent)
    }

    @Test func safelistedRequestHeadersNeedNotBeListed() throws {
        let minimal = try CORSPolicy(allowedOrigins: [app])
        #expect(
            preflight(minimal, method: "POST", headers: "accept, Accept-Language, content-language").status
                == .noContent)
        #expect(preflight(minimal, method: "POST", headers: "content-type").status == .forbidden)
    }

    @Test func optionsWithoutPreflightHeadersIsNotAPreflight() {
        #expect(
            policy.preflight(method: .options, origin: app, requestMethod: nil, requestHeaders: nil) == .notPreflight)
        #expect(
            policy.preflight(method: .options, origin: nil, requestMethod: "GET", requestHeaders: nil) == .notPreflight)
        #expect(policy.preflight(method: .get, origin: app, requestMethod: "GET", requestHeaders: nil) == .notPreflight)
        #expect(CORSPreflightResult.notPreflight.status == nil)
    }

    @Test func preflightIsReadFromARequestHead() {
        var head = HTTPRequest(
            method: .options, scheme: "https", authority: "api.example.com", path: "/api/v1/crm/leads")
        head.headerFields = [
            .origin: app, .accessControlRequestMethod: "DELETE", .accessControlRequestHeaders: "authorization",
        ]
        #expect(policy.preflight(for: head).status == .noContent)
    }

    @Test func preflightWithoutMaxAgeOmitsIt() throws {
        let noCache = try CORSPolicy(allowedOrigins: [app])
        #expect(preflight(noCache, method: "GET").headers[.accessControlMaxAge] == nil)
    }
}
