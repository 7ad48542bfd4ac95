import Foundation

/// The languages the web apps speak. Arabic is written right to left.
public enum AppLocale: String, CaseIterable, Sendable {
    case en
    case fr
    case ar

    public var direction: String { self == .ar ? "rtl" : "ltr" }
}
