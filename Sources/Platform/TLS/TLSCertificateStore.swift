import Foundation
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The server's certificate chain and key, read from PEM files and read again when they change (a renewed
/// certificate from certbot, cert-manager ...). New TLS handshakes use the current pair; connections already
/// open keep theirs. A pair that does not load (half-written files, a key that does not match) is refused and
/// the previous one stays in use.
package final class TLSCertificateStore: Sendable {
    package let certificatePath: String
    package let keyPath: String
    private let current: Mutex<Pair>
    private let logger: Logger

    struct Pair {
        var chain: [NIOSSLCertificate]
        var key: NIOSSLPrivateKey
        var fingerprint: String
    }

    package init(certificatePath: String, keyPath: String, logger: Logger) throws {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.logger = logger
        self.current = Mutex(try Self.load(certificatePath: certificatePath, keyPath: keyPath))
    }

    /// The server's TLS configuration (TLS 1.2+, HTTP/2 and HTTP/1.1 by ALPN); each handshake picks up the
    /// current certificate through the context callback.
    package func serverConfiguration() -> TLSConfiguration {
        let pair = current.withLock { $0 }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: pair.chain.map { .certificate($0) }, privateKey: .privateKey(pair.key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.sslContextCallback = { [self] _, promise in
            let pair = current.withLock { $0 }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = pair.chain.map { .certificate($0) }
            override.privateKey = .privateKey(pair.key)
            promise.succeed(override)
        }
        return configuration
    }

    /// The serial numbers of the chain in use (for logs and tests).
    package var fingerprint: String { current.withLock { $0.fingerprint } }

    /// Reads the files again when they changed; returns whether a new pair is now in use.
    @discardableResult
    package func reloadIfChanged() -> Bool {
        do {
            let pair = try Self.load(certificatePath: certificatePath, keyPath: keyPath)
            let changed = current.withLock { current -> Bool in
                guard current.fingerprint != pair.fingerprint else { return false }
                current = pair
                return true
            }
            if changed {
                logger.notice("TLS certificate reloaded", metadata: ["tls.certificate": "\(pair.fingerprint)"])
            }
            return changed
        } catch {
            logger.error(
                "TLS certificate files refused; the previous certificate stays in use",
                metadata: ["error.message": "\(error)"])
            return false
        }
    }

    static func load(certificatePath: String, keyPath: String) throws -> Pair {
        let chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        guard let leaf = chain.first else { throw TLSFilesError("\(certificatePath) holds no certificate") }
        let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        // A certificate and key that do not belong together would fail every handshake: refuse them here.
        let probe = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(leaf)], privateKey: .privateKey(key))
        _ = try NIOSSLContext(configuration: probe)
        let fingerprint = chain.map { Data($0.serialNumber).base64EncodedString() }.joined(separator: ",")
        return Pair(chain: chain, key: key, fingerprint: fingerprint)
    }
}

/// Why the TLS files were refused.
package struct TLSFilesError: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}

/// Checks the certificate files every few seconds and reloads them when they change.
package struct TLSReloadService: Service {
    let store: TLSCertificateStore
    let interval: Duration

    package init(store: TLSCertificateStore, interval: Duration = .seconds(2)) {
        self.store = store
        self.interval = interval
    }

    package func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: interval)
            store.reloadIfChanged()
        }
    }
}
