import NIOCore
import Synchronization

/// A request body on its way upstream that remembers whether reading it failed (the client aborted its upload,
/// or sent more than the route allows): such a failure is the client's, and must not count against the upstream
/// (five oversized uploads would otherwise eject every target and open the circuit for everyone).
struct ObservedRequestBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let failure: BodyFailure

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let failure: BodyFailure

        mutating func next() async throws -> ByteBuffer? {
            do {
                return try await base.next()
            } catch {
                failure.record(error)
                throw error
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), failure: failure)
    }
}

/// The error reading a request body raised, if any.
final class BodyFailure: Sendable {
    private let error = Mutex<(any Error)?>(nil)

    func record(_ failure: any Error) { error.withLock { $0 = failure } }

    var recorded: (any Error)? { error.withLock { $0 } }
}
