import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Logging

/// The one place errors become HTTP answers. JSON routes (and any client not asking for HTML) get
/// problem+json; browser routes get an HTML page. Unknown errors become a generic 500 that carries the request
/// id; their detail goes only to the log.
struct ErrorMapper: Sendable {
    let pages: (any ErrorPageRenderer)?

    /// The response for an error thrown while handling `request`.
    func response(for error: any Error, request: Request, context: AppRequestContext) -> Response {
        let problem = Self.problem(for: error)
        if problem.status.kind == .serverError {
            context.logger.error(
                "request failed",
                metadata: ["error.type": "\(type(of: error))", "error.message": "\(String(reflecting: error))"])
        }
        if let pages, Self.wantsHTML(request) {
            return pages.render(problem: problem, request: request, context: context)
        }
        return problem.response(instance: request.uri.path, requestID: context.requestID)
    }

    /// Maps any error to the problem a client may see.
    static func problem(for error: any Error) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let domain as DomainError:
            switch domain {
            case .notFound(let entity): return Problem(status: .notFound, detail: "no such \(entity)")
            case .conflict(let detail): return Problem(status: .conflict, detail: detail)
            case .validation(let issues): return .validation(issues)
            case .forbidden(let detail): return Problem(status: .forbidden, detail: detail)
            }
        case let http as HTTPError:
            return problem(for: http)
        default:
            return Problem(
                status: .internalServerError,
                detail: "an unexpected error occurred; quote the request id when reporting it")
        }
    }

    static func problem(for error: HTTPError) -> Problem {
        switch error.status {
        case .notFound:
            return Problem(status: .notFound, detail: "no resource at this path")
        case .contentTooLarge:
            return Problem(status: .contentTooLarge, detail: "the request body is larger than this server accepts")
        case .badRequest:
            return Problem(status: .badRequest, detail: error.body ?? "the request could not be understood")
        default:
            // Framework messages for 4xx are about the request; 5xx details never leave the server.
            let detail = error.status.kind == .clientError ? error.body : nil
            return Problem(status: error.status, detail: detail, headers: error.headers)
        }
    }

    /// Browsers asking for a page (not `/api/...`) get HTML; everything else gets problem+json.
    static func wantsHTML(_ request: Request) -> Bool {
        let path = request.uri.path
        if path.hasPrefix("/api/") || path.hasPrefix("/oauth2/") || path.hasPrefix("/.well-known/") { return false }
        guard let accept = request.headers[.accept] else { return false }
        return accept.contains("text/html")
    }
}

extension Problem {
    /// The problem a client sees for `error` (as the error mapper answers it), for answers that report several
    /// outcomes at once, such as a bulk change.
    package static func describing(_ error: any Error) -> Problem {
        ErrorMapper.problem(for: error)
    }
}
