/// Everything around a page's content that depends on the request: language, theme, CSP nonce, current path.
public struct PageChrome: Sendable {
    public let t: Localizer
    public let theme: Theme
    public let nonce: String
    public let currentPath: String
    public let navigation: [NavigationItem]
    public let assets: AssetCatalog
}
