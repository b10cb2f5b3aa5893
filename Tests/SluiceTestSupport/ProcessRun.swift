import Foundation

/// What a finished child process printed, and how it ended.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// Runs a program to completion and captures its output (for children that leave no daemon behind).
/// Output goes to temporary files, not pipes: the result never waits for an end of file that another
/// process holding a copy of the descriptor could delay, and a child filling stderr cannot block
/// while stdout is being read.
public func runProcess(_ executable: String, _ arguments: [String], in directory: String? = nil) throws -> ProcessResult {
    let outputs = try TemporaryDirectory()
    defer { outputs.remove() }
    try outputs.write("stdout", "")
    try outputs.write("stderr", "")
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outputs.file("stdout")))
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: outputs.file("stderr")))
    defer {
        try? out.close()
        try? err.close()
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    process.standardOutput = out
    process.standardError = err
    try process.run()
    process.waitUntilExit()
    // Decoded leniently: a child's output need not be valid UTF-8.
    let text = { (name: String) in String(decoding: FileManager.default.contents(atPath: outputs.file(name)) ?? Data(), as: UTF8.self) }
    return ProcessResult(status: process.terminationStatus, stdout: text("stdout"), stderr: text("stderr"))
}

/// Runs blocking work (a child process, a wait) on a thread of its own, not on one of the few threads every
/// test's async work shares: on two cores a test waiting seconds for a process there would starve the others.
public func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}
