/// The colour theme a visitor chose; `auto` follows the operating system.
package enum Theme: String, CaseIterable, Sendable {
    case auto
    case light
    case dark
}
