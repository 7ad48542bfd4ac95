import Foundation

/// Failures loading the web kit's bundled resources.
package enum WebKitError: Error, CustomStringConvertible {
    case missingResource(String)

    package var description: String {
        switch self {
        case .missingResource(let name): "resource \(name) is missing from the binary's bundle"
        }
    }
}
