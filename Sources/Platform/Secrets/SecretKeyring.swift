import Crypto
import Foundation
import Kernel
import Logging
import Synchronization

/// The keys that seal secrets at rest (AES-256-GCM), each with an id; the first is the current one, which seals new
/// values; the others only open what they sealed earlier. Where they come from:
///
/// - `secrets_keys` (`INOPSIO_SECRETS_KEYS`): `id:base64key,id:base64key`, current first. Fixed for the process's
///   life: a new key reaches such a process by a restart.
/// - else the key file, `secrets_key_file` or `<data_dir>/secrets.key`: one `id:base64key` per line, current first,
///   `#` comments. Started with neither, the server makes the file (mode 0600) with a new key and says in its log
///   to keep it apart from database backups. The file is read again when it changes (before sealing) and when a
///   value names a key the process does not have (before opening), so `inopsio secrets rotate-key` reaches running
///   processes that share the file without a restart.
package final class SecretKeyring: Sendable {
    package struct Key: Sendable {
        package let id: String
        let key: SymmetricKey

        /// A non-secret fingerprint of the key (HMAC of a fixed text), kept in `platform_secret_keys` so that a
        /// process holding a different key under the same id is refused at start.
        package var fingerprint: String {
            Data(HMAC<SHA256>.authenticationCode(for: Data("inopsio secret key check".utf8), using: key))
                .prefix(16).lowercaseHex
        }

        package var line: String { "\(id):\(key.withUnsafeBytes { Data($0).base64EncodedString() })" }

        /// A new random 256-bit key with a new id (`k` and 8 hex digits).
        package static func generate() -> Key {
            let id = "k" + Data((0..<4).map { _ in UInt8.random(in: .min ... .max) }).lowercaseHex
            return Key(id: id, key: SymmetricKey(size: .bits256))
        }
    }

    package enum Source: Sendable, Equatable {
        case inline
        case file(String)
    }

    private struct State {
        var keys: [Key]
        var fileStamp: FileStamp?
        var lastReload: Date
    }

    package let source: Source
    private let state: Mutex<State>

    /// A keyring over fixed keys (`keys.first` current): for `secrets_keys` and tests.
    package init(keys: [Key]) throws(SecretError) {
        guard !keys.isEmpty else { throw SecretError.noKeys("no key given") }
        self.source = .inline
        self.state = Mutex(State(keys: keys, fileStamp: nil, lastReload: .distantPast))
    }

    private init(path: String?, keys: [Key], stamp: FileStamp?) {
        self.source = path.map(Source.file) ?? .inline
        self.state = Mutex(State(keys: keys, fileStamp: stamp, lastReload: .distantPast))
    }

    /// A keyring with one new random key, held in memory only (tests).
    package static func ephemeral() -> SecretKeyring {
        SecretKeyring(path: nil, keys: [.generate()], stamp: nil)
    }

    /// The keyring a process is configured with, making the key file when neither source is set and the file does
    /// not exist yet.
    package static func configured(_ configuration: InopsioConfiguration, logger: Logger) throws -> SecretKeyring {
        if let inline = configuration.secretsKeys { return try SecretKeyring(keys: parse(inline, separator: ",")) }
        let path =
            configuration.secretsKeyFile
            ?? URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("secrets.key").path
        if !FileManager.default.fileExists(atPath: path), try create(path: path, key: .generate()) {
            logger.warning(
                "made a new secrets key file; keep it apart from database backups: with it a backup reveals the secrets it holds, without it they are lost",
                metadata: ["file.path": "\(path)"])
        }
        return try load(path: path)
    }

    /// Reads a key file.
    package static func load(path: String) throws -> SecretKeyring {
        let (keys, stamp) = try read(path: path)
        return SecretKeyring(path: path, keys: keys, stamp: stamp)
    }

    /// Makes the key file holding `key` (mode 0600) unless it exists; false when another process made it first.
    /// Processes started at once on one data directory must end up with one key: the file is written whole under
    /// another name, then hard-linked into place, which fails if the file is already there.
    static func create(path: String, key: Key) throws -> Bool {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let text = "# Inopsio secrets keys: the first seals new values. Keep this file apart from database backups.\n"
        let temporary = path + ".\(UUID().uuidString)"
        guard
            FileManager.default.createFile(
                atPath: temporary, contents: Data((text + key.line + "\n").utf8),
                attributes: [.posixPermissions: 0o600])
        else { throw SecretError.keyFile(path, "cannot be created") }
        defer { unlink(temporary) }
        if link(temporary, path) == 0 { return true }
        guard errno == EEXIST else { throw SecretError.keyFile(path, "cannot be created (errno \(errno))") }
        return false
    }

    /// The current key, after reading the key file again if it changed.
    package func current() -> Key {
        refreshIfChanged()
        return state.withLock { $0.keys[0] }
    }

    /// Every key, current first.
    package var keys: [Key] { state.withLock { $0.keys } }

    /// The key with id `id`, reading the key file again (at most once a second) when it is not known.
    func key(id: String) -> Key? {
        if let key = state.withLock({ state in state.keys.first { $0.id == id } }) { return key }
        guard case .file(let path) = source else { return nil }
        let due = state.withLock { state in
            guard Date().timeIntervalSince(state.lastReload) >= 1 else { return false }
            state.lastReload = Date()
            return true
        }
        if due, let (keys, stamp) = try? Self.read(path: path) {
            state.withLock { state in
                state.keys = keys
                state.fileStamp = stamp
            }
        }
        return state.withLock { state in state.keys.first { $0.id == id } }
    }

    /// Puts `key` first in the key file, keeping the others (written to a new file, then renamed over the old).
    package func install(_ key: Key) throws {
        guard case .file(let path) = source else {
            throw SecretError.noKeys("keys come from secrets_keys; put the new key first there on every process")
        }
        let keys = [key] + self.keys.filter { $0.id != key.id }
        try write(keys, to: path)
    }

    /// Removes the key `id` from the key file.
    package func remove(id: String) throws {
        guard case .file(let path) = source else {
            throw SecretError.noKeys("keys come from secrets_keys; remove the key there on every process")
        }
        let keys = self.keys.filter { $0.id != id }
        guard !keys.isEmpty else { throw SecretError.noKeys("the last key cannot be removed") }
        try write(keys, to: path)
    }

    private func write(_ keys: [Key], to path: String) throws {
        let text =
            "# Inopsio secrets keys: the first seals new values. Keep this file apart from database backups.\n"
            + keys.map(\.line).joined(separator: "\n") + "\n"
        let temporary = path + ".new"
        try? FileManager.default.removeItem(atPath: temporary)
        guard
            FileManager.default.createFile(
                atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw SecretError.keyFile(temporary, "cannot be written") }
        guard rename(temporary, path) == 0 else { throw SecretError.keyFile(path, "cannot be replaced") }
        let (read, stamp) = try Self.read(path: path)
        state.withLock { state in
            state.keys = read
            state.fileStamp = stamp
        }
    }

    private func refreshIfChanged() {
        guard case .file(let path) = source else { return }
        let stamp = Self.stamp(path)
        guard stamp != state.withLock({ $0.fileStamp }), let (keys, newStamp) = try? Self.read(path: path) else {
            return
        }
        state.withLock { state in
            state.keys = keys
            state.fileStamp = newStamp
        }
    }

    /// What tells a changed key file: a rewrite replaces the file (a new inode), and the clock of file times is too
    /// coarse to tell two writes within milliseconds apart.
    struct FileStamp: Equatable {
        let inode: UInt64?
        let modified: Date?
        let size: UInt64?
    }

    private static func stamp(_ path: String) -> FileStamp? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        return FileStamp(
            inode: (attributes[.systemFileNumber] as? NSNumber)?.uint64Value,
            modified: attributes[.modificationDate] as? Date, size: (attributes[.size] as? NSNumber)?.uint64Value)
    }

    private static func read(path: String) throws -> ([Key], FileStamp?) {
        let stamp = stamp(path)
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else { throw SecretError.keyFile(path, "cannot be read") }
        do {
            return (try parse(text, separator: "\n"), stamp)
        } catch {
            throw SecretError.keyFile(path, "\(error)")
        }
    }

    /// `id:base64key` entries separated by `separator`; blank entries and `#` comments are skipped.
    package static func parse(_ text: String, separator: Character) throws(SecretError) -> [Key] {
        var keys: [Key] = []
        for entry in text.split(separator: separator) {
            let item = entry.trimmingCharacters(in: .whitespaces)
            if item.isEmpty || item.hasPrefix("#") { continue }
            let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, isKeyID(parts[0]), let bytes = Data(base64Encoded: parts[1]), bytes.count == 32
            else {
                throw SecretError.noKeys(
                    "each key must be `id:base64` with an id of letters and digits and 32 bytes of key")
            }
            guard !keys.contains(where: { $0.id == parts[0] }) else {
                throw SecretError.noKeys("the key id \(parts[0]) is listed twice")
            }
            keys.append(Key(id: parts[0], key: SymmetricKey(data: bytes)))
        }
        guard !keys.isEmpty else { throw SecretError.noKeys("no key listed") }
        return keys
    }

    static func isKeyID(_ text: String) -> Bool {
        (1...32).contains(text.count)
            && text.unicodeScalars.allSatisfy { $0.isASCII && CharacterSet.alphanumerics.contains($0) }
    }
}

/// Why a secret could not be sealed or opened, or keys not loaded.
package enum SecretError: Error, CustomStringConvertible {
    case noKeys(String)
    case keyFile(String, String)
    case unknownKey(String)
    case malformed
    case tampered

    package var description: String {
        switch self {
        case .noKeys(let reason): "secrets keys: \(reason)"
        case .keyFile(let path, let reason): "secrets key file \(path): \(reason)"
        case .unknownKey(let id):
            "a secret is sealed with key \(id), which this process does not have (secrets_keys or secrets_key_file)"
        case .malformed: "a sealed secret is malformed"
        case .tampered: "a sealed secret does not open: it was altered or moved to another place"
        }
    }
}
