import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// HTML error pages for browser routes, in the visitor's language, carrying the request id as a reference.
package struct WebErrorPages: ErrorPageRenderer {
    let web: WebKit

    package init(web: WebKit) {
        self.web = web
    }

    package func render(problem: Problem, request: Request, context: AppRequestContext) -> Response {
        let isNotFound = problem.status == .notFound
        let isServerError = problem.status.kind == .serverError
        var response = web.page(
            request: request, context: context, status: problem.status,
            title: { t in
                isNotFound ? t("error.notfound.title") : isServerError ? t("error.server.title") : problem.title
            },
            content: { chrome in
                let t = chrome.t
                let title =
                    isNotFound ? t("error.notfound.title") : isServerError ? t("error.server.title") : problem.title
                let reference: HTML =
                    isServerError ? "<p>\(t("error.reference")): <code>\(context.requestID)</code></p>" : ""
                let body =
                    isNotFound
                    ? t("error.notfound.body") : isServerError ? t("error.server.body") : problem.detail ?? ""
                return """
                    <section class="empty-state"><p class="empty-state-code">\(String(problem.status.code))</p>
                    <h1>\(title)</h1><p>\(body)</p>\(reference)
                    <a class="button" href="/">\(t("error.back"))</a></section>
                    """
            })
        for field in problem.headers { response.headers.append(field) }
        return response
    }
}
