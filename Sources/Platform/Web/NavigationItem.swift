/// A link in the header navigation.
package struct NavigationItem: Sendable, Equatable {
    /// Catalog key of the label.
    package let labelKey: String
    package let href: String

    package init(labelKey: String, href: String) {
        self.labelKey = labelKey
        self.href = href
    }
}
