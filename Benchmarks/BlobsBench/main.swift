import Foundation
import Kernel
import NIOCore
import Platform

/// Streams a generated object of `--bytes` (default 100,000,000) into a blob store and reads it back, printing
/// the process's resident memory before and its peak (VmHWM) after, so `scripts/bench-blobs` can show that an
/// upload's memory stays flat. `--s3-url URL` uses S3 (a bucket is made), else a temporary directory.
///
///     bench-blobs [--s3-url s3+http://key:secret@127.0.0.1:9000/bucket] [--bytes N]

struct Generated: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let count: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        let count: Int
        var sent = 0
        mutating func next() async throws -> ByteBuffer? {
            guard sent < count else { return nil }
            let length = Swift.min(64 * 1024, count - sent)
            var buffer = ByteBuffer()
            buffer.writeRepeatingByte(UInt8(truncatingIfNeeded: sent / 65_536), count: length)
            sent += length
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(count: count) }
}

/// A line of `/proc/self/status` in MiB (`VmRSS`, `VmHWM`).
func memory(_ field: String) -> Double {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
        let kilobytes = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0"
        return (Double(kilobytes) ?? 0) / 1024
    }
    return 0
}

var arguments = CommandLine.arguments.dropFirst()
var s3URL: String?
var bytes = 100_000_000
while let argument = arguments.popFirst() {
    switch argument {
    case "--s3-url": s3URL = arguments.popFirst()
    case "--bytes": bytes = Int(arguments.popFirst() ?? "") ?? bytes
    default:
        FileHandle.standardError.write(Data("unknown argument \(argument)\n".utf8))
        exit(2)
    }
}

let root = FileManager.default.temporaryDirectory.appendingPathComponent("bench-blobs-\(UUID().uuidString)")
defer { try? FileManager.default.removeItem(at: root) }
let store: any BlobStore
if let s3URL {
    var configuration = try S3BlobStore.Configuration.parse(url: s3URL)
    configuration.bucket = "bench-\(UUID().uuidString.lowercased().prefix(12))"
    let s3 = S3BlobStore(configuration: configuration)
    try await s3.createBucket()
    store = s3
} else {
    store = FileBlobStore(root: root)
}
let key = try BlobKey("bench/object.bin")
let before = memory("VmRSS")
let started = ContinuousClock.now
let info = try await store.put(
    key, contentType: "application/octet-stream", maxBytes: Int64(bytes), body: Generated(count: bytes))
let uploaded = ContinuousClock.now - started
let afterUpload = memory("VmHWM")
var read = 0
for try await chunk in try await store.get(key).body { read += chunk.readableBytes }
let afterRead = memory("VmHWM")
try await store.delete(key)
if let s3 = store as? S3BlobStore { try await s3.shutdown() }
print(
    "backend=\(s3URL == nil ? "filesystem" : "s3") bytes=\(info.size) read=\(read) rss_before_mib=\(String(format: "%.1f", before)) peak_after_upload_mib=\(String(format: "%.1f", afterUpload)) peak_after_read_mib=\(String(format: "%.1f", afterRead)) upload_seconds=\(String(format: "%.2f", Double(uploaded.components.seconds) + Double(uploaded.components.attoseconds) / 1e18))"
)
