import Foundation
import Platform

/// The emails Identity sends. Plain text with a short HTML alternative; English for now (per-tenant templates
/// and translations arrive with the Messaging module).
enum IdentityMail {
    static func invitation(to user: User, organisation: String, inviter: String?, link: String) -> (
        String, String, String
    ) {
        let by = inviter.map { " by \($0)" } ?? ""
        let subject = "You are invited to \(organisation) on Inopsio"
        let text = """
            Hello \(user.name),

            You have been invited\(by) to join \(organisation) on Inopsio.
            Choose your password here (the link works once and expires in 7 days):

            \(link)

            If you did not expect this invitation, you can ignore this message.
            """
        return (
            subject, text,
            html(
                paragraphs: [
                    "Hello \(user.name),", "You have been invited\(by) to join \(organisation) on Inopsio.",
                ], link: link, action: "Accept the invitation", note: "The link works once and expires in 7 days.")
        )
    }

    static func passwordReset(to user: User, organisation: String, link: String) -> (String, String, String) {
        let subject = "Reset your Inopsio password for \(organisation)"
        let text = """
            Hello \(user.name),

            Someone asked to reset the password of your account at \(organisation).
            To choose a new password, open this link (it works once and expires in one hour):

            \(link)

            If it was not you, ignore this message: your password stays as it is.
            """
        return (
            subject, text,
            html(
                paragraphs: [
                    "Hello \(user.name),", "Someone asked to reset the password of your account at \(organisation).",
                ], link: link, action: "Choose a new password",
                note: "The link works once and expires in one hour. If it was not you, ignore this message.")
        )
    }

    static func verification(to user: User, organisation: String, link: String) -> (String, String, String) {
        let subject = "Confirm your email address for \(organisation)"
        let text = """
            Hello \(user.name),

            Please confirm that \(user.email) is your address by opening this link (it expires in 3 days):

            \(link)
            """
        return (
            subject, text,
            html(
                paragraphs: [
                    "Hello \(user.name),", "Please confirm that \(user.email) is your address.",
                ], link: link, action: "Confirm my address", note: "The link expires in 3 days.")
        )
    }

    private static func html(paragraphs: [String], link: String, action: String, note: String) -> String {
        let body = paragraphs.map { "<p>\(HTML.escape($0))</p>" }.joined()
        return """
            <!doctype html><html><body style="font-family: sans-serif">\(body)
            <p><a href="\(HTML.escape(link))">\(HTML.escape(action))</a></p><p>\(HTML.escape(note))</p></body></html>
            """
    }
}
