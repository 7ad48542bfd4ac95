import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Platform
import Prometheus
import TestSupport
import Testing

@testable import Identity

@Suite struct OpenAPIDocumentTests {
    /// Every route Identity registers is described, and every described operation is a route.
    @Test func documentDescribesExactlyTheRegisteredRoutes() async throws {
        let module = IdentityModule(passwordHashing: testHashing)
        let registered = try await withTestDatabase(.sqlite, migrations: []) { database, configuration in
            let routes = RouteRegistrar(router: Router(context: AppRequestContext.self))
            let context = ModuleContext(
                database: database, configuration: configuration, logger: TestEnvironment.logger,
                web: try WebKit.bundled(navigation: [], modules: [module]), permissions: module.permissions,
                mailer: Mailer(
                    transport: FileMailTransport(directory: URL(fileURLWithPath: configuration.dataDirectory)),
                    from: MailAddress("x@example.com")))
            module.registerRoutes(on: routes, context: context)
            module.registerPages(on: routes, context: context)
            // Pages (HTML for people) are not part of the API document; the API, OAuth and well-known paths are.
            return routes.registeredRoutes.filter { path, _ in
                path.hasPrefix("/api/") || path.hasPrefix("/oauth2/") || path.hasPrefix("/.well-known/")
            }.mapValues { Set($0.map { $0.rawValue.lowercased() }) }
        }
        var described: [String: Set<String>] = [:]
        for operation in IdentityOpenAPI.operations {
            described[operation.path, default: []].insert(operation.method.rawValue.lowercased())
        }
        #expect(registered == described)
    }

    @Test func documentIsServedAsOpenAPI31() async throws {
        try await withIdentityApp(.sqlite) { app in
            let reply = try await app.call(.get, "/api/v1/identity/openapi.json")
            #expect(reply.status == .ok)
            #expect(reply.string("openapi") == "3.1.0")
            let paths = try #require(reply.json["paths"] as? [String: Any])
            #expect(paths["/api/v1/identity/users/{id}"] != nil)
            let login = (paths["/api/v1/identity/login"] as? [String: Any])?["post"] as? [String: Any]
            #expect((login?["security"] as? [Any])?.isEmpty == true)
        }
    }
}
