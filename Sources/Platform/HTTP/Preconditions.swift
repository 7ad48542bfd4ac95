import HTTPTypes
import Hummingbird

/// Optimistic concurrency as API.md has it, the same in every module: a resource's responses carry its `ETag`; a
/// change or delete with `If-Match` applies only to the copy the client read, else 412 problem+json. Without
/// `If-Match` the change is unconditional. Resources with a version counter use its weak ETag (`W/"7"`).
package enum Preconditions {
    /// The weak ETag of a version counter.
    package static func etag(version: Int) -> String { "W/\"\(version)\"" }

    /// The 412 answer for a client whose copy is not the current one.
    package static func failed(current etag: String) -> Problem {
        Problem(
            status: .preconditionFailed,
            detail: "the resource changed since it was read (its ETag is now \(etag)); read it again and retry")
    }

    /// Whether `If-Match` (a list of ETags, or `*`) names `etag`; true without the header. A strong form of a weak
    /// ETag (`"7"` for `W/"7"`) matches too.
    package static func matches(_ headers: HTTPFields, etag: String) -> Bool {
        guard let expected = headers[.ifMatch] else { return true }
        let tags = expected.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let strong = etag.hasPrefix("W/") ? String(etag.dropFirst(2)) : etag
        return tags.contains("*") || tags.contains(etag) || tags.contains(strong) || tags.contains("W/" + strong)
    }

    /// 412 unless `If-Match` is absent or names `etag`.
    package static func check(_ headers: HTTPFields, etag: String) throws {
        guard matches(headers, etag: etag) else { throw failed(current: etag) }
    }
}

extension Request {
    /// `If-Match` compared with `etag`: 412 problem+json when the client's copy is not the current one.
    package func checkIfMatch(_ etag: String) throws {
        try Preconditions.check(headers, etag: etag)
    }
}

extension Preconditions {
    /// For a resource with a version counter at `current`: 412 unless `If-Match` is absent or names it, and unless
    /// `bodyVersion` (the `version` field some request bodies carry, the same check by another name) is absent or
    /// equal to it.
    package static func check(_ headers: HTTPFields, bodyVersion: Int? = nil, current: Int) throws {
        let etag = etag(version: current)
        try check(headers, etag: etag)
        if let bodyVersion, bodyVersion != current { throw failed(current: etag) }
    }

    /// The check above as a value a service runs against the stored version inside its transaction: `If-Match`
    /// of `request` and, when given, the body's `version`.
    package static func of(_ request: Request, bodyVersion: Int? = nil) -> @Sendable (Int) throws -> Void {
        let headers = request.headers
        return { current in try check(headers, bodyVersion: bodyVersion, current: current) }
    }
}
