import Foundation

/// The text catalog: one flat `key → text` table per locale, loaded from the binary's resources.
package struct LocalizationCatalog: Sendable {
    let tables: [AppLocale: [String: String]]

    package init(tables: [AppLocale: [String: String]]) {
        self.tables = tables
    }

    /// Loads `Locales/<code>.json` for every locale from the Platform resource bundle.
    package static func bundled() throws -> LocalizationCatalog {
        let directory = try PlatformResources.directory().appendingPathComponent("Locales")
        var tables: [AppLocale: [String: String]] = [:]
        for locale in AppLocale.allCases {
            let url = directory.appendingPathComponent("\(locale.rawValue).json")
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw WebKitError.missingResource("Locales/\(locale.rawValue).json")
            }
            tables[locale] = try JSONDecoder().decode([String: String].self, from: data)
        }
        return LocalizationCatalog(tables: tables)
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
