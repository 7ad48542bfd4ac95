import Foundation

/// Development and embedded-mode delivery: each message becomes an `.eml` file in a directory (by default
/// `<data_dir>/mail`), readable by any mail client, so the product works with no SMTP server installed.
package struct FileMailTransport: MailTransport {
    package let directory: URL

    package init(directory: URL) {
        self.directory = directory
    }

    package func send(_ message: MailMessage) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let id = UUID().uuidString.lowercased()
        let now = Date()
        let text = MIMEEncoder.encode(message, date: now, messageID: "\(id)@inopsio.local")
        let stamp = Int64(now.timeIntervalSince1970 * 1000)
        let file = directory.appendingPathComponent("\(stamp)-\(id).eml")
        // Written under a temporary name and renamed, so a reader never sees half a message.
        let partial = directory.appendingPathComponent(".\(stamp)-\(id).eml.partial")
        try Data(text.utf8).write(to: partial)
        try FileManager.default.moveItem(at: partial, to: file)
    }
}
