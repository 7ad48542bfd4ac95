import Hummingbird
import Kernel
import Platform

/// The public face of the product: the start page at `/` (what Inopsio is, how to run it, sign-in).
public struct WebsiteModule: Module {
    public let name = "website"

    public init() {}

    public func registerPages(on routes: RouteRegistrar, context: ModuleContext) {
        let web = context.web
        routes.get("/") { request, context -> Response in
            web.page(
                request: request, context: context, title: { $0("home.title") },
                description: { $0("home.description") },
                content: { StartPage(t: $0.t).render() })
        }
    }
}
