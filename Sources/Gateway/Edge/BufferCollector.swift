import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Collects a response body into one buffer (for the JSON field removal); the writer is consumed by
/// `ResponseBody.write`, so the bytes are kept in a shared box.
final class BufferCollector: Sendable {
    private let collected = Mutex(ByteBuffer())

    var buffer: ByteBuffer { collected.withLock { $0 } }

    var writer: Writer { Writer(collector: self) }

    struct Writer: ResponseBodyWriter {
        let collector: BufferCollector

        mutating func write(_ buffer: ByteBuffer) async throws {
            var buffer = buffer
            collector.collected.withLock { $0.writeBuffer(&buffer) }
        }

        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
