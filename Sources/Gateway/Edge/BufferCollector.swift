import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Collects a response body into one buffer (for the JSON field removal); the writer is consumed by
/// `ResponseBody.write`, so the bytes are kept in a shared box.
final class BufferCollector: Sendable {
    private let collected = Mutex(ByteBuffer())
    /// Bytes beyond this fail the write (the answer is too large to edit).
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    struct TooLarge: Error {}

    var buffer: ByteBuffer { collected.withLock { $0 } }

    var writer: Writer { Writer(collector: self) }

    struct Writer: ResponseBodyWriter {
        let collector: BufferCollector

        mutating func write(_ buffer: ByteBuffer) async throws {
            var buffer = buffer
            let limit = collector.limit
            try collector.collected.withLock { collected in
                guard collected.readableBytes + buffer.readableBytes <= limit else { throw TooLarge() }
                collected.writeBuffer(&buffer)
            }
        }

        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
