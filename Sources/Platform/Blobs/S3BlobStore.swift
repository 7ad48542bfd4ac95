import AsyncHTTPClient
import Crypto
import Foundation
import Kernel
import NIOCore
import NIOHTTP1

/// Blobs in an S3 bucket (AWS or an S3-compatible server), path-style addressing, signed with SigV4 (`S3Signer`).
///
/// An upload of at most one part (8 MiB) is one `PUT`; a larger one is a multipart upload whose parts are sent as
/// they fill, so memory holds one part at a time. A failed or refused upload aborts its multipart upload.
package final class S3BlobStore: BlobStore {
    package struct Configuration: Sendable, Equatable {
        /// `http` or `https`.
        package var scheme: String
        package var host: String
        package var port: Int?
        package var bucket: String
        package var region: String
        package var accessKey: String
        package var secretKey: String
        /// Bytes per part of a multipart upload (S3's minimum is 5 MiB but for the last part).
        package var partSize = 8 * 1024 * 1024

        /// `s3://ACCESS_KEY:SECRET@host[:port]/bucket?region=eu-west-1` (HTTPS), or `s3+http://...` for a server
        /// on plain HTTP (a test server on loopback).
        package static func parse(url text: String) throws(BlobError) -> Configuration {
            guard let components = URLComponents(string: text), let scheme = components.scheme,
                ["s3", "s3+http"].contains(scheme), let host = components.host, !host.isEmpty,
                let access = components.percentEncodedUser?.removingPercentEncoding, !access.isEmpty,
                let secret = components.percentEncodedPassword?.removingPercentEncoding, !secret.isEmpty
            else {
                throw BlobError.backend(
                    "blob_url must be s3://ACCESS_KEY:SECRET@host/bucket?region=... (or s3+http://)")
            }
            let bucket = components.path.split(separator: "/").first.map(String.init) ?? ""
            guard !bucket.isEmpty, components.path.split(separator: "/").count == 1 else {
                throw BlobError.backend("blob_url must name one bucket as its path")
            }
            let region = components.queryItems?.first { $0.name == "region" }?.value ?? "us-east-1"
            return Configuration(
                scheme: scheme == "s3" ? "https" : "http", host: host, port: components.port, bucket: bucket,
                region: region, accessKey: access, secretKey: secret)
        }

        var hostHeader: String { port.map { "\(host):\($0)" } ?? host }
        var base: String { "\(scheme)://\(hostHeader)" }
    }

    let configuration: Configuration
    let signer: S3Signer
    let client: HTTPClient

    package init(configuration: Configuration) {
        self.configuration = configuration
        self.signer = S3Signer(
            accessKey: configuration.accessKey, secretKey: configuration.secretKey, region: configuration.region)
        var http = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(60)))
        http.decompression = .disabled
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
    }

    /// Closes the HTTP client's connections; the store must not be used afterwards.
    package func shutdown() async throws {
        try await client.shutdown()
    }

    /// Creates the bucket (an operator's set-up step; the tests' too). An existing bucket of ours is fine.
    package func createBucket() async throws {
        let response = try await send("PUT", path: "/\(configuration.bucket)", body: nil)
        let text = try await Self.text(response)
        guard (200..<300).contains(response.status.code) || text.contains("BucketAlreadyOwnedByYou") else {
            throw BlobError.backend(
                "creating bucket \(configuration.bucket): \(response.status.code) \(text.prefix(300))")
        }
    }

    func path(_ key: BlobKey) -> String { "/\(configuration.bucket)/\(key.path)" }

    package func put<Body: AsyncSequence & Sendable>(
        _ key: BlobKey, contentType: String, maxBytes: Int64, body: Body
    ) async throws -> BlobInfo where Body.Element == ByteBuffer {
        var meter = try BlobUploadMeter(contentType: contentType, maxBytes: maxBytes)
        let partSize = configuration.partSize
        var part = ByteBuffer()
        var upload: MultipartUpload?
        do {
            for try await var chunk in body {
                try meter.count(chunk)
                while chunk.readableBytes > 0 {
                    var slice = chunk.readSlice(length: min(chunk.readableBytes, partSize - part.readableBytes))!
                    part.writeBuffer(&slice)
                    if part.readableBytes == partSize {
                        if upload == nil { upload = try await begin(key, contentType: contentType) }
                        try await upload!.send(part, store: self)
                        part = ByteBuffer()
                    }
                }
            }
            if var upload {
                if part.readableBytes > 0 || upload.parts.isEmpty { try await upload.send(part, store: self) }
                try await complete(upload)
            } else {
                let response = try await send(
                    "PUT", path: path(key), headers: ["content-type": contentType], body: part)
                try await Self.expectSuccess(response, "storing \(key)")
            }
            return meter.finish()
        } catch {
            if let upload { try? await abort(upload) }
            throw error
        }
    }

    package func get(_ key: BlobKey) async throws -> BlobDownload {
        let response = try await send("GET", path: path(key), body: nil)
        if response.status == .notFound {
            _ = try? await Self.text(response)
            throw BlobError.notFound(key.path)
        }
        try await Self.expectSuccess(response, "reading \(key)")
        return BlobDownload(
            size: response.headers.first(name: "content-length").flatMap { Int64($0) }, body: response.body)
    }

    package func delete(_ key: BlobKey) async throws {
        let response = try await send("DELETE", path: path(key), body: nil)
        if response.status == .notFound { return }
        try await Self.expectSuccess(response, "deleting \(key)")
    }

    package func presignedURL(_ key: BlobKey, expiresIn seconds: Int) throws -> String? {
        let path = path(key)
        let query = signer.presignedQuery(
            path: path, host: configuration.hostHeader, expires: seconds, date: Date())
        return configuration.base + S3Signer.encodePath(path) + "?" + query
    }

    /// The ids of the bucket's multipart uploads not yet completed or aborted (what a failed upload must not leave).
    package func pendingUploads() async throws -> [String] {
        let response = try await send("GET", path: "/\(configuration.bucket)", query: [("uploads", "")], body: nil)
        let text = try await Self.text(response)
        guard (200..<300).contains(response.status.code) else {
            throw BlobError.backend("listing uploads: \(response.status.code) \(text.prefix(300))")
        }
        return Self.elements("UploadId", in: text)
    }

    // MARK: - Multipart

    struct MultipartUpload {
        let key: BlobKey
        let id: String
        var parts: [(number: Int, etag: String)] = []

        mutating func send(_ part: ByteBuffer, store: S3BlobStore) async throws {
            let number = parts.count + 1
            let response = try await store.send(
                "PUT", path: store.path(key), query: [("partNumber", String(number)), ("uploadId", id)], body: part)
            try await S3BlobStore.expectSuccess(response, "storing part \(number) of \(key)")
            guard let etag = response.headers.first(name: "etag") else {
                throw BlobError.backend("part \(number) of \(key): no ETag in the answer")
            }
            parts.append((number, etag))
        }
    }

    func begin(_ key: BlobKey, contentType: String) async throws -> MultipartUpload {
        let response = try await send(
            "POST", path: path(key), query: [("uploads", "")], headers: ["content-type": contentType], body: nil)
        let text = try await Self.text(response)
        guard (200..<300).contains(response.status.code), let id = Self.elements("UploadId", in: text).first else {
            throw BlobError.backend("starting the upload of \(key): \(response.status.code) \(text.prefix(300))")
        }
        return MultipartUpload(key: key, id: id)
    }

    func complete(_ upload: MultipartUpload) async throws {
        let parts = upload.parts.map {
            "<Part><PartNumber>\($0.number)</PartNumber><ETag>\(Self.escapeXML($0.etag))</ETag></Part>"
        }.joined()
        let xml = "<CompleteMultipartUpload>\(parts)</CompleteMultipartUpload>"
        let response = try await send(
            "POST", path: path(upload.key), query: [("uploadId", upload.id)],
            headers: ["content-type": "application/xml"], body: ByteBuffer(string: xml))
        // S3 may answer 200 with an error in the body when completing fails late.
        let text = try await Self.text(response)
        guard (200..<300).contains(response.status.code), !text.contains("<Error>") else {
            throw BlobError.backend(
                "completing the upload of \(upload.key): \(response.status.code) \(text.prefix(300))")
        }
    }

    func abort(_ upload: MultipartUpload) async throws {
        let response = try await send("DELETE", path: path(upload.key), query: [("uploadId", upload.id)], body: nil)
        _ = try? await Self.text(response)
    }

    // MARK: - HTTP

    /// One signed request; the body's SHA-256 is signed (a body is at most one part).
    func send(
        _ method: String, path: String, query: [(String, String)] = [], headers: [String: String] = [:],
        body: ByteBuffer?
    ) async throws -> HTTPClientResponse {
        let payloadHash =
            body.map { buffer in
                buffer.withUnsafeReadableBytes { SHA256.hash(data: $0).lowercaseHex }
            } ?? SHA256.hash(data: Data()).lowercaseHex
        var toSign = headers
        toSign["host"] = configuration.hostHeader
        let signature = signer.sign(
            method: method, path: path, query: query, headers: toSign, payloadHash: payloadHash, date: Date())
        let queryText = query.isEmpty ? "" : "?" + S3Signer.canonicalQuery(query)
        var request = HTTPClientRequest(url: configuration.base + S3Signer.encodePath(path) + queryText)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers.merging(signature, uniquingKeysWith: { $1 }) {
            request.headers.add(name: name, value: value)
        }
        if let body {
            request.body = .bytes(body)
            request.headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
        }
        return try await client.execute(request, timeout: .seconds(300))
    }

    static func expectSuccess(_ response: HTTPClientResponse, _ what: String) async throws {
        guard (200..<300).contains(response.status.code) else {
            let text = (try? await text(response)) ?? ""
            throw BlobError.backend("\(what): \(response.status.code) \(text.prefix(300))")
        }
    }

    static func text(_ response: HTTPClientResponse) async throws -> String {
        String(buffer: try await response.body.collect(upTo: 1 << 20))
    }

    /// The texts of `<name>` elements (S3's small XML answers need no more).
    static func elements(_ name: String, in xml: String) -> [String] {
        xml.components(separatedBy: "<\(name)>").dropFirst().compactMap {
            $0.components(separatedBy: "</\(name)>").first
        }
    }

    static func escapeXML(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
