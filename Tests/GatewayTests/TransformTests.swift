import Foundation
import Gateway
import HTTPTypes
import Testing

@Suite struct TransformTests {
    func transform(_ json: String, path: String = "/api/{id}") throws -> RouteTransform {
        let configuration = try GatewayConfiguration.decode(
            Data(
                #"{"routes": [{"name": "r", "match": {"path": "\#(path)"}, "module": "m", "transform": \#(json)}], "include_default_routes": false}"#
                    .utf8))
        let table = try RouteTable.compile(configuration, modules: [], localModules: ["m"])
        return try #require(table.routes.first?.transform)
    }

    @Test func headersAreRemovedRenamedThenAdded() throws {
        let transform = try transform(
            #"{"request_headers": {"remove": ["X-Debug"], "rename": {"X-Old": "X-New"}, "add": {"X-Added": "1", "X-New": "replaced"}}}"#
        )
        var fields: HTTPFields = [HTTPField.Name("X-Debug")!: "on", HTTPField.Name("X-Old")!: "v", .accept: "json"]
        transform.requestHeaders.apply(to: &fields)
        #expect(fields[HTTPField.Name("X-Debug")!] == nil)
        #expect(fields[HTTPField.Name("X-Old")!] == nil)
        #expect(fields[HTTPField.Name("X-New")!] == "replaced")
        #expect(fields[HTTPField.Name("X-Added")!] == "1")
        #expect(fields[.accept] == "json")
    }

    @Test func stripPrefixKeepsAnAbsolutePath() throws {
        let transform = try transform(#"{"strip_prefix": "/api"}"#)
        #expect(transform.rewrite(path: "/api/7", parameters: [:]) == "/7")
        #expect(transform.rewrite(path: "/api", parameters: [:]) == "/")
        #expect(transform.rewrite(path: "/other", parameters: [:]) == "/other")
    }

    @Test func rewritePathFillsTemplateParameters() throws {
        let transform = try transform(#"{"rewrite_path": "/v2/items/{id}/view"}"#)
        #expect(transform.rewrite(path: "/api/42", parameters: ["id": "42"]) == "/v2/items/42/view")
    }

    @Test func namedResponseFieldsAreRemovedAlsoInsideArrays() throws {
        let transform = try transform(#"{"remove_response_fields": ["internal", "data.secret", "meta.*"]}"#)
        let body = Data(
            #"{"internal": 1, "data": [{"id": 1, "secret": "x"}, {"id": 2, "secret": "y"}], "meta": {"a": 1}, "keep": true}"#
                .utf8)
        let edited = try JSONSerialization.jsonObject(with: transform.removeFields(from: body)) as? NSDictionary
        let expected: NSDictionary = ["data": [["id": 1], ["id": 2]], "meta": [:] as [String: Int], "keep": true]
        #expect(edited == expected)
    }

    @Test func aBodyThatIsNotJSONIsLeftAlone() throws {
        let transform = try transform(#"{"remove_response_fields": ["a"]}"#)
        let body = Data("plain text".utf8)
        #expect(transform.removeFields(from: body) == body)
    }

    @Test func headerValuesWithLineBreaksAreRefused() {
        #expect(throws: RouteTableError.self) {
            try transform(#"{"response_headers": {"add": {"X-Evil": "a\r\nSet-Cookie: x"}}}"#)
        }
    }
}
