import Crypto
import Foundation
import Kernel
import NIOCore
import TestSupport
import Testing

@testable import Platform

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// One suite for every blob store backend: the filesystem, and S3 against a real S3 server on loopback (moto,
/// started by `scripts/test`; `INOPSIO_TEST_S3_URL`).
@Suite struct BlobStoreTests {
    typealias Backend = TestBlobBackend

    static func with(_ backend: Backend, _ body: @Sendable (any BlobStore) async throws -> Void) async throws {
        try await withTestBlobStore(backend, body)
    }

    /// `count` bytes of a repeating pattern in chunks of `chunk`, made as they are read (never all in memory).
    struct Generated: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let count: Int
        let chunk: Int

        struct AsyncIterator: AsyncIteratorProtocol {
            let count: Int
            let chunk: Int
            var sent = 0

            mutating func next() async throws -> ByteBuffer? {
                guard sent < count else { return nil }
                let length = Swift.min(chunk, count - sent)
                var buffer = ByteBuffer()
                buffer.writeBytes((0..<length).map { UInt8(truncatingIfNeeded: (sent + $0) % 251) })
                sent += length
                return buffer
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(count: count, chunk: chunk) }

        var sha256: String {
            var hasher = SHA256()
            var offset = 0
            while offset < count {
                let length = Swift.min(1 << 20, count - offset)
                hasher.update(data: (0..<length).map { UInt8(truncatingIfNeeded: (offset + $0) % 251) })
                offset += length
            }
            return hasher.finalize().lowercaseHex
        }
    }

    /// Reads a download to the end: its size and SHA-256.
    static func digest(_ download: BlobDownload) async throws -> (Int64, String) {
        var hasher = SHA256()
        var size: Int64 = 0
        for try await chunk in download.body {
            size += Int64(chunk.readableBytes)
            chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        }
        return (size, hasher.finalize().lowercaseHex)
    }

    /// A body of one chunk.
    struct Text: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let text: String

        struct AsyncIterator: AsyncIteratorProtocol {
            var pending: ByteBuffer?
            mutating func next() async throws -> ByteBuffer? {
                defer { pending = nil }
                return pending
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(pending: ByteBuffer(string: text)) }
    }

    static func bytes(_ text: String) -> Text { Text(text: text) }

    @Test(arguments: Backend.available)
    func storeReadReplaceAndDelete(_ backend: Backend) async throws {
        try await Self.with(backend) { store in
            let key = try BlobKey("tenants/t1/crm/attachments/a1")
            let info = try await store.put(
                key, contentType: "text/plain; charset=utf-8", maxBytes: 100, body: Self.bytes("hello"))
            #expect(info.size == 5)
            #expect(info.sha256 == SHA256.hash(data: Data("hello".utf8)).lowercaseHex)
            let (size, sha) = try await Self.digest(try await store.get(key))
            #expect(size == 5 && sha == info.sha256)

            _ = try await store.put(key, contentType: "text/plain", maxBytes: 100, body: Self.bytes("bye"))
            #expect(try await Self.digest(try await store.get(key)).0 == 3)

            try await store.delete(key)
            try await store.delete(key)
            await #expect(throws: BlobError.notFound(key.path)) { try await store.get(key) }
            await #expect(throws: BlobError.notFound("nothing/here")) {
                try await store.get(try BlobKey("nothing/here"))
            }
        }
    }

    @Test(arguments: Backend.available)
    func anUploadOverItsLimitOrOfAnUnusableTypeLeavesNothing(_ backend: Backend) async throws {
        try await Self.with(backend) { store in
            let key = try BlobKey("big")
            // Over the limit, after two parts already went out on S3 (the parts are 8 MiB).
            let body = Generated(count: 20 * 1024 * 1024, chunk: 256 * 1024)
            await #expect(throws: BlobError.tooLarge(limit: 18 * 1024 * 1024)) {
                try await store.put(
                    key, contentType: "application/octet-stream", maxBytes: 18 * 1024 * 1024, body: body)
            }
            await #expect(throws: BlobError.notFound("big")) { try await store.get(key) }
            if let s3 = store as? S3BlobStore { #expect(try await s3.pendingUploads().isEmpty) }
            for type in ["", "text", "text/", "text/plain\r\nx: y", "a b/c"] {
                await #expect(throws: BlobError.invalidContentType(type)) {
                    try await store.put(key, contentType: type, maxBytes: 10, body: Self.bytes("x"))
                }
            }
        }
    }

    @Test func keysAreCheckedBeforeAnyBackendSeesThem() {
        for bad in [
            "", "/a", "a/", "a//b", "../a", "a/../b", "a/./b", "a b", "a\u{0}b", "ä",
            String(repeating: "a", count: 513),
        ] {
            #expect(throws: BlobError.invalidKey(bad)) { try BlobKey(bad) }
        }
        #expect((try? BlobKey("tenants/0190-ab/crm/x_y.z-1")) != nil)
    }

    /// 100 MB streamed in and out: the multipart path on S3, chunked files on disk; what is read back is what was
    /// written. (Its memory use is measured by `scripts/bench-blobs`, BENCHMARKS.md.)
    @Test(arguments: Backend.available)
    func aHundredMegabytesRoundTrip(_ backend: Backend) async throws {
        try await Self.with(backend) { store in
            let body = Generated(count: 100_000_000, chunk: 64 * 1024)
            let key = try BlobKey("large/object.bin")
            let info = try await store.put(
                key, contentType: "application/octet-stream", maxBytes: 200_000_000, body: body)
            #expect(info.size == 100_000_000)
            #expect(info.sha256 == body.sha256)
            let download = try await store.get(key)
            #expect(download.size == 100_000_000)
            let (size, sha) = try await Self.digest(download)
            #expect(size == 100_000_000 && sha == info.sha256)
            try await store.delete(key)
        }
    }

    /// S3's presigned GET works for anyone holding the URL until it expires; the filesystem has none.
    @Test(arguments: Backend.available)
    func presignedURLs(_ backend: Backend) async throws {
        try await Self.with(backend) { store in
            let key = try BlobKey("shared/report.csv")
            _ = try await store.put(key, contentType: "text/csv", maxBytes: 100, body: Self.bytes("a,b\n1,2\n"))
            guard let url = try store.presignedURL(key, expiresIn: 60) else {
                #expect(backend == .filesystem)
                return
            }
            let (data, response) = try await URLSession.shared.data(from: try #require(URL(string: url)))
            #expect((response as? HTTPURLResponse)?.statusCode == 200)
            #expect(String(decoding: data, as: UTF8.self) == "a,b\n1,2\n")
            #expect((response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Type") == "text/csv")
            // moto does not check signatures (it accepts any); that ours are right is shown by AWS's own examples
            // below, which the same signer reproduces.
        }
    }

    /// The examples of AWS's SigV4 documentation for S3 ("Examples: signature calculations"), both forms.
    @Test func signaturesMatchAWSsPublishedExamples() throws {
        let date = try #require(ISO8601DateFormatter().date(from: "2013-05-24T00:00:00Z"))
        let signer = S3Signer(
            accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            region: "us-east-1")
        let headers = signer.sign(
            method: "GET", path: "/test.txt", query: [],
            headers: ["host": "examplebucket.s3.amazonaws.com", "range": "bytes=0-9"],
            payloadHash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", date: date)
        #expect(
            headers["authorization"]
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
        let query = signer.presignedQuery(
            path: "/test.txt", host: "examplebucket.s3.amazonaws.com", expires: 86400, date: date)
        #expect(query.hasSuffix("X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"))
    }
}
