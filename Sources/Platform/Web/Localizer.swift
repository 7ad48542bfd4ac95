import Foundation

/// Texts of one locale, called like a function: `t("home.title")`.
public struct Localizer: Sendable {
    public let locale: AppLocale
    let catalog: LocalizationCatalog

    public init(locale: AppLocale, catalog: LocalizationCatalog) {
        self.locale = locale
        self.catalog = catalog
    }

    public func callAsFunction(_ key: String) -> String { catalog.text(key, locale: locale) }
}
