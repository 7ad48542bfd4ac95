import Foundation

/// Chooses the locale: an explicit `?lang=` choice, then the `inopsio_lang` cookie, then `Accept-Language`
/// (by q-value), then English.
package enum LocaleNegotiation {
    package static func choose(query: String?, cookie: String?, acceptLanguage: String?) -> AppLocale {
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
