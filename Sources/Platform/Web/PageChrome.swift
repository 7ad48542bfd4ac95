/// Everything around a page's content that depends on the request: language, theme, CSP nonce, current path.
package struct PageChrome: Sendable {
    package let t: Localizer
    package let theme: Theme
    package let nonce: String
    package let currentPath: String
    package let navigation: [NavigationItem]
    package let assets: AssetCatalog
}
