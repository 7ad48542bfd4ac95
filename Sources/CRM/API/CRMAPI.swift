import Foundation
import Hummingbird
import Kernel
import Platform

/// The JSON API under `/api/v1/crm/`.
struct CRMAPI: Sendable {
    let services: CRMServices

    func register(on routes: RouteRegistrar) {
        LeadRoutes(services: services).register(on: routes)
        RecordRoutes(services: services, kind: CompanyKind.kind).register(on: routes)
        RecordRoutes(services: services, kind: ContactKind.kind).register(on: routes)
        DealRoutes.register(on: routes, services: services)
        PipelineRoutes(services: services).register(on: routes)
        LeadCapture(services: services).register(on: routes)
        CustomFieldRoutes(services: services).register(on: routes)
        ActivityRoutes(services: services).register(on: routes)
        TimelineRoutes(services: services).register(on: routes)
        SearchRoutes(services: services).register(on: routes)
        SavedViewRoutes(services: services).register(on: routes)
        AssignmentRuleRoutes(services: services).register(on: routes)
        AnalyticsRoutes(services: services).register(on: routes)
        ImportRoutes(services: services).register(on: routes)
        AttachmentRoutes(service: AttachmentService(services: services)).register(on: routes)
        CRMOpenAPI.register(on: routes)
    }
}
