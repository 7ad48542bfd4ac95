import HTTPTypes
import Hummingbird
import NIOCore
import Platform
import Testing

@Suite struct BodyLimitTests {
    func request(headers: HTTPFields, bytes: Int) -> Request {
        let head = HTTPRequest(
            method: .post, scheme: "http", authority: "localhost", path: "/upload", headerFields: headers)
        return Request(head: head, body: RequestBody(buffer: ByteBuffer(repeating: 0x61, count: bytes)))
    }

    /// Reads the whole body, as any handler that consumes it would.
    func readAll(_ request: Request) async throws -> Int {
        var total = 0
        for try await chunk in request.body { total += chunk.readableBytes }
        return total
    }

    @Test func chunkedBodyPastTheLimitIsStoppedWhileBeingRead() async throws {
        var request = request(headers: [.transferEncoding: "chunked"], bytes: 4096)
        try BodyLimit.apply(to: &request, limit: 1024)
        let error = await #expect(throws: Problem.self) { try await readAll(request) }
        #expect(error?.status == .contentTooLarge)
    }

    @Test func chunkedBodyWithinTheLimitIsReadWhole() async throws {
        var request = request(headers: [.transferEncoding: "chunked"], bytes: 1000)
        try BodyLimit.apply(to: &request, limit: 1024)
        #expect(try await readAll(request) == 1000)
    }

    @Test func declaredLengthPastTheLimitIsRefusedBeforeReading() {
        var request = request(headers: [.contentLength: "4096"], bytes: 4096)
        let error = #expect(throws: Problem.self) { try BodyLimit.apply(to: &request, limit: 1024) }
        #expect(error?.status == .contentTooLarge)
    }
}
