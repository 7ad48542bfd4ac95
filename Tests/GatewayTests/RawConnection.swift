import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A plain blocking TCP connection to a loopback port, for what an HTTP client library hides: pipelined requests,
/// idle connections, oversized heads. Reads give up after `timeout` seconds of silence.
final class RawConnection: @unchecked Sendable {
    private let descriptor: Int32

    init(port: Int, timeout: Int = 10) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw RawConnectionError.failed("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            Glibc.close(descriptor)
            throw RawConnectionError.failed("connect")
        }
        var wait = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
    }

    private var closed = false

    deinit { close() }

    /// Ends the sending direction (`shutdown(SHUT_WR)`): the peer reads the end of the input.
    func shutdownWrite() {
        _ = Glibc.shutdown(descriptor, Int32(SHUT_WR))
    }

    /// Closes the connection (a client leaving).
    func close() {
        if !closed {
            closed = true
            Glibc.close(descriptor)
        }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }
            guard written > 0 else { throw RawConnectionError.failed("send") }
            offset += written
        }
    }

    /// `readToEnd` on a thread of its own: a blocking read must not hold one of Swift concurrency's few threads
    /// (the servers under test need them, and tests run in parallel).
    func readToEnd() async -> (text: String, closed: Bool) {
        await Self.onThread { self.blockingReadToEnd() }
    }

    func readResponses(_ count: Int) async -> [String] {
        await Self.onThread { self.blockingReadResponses(count) }
    }

    private static func onThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: work()) }.start()
        }
    }

    /// Reads until the peer closes the connection (or the timeout passes): everything received, and whether it
    /// was closed.
    private func blockingReadToEnd() -> (text: String, closed: Bool) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { return (String(decoding: received, as: UTF8.self), true) }
            if count < 0 { return (String(decoding: received, as: UTF8.self), false) }
            received.append(contentsOf: buffer[0..<count])
        }
    }

    /// Reads until `text` contains `count` complete responses with `Content-Length` bodies (or the peer closes).
    private func blockingReadResponses(_ count: Int) -> [String] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let responses = Self.split(String(decoding: received, as: UTF8.self))
            if responses.count >= count { return responses }
            let read = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if read <= 0 { return responses }
            received.append(contentsOf: buffer[0..<read])
        }
    }

    /// Complete responses in `text`, each head and body.
    static func split(_ text: String) -> [String] {
        var responses: [String] = []
        var rest = Substring(text)
        while let headEnd = rest.range(of: "\r\n\r\n") {
            let head = rest[..<headEnd.lowerBound]
            var length = 0
            for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                length = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
            }
            let bodyStart = headEnd.upperBound
            guard rest.utf8.count - rest[..<bodyStart].utf8.count >= length else { break }
            let bodyEnd = rest.utf8.index(bodyStart, offsetBy: length)
            responses.append(String(rest[..<bodyEnd]))
            rest = rest[bodyEnd...]
        }
        return responses
    }
}

enum RawConnectionError: Error {
    case failed(String)
}
