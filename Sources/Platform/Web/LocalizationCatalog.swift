import Foundation

/// The text catalog: one flat `key → text` table per locale, Platform's and every module's (`WebResources`).
package struct LocalizationCatalog: Sendable {
    let tables: [AppLocale: [String: String]]

    package init(tables: [AppLocale: [String: String]]) {
        self.tables = tables
    }

    /// The text for `key` in `locale`, falling back to English, then to the key itself (visible in review).
    package func text(_ key: String, locale: AppLocale) -> String {
        tables[locale]?[key] ?? tables[.en]?[key] ?? key
    }

    /// Keys missing from a locale compared with English (the tests require none).
    package func missingKeys(in locale: AppLocale) -> Set<String> {
        Set(tables[.en]?.keys ?? [:].keys).subtracting(tables[locale]?.keys ?? [:].keys)
    }
}
