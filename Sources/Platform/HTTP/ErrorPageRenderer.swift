import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import Logging

/// Renders an HTML error page for browser routes; supplied by the web kit.
package protocol ErrorPageRenderer: Sendable {
    func render(problem: Problem, request: Request, context: AppRequestContext) -> Response
}
