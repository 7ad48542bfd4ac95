import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import Platform
import Testing

@Suite struct BodyLimitMiddlewareTests {
    func context() -> AppRequestContext {
        AppRequestContext(source: ApplicationRequestContextSource(channel: NIOAsyncTestingChannel(), logger: Logger(label: "test")))
    }

    func request(headers: HTTPFields, bytes: Int) -> Request {
        let head = HTTPRequest(method: .post, scheme: "http", authority: "localhost", path: "/upload", headerFields: headers)
        return Request(head: head, body: RequestBody(buffer: ByteBuffer(repeating: 0x61, count: bytes)))
    }

    /// Reads the whole body, as any handler that consumes it would.
    func readAll(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        var total = 0
        for try await chunk in request.body { total += chunk.readableBytes }
        return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: String(total))))
    }

    @Test func chunkedBodyPastTheLimitIsStoppedWhileBeingRead() async throws {
        let middleware = BodyLimitMiddleware(maxBodyBytes: 1024)
        let error = await #expect(throws: Problem.self) {
            try await middleware.handle(
                request(headers: [.transferEncoding: "chunked"], bytes: 4096), context: context(), next: readAll)
        }
        #expect(error?.status == .contentTooLarge)
    }

    @Test func chunkedBodyWithinTheLimitPasses() async throws {
        let middleware = BodyLimitMiddleware(maxBodyBytes: 1024)
        let response = try await middleware.handle(
            request(headers: [.transferEncoding: "chunked"], bytes: 1000), context: context(), next: readAll)
        #expect(response.status == .ok)
    }

    @Test func declaredLengthPastTheLimitIsRefusedBeforeReading() async throws {
        let middleware = BodyLimitMiddleware(maxBodyBytes: 1024)
        let error = await #expect(throws: Problem.self) {
            try await middleware.handle(
                request(headers: [.contentLength: "4096"], bytes: 4096), context: context(),
                next: { _, _ in Issue.record("handler must not run"); return Response(status: .ok) })
        }
        #expect(error?.status == .contentTooLarge)
    }
}
