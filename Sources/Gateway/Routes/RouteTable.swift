import Foundation
import HTTPTypes
import Kernel

/// The compiled, immutable route table. A reload builds a new table and swaps it in whole (`RouteTableStore`);
/// requests in flight keep the table they started with.
///
/// A class: requests read it on every request, and copying a struct of this many references retains each.
package final class RouteTable: Sendable {
    package let routes: [Route]
    package let upstreams: [String: UpstreamSettings]
    package let externalIssuers: [ExternalIssuerDefinition]
    /// Quotas counted across every route under `/api/` that does not opt out.
    package let defaultLimits: [RateLimitRule]
    /// The built-in inspection rules and the file's own.
    package let inspection: InspectionEngine

    init(
        routes: [Route], upstreams: [String: UpstreamSettings], externalIssuers: [ExternalIssuerDefinition],
        defaultLimits: [RateLimitRule], inspection: InspectionEngine
    ) {
        self.routes = routes
        self.upstreams = upstreams
        self.externalIssuers = externalIssuers
        self.defaultLimits = defaultLimits
        self.inspection = inspection
    }

    /// The first route that matches, with its path parameters.
    package func match(host: Substring?, path: Substring, method: HTTPRequest.Method) -> (Route, [String: String])? {
        for route in routes {
            if let parameters = route.match(host: host, path: path, method: method) { return (route, parameters) }
        }
        return nil
    }

    /// Where the process's modules are: each one local, or remote behind an upstream named after it.
    package struct ModuleLocation: Sendable {
        package let name: String
        /// The paths the module serves (its API and pages).
        package let pathPrefixes: [String]
        /// Targets of the remote service when the module runs elsewhere; `nil` when it runs in this process.
        package let remoteTargets: [String]?
        /// Where the module takes files (`Module.uploadPaths`) and how large they may be (`max_upload_bytes`).
        package let uploadPaths: [String]
        package let uploadLimit: Int

        package init(
            name: String, pathPrefixes: [String], remoteTargets: [String]?, uploadPaths: [String] = [],
            uploadLimit: Int = 0
        ) {
            self.name = name
            self.pathPrefixes = pathPrefixes
            self.remoteTargets = remoteTargets
            self.uploadPaths = uploadPaths
            self.uploadLimit = uploadLimit
        }
    }

    /// Checks `configuration` as a whole and compiles it, followed by routes generated for `modules` when the file
    /// asks for them: each remote module's paths go to its upstream; everything else goes to this process's router
    /// (its modules, health and metrics), which answers 404 for what nobody serves.
    package static func compile(
        _ configuration: GatewayConfiguration, modules: [ModuleLocation], localModules: Set<String>
    ) throws(RouteTableError) -> RouteTable {
        var problems: [String] = []
        var upstreams: [String: UpstreamSettings] = [:]
        for (name, definition) in configuration.upstreams.sorted(by: { $0.key < $1.key }) {
            switch UpstreamSettings.compile(name: name, definition) {
            case .success(let settings): upstreams[name] = settings
            case .failure(let error): problems += error.problems.map { "upstreams.\(name).\($0)" }
            }
        }
        var routes: [Route] = []
        var names = Set<String>()
        for (index, definition) in configuration.routes.enumerated() {
            let place = "routes[\(index)]"
            if !names.insert(definition.name).inserted {
                problems.append("\(place).name: \(definition.name) is used twice")
            }
            switch compileRoute(definition, upstreams: Set(configuration.upstreams.keys), localModules: localModules) {
            case .success(let route): routes.append(route)
            case .failure(let error): problems += error.problems.map { "\(place).\($0)" }
            }
        }
        for (index, issuer) in configuration.externalIssuers.enumerated() {
            let place = "external_issuers[\(index)]"
            if URL(string: issuer.jwksUrl)?.scheme.map({ ["http", "https"].contains($0) }) != true {
                problems.append("\(place).jwks_url: must be an http(s) URL")
            }
            if UUID(uuidString: issuer.tenantId) == nil {
                problems.append("\(place).tenant_id: must be a tenant id (UUID)")
            }
            if issuer.issuer.isEmpty { problems.append("\(place).issuer: must not be empty") }
            // Without an audience, tokens the issuer made for any other client would be accepted here.
            if issuer.audience?.isEmpty ?? true { problems.append("\(place).audience: required (this API's audience)") }
        }
        var defaultLimits: [RateLimitRule] = []
        for (index, definition) in (configuration.defaultRateLimits ?? RateLimitDefinition.builtInDefaults).enumerated()
        {
            switch compileLimit(definition, place: "default_rate_limits[\(index)]") {
            case .success(let rule): defaultLimits.append(rule)
            case .failure(let error): problems += error.problems
            }
        }
        var inspection: InspectionEngine?
        do {
            inspection = try InspectionEngine.builtIn(adding: configuration.inspectionRules)
        } catch {
            problems.append("inspection_rules: \(error.description)")
        }
        guard problems.isEmpty, let inspection else { throw RouteTableError(problems) }
        if configuration.includeDefaultRoutes {
            for module in modules where !localModules.contains(module.name) {
                // A remote module's paths go to the upstream of its name: the file's, or one made from --upstream.
                let upstreamName = module.name
                if upstreams[upstreamName] == nil {
                    guard let targets = module.remoteTargets else { continue }
                    switch UpstreamSettings.compile(name: upstreamName, UpstreamDefinition(targets: targets)) {
                    case .success(let settings): upstreams[upstreamName] = settings
                    case .failure(let error):
                        throw RouteTableError(error.problems.map { "upstream \(upstreamName): \($0)" })
                    }
                }
                if module.name == "crm" { routes.append(contactFormRoute(target: .upstream(upstreamName))) }
                routes += uploadRoutes(module, target: .upstream(upstreamName))
                for (index, prefix) in module.pathPrefixes.enumerated() {
                    routes.append(
                        defaultRoute(
                            name: "\(module.name)-\(index)", path: .prefix(prefix), target: .upstream(upstreamName)))
                }
            }
            if localModules.contains("crm") { routes.append(contactFormRoute(target: .module("crm"))) }
            for module in modules where localModules.contains(module.name) {
                routes += uploadRoutes(module, target: .module(module.name))
            }
            routes.append(defaultRoute(name: "local", path: .prefix("/"), target: .module("*")))
        }
        return RouteTable(
            routes: routes, upstreams: upstreams, externalIssuers: configuration.externalIssuers,
            defaultLimits: defaultLimits, inspection: inspection)
    }

    /// CRM's public lead capture (the website contact form): 5 submissions per 15 minutes per IP.
    static func contactFormRoute(target: Route.Target) -> Route {
        let contact = RateLimitDefinition.contactForm
        return Route(
            name: "crm-contact-form", hosts: nil,
            path: .template([
                .literal("api"), .literal("v1"), .literal("crm"), .literal("public"), .parameter("tenant_slug"),
                .literal("leads"),
            ]),
            methods: [.post], target: target, auth: .public,
            limits: [RateLimitRule(key: .ip, limit: contact.limit, period: contact.periodSeconds)], maxBodyBytes: nil,
            inspection: .block, transform: nil, cors: nil, defaultLimits: true, isDefault: true)
    }

    /// A module's upload paths: `POST` only, the upload body limit, and no inspection (an upload is streamed to
    /// the blob store; reading it into memory to inspect it is what the route must not do).
    static func uploadRoutes(_ module: ModuleLocation, target: Route.Target) -> [Route] {
        module.uploadPaths.enumerated().compactMap { index, template in
            guard let path = PathMatcher.template(template) else { return nil }
            return Route(
                name: "\(module.name)-upload-\(index)", hosts: nil, path: path, methods: [.post], target: target,
                auth: .public, limits: [], maxBodyBytes: module.uploadLimit, inspection: .off, transform: nil,
                cors: nil, defaultLimits: true, isDefault: true)
        }
    }

    private static func defaultRoute(name: String, path: PathMatcher, target: Route.Target) -> Route {
        Route(
            name: name, hosts: nil, path: path, methods: nil, target: target, auth: .public, limits: [],
            maxBodyBytes: nil, inspection: .block, transform: nil, cors: nil, defaultLimits: true, isDefault: true)
    }

    private static func compileLimit(_ limit: RateLimitDefinition, place: String) -> Result<
        RateLimitRule, RouteTableError
    > {
        var problems: [String] = []
        let key = RateLimitRule.Key(rawValue: limit.key)
        if key == nil { problems.append("\(place).key: must be api_key, user, tenant or ip") }
        if limit.limit < 1 { problems.append("\(place).limit: must be at least 1") }
        if !(limit.periodSeconds >= 1 && limit.periodSeconds <= 86_400 * 31) {
            problems.append("\(place).period_seconds: must be between 1 and 2,678,400")
        }
        for (plan, value) in limit.plans ?? [:] where value < 1 {
            problems.append("\(place).plans.\(plan): must be at least 1")
        }
        guard problems.isEmpty, let key else { return .failure(RouteTableError(problems)) }
        return .success(
            RateLimitRule(key: key, limit: limit.limit, period: limit.periodSeconds, plans: limit.plans ?? [:]))
    }

    private static func compileRoute(
        _ definition: RouteDefinition, upstreams: Set<String>, localModules: Set<String>
    ) -> Result<Route, RouteTableError> {
        var problems: [String] = []
        if definition.name.isEmpty { problems.append("name: must not be empty") }
        let match = definition.match
        var path = PathMatcher.prefix("/")
        switch (match.pathPrefix, match.path) {
        case (let prefix?, nil):
            if prefix.hasPrefix("/") {
                path = .prefix(prefix)
            } else {
                problems.append("match.path_prefix: must start with /")
            }
        case (nil, let template?):
            if let compiled = PathMatcher.template(template) {
                path = compiled
            } else {
                problems.append("match.path: must start with / and use {name} for whole segments")
            }
        default:
            problems.append("match: give exactly one of path_prefix and path")
        }
        var methods: Set<HTTPRequest.Method>?
        if let names = match.methods {
            var set = Set<HTTPRequest.Method>()
            for name in names {
                if let method = HTTPRequest.Method(name.uppercased()), name.allSatisfy(\.isLetter) {
                    set.insert(method)
                } else {
                    problems.append("match.methods: \(name) is not an HTTP method")
                }
            }
            if set.isEmpty { problems.append("match.methods: list at least one method, or leave it out for all") }
            methods = set
        }
        if let hosts = match.hosts, hosts.isEmpty || hosts.contains(where: \.isEmpty) {
            problems.append("match.hosts: list host names, or leave it out for all")
        }
        var target = Route.Target.module("*")
        switch (definition.module, definition.upstream) {
        case (let module?, nil):
            if localModules.contains(module) {
                target = .module(module)
            } else {
                problems.append(
                    "module: \(module) does not run in this process (it runs: \(localModules.sorted().joined(separator: ", ")))"
                )
            }
        case (nil, let upstream?):
            if upstreams.contains(upstream) {
                target = .upstream(upstream)
            } else {
                problems.append("upstream: no upstream named \(upstream)")
            }
        default:
            problems.append("give exactly one of module and upstream")
        }
        var auth = Route.AuthPolicy.public
        switch definition.auth {
        case nil, "public": auth = .public
        case "authenticated": auth = .authenticated
        case let other?: problems.append("auth: \(other) is not public or authenticated")
        }
        if let names = definition.permissions {
            var set = Set<Permission>()
            for name in names {
                if let permission = Permission(name) {
                    set.insert(permission)
                } else {
                    problems.append("permissions: \(name) is not resource:action")
                }
            }
            if definition.auth == "public" { problems.append("permissions: a public route cannot require permissions") }
            if !set.isEmpty { auth = .permissions(set) }
        }
        var limits: [RateLimitRule] = []
        for (index, limit) in (definition.rateLimits ?? []).enumerated() {
            switch compileLimit(limit, place: "rate_limits[\(index)]") {
            case .success(let rule): limits.append(rule)
            case .failure(let error): problems += error.problems
            }
        }
        if let bytes = definition.maxBodyBytes, bytes < 0 { problems.append("max_body_bytes: must not be negative") }
        let inspection = Route.InspectionMode(rawValue: definition.inspection ?? "block")
        if inspection == nil { problems.append("inspection: must be block, log or off") }
        var transform: RouteTransform?
        if let definition = definition.transform {
            switch RouteTransform.compile(definition, path: path) {
            case .success(let compiled): transform = compiled
            case .failure(let error): problems += error.problems.map { "transform.\($0)" }
            }
        }
        guard problems.isEmpty else { return .failure(RouteTableError(problems)) }
        return .success(
            Route(
                name: definition.name, hosts: match.hosts.map(HostMatcher.init), path: path, methods: methods,
                target: target, auth: auth, limits: limits, maxBodyBytes: definition.maxBodyBytes,
                inspection: inspection ?? .block, transform: transform, cors: definition.cors,
                defaultLimits: definition.defaultRateLimits ?? true, isDefault: false))
    }
}
