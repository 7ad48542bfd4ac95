import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// What pages are made with: the text catalog, the assets, the header navigation and the layout.
package struct WebKit: Sendable {
    package let catalog: LocalizationCatalog
    package let assets: AssetCatalog
    package let navigation: [NavigationItem]

    static let localeCookie = "inopsio_lang"
    static let themeCookie = "inopsio_theme"

    package init(catalog: LocalizationCatalog, assets: AssetCatalog, navigation: [NavigationItem]) {
        self.catalog = catalog
        self.assets = assets
        self.navigation = navigation
    }

    /// Platform's texts and assets (the shared layout's) merged with those of `modules` (each module's own);
    /// throws on a key or file two of them define, or a text one language lacks.
    package static func bundled(navigation: [NavigationItem], modules: [any Module] = []) throws -> WebKit {
        let (catalog, assets) = try WebResources.merge(
            [try WebResources.bundled(owner: "platform", folder: "Inopsio_Platform.resources")]
                + modules.map { try $0.webResources() })
        return WebKit(catalog: catalog, assets: assets, navigation: navigation)
    }

    /// The chrome for this request. A `?lang=` or `?theme=` choice is remembered in a cookie.
    package func chrome(for request: Request, context: AppRequestContext) -> (PageChrome, [Cookie]) {
        let query = request.uri.queryParameters
        let langQuery = query["lang"].map(String.init)
        let themeQuery = query["theme"].map(String.init)
        let locale = LocaleNegotiation.choose(
            query: langQuery, cookie: request.cookies[Self.localeCookie]?.value,
            acceptLanguage: request.headers[.acceptLanguage])
        let theme =
            themeQuery.flatMap(Theme.init(rawValue:)) ?? request.cookies[Self.themeCookie].flatMap {
                Theme(rawValue: $0.value)
            } ?? .auto
        var cookies: [Cookie] = []
        let year = 365 * 24 * 3600
        if let langQuery, AppLocale(rawValue: langQuery) != nil {
            cookies.append(
                Cookie(name: Self.localeCookie, value: locale.rawValue, maxAge: year, path: "/", sameSite: .lax))
        }
        if let themeQuery, Theme(rawValue: themeQuery) != nil {
            cookies.append(
                Cookie(name: Self.themeCookie, value: theme.rawValue, maxAge: year, path: "/", sameSite: .lax))
        }
        let chrome = PageChrome(
            t: Localizer(locale: locale, catalog: catalog), theme: theme, nonce: context.cspNonce,
            currentPath: request.uri.path, navigation: navigation, assets: assets)
        return (chrome, cookies)
    }

    /// A complete HTML page response: `content` builds the `<main>` content with the request's texts.
    package func page(
        request: Request, context: AppRequestContext, status: HTTPResponse.Status = .ok,
        title: (Localizer) -> String, description: ((Localizer) -> String)? = nil,
        content: (PageChrome) -> HTML
    ) -> Response {
        let (chrome, cookies) = self.chrome(for: request, context: context)
        let html = PageLayout.render(
            title: title(chrome.t), description: description?(chrome.t), chrome: chrome, main: content(chrome))
        var response = Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-cache",
                .vary: "Accept-Language, Cookie",
                .contentLanguage: chrome.t.locale.rawValue,
            ],
            body: .init(byteBuffer: ByteBuffer(string: html.rendered)))
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }
}
