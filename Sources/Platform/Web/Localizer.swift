import Foundation

/// Texts of one locale, called like a function: `t("home.title")`.
package struct Localizer: Sendable {
    package let locale: AppLocale
    let catalog: LocalizationCatalog

    package init(locale: AppLocale, catalog: LocalizationCatalog) {
        self.locale = locale
        self.catalog = catalog
    }

    package func callAsFunction(_ key: String) -> String { catalog.text(key, locale: locale) }
}
