import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with `posix_spawn`, with the part of Foundation's `Process` interface the tests use.
///
/// Why not `Process`: on Linux with Swift 6.3, `Process.run()` intermittently crashes (a 256-byte over-read of
/// `/proc/self/fd` entries, swiftlang/swift-corelibs-foundation#5472, fixed after 6.3.1); a test run that spawns
/// many processes met it. This spawns the child directly: standard output and error go where asked, standard input
/// reads `/dev/null`, every other inherited descriptor is closed in the child (`closefrom`), and one thread per child
/// waits for its exit.
package final class ChildProcess: @unchecked Sendable {
    package var executableURL: URL?
    package var arguments: [String] = []
    /// The child's whole environment; `nil` passes this process's on.
    package var environment: [String: String]?
    package var currentDirectoryURL: URL?
    /// A `FileHandle` or a `Pipe` (its writing end), or `nil` for this process's own.
    package var standardOutput: Any?
    package var standardError: Any?
    /// Called once, on a background thread, when the child has exited.
    package var terminationHandler: (@Sendable (ChildProcess) -> Void)?
    package private(set) var processIdentifier: pid_t = 0

    private let condition = NSCondition()
    private var exitStatus: Int32?
    private var started = false

    package init() {}

    package var isRunning: Bool {
        condition.lock()
        defer { condition.unlock() }
        return started && exitStatus == nil
    }

    /// The exit code, or the number of the signal that ended the child (as `Process` reports it).
    package var terminationStatus: Int32 {
        condition.lock()
        defer { condition.unlock() }
        return exitStatus ?? 0
    }

    package func run() throws {
        guard let executable = executableURL?.path else { throw ChildProcessError.noExecutable }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let descriptor = Self.writingDescriptor(standardOutput) {
            posix_spawn_file_actions_adddup2(&actions, descriptor, 1)
        }
        if let descriptor = Self.writingDescriptor(standardError) {
            posix_spawn_file_actions_adddup2(&actions, descriptor, 2)
        }
        guard Self.closeFrom(&actions, 3) == 0 else { throw ChildProcessError.spawn(errno) }
        if let directory = currentDirectoryURL?.path {
            guard Self.changeDirectory(&actions, directory) == 0 else { throw ChildProcessError.spawn(errno) }
        }
        let environment = self.environment ?? ProcessInfo.processInfo.environment
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard result == 0 else { throw ChildProcessError.spawn(result) }
        processIdentifier = pid
        condition.lock()
        started = true
        condition.unlock()
        // As Process does: the parent's copy of a pipe's writing end is closed, so readers see the end of output.
        for target in [standardOutput, standardError] {
            if let pipe = target as? Pipe { try? pipe.fileHandleForWriting.close() }
        }
        let child = pid
        Thread { [self] in reap(child) }.start()
    }

    package func waitUntilExit() {
        condition.lock()
        while started && exitStatus == nil { condition.wait() }
        condition.unlock()
    }

    package func terminate() {
        if isRunning { kill(processIdentifier, SIGTERM) }
    }

    private func reap(_ pid: pid_t) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let signal = status & 0x7f
        let code = signal == 0 ? (status >> 8) & 0xff : signal
        condition.lock()
        exitStatus = code
        condition.broadcast()
        let handler = terminationHandler
        condition.unlock()
        handler?(self)
    }

    private static func writingDescriptor(_ target: Any?) -> Int32? {
        switch target {
        case let handle as FileHandle: handle.fileDescriptor
        case let pipe as Pipe: pipe.fileHandleForWriting.fileDescriptor
        default: nil
        }
    }

    // glibc has these (2.34 and 2.29), but only declares them for _GNU_SOURCE, which Swift's Glibc module is not.
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias ChangeDirectory =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    private static let closeFromFunction: CloseFrom? = dlsym(
        UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np"
    ).map { unsafeBitCast($0, to: CloseFrom.self) }
    private static let changeDirectoryFunction: ChangeDirectory? = dlsym(
        UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np"
    ).map { unsafeBitCast($0, to: ChangeDirectory.self) }

    private static func closeFrom(_ actions: inout posix_spawn_file_actions_t, _ lowest: Int32) -> Int32 {
        guard let function = closeFromFunction else { return ENOSYS }
        return function(&actions, lowest)
    }

    private static func changeDirectory(_ actions: inout posix_spawn_file_actions_t, _ path: String) -> Int32 {
        guard let function = changeDirectoryFunction else { return ENOSYS }
        return path.withCString { function(&actions, $0) }
    }
}

package enum ChildProcessError: Error {
    case noExecutable
    case spawn(Int32)
}
