import Crypto
import Foundation
import Kernel
import NIOCore

/// Where modules keep files (attachments, exports, imports): a filesystem directory by default, or an S3 bucket
/// (`blob_url`). Uploads stream through: neither backend holds a whole object in memory (S3 holds one part, 8 MiB
/// by default). What an object is (its name, its owner, its content type as the user gave it) is the caller's
/// record; the store keeps bytes under a key.
package protocol BlobStore: Sendable {
    /// Stores `body` under `key` (replacing what was there), refusing more than `maxBytes` (nothing is kept then).
    func put<Body: AsyncSequence & Sendable>(
        _ key: BlobKey, contentType: String, maxBytes: Int64, body: Body
    ) async throws -> BlobInfo where Body.Element == ByteBuffer

    /// The object under `key`, read as it is consumed; `BlobError.notFound` when there is none.
    func get(_ key: BlobKey) async throws -> BlobDownload

    /// Removes the object under `key`; removing what is not there is not an error.
    func delete(_ key: BlobKey) async throws

    /// A URL that lets its holder download the object directly from the backend until `expiresIn` has passed
    /// (S3's presigned GET), or nil when the backend has none (the filesystem: serve it through `get`).
    func presignedURL(_ key: BlobKey, expiresIn seconds: Int) throws -> String?
}

/// The key of an object: slash-separated segments of letters, digits, `.`, `_` and `-` (no empty, `.` or `..`
/// segment), at most 512 characters. Modules lead with the tenant and their name
/// (`tenants/<id>/crm/attachments/<id>`).
package struct BlobKey: Sendable, Hashable, CustomStringConvertible {
    package let path: String

    package init(_ path: String) throws(BlobError) {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...512).contains(path.utf8.count),
            segments.allSatisfy({ segment in
                !segment.isEmpty && segment != "." && segment != ".."
                    && segment.utf8.allSatisfy { byte in
                        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
                            || (byte >= 0x61 && byte <= 0x7A)
                            || byte == 0x2E || byte == 0x5F || byte == 0x2D
                    }
            })
        else { throw BlobError.invalidKey(path) }
        self.path = path
    }

    package var description: String { path }
}

/// What `put` stored.
package struct BlobInfo: Sendable, Equatable {
    package let size: Int64
    /// Hex SHA-256 of the bytes stored.
    package let sha256: String
}

/// An object being read: its size when the backend tells it, and its bytes as they arrive.
package struct BlobDownload: Sendable {
    package let size: Int64?
    package let body: any AsyncSequence<ByteBuffer, any Error> & Sendable
}

package enum BlobError: Error, Equatable, CustomStringConvertible {
    case invalidKey(String)
    case invalidContentType(String)
    case tooLarge(limit: Int64)
    case notFound(String)
    case backend(String)

    package var description: String {
        switch self {
        case .invalidKey(let key): "blob key \(key.prefix(80)) is not valid"
        case .invalidContentType(let type): "content type \(type.prefix(80)) is not a MIME type"
        case .tooLarge(let limit): "the upload is larger than \(limit) bytes"
        case .notFound(let key): "no blob \(key)"
        case .backend(let reason): "blob store: \(reason)"
        }
    }
}

/// Checks and counts an upload: the content type's form, the size limit, and the SHA-256 of what passed.
struct BlobUploadMeter {
    let maxBytes: Int64
    private(set) var size: Int64 = 0
    private var hasher = SHA256()

    init(contentType: String, maxBytes: Int64) throws(BlobError) {
        guard Self.isMIMEType(contentType) else { throw BlobError.invalidContentType(contentType) }
        self.maxBytes = maxBytes
    }

    mutating func count(_ chunk: ByteBuffer) throws(BlobError) {
        size += Int64(chunk.readableBytes)
        guard size <= maxBytes else { throw BlobError.tooLarge(limit: maxBytes) }
        chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
    }

    func finish() -> BlobInfo { BlobInfo(size: size, sha256: hasher.finalize().lowercaseHex) }

    /// `type/subtype` of RFC 9110 tokens, optionally followed by parameters; no control characters.
    static func isMIMEType(_ text: String) -> Bool {
        guard text.utf8.count <= 255,
            text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 && $0.value != 0x7F })
        else { return false }
        let essence = (text.split(separator: ";", maxSplits: 1).first ?? "").trimmingCharacters(in: .whitespaces)
        let parts = essence.split(separator: "/", omittingEmptySubsequences: false)
        let token = CharacterSet(charactersIn: "!#$%&'*+-.^_`|~").union(.alphanumerics)
        return parts.count == 2
            && parts.allSatisfy { !$0.isEmpty && $0.unicodeScalars.allSatisfy { token.contains($0) } }
    }
}

/// The blob store a configuration names, and the service that closes it when the process stops.
package enum BlobStores {
    package static func configured(_ configuration: InopsioConfiguration) throws -> any BlobStore {
        guard let url = configuration.blobURL else { return filesystem(configuration) }
        return S3BlobStore(configuration: try S3BlobStore.Configuration.parse(url: url))
    }

    /// The default store: files under `<data_dir>/blobs`.
    package static func filesystem(_ configuration: InopsioConfiguration) -> FileBlobStore {
        FileBlobStore(root: URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("blobs"))
    }
}
