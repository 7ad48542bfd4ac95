import Foundation
import Logging

/// Hides credentials in URLs before they are printed or logged.
package enum Redaction {
    package static func redactURL(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "REDACTED"
        return components.string ?? "REDACTED"
    }
}
