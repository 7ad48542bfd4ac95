import Hummingbird

/// A bare Hummingbird 2 server answering `/health` exactly as `inopsio` does, with no middleware at all:
/// the baseline `scripts/bench` compares the platform's middleware cost against, and the upstream behind the
/// proxies `scripts/bench-gateway` compares (it answers `/bench/...` the same way).
/// Usage: `bench-bare-server HOST PORT`.
@main
struct BareServer {
    static func main() async throws {
        let arguments = CommandLine.arguments
        let host = arguments.count > 1 ? arguments[1] : "127.0.0.1"
        let port = arguments.count > 2 ? Int(arguments[2]) ?? 8080 : 8080
        let router = Router()
        router.get("/health") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        router.get("/bench/**") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port)))
        try await app.runService()
    }
}
