import HTTPTypes

/// The paths where modules take files (`Module.uploadPaths`, like `/api/v1/crm/{kind}/{id}/attachments`): a `POST`
/// there may carry up to `max_upload_bytes` instead of `max_body_bytes`, and the gateway does not read its body
/// for inspection (an upload is streamed to the blob store, never held whole). A template's `{name}` segments match
/// any one segment.
package struct UploadPaths: Sendable {
    /// Each template's segments; `nil` where a `{name}` segment matches any.
    package let templates: [[String?]]

    package init(_ templates: [String]) {
        self.templates = templates.map { template in
            template.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { segment in
                segment.hasPrefix("{") && segment.hasSuffix("}") ? nil : String(segment)
            }
        }
    }

    /// Whether a request with `method` to `path` is an upload.
    package func matches(method: HTTPRequest.Method, path: Substring) -> Bool {
        guard method == .post, !templates.isEmpty else { return false }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        return templates.contains { template in
            template.count == segments.count
                && zip(template, segments).allSatisfy { expected, actual in
                    expected.map { $0 == actual } ?? !actual.isEmpty
                }
        }
    }
}
