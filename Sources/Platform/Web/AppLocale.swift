import Foundation

/// The languages the web apps speak. Arabic is written right to left.
package enum AppLocale: String, CaseIterable, Sendable {
    case en
    case fr
    case ar

    package var direction: String { self == .ar ? "rtl" : "ltr" }
}
