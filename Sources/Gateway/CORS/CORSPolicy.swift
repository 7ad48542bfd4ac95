import Foundation
import HTTPTypes

/// A route's cross-origin resource sharing policy, following the Fetch standard's CORS protocol.
///
/// JSON: `{"allowed_origins": ["https://app.example.com"], "allowed_methods": ["GET", "POST"],
/// "allowed_headers": ["Authorization", "Content-Type"], "exposed_headers": ["ETag"], "allow_credentials": true,
/// "max_age": 600}`; every field but `allowed_origins` may be omitted. A policy is validated when built or
/// decoded, so a route table with an unsafe policy fails to load instead of misbehaving per request.
package struct CORSPolicy: Sendable, Hashable, Codable {
    /// Serialized origins (`https://app.example.com`, lower case, no path), `null`, or the single entry `*`.
    package let allowedOrigins: [String]
    /// Methods a preflight may ask for. GET, HEAD and POST are CORS-safelisted and always pass.
    package let allowedMethods: [HTTPRequest.Method]
    /// Request header names a preflight may ask for, lower-cased.
    package let allowedHeaders: [String]
    /// Response header names scripts may read beyond the CORS-safelisted ones.
    package let exposedHeaders: [String]
    /// Whether browsers may send cookies and HTTP authentication and let scripts read the answer.
    package let allowCredentials: Bool
    /// How long, in seconds, a browser may cache a preflight answer.
    package let maxAge: Int?

    /// Whether any origin is allowed (`*`); then answers carry `Access-Control-Allow-Origin: *`.
    package var allowsAnyOrigin: Bool { allowedOrigins == ["*"] }

    package init(
        allowedOrigins: [String],
        allowedMethods: [HTTPRequest.Method] = [.get, .head, .post],
        allowedHeaders: [String] = [],
        exposedHeaders: [String] = [],
        allowCredentials: Bool = false,
        maxAge: Int? = nil
    ) throws(CORSPolicyError) {
        let origins = try Self.validatedOrigins(allowedOrigins, allowCredentials: allowCredentials)
        self.allowedOrigins = origins
        self.allowedMethods = allowedMethods
        self.allowedHeaders = try Self.validatedHeaderNames(allowedHeaders)
        self.exposedHeaders = try Self.validatedHeaderNames(exposedHeaders)
        self.allowCredentials = allowCredentials
        if let maxAge, maxAge < 0 { throw .negativeMaxAge(maxAge) }
        self.maxAge = maxAge
    }

    private enum CodingKeys: String, CodingKey {
        case allowedOrigins = "allowed_origins"
        case allowedMethods = "allowed_methods"
        case allowedHeaders = "allowed_headers"
        case exposedHeaders = "exposed_headers"
        case allowCredentials = "allow_credentials"
        case maxAge = "max_age"
    }

    /// Decodes and validates; an unsafe or malformed policy throws ``CORSPolicyError``.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let methodNames = try container.decodeIfPresent([String].self, forKey: .allowedMethods)
        let methods = try methodNames.map { names in
            try names.map { name throws(CORSPolicyError) in
                guard name != "*", let method = HTTPRequest.Method(name) else { throw .invalidMethod(name) }
                return method
            }
        }
        try self.init(
            allowedOrigins: try container.decode([String].self, forKey: .allowedOrigins),
            allowedMethods: methods ?? [.get, .head, .post],
            allowedHeaders: try container.decodeIfPresent([String].self, forKey: .allowedHeaders) ?? [],
            exposedHeaders: try container.decodeIfPresent([String].self, forKey: .exposedHeaders) ?? [],
            allowCredentials: try container.decodeIfPresent(Bool.self, forKey: .allowCredentials) ?? false,
            maxAge: try container.decodeIfPresent(Int.self, forKey: .maxAge)
        )
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(allowedOrigins, forKey: .allowedOrigins)
        try container.encode(allowedMethods.map(\.rawValue), forKey: .allowedMethods)
        try container.encode(allowedHeaders, forKey: .allowedHeaders)
        try container.encode(exposedHeaders, forKey: .exposedHeaders)
        try container.encode(allowCredentials, forKey: .allowCredentials)
        try container.encodeIfPresent(maxAge, forKey: .maxAge)
    }

    /// Checks each origin is `*` (alone, without credentials), `null` (without credentials) or a serialized
    /// origin `scheme://host[:port]`; returns them lower-cased, which is how browsers send them.
    private static func validatedOrigins(_ origins: [String], allowCredentials: Bool) throws(CORSPolicyError)
        -> [String]
    {
        if origins.contains("*") {
            guard origins.count == 1 else { throw .wildcardMixedWithOrigins }
            guard !allowCredentials else { throw .wildcardWithCredentials }
            return origins
        }
        return try origins.map { origin throws(CORSPolicyError) in
            let lowered = origin.lowercased()
            if lowered == "null" {
                guard !allowCredentials else { throw .nullOriginWithCredentials }
                return lowered
            }
            guard isSerializedOrigin(lowered) else { throw .invalidOrigin(origin) }
            return lowered
        }
    }

    private static func isSerializedOrigin(_ origin: String) -> Bool {
        guard let separator = origin.range(of: "://") else { return false }
        let scheme = origin[..<separator.lowerBound]
        let authority = origin[separator.upperBound...]
        let schemeIsValid =
            scheme.first.map(\.isLetter) == true
            && scheme.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }
        let authorityIsValid =
            !authority.isEmpty && !authority.hasSuffix(":")
            && authority.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-.:[]".contains($0)) }
        return schemeIsValid && authorityIsValid
    }

    private static func validatedHeaderNames(_ names: [String]) throws(CORSPolicyError) -> [String] {
        try names.map { name throws(CORSPolicyError) in
            guard name != "*", HTTPField.Name(name) != nil else { throw .invalidHeaderName(name) }
            return name.lowercased()
        }
    }
}
