import Foundation
import Platform
import Testing

/// The blob store backends tests run on: a fresh directory, and a fresh bucket of the S3 server on loopback
/// (moto, started by `scripts/test`; `INOPSIO_TEST_S3_URL`; required in CI).
package enum TestBlobBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case filesystem, s3
    package var testDescription: String { rawValue }

    package static var available: [TestBlobBackend] {
        TestEnvironment.s3URL != nil || TestEnvironment.isCI ? allCases : [.filesystem]
    }
}

/// Runs `body` with a store of `backend` over a fresh directory or bucket.
package func withTestBlobStore(
    _ backend: TestBlobBackend, _ body: @Sendable (any BlobStore) async throws -> Void
) async throws {
    switch backend {
    case .filesystem:
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("blobs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try await body(FileBlobStore(root: root))
    case .s3:
        var configuration = try S3BlobStore.Configuration.parse(url: try #require(TestEnvironment.s3URL))
        configuration.bucket = "test-\(UUID().uuidString.lowercased().prefix(18))"
        let store = S3BlobStore(configuration: configuration)
        do {
            try await store.createBucket()
            try await body(store)
        } catch {
            try? await store.shutdown()
            throw error
        }
        try await store.shutdown()
    }
}
