import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A long-running child (a `sluice serve` or `sluice worker`) whose output goes to a log file;
/// tests stop it with SIGTERM or kill it with SIGKILL. It is killed when the value is dropped unstopped.
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    public let logPath: String

    public init(_ executable: String, _ arguments: [String], logPath: String, environment: [String: String] = [:]) throws {
        self.logPath = logPath
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    public var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until the log contains `text` (e.g. the URL a server prints), up to `timeout`.
    public func waitForOutput(_ text: String, timeout: Duration = .seconds(30)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if output.contains(text) { return true }
            if !process.isRunning { return output.contains(text) }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// SIGTERM, then waits for the exit (SIGKILL after `grace`); returns the exit status.
    @discardableResult
    public func stop(grace: Duration = .seconds(20)) async -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// SIGSTOP: freezes the process (it keeps its sockets and holds whatever it held) until `resume()`.
    public func pause() { if process.isRunning { kill(pid, SIGSTOP) } }

    /// SIGCONT: lets a paused process go on.
    public func resume() { if process.isRunning { kill(pid, SIGCONT) } }

    /// SIGKILL: the process gets no chance to clean up.
    public func killHard() {
        guard process.isRunning else { return }
        kill(pid, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { kill(pid, SIGKILL) }
    }
}

/// The `sluice` binary the process tests run: the release build when scripts/test made one, else the debug build.
public enum SluiceBinary {
    public static let path: String = {
        if let path = ProcessInfo.processInfo.environment["SLUICE_RELEASE_BINARY"], !path.isEmpty { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/sluice").path
    }()
}
