import Foundation
import Hummingbird
import Kernel
import Platform

/// `/api/v1/crm/deals`: the record routes of `DealKind`, and a deal's stage history.
enum DealRoutes {
    /// `GET /deals/{id}/history`: the deal's stage moves, oldest first.
    static func register(on routes: RouteRegistrar, services: CRMServices) {
        RecordRoutes(services: services, kind: DealKind.kind).register(on: routes)
        routes.get("\(DealKind.kind.path)/{id}/history") { _, context in
            try context.require(.crmDealsRead)
            let tenant = try context.requireTenant()
            let id = try ID<Deal>.path(context, entity: "deal")
            let history = try await services.database.read(tenant: tenant) { tx -> [Deal.StageChange]? in
                guard try await RecordStore<Deal>().find(id.rawValue, in: tx) != nil else { return nil }
                return try await DealHistoryStore().history(of: id, in: tx)
            }
            guard let history else { throw DomainError.notFound(entity: "deal") }
            return try JSONResponse.make(Page(data: history, nextCursor: nil))
        }
    }
}
