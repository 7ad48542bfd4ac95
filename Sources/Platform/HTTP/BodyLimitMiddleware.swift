import HTTPTypes
import Hummingbird

/// Refuses bodies over the configured size: at once (413) when `Content-Length` says so, and while collecting
/// (the JSON helpers stop at `maxUploadSize`) when the body is chunked.
public struct BodyLimitMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let maxBodyBytes: Int

    public init(maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            throw Problem(
                status: .contentTooLarge, detail: "the request body exceeds the limit of \(maxBodyBytes) bytes")
        }
        var context = context
        context.maxUploadSize = maxBodyBytes
        return try await next(request, context)
    }
}
