import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// One complete server reply; multi-line replies (`250-...` / `250 ...`) arrive as a single value.
struct SMTPReply: Sendable, Equatable {
    var code: Int
    var lines: [String]

    var message: String { lines.joined(separator: "\n") }
}

/// Splits the server's byte stream into `SMTPReply` values, however TCP or TLS chopped it, and feeds them to the
/// session through an `AsyncThrowingStream` so the protocol logic can be plain sequential async code.
final class SMTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias Continuation = AsyncThrowingStream<SMTPReply, any Error>.Continuation

    /// A server that never ends a line must not make us buffer without bound.
    static let maxBufferedBytes = 64 * 1024

    private let continuation: Continuation
    private var buffer = ByteBuffer()
    private var pendingLines: [String] = []
    private var pendingCode: Int?

    init(continuation: Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        do {
            while let line = nextLine() {
                guard let reply = try consume(line) else { continue }
                continuation.yield(reply)
                // We never pipeline, so bytes after a complete reply are either a broken server or a
                // STARTTLS command-injection attempt (CVE-2011-0411 style); both end the session.
                if buffer.readableBytes > 0 {
                    throw MailError.connection("unexpected data after a reply")
                }
            }
            if buffer.readableBytes > Self.maxBufferedBytes {
                throw MailError.connection("reply line too long")
            }
        } catch {
            fail(context: context, error: error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish(throwing: MailError.connection("connection closed by the server"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, error: error)
    }

    /// TLS failures are reported apart from network failures because they are not worth retrying.
    private func fail(context: ChannelHandlerContext, error: any Error) {
        let mailError: MailError =
            switch error {
            case let error as MailError: error
            case let error as NIOSSLError: .tls(String(describing: error))
            case let error as BoringSSLError: .tls(String(describing: error))
            case let error as NIOSSLExtraError: .tls(String(describing: error))
            default: .connection(String(describing: error))
            }
        continuation.finish(throwing: mailError)
        context.close(promise: nil)
    }

    /// Returns the next CRLF- (or bare LF-) terminated line, or nil until more bytes arrive.
    private func nextLine() -> String? {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let length = newline - buffer.readerIndex
        guard var bytes = buffer.readBytes(length: length + 1) else { return nil }
        bytes.removeLast()
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Accumulates one line; returns the reply once its last line (`NNN ` or bare `NNN`) is seen.
    private func consume(_ line: String) throws -> SMTPReply? {
        let scalars = Array(line.unicodeScalars)
        guard scalars.count >= 3, let code = Int(String(String.UnicodeScalarView(scalars[0..<3]))),
            (200...599).contains(code)
        else { throw MailError.connection("malformed reply line \(line.debugDescription)") }
        if let pendingCode, pendingCode != code {
            throw MailError.connection("reply code changed inside a multi-line reply")
        }
        let separator = scalars.count > 3 ? scalars[3] : " "
        let text = scalars.count > 4 ? String(String.UnicodeScalarView(scalars[4...])) : ""
        pendingLines.append(text)
        if separator == "-" {
            pendingCode = code
            return nil
        }
        defer {
            pendingLines = []
            pendingCode = nil
        }
        return SMTPReply(code: code, lines: pendingLines)
    }
}

@available(*, unavailable)
extension SMTPReplyHandler: Sendable {}

/// An open SMTP connection: one command in flight at a time, each bounded by the command timeout.
/// Owned by a single task (not `Sendable`), which is what lets it hold the stream iterator.
struct SMTPConnection {
    let channel: any Channel
    private let continuation: SMTPReplyHandler.Continuation
    private var replies: AsyncThrowingStream<SMTPReply, any Error>.AsyncIterator
    private let commandTimeout: TimeAmount
    private let logger: Logger
    /// True once the byte stream is encrypted, which is what decides whether credentials may be sent.
    private(set) var isTLS: Bool

    /// Opens the TCP (and, for SMTPS, TLS) connection; the greeting is left for the caller to read.
    static func connect(
        configuration: SMTPConfiguration, implicitTLS: NIOSSLContext?, logger: Logger
    ) async throws -> SMTPConnection {
        let (stream, continuation) = AsyncThrowingStream<SMTPReply, any Error>.makeStream()
        let serverName = sniName(for: configuration.host)
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let implicitTLS {
                        try sync.addHandler(NIOSSLClientHandler(context: implicitTLS, serverHostname: serverName))
                    }
                    try sync.addHandler(SMTPReplyHandler(continuation: continuation))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch let error as ChannelError {
            if case .connectTimeout = error { throw MailError.timeout }
            throw MailError.connection(String(describing: error))
        } catch let error as NIOSSLExtraError {
            throw MailError.tls(String(describing: error))
        } catch {
            throw MailError.connection(String(describing: error))
        }
        // Whatever ends the stream (server close, timeout, a cancelled task) also releases the socket.
        continuation.onTermination = { _ in channel.close(promise: nil) }
        return SMTPConnection(
            channel: channel, continuation: continuation, replies: stream.makeAsyncIterator(),
            commandTimeout: TimeAmount(configuration.commandTimeout), logger: logger, isTLS: implicitTLS != nil)
    }

    /// SNI and hostname checks take a DNS name; for an IP literal NIOSSL checks the certificate's IP SAN instead.
    static func sniName(for host: String) -> String? {
        let isIPv4 = host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." }
        return isIPv4 || host.contains(":") ? nil : host
    }

    /// Reads a reply without sending anything (the greeting).
    mutating func readReply() async throws -> SMTPReply {
        try await exchange(nil, logged: nil)
    }

    /// Sends one command line; `logged` replaces it in the debug log when it carries secrets.
    mutating func command(_ line: String, logged: String? = nil) async throws -> SMTPReply {
        var buffer = channel.allocator.buffer(capacity: line.utf8.count + 2)
        buffer.writeString(line)
        buffer.writeString("\r\n")
        return try await exchange(buffer, logged: logged ?? line)
    }

    /// Sends the already dot-stuffed message body (ending in `CRLF.CRLF`) and reads the final reply.
    mutating func sendData(_ payload: ByteBuffer) async throws -> SMTPReply {
        try await exchange(payload, logged: "<\(payload.readableBytes) bytes of message data>")
    }

    /// Writes then waits for the reply; a timer on the event loop fails the stream and closes the channel,
    /// so a silent server can't hang us.
    private mutating func exchange(_ payload: ByteBuffer?, logged: String?) async throws -> SMTPReply {
        let continuation = self.continuation
        let channel = self.channel
        let timer = channel.eventLoop.scheduleTask(in: commandTimeout) {
            continuation.finish(throwing: MailError.timeout)
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        if let payload {
            if let logged { logger.debug("C: \(logged)") }
            do {
                try await channel.writeAndFlush(payload).get()
            } catch {
                // The stream usually knows the real cause (timeout, TLS failure, server closed).
                _ = try await replies.next()
                throw MailError.connection("write failed: \(error)")
            }
        }
        guard let reply = try await replies.next() else {
            // The stream only ends without an error when the waiting task was cancelled.
            try Task.checkCancellation()
            throw MailError.connection("connection closed")
        }
        logger.debug("S: \(reply.code) \(reply.message)")
        return reply
    }

    /// Inserts TLS in front of the reply parser after the server's `220` to `STARTTLS`.
    mutating func startTLS(context: NIOSSLContext, host: String) async throws {
        let serverName = Self.sniName(for: host)
        let channel = self.channel
        do {
            try await channel.eventLoop.submit {
                let handler = try NIOSSLClientHandler(context: context, serverHostname: serverName)
                try channel.pipeline.syncOperations.addHandler(handler, position: .first)
            }.get()
        } catch let error as ChannelError {
            // Closed before TLS could start (the server hung up after its 220): a connection failure, worth
            // another try, not a TLS one (seen once on a loaded machine).
            throw MailError.connection("connection closed before TLS started: \(error)")
        } catch {
            throw MailError.tls(String(describing: error))
        }
        isTLS = true
    }

    /// Best-effort polite goodbye, then close; never throws because it runs on error paths too.
    mutating func quitAndClose() async {
        if channel.isActive {
            _ = try? await command("QUIT")
        }
        await close()
    }

    /// Idempotent: closing an already closed channel is not an error worth reporting.
    func close() async {
        try? await channel.close()
    }
}
