import Hummingbird
import Kernel
import Platform

/// The package face of the product: the start page at `/` (what Inopsio is, how to run it, sign-in).
package struct WebsiteModule: Module {
    package let name = "website"
    /// Its texts, from the target's resource folder.
    package func webResources() throws -> WebResources {
        try .bundled(owner: name, folder: "Inopsio_Website.resources")
    }

    package init() {}

    package func registerPages(on routes: RouteRegistrar, context: ModuleContext) {
        let web = context.web
        routes.get("/") { request, context -> Response in
            web.page(
                request: request, context: context, title: { $0("home.title") },
                description: { $0("home.description") },
                content: { StartPage(t: $0.t).render() })
        }
    }
}
