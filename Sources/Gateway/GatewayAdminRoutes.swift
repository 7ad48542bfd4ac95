import Foundation
import Hummingbird
import Kernel
import Platform

/// `GET /api/v1/gateway/routes` and `GET /api/v1/gateway/upstreams`: the route table in force and the health of
/// every upstream, for admins of the operator tenant (the installation's own tenant, `operator_tenant`).
struct GatewayAdminRoutes {
    let runtime: GatewayRuntime
    let context: ModuleContext

    struct RouteView: Codable, Sendable {
        let name: String
        let match: String
        let hosts: [String]?
        let methods: [String]?
        let target: String
        let auth: String
        let rateLimits: [String]
        let generated: Bool

        enum CodingKeys: String, CodingKey {
            case name, match, hosts, methods, target, auth, generated
            case rateLimits = "rate_limits"
        }
    }

    struct RoutesView: Codable, Sendable {
        let data: [RouteView]
        let loadedAt: Date
        let file: String?

        enum CodingKeys: String, CodingKey {
            case data, file
            case loadedAt = "loaded_at"
        }
    }

    struct UpstreamsView: Codable, Sendable {
        let data: [UpstreamStatus]
    }

    func register(on routes: RouteRegistrar) {
        let check = OperatorCheck(
            tenants: TenantStore(database: context.database), operatorSlug: context.configuration.operatorTenant)
        let requireOperator: @Sendable (AppRequestContext) async throws -> Void = { request in
            try await check.require(GatewayPermissions.routesRead, request)
        }
        BlockListRoutes(blocks: runtime.blocks, operatorCheck: check).register(on: routes)
        routes.get("/api/v1/gateway/routes") { _, request -> Response in
            try await requireOperator(request)
            let snapshot = runtime.routes.snapshot
            let views = snapshot.table.routes.map(Self.view)
            return try JSONResponse.make(
                RoutesView(data: views, loadedAt: snapshot.loadedAt, file: runtime.routes.source.file))
        }
        routes.get("/api/v1/gateway/upstreams") { _, request -> Response in
            try await requireOperator(request)
            let snapshot = runtime.routes.snapshot
            let now = ContinuousClock.now
            let statuses = snapshot.pools.values.map { $0.status(now: now) }.sorted { $0.name < $1.name }
            return try JSONResponse.make(UpstreamsView(data: statuses))
        }
    }

    static func view(_ route: Route) -> RouteView {
        let match: String =
            switch route.path {
            case .prefix(let prefix): "\(prefix)*"
            case .template(let segments):
                "/"
                    + segments.map { segment in
                        switch segment {
                        case .literal(let text): text
                        case .parameter(let name): "{\(name)}"
                        }
                    }.joined(separator: "/")
            }
        let target: String =
            switch route.target {
            case .module(let name): name == "*" ? "this process" : "module \(name)"
            case .upstream(let name): "upstream \(name)"
            }
        let auth: String =
            switch route.auth {
            case .public: "public"
            case .authenticated: "authenticated"
            case .permissions(let set): set.map(\.description).sorted().joined(separator: " ")
            }
        return RouteView(
            name: route.name, match: match,
            hosts: route.hosts.map { Array($0.exact).sorted() + $0.suffixes.map { "*" + $0 } },
            methods: route.methods.map { $0.map(\.rawValue).sorted() }, target: target, auth: auth,
            rateLimits: route.limits.map { "\($0.limit) per \(Int($0.period)) s per \($0.key.rawValue)" },
            generated: route.isDefault)
    }
}
