import Foundation
import Hummingbird
import Kernel
import Platform
import TestSupport
import Testing

@testable import CRM

@Suite struct CRMOpenAPITests {
    /// Every API route the CRM registers is described, and every described operation is a route.
    @Test func documentDescribesExactlyTheRegisteredRoutes() async throws {
        let registered = try await withTestDatabase(.sqlite, migrations: []) { database, configuration in
            let routes = RouteRegistrar(router: Router(context: AppRequestContext.self))
            let context = ModuleContext(
                database: database, configuration: configuration, logger: TestEnvironment.logger,
                web: try WebKit.bundled(navigation: [], modules: [CRMModule()]),
                mailer: Mailer(
                    transport: FileMailTransport(directory: URL(fileURLWithPath: configuration.dataDirectory)),
                    from: MailAddress("x@example.com")))
            CRMModule().registerRoutes(on: routes, context: context)
            return routes.registeredRoutes.filter { path, _ in path.hasPrefix("/api/") && !path.hasSuffix("openapi.json") }
                .mapValues { Set($0.map { $0.rawValue.lowercased() }) }
        }
        var described: [String: Set<String>] = [:]
        for operation in CRMOpenAPI.operations {
            described[operation.path, default: []].insert(operation.method.rawValue.lowercased())
        }
        #expect(registered == described)
    }

    @Test func documentIsServedWithoutCredentials() async throws {
        try await withCRM(.sqlite) { h in
            let reply = try await h.call(.get, "/api/v1/crm/openapi.json", auth: nil)
            #expect(reply.status == .ok)
            let document = try reply.object()
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = try #require(document["paths"] as? [String: Any])
            #expect(paths["/api/v1/crm/leads/{id}"] != nil)
        }
    }
}
