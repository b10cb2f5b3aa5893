import Foundation
import NodeKit

/// Runs the dbt command line as a child process with an environment of its own (so a project's
/// `env_var()` sees only what Sluice gives it, never the server's own variables), its output going to files in a
/// private folder, which is read while it runs so its events arrive live. Cancelling the node interrupts dbt
/// (SIGINT: dbt cancels its queries), then kills it if it does not stop.
struct DBTProcess {
    let executable: String
    let arguments: [String]
    let environment: [String: String]
    let folder: String

    /// Finds `dbt` on the server's PATH.
    static func locate(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        for directory in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/dbt"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs dbt, handing each line it prints (JSON log events) to `line` as it comes; returns its exit status
    /// and the end of what it wrote to stderr.
    func run(_ line: @escaping @Sendable (String) -> Void) async throws -> (status: Int32, stderr: String) {
        let stdoutPath = folder + "/stdout.jsonl"
        let stderrPath = folder + "/stderr.txt"
        FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        guard let stdout = FileHandle(forWritingAtPath: stdoutPath), let stderr = FileHandle(forWritingAtPath: stderrPath) else {
            throw NodeError(code: "dbt_failed", message: "cannot create dbt's output files in \(folder)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        let exited = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished in
            exited.continuation.yield(finished.terminationStatus)
            exited.continuation.finish()
        }
        do { try process.run() } catch {
            throw NodeError(code: "dbt_failed", message: "cannot start \(executable)", cause: "\(error)")
        }
        try? stdout.close()
        try? stderr.close()
        let reader = LineReader(path: stdoutPath)
        let status: Int32 = await withTaskCancellationHandler {
            let poller = Task {
                while !Task.isCancelled {
                    for text in reader.newLines() { line(text) }
                    try? await Task.sleep(for: .milliseconds(200))
                }
            }
            var status: Int32 = -1
            for await code in exited.stream { status = code }
            poller.cancel()
            for text in reader.newLines() { line(text) }
            return status
        } onCancel: {
            process.interrupt()
            Task {
                try? await Task.sleep(for: .seconds(10))
                if process.isRunning { process.terminate() }
            }
        }
        try Task.checkCancellation()
        let errors = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        return (status, String(errors.suffix(4000)))
    }
}

/// Reads the lines appended to a file since the last call (a line longer than 1 MB is skipped).
final class LineReader: @unchecked Sendable {
    private let path: String
    private let lock = NSLock()
    private var offset: UInt64 = 0
    private var partial = Data()

    init(path: String) { self.path = path }

    func newLines() -> [String] {
        lock.withLock {
            guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
            defer { try? handle.close() }
            try? handle.seek(toOffset: offset)
            guard let data = try? handle.readToEnd(), !data.isEmpty else { return [] }
            offset += UInt64(data.count)
            partial.append(data)
            var lines: [String] = []
            while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
                lines.append(String(decoding: partial[partial.startIndex..<newline], as: UTF8.self))
                partial = Data(partial[(newline + 1)...])
            }
            if partial.count > 1 << 20 { partial = Data() }
            return lines
        }
    }
}
