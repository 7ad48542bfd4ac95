import Foundation
import Kernel
import NIOCore
import NIOHTTP1

/// RFC 9112's rules for a request that cannot be framed or addressed, right after the HTTP/1 decoder and so in
/// front of everything else (the gateway's fast path, WebSocket upgrades, Hummingbird):
///
/// - a request the decoder refuses (bad syntax, a broken chunk) or with `Transfer-Encoding` on HTTP/1.0 (§6.1) gets
///   400 and the connection is closed: the bytes after it cannot be trusted to start a request, so none is read;
/// - an HTTP/1.1 request without `Host`, any request with more than one, or one whose value is not a host and
///   optional port, gets 400 (§3.2), and the connection is closed too.
///
/// A refusal waits for the answers to earlier requests of the connection that are still being written; a framing
/// error in the middle of a request's body has nothing sensible to answer and closes the connection at once.
package final class HTTPFramingGuard: ChannelDuplexHandler, RemovableChannelHandler {
    package typealias InboundIn = HTTPServerRequestPart
    package typealias InboundOut = HTTPServerRequestPart
    package typealias OutboundIn = HTTPServerResponsePart
    package typealias OutboundOut = HTTPServerResponsePart

    /// Requests passed on whose final answer has not been written to its end.
    private var unanswered = 0
    private var inRequest = false
    /// Set once the connection is refused: nothing more is read from it.
    private var refusal: String?
    private var refusalWritten = false

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard refusal == nil else { return }
        let part = unwrapInboundIn(data)
        switch part {
        case .head(let head):
            if let problem = Self.problem(with: head) {
                refuse(context: context, detail: problem)
                return
            }
            unanswered += 1
            inRequest = true
        case .body:
            break
        case .end:
            inRequest = false
        }
        context.fireChannelRead(data)
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard refusal == nil else { return }
        if inRequest {
            // The request being passed on cannot be completed: there is no answer to give it.
            refusal = "broken request"
            context.close(promise: nil)
            return
        }
        refuse(context: context, detail: "the request could not be parsed as HTTP/1.1 (RFC 9112)")
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
        if case .end = unwrapOutboundIn(data) {
            unanswered -= 1
            if unanswered == 0, refusal != nil { writeRefusal(context: context) }
        }
    }

    private func refuse(context: ChannelHandlerContext, detail: String) {
        refusal = detail
        if unanswered == 0 { writeRefusal(context: context) }
    }

    /// 400 problem+json with `Connection: close`, then the connection is closed.
    private func writeRefusal(context: ChannelHandlerContext) {
        guard let detail = refusal, !refusalWritten else { return }
        refusalWritten = true
        let problem = Problem(status: .badRequest, detail: detail)
        let body = problem.body(instance: "", requestID: UUID.v7().uuidString.lowercased())
        let head = HTTPResponseHead(
            version: .http1_1, status: .badRequest,
            headers: [
                "Content-Type": "application/problem+json", "Content-Length": "\(body.readableBytes)",
                "Connection": "close", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
            ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
    }

    /// Why `head` cannot be served (RFC 9112 §3.2), or `nil`.
    static func problem(with head: HTTPRequestHead) -> String? {
        let atLeast11 = head.version.major > 1 || (head.version.major == 1 && head.version.minor >= 1)
        // §6.1: HTTP/1.0 has no transfer codings; such a message's framing is faulty (a smuggling vector).
        if !atLeast11 && head.headers.contains(name: "transfer-encoding") {
            return "an HTTP/1.0 request cannot carry Transfer-Encoding"
        }
        let hosts = head.headers["host"]
        if hosts.count > 1 { return "the request has more than one Host header field" }
        guard let host = hosts.first else {
            return atLeast11 ? "an HTTP/1.1 request needs a Host header field" : nil
        }
        return isHost(host) ? nil : "the Host header field is not a host name and port"
    }

    /// `uri-host [ ":" port ]`: a registered name, IPv4 address or bracketed IP literal; empty is allowed (a target
    /// without authority).
    package static func isHost(_ value: String) -> Bool {
        value.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            default:
                "-._~!$&'()*+,;=:[]%".utf8.contains(byte)
            }
        }
    }
}
