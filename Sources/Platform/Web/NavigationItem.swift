/// A link in the header navigation.
public struct NavigationItem: Sendable, Equatable {
    /// Catalog key of the label.
    public let labelKey: String
    public let href: String

    public init(labelKey: String, href: String) {
        self.labelKey = labelKey
        self.href = href
    }
}
