/// One validation failure: `{"field", "code", "message"}` in a problem's `errors` array.
public struct FieldIssue: Hashable, Sendable, Codable {
    public let field: String
    public let code: String
    public let message: String

    public init(field: String, code: String, message: String) {
        self.field = field
        self.code = code
        self.message = message
    }
}
