/// One validation failure: `{"field", "code", "message"}` in a problem's `errors` array.
package struct FieldIssue: Hashable, Sendable, Codable {
    package let field: String
    package let code: String
    package let message: String

    package init(field: String, code: String, message: String) {
        self.field = field
        self.code = code
        self.message = message
    }
}
