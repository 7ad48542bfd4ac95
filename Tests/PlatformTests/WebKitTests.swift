import Foundation
import Platform
import Testing

@Suite struct WebKitTests {
    @Test func htmlInterpolationEscapesText() {
        let name = "<script>alert('x')</script> & \"q\""
        let html: HTML = "<p>\(name)</p>"
        #expect(html.rendered == "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;</p>")
        let nested: HTML = "<div>\(html)</div>"
        #expect(nested.rendered.hasPrefix("<div><p>&lt;script"))
    }

    @Test(arguments: [
        ("fr-CH, fr;q=0.9, en;q=0.8", AppLocale.fr),
        ("de-DE, ar;q=0.5, en;q=0.4", .ar),
        ("en;q=0.2, fr;q=0.9", .fr),
        ("de, es", .en),
        ("ar-EG", .ar),
        ("fr;q=0, en", .en),
    ])
    func acceptLanguageChoosesTheBestSupportedLocale(_ header: String, _ expected: AppLocale) {
        #expect(LocaleNegotiation.choose(query: nil, cookie: nil, acceptLanguage: header) == expected)
    }

    @Test func explicitChoiceBeatsCookieWhichBeatsHeader() {
        #expect(LocaleNegotiation.choose(query: "ar", cookie: "fr", acceptLanguage: "en") == .ar)
        #expect(LocaleNegotiation.choose(query: "xx", cookie: "fr", acceptLanguage: "en") == .fr)
        #expect(LocaleNegotiation.choose(query: nil, cookie: nil, acceptLanguage: nil) == .en)
    }

    @Test func everyLocaleHasEveryEnglishKey() throws {
        let catalog = try WebKit.bundled(navigation: []).catalog
        for locale in AppLocale.allCases {
            #expect(catalog.missingKeys(in: locale).isEmpty, "missing in \(locale): \(catalog.missingKeys(in: locale))")
        }
        #expect(catalog.text("nav.signin", locale: .fr) != catalog.text("nav.signin", locale: .en))
    }

    /// Modules bring their own texts and files; the merge refuses a key or file two owners define, and a key one
    /// of an owner's languages lacks (start-up fails with the reason).
    @Test func mergingRefusesDuplicatesAndGapsBetweenLanguages() throws {
        func texts(_ key: String, in locales: [AppLocale] = AppLocale.allCases) -> [AppLocale: [String: String]] {
            Dictionary(uniqueKeysWithValues: locales.map { ($0, [key: "\($0.rawValue) text"]) })
        }
        let one = WebResources(owner: "one", assets: ["one.js": Data("1".utf8)], strings: texts("one.title"))
        let two = WebResources(owner: "two", assets: ["two.js": Data("2".utf8)], strings: texts("two.title"))
        let (catalog, assets) = try WebResources.merge([one, two])
        #expect(catalog.text("two.title", locale: .fr) == "fr text")
        #expect(assets.path("one.js").hasPrefix("/assets/one."))
        #expect(throws: WebKitError.self) {
            try WebResources.merge([one, WebResources(owner: "again", strings: texts("one.title"))])
        }
        #expect(throws: WebKitError.self) {
            try WebResources.merge([one, WebResources(owner: "again", assets: ["one.js": Data()])])
        }
        do {
            _ = try WebResources.merge([WebResources(owner: "gap", strings: texts("gap.title", in: [.en, .fr]))])
            Issue.record("a key missing in Arabic was accepted")
        } catch let error as WebKitError {
            #expect(error.description == "gap's ar texts lack 1 key(s): gap.title")
        }
    }

    @Test func assetsGetContentFingerprintedNames() {
        let catalog = AssetCatalog(files: ["app.css": Data("body{}".utf8), "app.js": Data("1".utf8)])
        let path = catalog.path("app.css")
        #expect(path.hasPrefix("/assets/app."))
        #expect(path.hasSuffix(".css"))
        #expect(path != "/assets/app.css")
        let changed = AssetCatalog(files: ["app.css": Data("body{color:red}".utf8)])
        #expect(changed.path("app.css") != path)
    }

    @Test func pagePolicyHasNonceAndNoUnsafeSources() {
        let policy = SecurityHeaders.pagePolicy(nonce: "abc")
        #expect(policy.contains("'nonce-abc'"))
        #expect(!policy.contains("unsafe-inline"))
        #expect(!policy.contains("unsafe-eval"))
        #expect(policy.contains("frame-ancestors 'none'"))
    }
}
