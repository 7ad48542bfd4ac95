import Foundation
import Logging
import Platform
import Synchronization

/// The gateway's current route table and the live state of its upstreams, swapped whole on reload. Upstreams
/// whose settings did not change keep their state (health, ejections, breaker) across a reload.
package final class RouteTableStore: Sendable {
    /// One consistent table with its upstream pools; a request uses the snapshot it started with.
    package final class Snapshot: Sendable {
        package let table: RouteTable
        package let pools: [String: UpstreamPool]
        package let loadedAt: Date

        init(table: RouteTable, previous: Snapshot?, loadedAt: Date) {
            self.table = table
            var pools: [String: UpstreamPool] = [:]
            for (name, settings) in table.upstreams {
                if let existing = previous?.pools[name], existing.settings == settings {
                    pools[name] = existing
                } else {
                    pools[name] = UpstreamPool(settings: settings)
                }
            }
            self.pools = pools
            self.loadedAt = loadedAt
        }
    }

    /// Where the table comes from: the route file (if any) and the modules of the deployment.
    package struct Source: Sendable {
        package let file: String?
        package let modules: [RouteTable.ModuleLocation]
        package let localModules: Set<String>

        package init(file: String?, modules: [RouteTable.ModuleLocation], localModules: Set<String>) {
            self.file = file
            self.modules = modules
            self.localModules = localModules
        }

        /// The source a process with `configuration` uses: every module of the catalog is local when it runs in
        /// this process, else remote at the targets `upstreams` names (if any).
        package init(
            file: String?, configuration: InopsioConfiguration, catalog: [(name: String, pathPrefixes: [String])],
            uploads: [String: [String]] = [:], localModules: Set<String>
        ) {
            self.init(
                file: file,
                modules: catalog.map { module in
                    RouteTable.ModuleLocation(
                        name: module.name, pathPrefixes: module.pathPrefixes,
                        remoteTargets: localModules.contains(module.name) ? nil : configuration.upstreams[module.name],
                        uploadPaths: uploads[module.name] ?? [], uploadLimit: configuration.maxUploadBytes)
                },
                localModules: localModules)
        }

        /// Reads and compiles the table; every problem is reported, nothing is half-applied.
        package func load() throws(RouteTableError) -> RouteTable {
            var configuration = GatewayConfiguration()
            if let file {
                let data: Data
                do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
                    throw RouteTableError(["\(file): cannot be read (\(error.localizedDescription))"])
                }
                configuration = try GatewayConfiguration.decode(data)
            }
            return try RouteTable.compile(configuration, modules: modules, localModules: localModules)
        }
    }

    package let source: Source
    private let current: Mutex<Snapshot>
    private let logger: Logger

    /// Loads the first table; a start-up with an invalid file fails (there is no previous table to keep).
    package init(source: Source, logger: Logger) throws(RouteTableError) {
        self.source = source
        self.logger = logger
        self.current = Mutex(Snapshot(table: try source.load(), previous: nil, loadedAt: Date()))
    }

    package var snapshot: Snapshot { current.withLock { $0 } }

    /// Loads the table again and swaps it in; on any problem the running table stays and the reason is logged.
    @discardableResult
    package func reload() -> Result<Int, RouteTableError> {
        do {
            let table = try source.load()
            current.withLock { $0 = Snapshot(table: table, previous: $0, loadedAt: Date()) }
            logger.info(
                "gateway routes reloaded",
                metadata: ["gateway.routes": "\(table.routes.count)", "gateway.upstreams": "\(table.upstreams.count)"])
            return .success(table.routes.count)
        } catch {
            logger.error(
                "gateway route file refused; the previous routes stay in force",
                metadata: ["file": "\(source.file ?? "-")", "error.message": "\(error.description)"])
            return .failure(error)
        }
    }
}
