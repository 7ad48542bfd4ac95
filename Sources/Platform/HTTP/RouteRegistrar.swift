import HTTPTypes
import Hummingbird

/// The router modules register on. It forwards to Hummingbird's router and remembers which methods each path
/// template has, so that `finish()` can answer the other methods with 405 and an `Allow` header instead of 404.
package final class RouteRegistrar: RouterMethods {
    package typealias Context = AppRequestContext
    let router: Router<AppRequestContext>
    /// Written only while routes are registered, on one task, before the server starts.
    private var methodsByPath: [String: (path: RouterPath, methods: Set<HTTPRequest.Method>)] = [:]

    package init(router: Router<AppRequestContext>) {
        self.router = router
    }

    @discardableResult
    package func on<Responder: HTTPResponder>(_ path: RouterPath, method: HTTPRequest.Method, responder: Responder)
        -> Self where Responder.Context == Context
    {
        methodsByPath[path.description, default: (path, [])].methods.insert(method)
        router.on(path, method: method, responder: responder)
        return self
    }

    @discardableResult
    package func add(middleware: any MiddlewareProtocol<Request, Response, Context>) -> Self {
        router.add(middleware: middleware)
        return self
    }

    /// Every registered path template with its methods (for comparing a module's OpenAPI document with its routes).
    package var registeredRoutes: [String: Set<HTTPRequest.Method>] {
        methodsByPath.mapValues(\.methods)
    }

    /// Adds 405 answers for the unregistered methods of every registered path. Call once, after all routes.
    package func finish() {
        let table = methodsByPath
        let candidates: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]
        for (_, entry) in table {
            var allowed = entry.methods
            if allowed.contains(.get) { allowed.insert(.head) }
            let allowHeader = allowed.map(\.rawValue).sorted().joined(separator: ", ")
            for method in candidates where !entry.methods.contains(method) {
                router.on(entry.path, method: method) { _, _ -> Response in
                    throw Problem(
                        status: .methodNotAllowed, detail: "this resource does not support \(method.rawValue)",
                        headers: [.allow: allowHeader])
                }
            }
        }
    }
}
