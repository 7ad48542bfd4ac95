import Foundation
import NIOCore
import NIOPosix

/// Blobs as files under a directory (`<data_dir>/blobs` by default). An upload is written to a temporary file and
/// renamed into place once complete and flushed, so a reader never sees half an object; a crash mid-upload leaves
/// only a file under `.partial/`, which may be deleted. File work runs on NIO's blocking-I/O thread pool, never on
/// the caller's executor.
package struct FileBlobStore: BlobStore {
    package let root: URL
    static let chunkSize = 64 * 1024

    package init(root: URL) {
        self.root = root
    }

    func url(_ key: BlobKey) -> URL { root.appendingPathComponent(key.path) }

    package func put<Body: AsyncSequence & Sendable>(
        _ key: BlobKey, contentType: String, maxBytes: Int64, body: Body
    ) async throws -> BlobInfo where Body.Element == ByteBuffer {
        var meter = try BlobUploadMeter(contentType: contentType, maxBytes: maxBytes)
        let pool = NIOThreadPool.singleton
        let partial = root.appendingPathComponent(".partial").appendingPathComponent(UUID().uuidString)
        let handle = try await pool.runIfActive {
            try FileManager.default.createDirectory(
                at: partial.deletingLastPathComponent(), withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: partial.path, contents: nil) else {
                throw BlobError.backend("cannot create \(partial.path)")
            }
            return try FileHandle(forWritingTo: partial)
        }
        do {
            for try await chunk in body {
                try meter.count(chunk)
                let data = Data(chunk.readableBytesView)
                try await pool.runIfActive { try handle.write(contentsOf: data) }
            }
            let target = url(key)
            try await pool.runIfActive {
                try handle.synchronize()
                try handle.close()
                try FileManager.default.createDirectory(
                    at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                guard rename(partial.path, target.path) == 0 else {
                    throw BlobError.backend("cannot move the upload to \(target.path) (errno \(errno))")
                }
            }
            return meter.finish()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: partial)
            throw error
        }
    }

    package func get(_ key: BlobKey) async throws -> BlobDownload {
        let file = url(key)
        let opened = try await NIOThreadPool.singleton.runIfActive { () -> (FileHandle, Int64)? in
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: file.path),
                let handle = try? FileHandle(forReadingFrom: file)
            else { return nil }
            return (handle, (attributes[.size] as? NSNumber)?.int64Value ?? 0)
        }
        guard let (handle, size) = opened else { throw BlobError.notFound(key.path) }
        return BlobDownload(size: size, body: FileChunks(handle: handle))
    }

    package func delete(_ key: BlobKey) async throws {
        let file = url(key)
        try await NIOThreadPool.singleton.runIfActive {
            do { try FileManager.default.removeItem(at: file) } catch CocoaError.fileNoSuchFile {}
        }
    }

    package func presignedURL(_ key: BlobKey, expiresIn seconds: Int) throws -> String? { nil }
}

/// A file read in 64 KiB chunks, each read when the consumer asks for it (so a slow client holds one chunk).
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let handle: FileHandle

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle
        var done = false

        mutating func next() async throws -> ByteBuffer? {
            guard !done else { return nil }
            let handle = handle
            let data = try await NIOThreadPool.singleton.runIfActive {
                try handle.read(upToCount: FileBlobStore.chunkSize) ?? Data()
            }
            if data.isEmpty {
                done = true
                try? handle.close()
                return nil
            }
            return ByteBuffer(data: data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(handle: handle) }
}
