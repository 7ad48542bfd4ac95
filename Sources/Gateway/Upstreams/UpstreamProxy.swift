import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import Platform
import Synchronization

/// Forwards a request to an upstream and streams the answer back: bodies stream both ways (an upload or a
/// server-sent event stream is never held in memory), hop-by-hop headers are dropped, `X-Forwarded-*` are added.
/// A try that fails to connect, times out before the response head or gets 502/503/504 counts against the
/// target; idempotent requests without a body are retried on another target within the retry budget.
package struct UpstreamProxy: Sendable {
    let clients: UpstreamClients

    package init(clients: UpstreamClients) {
        self.clients = clients
    }

    /// The upstream's answer, or a 502/503/504 problem when no target answered.
    package func forward(
        _ request: Request, path: String, pool: UpstreamPool, context: AppRequestContext,
        record: inout GatewayRecord, tls: Bool
    ) async throws -> Response {
        let settings = pool.settings
        let client = clients.client(connectTimeout: settings.connectTimeout)
        let hasBody = Self.hasBody(request.headers, method: request.method)
        let retriable = !hasBody && Self.idempotent.contains(request.method)
        var headers = Self.forwardedHeaders(request, context: context, tls: tls)
        headers.replaceOrAdd(name: "x-request-id", value: context.requestID)
        // The upstream's request is a child span of this hop, in the client's trace (or the one begun here).
        if let trace = context.trace { headers.replaceOrAdd(name: "traceparent", value: trace.child().header) }
        var tried = Set<Int>()
        var attempt = 0
        let started = ContinuousClock.now
        defer { record.upstreamDuration = ContinuousClock.now - started }
        while true {
            guard let lease = pool.acquire(now: .now, avoiding: tried, isRetry: attempt > 0) else {
                throw Problem(
                    status: .serviceUnavailable, detail: "\(settings.name) is unavailable; try again shortly",
                    headers: [.retryAfter: "\(max(1, Int(settings.breakerOpen.components.seconds)))"])
            }
            tried.insert(lease.index)
            record.upstreamTarget = lease.target.description
            var outgoing = HTTPClientRequest(url: lease.target.origin + lease.target.basePath + path)
            outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
            outgoing.headers = headers
            let bodyFailure = BodyFailure()
            if hasBody {
                let length = request.headers[.contentLength].flatMap { Int64($0) }
                outgoing.body = .stream(
                    ObservedRequestBody(base: request.body, failure: bodyFailure),
                    length: length.map { .known($0) } ?? .unknown)
            }
            let failure: Problem
            do {
                let response = try await client.execute(
                    outgoing, deadline: .now() + .nanoseconds(settings.tryTimeout.nanoseconds))
                let status = Int(response.status.code)
                let upstreamFailed = status == 502 || status == 503 || status == 504
                pool.record(lease, outcome: upstreamFailed ? .failure : .success, now: .now)
                if upstreamFailed, retriable, attempt < settings.retries, pool.mayRetry() {
                    attempt += 1
                    // The failed answer's body is dropped; the connection then goes back to the pool or closes.
                    _ = try? await response.body.collect(upTo: 64 * 1024)
                    pool.release(lease)
                    continue
                }
                // The target stays counted as busy until the body has been passed on (a server-sent event stream
                // can last for hours), or the response is dropped unsent.
                return Self.response(from: response, release: LeaseRelease(pool: pool, lease: lease))
            } catch is CancellationError {
                pool.finish(lease, outcome: .abandoned, now: .now)
                throw CancellationError()
            } catch let error as HTTPClientError where error == .cancelled {
                pool.finish(lease, outcome: .abandoned, now: .now)
                throw error
            } catch {
                if let clientError = bodyFailure.recorded {
                    // The client's upload failed (too large, aborted): its answer, and nothing against the upstream.
                    pool.finish(lease, outcome: .abandoned, now: .now)
                    throw clientError
                }
                pool.finish(lease, outcome: .failure, now: .now)
                failure = Self.problem(for: error, upstream: settings.name)
            }
            if retriable, attempt < settings.retries, pool.mayRetry() {
                attempt += 1
                continue
            }
            throw failure
        }
    }

    static let idempotent: Set<HTTPRequest.Method> = [.get, .head, .options, .put, .delete, .trace]

    /// Headers that describe one connection, not the message (RFC 9110 §7.6.1), never forwarded. `Host` is kept,
    /// as Envoy does: modules build links and their issuer from it.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
        "trailer", "transfer-encoding", "upgrade",
    ]

    /// Whether a request may carry a body: a non-zero length, chunked framing, or (HTTP/2 needs neither) a method
    /// that normally has one.
    static func hasBody(_ headers: HTTPFields, method: HTTPRequest.Method) -> Bool {
        if headers[.transferEncoding] != nil { return true }
        if let length = headers[.contentLength] { return length != "0" }
        return method == .post || method == .put || method == .patch
    }

    /// The hop-by-hop header names of a message: the fixed ones and those its `Connection` header names.
    static func hopByHop(naming connection: [String]) -> Set<String> {
        var named = hopByHop
        for value in connection {
            for token in value.split(separator: ",") {
                named.insert(token.trimmingCharacters(in: .whitespaces).lowercased())
            }
        }
        return named
    }

    package static func forwardedHeaders(_ request: Request, context: AppRequestContext, tls: Bool) -> HTTPHeaders {
        let named = hopByHop(naming: request.headers[values: .connection])
        var headers = HTTPHeaders()
        headers.reserveCapacity(request.headers.count + 5)
        // HTTP/1's Host arrives as the request's authority; it travels on (as Envoy does), so modules build links
        // and their issuer from the name the client used.
        if let authority = request.head.authority { headers.add(name: "host", value: authority) }
        for field in request.headers where !named.contains(field.name.canonicalName) {
            headers.add(name: field.name.rawName, value: field.value)
        }
        // The gateway is the edge: what clients claim in X-Forwarded-* is replaced by what the gateway saw.
        headers.remove(name: "x-forwarded-for")
        headers.remove(name: "x-forwarded-proto")
        headers.remove(name: "x-forwarded-host")
        if let client = context.remoteAddress { headers.add(name: "x-forwarded-for", value: client) }
        headers.add(name: "x-forwarded-proto", value: tls ? "https" : "http")
        if let host = request.head.authority { headers.add(name: "x-forwarded-host", value: host) }
        return headers
    }

    static func response(from upstream: HTTPClientResponse, release: LeaseRelease) -> Response {
        var fields = HTTPFields()
        fields.reserveCapacity(upstream.headers.count)
        let named = hopByHop(naming: upstream.headers["connection"])
        var contentLength: Int?
        for (name, value) in upstream.headers {
            let lower = name.lowercased()
            if named.contains(lower) { continue }
            if lower == "content-length" {
                contentLength = Int(value)
                continue
            }
            if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
        }
        let body = upstream.body
        return Response(
            status: HTTPResponse.Status(code: Int(upstream.status.code), reasonPhrase: upstream.status.reasonPhrase),
            headers: fields,
            body: ResponseBody(contentLength: contentLength) { writer in
                defer { release.release() }
                for try await chunk in body { try await writer.write(chunk) }
                try await writer.finish(nil)
            })
    }

    static func problem(for error: any Error, upstream: String) -> Problem {
        if let client = error as? HTTPClientError, client == .deadlineExceeded || client == .readTimeout {
            return Problem(status: .gatewayTimeout, detail: "\(upstream) did not answer in time")
        }
        return Problem(status: .badGateway, detail: "\(upstream) could not be reached")
    }
}

/// Gives a lease back exactly once: when the response body has been written, or when the response is dropped
/// without being written (the client went away), whichever comes first.
final class LeaseRelease: Sendable {
    let pool: UpstreamPool
    let lease: UpstreamPool.Lease
    private let done = Atomic<Bool>(false)

    init(pool: UpstreamPool, lease: UpstreamPool.Lease) {
        self.pool = pool
        self.lease = lease
    }

    func release() {
        if !done.exchange(true, ordering: .acquiringAndReleasing) { pool.release(lease) }
    }

    deinit { release() }
}

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!
    static let xForwardedHost = HTTPField.Name("X-Forwarded-Host")!
}
