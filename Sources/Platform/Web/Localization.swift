import Foundation

/// The languages the web apps speak. Arabic is written right to left.
public enum AppLocale: String, CaseIterable, Sendable {
    case en
    case fr
    case ar

    public var direction: String { self == .ar ? "rtl" : "ltr" }
}

/// The text catalog: one flat `key → text` table per locale, loaded from the binary's resources.
public struct LocalizationCatalog: Sendable {
    let tables: [AppLocale: [String: String]]

    public init(tables: [AppLocale: [String: String]]) {
        self.tables = tables
    }

    /// Loads `Locales/<code>.json` for every locale from the Platform resource bundle.
    public static func bundled() throws -> LocalizationCatalog {
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
    public func text(_ key: String, locale: AppLocale) -> String {
        tables[locale]?[key] ?? tables[.en]?[key] ?? key
    }

    /// Keys missing from a locale compared with English (the tests require none).
    public func missingKeys(in locale: AppLocale) -> Set<String> {
        Set(tables[.en]?.keys ?? [:].keys).subtracting(tables[locale]?.keys ?? [:].keys)
    }
}

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

/// Chooses the locale: an explicit `?lang=` choice, then the `inopsio_lang` cookie, then `Accept-Language`
/// (by q-value), then English.
public enum LocaleNegotiation {
    public static func choose(query: String?, cookie: String?, acceptLanguage: String?) -> AppLocale {
        if let query, let locale = AppLocale(rawValue: query.lowercased()) { return locale }
        if let cookie, let locale = AppLocale(rawValue: cookie.lowercased()) { return locale }
        guard let acceptLanguage else { return .en }
        var best: (AppLocale, Double)?
        for (index, part) in acceptLanguage.split(separator: ",").enumerated() {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = pieces.first?.lowercased() else { continue }
            let primary = String(tag.split(separator: "-").first ?? "")
            guard let locale = AppLocale(rawValue: primary) else { continue }
            var quality = 1.0
            for parameter in pieces.dropFirst() where parameter.hasPrefix("q=") {
                quality = Double(parameter.dropFirst(2)) ?? 0
            }
            // Earlier entries win ties, as the header lists preferences in order.
            let adjusted = quality - Double(index) * 1e-6
            if quality > 0, best == nil || adjusted > best!.1 { best = (locale, adjusted) }
        }
        return best?.0 ?? .en
    }
}

/// Failures loading the web kit's bundled resources.
public enum WebKitError: Error, CustomStringConvertible {
    case missingResource(String)

    public var description: String {
        switch self {
        case .missingResource(let name): "resource \(name) is missing from the binary's bundle"
        }
    }
}
