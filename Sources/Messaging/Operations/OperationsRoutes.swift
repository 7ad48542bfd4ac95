import Foundation
import Hummingbird
import Kernel
import Platform

/// `/api/v1/messaging/jobs` and `/dead-letters` as JSON (`OperationsService` holds the use cases).
struct OperationsRoutes: Sendable {
    let services: MessagingServices

    struct Items<T: Encodable>: Encodable {
        let data: [T]
    }

    func register(on routes: RouteRegistrar) {
        let base = MessagingAPI.base
        let service = OperationsService(services: services)
        routes.get("\(base)/jobs") { request, context in
            try JSONResponse.make(
                Items(data: try await service.jobs(status: request.query("status"), by: context.caller(request))))
        }
        routes.post("\(base)/jobs/{job}/retry") { request, context in
            try await JSONBody.requireNone(request, context: context)
            try await service.retry(job: context.parameters.get("job") ?? "", by: context.caller(request))
            return JSONResponse.noContent()
        }
        routes.post("\(base)/jobs/{job}/cancel") { request, context in
            try await JSONBody.requireNone(request, context: context)
            try await service.cancel(job: context.parameters.get("job") ?? "", by: context.caller(request))
            return JSONResponse.noContent()
        }
        routes.get("\(base)/dead-letters") { request, context in
            try JSONResponse.make(Items(data: try await service.deadLetters(by: context.caller(request))))
        }
        routes.post("\(base)/dead-letters/{event}/replay") { request, context in
            try await JSONBody.requireNone(request, context: context)
            try await service.replay(event: context.parameters.get("event") ?? "", by: context.caller(request))
            return JSONResponse.noContent()
        }
    }
}
