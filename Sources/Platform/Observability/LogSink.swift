import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where log lines go: appended to an in-memory buffer and written to a file descriptor in large chunks,
/// so logging a request costs a memory copy rather than a system call. `LogFlushService` empties it
/// periodically and at shutdown; `immediate` sinks (command-line tools) write every line at once.
package final class LogSink: Sendable {
    private struct State {
        var bytes: [UInt8] = []
        var clock = LogClock()
    }

    private let state = Mutex(State())
    private let fileDescriptor: Int32
    private let immediate: Bool
    static let flushThreshold = 64 * 1024

    package init(fileDescriptor: Int32 = 1, immediate: Bool) {
        self.fileDescriptor = fileDescriptor
        self.immediate = immediate
    }

    /// Appends one line (a newline is added).
    package func write(line: String) {
        record { $0.raw(line) }
    }

    /// Builds one line directly in the buffer (no intermediate `String`), then adds the newline.
    func record(_ build: (inout LogLineWriter) -> Void) {
        state.withLock { state in
            var writer = LogLineWriter(bytes: state.bytes, clock: state.clock)
            state.bytes = []
            build(&writer)
            writer.bytes.append(0x0A)
            state.bytes = writer.bytes
            state.clock = writer.clock
            if immediate || state.bytes.count >= Self.flushThreshold {
                Self.writeAll(state.bytes, to: fileDescriptor)
                state.bytes.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Writes out whatever is buffered.
    package func flush() {
        state.withLock { state in
            guard !state.bytes.isEmpty else { return }
            Self.writeAll(state.bytes, to: fileDescriptor)
            state.bytes.removeAll(keepingCapacity: true)
        }
    }

    private static func writeAll(_ bytes: [UInt8], to fileDescriptor: Int32) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = systemWrite(fileDescriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}

private func systemWrite(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
        Glibc.write(fd, pointer, count)
    #else
        Darwin.write(fd, pointer, count)
    #endif
}
