import Crypto
import Foundation
import Kernel

/// AWS Signature Version 4 for S3 (and S3-compatible servers), written from AWS's specification ("Signature
/// Version 4 signing process", "Authenticating requests: using query parameters"): header signing for requests and
/// query signing for presigned GET URLs.
struct S3Signer: Sendable {
    let accessKey: String
    let secretKey: String
    let region: String
    static let service = "s3"
    static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// The headers to add to a request (`x-amz-date`, `x-amz-content-sha256`, `authorization`). `headers` must
    /// hold `host` and every other header to sign; `payloadHash` is the hex SHA-256 of the body.
    func sign(
        method: String, path: String, query: [(String, String)], headers: [String: String], payloadHash: String,
        date: Date
    ) -> [String: String] {
        let (amzDate, day) = Self.timestamps(date)
        var signed = Dictionary(uniqueKeysWithValues: headers.map { ($0.key.lowercased(), $0.value) })
        signed["x-amz-date"] = amzDate
        signed["x-amz-content-sha256"] = payloadHash
        let names = signed.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(Self.trim(signed[$0]!))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let canonical = [
            method, Self.encodePath(path), Self.canonicalQuery(query), canonicalHeaders, signedHeaders, payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(Self.service)/aws4_request"
        let signature = self.signature(canonical: canonical, amzDate: amzDate, day: day, scope: scope)
        return [
            "x-amz-date": amzDate, "x-amz-content-sha256": payloadHash,
            "authorization":
                "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)",
        ]
    }

    /// The query of a presigned GET of `path` on `host`, valid for `expires` seconds (1 to 604,800).
    func presignedQuery(path: String, host: String, expires: Int, date: Date) -> String {
        let (amzDate, day) = Self.timestamps(date)
        let scope = "\(day)/\(region)/\(Self.service)/aws4_request"
        let query: [(String, String)] = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", "\(accessKey)/\(scope)"),
            ("X-Amz-Date", amzDate), ("X-Amz-Expires", String(min(max(expires, 1), 604_800))),
            ("X-Amz-SignedHeaders", "host"),
        ]
        let canonical = [
            "GET", Self.encodePath(path), Self.canonicalQuery(query), "host:\(host)\n", "host", Self.unsignedPayload,
        ].joined(separator: "\n")
        let signature = self.signature(canonical: canonical, amzDate: amzDate, day: day, scope: scope)
        return Self.canonicalQuery(query) + "&X-Amz-Signature=" + signature
    }

    private func signature(canonical: String, amzDate: String, day: String, scope: String) -> String {
        let stringToSign = [
            "AWS4-HMAC-SHA256", amzDate, scope, SHA256.hash(data: Data(canonical.utf8)).lowercaseHex,
        ].joined(separator: "\n")
        var key = SymmetricKey(data: Data("AWS4\(secretKey)".utf8))
        for part in [day, region, Self.service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return Data(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key)).lowercaseHex
    }

    static func timestamps(_ date: Date) -> (amzDate: String, day: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        let day: String = String(format: "%04d", c.year ?? 0) + two(c.month) + two(c.day)
        let time: String = two(c.hour) + two(c.minute) + two(c.second)
        return (day + "T" + time + "Z", day)
    }

    /// Query parameters sorted by encoded name (then value), each encoded, joined with `&`.
    static func canonicalQuery(_ query: [(String, String)]) -> String {
        let encoded: [(name: String, value: String)] = query.map { (encode($0.0), encode($0.1)) }
        let sorted = encoded.sorted { left, right in
            left.name == right.name ? left.value < right.value : left.name < right.name
        }
        return sorted.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    /// Each path segment encoded, slashes kept (S3 does not encode a second time).
    static func encodePath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { encode(String($0)) }
            .joined(separator: "/")
    }

    /// RFC 3986 encoding: unreserved characters kept, every other byte as `%XX` (upper-case hex).
    static func encode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D, 0x2E, 0x5F, 0x7E:
                result.append(Character(UnicodeScalar(byte)))
            default: result += String(format: "%%%02X", byte)
            }
        }
        return result
    }

    static func trim(_ value: String) -> String {
        value.trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: true)
            .joined(separator: " ")
    }
}
