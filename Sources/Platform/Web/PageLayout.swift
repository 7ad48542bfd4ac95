/// The base layout: skip link, header with brand, navigation and sign-in, main content, footer with language and
/// theme switches. No inline styles or scripts (the CSP forbids them).
package enum PageLayout {
    package static func render(title: String, description: String?, chrome: PageChrome, main: HTML) -> HTML {
        let t = chrome.t
        let navigation = chrome.navigation.map { item -> HTML in
            let current: HTML = item.href == chrome.currentPath ? " aria-current=\"page\"" : ""
            return "<li><a href=\"\(item.href)\"\(current)>\(t(item.labelKey))</a></li>"
        }
        let languages = AppLocale.allCases.map { locale -> HTML in
            let current: HTML = locale == t.locale ? " aria-current=\"true\"" : ""
            return
                "<a href=\"?lang=\(locale.rawValue)\" lang=\"\(locale.rawValue)\" hreflang=\"\(locale.rawValue)\"\(current)>\(t("locale.\(locale.rawValue)"))</a>"
        }
        let themes = Theme.allCases.map { theme -> HTML in
            let current: HTML = theme == chrome.theme ? " aria-current=\"true\"" : ""
            return "<a href=\"?theme=\(theme.rawValue)\"\(current)>\(t("theme.\(theme.rawValue)"))</a>"
        }
        let meta: HTML = description.map { "<meta name=\"description\" content=\"\($0)\">" } ?? ""
        return """
            <!doctype html>
            <html lang="\(t.locale.rawValue)" dir="\(t.locale.direction)" data-theme="\(chrome.theme.rawValue)">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title)</title>
            \(meta)
            <meta name="color-scheme" content="light dark">
            <link rel="icon" href="\(chrome.assets.path("favicon.svg"))" type="image/svg+xml">
            <link rel="stylesheet" href="\(chrome.assets.path("app.css"))">
            <link rel="stylesheet" href="\(chrome.assets.path("components.css"))">
            </head>
            <body>
            <a class="skip-link" href="#main">\(t("nav.skip"))</a>
            <header class="site-header"><div class="container header-inner">
            <a class="brand" href="/"><span class="brand-mark" aria-hidden="true"></span><span class="brand-name">\(t("app.name"))</span></a>
            <nav class="site-nav" aria-label="\(t("nav.main"))"><ul>\(navigation)</ul></nav>
            <div class="header-actions"><a class="button button-primary" href="/login">\(t("nav.signin"))</a></div>
            </div></header>
            <main id="main" class="container content">
            \(main)
            </main>
            <footer class="site-footer"><div class="container footer-inner">
            <p class="footer-tagline">\(t("footer.tagline"))</p>
            <nav class="footer-switch" aria-label="\(t("footer.language"))"><span class="footer-switch-label">\(t("footer.language"))</span>\(languages)</nav>
            <nav class="footer-switch" aria-label="\(t("footer.theme"))"><span class="footer-switch-label">\(t("footer.theme"))</span>\(themes)</nav>
            <p class="footer-copy">\(t("footer.copy"))</p>
            </div></footer>
            </body>
            </html>
            """
    }
}
