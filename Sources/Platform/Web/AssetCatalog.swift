import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Kernel
import NIOCore

/// Static files (CSS, JS, icons) served from the binary's resources under fingerprinted names
/// (`/assets/app.3f9a1c2b7d.css`) with a one-year immutable cache; a new build changes the name, never the
/// content behind an old one.
package struct AssetCatalog: Sendable {
    /// One file, ready to send.
    struct Asset: Sendable {
        let contentType: String
        let bytes: ByteBuffer
        let etag: String
    }

    /// Fingerprinted file name → asset.
    let byFingerprintedName: [String: Asset]
    /// Logical name (`app.css`) → URL path (`/assets/app.<hash>.css`).
    let paths: [String: String]

    package init(files: [String: Data]) {
        var assets: [String: Asset] = [:]
        var paths: [String: String] = [:]
        for (name, data) in files {
            let digest = SHA256.hash(data: data).lowercaseHex
            let fingerprint = String(digest.prefix(12))
            let url = URL(fileURLWithPath: name)
            let base = url.deletingPathExtension().lastPathComponent
            let fingerprinted = "\(base).\(fingerprint).\(url.pathExtension)"
            assets[fingerprinted] = Asset(
                contentType: Self.contentType(extension: url.pathExtension), bytes: ByteBuffer(bytes: data),
                etag: "\"\(fingerprint)\"")
            paths[name] = "/assets/\(fingerprinted)"
        }
        self.byFingerprintedName = assets
        self.paths = paths
    }

    /// The URL path of a logical asset name, for use in pages.
    package func path(_ name: String) -> String {
        paths[name] ?? "/assets/\(name)"
    }

    /// Serves `GET /assets/{file}`.
    package func register(on routes: RouteRegistrar) {
        routes.get("/assets/:file") { request, context -> Response in
            guard let file = context.parameters.get("file"), let asset = self.byFingerprintedName[file] else {
                throw Problem(status: .notFound, detail: "no such asset")
            }
            if let candidates = request.headers[.ifNoneMatch],
                candidates == "*"
                    || candidates.split(separator: ",").contains(where: {
                        $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "W/", with: "") == asset.etag
                    })
            {
                return Response(
                    status: .notModified,
                    headers: [.eTag: asset.etag, .cacheControl: "public, max-age=31536000, immutable"])
            }
            return Response(
                status: .ok,
                headers: [
                    .contentType: asset.contentType, .cacheControl: "public, max-age=31536000, immutable",
                    .eTag: asset.etag,
                ],
                body: .init(byteBuffer: asset.bytes))
        }
    }

    static func contentType(extension ext: String) -> String {
        switch ext {
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "json": "application/json"
        case "webmanifest": "application/manifest+json"
        case "woff2": "font/woff2"
        default: "application/octet-stream"
        }
    }
}
