import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform

/// Small helpers shared by Identity's pages: the page frame, form fields, flash messages and turning domain
/// errors into messages next to the fields they concern.
struct PageKit: Sendable {
    let services: IdentityServices

    func page(
        _ request: Request, _ context: AppRequestContext, title: String, status: HTTPResponse.Status = .ok,
        _ content: @escaping (Localizer) -> HTML
    ) -> Response {
        var response = services.web.page(
            request: request, context: context, status: status, title: { $0(title) },
            content: { chrome in content(chrome.t) })
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// A labelled input; `issues` with this field's name are shown under it and mark it invalid.
    static func field(
        _ name: String, label: String, type: String = "text", value: String = "", issues: [FieldIssue] = [],
        autocomplete: String? = nil, required: Bool = true, hint: String? = nil
    ) -> HTML {
        let own = issues.filter { $0.field == name || $0.field.hasSuffix("." + name) }
        let errorID = "\(name)-error"
        let error: HTML =
            own.isEmpty
            ? "" : #"<p class="field-error" id="\#(errorID)">\#(own.map(\.message).joined(separator: "; "))</p>"#
        let described: HTML = own.isEmpty ? "" : #" aria-invalid="true" aria-describedby="\#(errorID)""#
        let auto: HTML = autocomplete.map { #" autocomplete="\#($0)""# } ?? ""
        let requiredAttribute: HTML = required ? " required" : ""
        let hintHTML: HTML = hint.map { #"<p class="field-hint">\#($0)</p>"# } ?? ""
        let valueAttribute: HTML = type == "password" ? "" : #" value="\#(value)""#
        return """
            <div class="field"><label for="\(name)">\(label)</label>
            <input id="\(name)" name="\(name)" type="\(type)"\(valueAttribute)\(auto)\(requiredAttribute)\(described)>\(hintHTML)\(error)</div>
            """
    }

    static func alert(_ text: String?, kind: String = "danger") -> HTML {
        guard let text else { return "" }
        return #"<p class="alert alert-\#(kind)" role="\#(kind == "danger" ? "alert" : "status")">\#(text)</p>"#
    }

    /// Field issues of a failed action, or a single message for other refusals.
    static func issues(of error: any Error) -> (fields: [FieldIssue], message: String?) {
        switch error {
        case DomainError.validation(let issues): return (issues, nil)
        case DomainError.conflict(let detail): return ([], detail)
        case DomainError.forbidden(let detail): return ([], detail)
        case let problem as Problem: return (problem.errors ?? [], problem.errors == nil ? problem.detail : nil)
        default: return ([], nil)
        }
    }

    /// A POST form of this page (the CSRF defence is the `SameSite=Lax` session cookie, see WebSession).
    static func form(action: String, _ body: HTML, submit: String) -> HTML {
        """
        <form class="form" method="post" action="\(action)">\(body)
        <div class="form-actions"><button class="button button-primary" type="submit">\(submit)</button></div></form>
        """
    }
}
