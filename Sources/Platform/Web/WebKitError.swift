import Foundation

/// Failures loading the web kit's resources (at start-up).
package enum WebKitError: Error, CustomStringConvertible {
    case missingResource(String)
    /// Two owners (Platform, modules) define the same text key or asset file name.
    case duplicate(kind: String, name: String, owners: [String])
    /// Keys of `owner` that its `locale` table lacks.
    case missingTexts(owner: String, locale: String, keys: [String])

    package var description: String {
        switch self {
        case .missingResource(let name): "resource \(name) is missing from the binary's bundle"
        case .duplicate(let kind, let name, let owners):
            "\(kind) \(name) is defined by both \(owners.joined(separator: " and "))"
        case .missingTexts(let owner, let locale, let keys):
            "\(owner)'s \(locale) texts lack \(keys.count) key(s): \(keys.prefix(10).joined(separator: ", "))"
        }
    }
}
