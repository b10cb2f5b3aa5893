import Foundation
import NodeKit

/// Writes to a temporary file beside the target and renames it into place on commit,
/// so an aborted or killed run never leaves a half-written file at the target path.
final class AtomicFileOutput {
    let target: String
    let temporary: String
    private let fd: Int32
    private(set) var bytesWritten = 0
    /// Writers hand over their bytes once they hold about this many.
    static let flushThreshold = 1 << 20

    init(target: String, runID: String) throws {
        self.target = target
        let url = URL(fileURLWithPath: target)
        let directory = url.deletingLastPathComponent()
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            // The POSIX reason ("No such file or directory", "Permission denied"), not Foundation's wrapper text.
            let underlying = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? any Error).map { $0 as NSError }
            let posix = underlying.flatMap { $0.domain == NSPOSIXErrorDomain ? $0.code : nil }
            let reason = posix.map { String(cString: strerror(Int32($0))) } ?? error.localizedDescription
            throw NodeError(code: "file_unwritable", message: "cannot create the directory '\(directory.path)': \(reason)")
        }
        temporary = PendingFile.temporaryPath(for: target, runID: runID)
        fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw NodeError(code: "file_unwritable", message: "cannot create '\(temporary)': \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    /// Writes `bytes` to the temporary file and empties the array (keeping its capacity for reuse).
    func write(_ bytes: inout [UInt8]) throws {
        try bytes.withUnsafeBufferPointer { try write($0) }
        bytes.removeAll(keepingCapacity: true)
    }

    /// Writes the buffer's bytes to the temporary file and empties it.
    func write(_ buffer: inout TextBuffer) throws {
        try write(buffer.bytes)
        buffer.removeAll()
    }

    private func write(_ bytes: UnsafeBufferPointer<UInt8>) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            guard n > 0 else { throw NodeError(code: "file_unwritable", message: "cannot write '\(temporary)': \(String(cString: strerror(errno)))") }
            offset += n
        }
        bytesWritten += bytes.count
    }

    /// Flushes, syncs and closes the temporary file; the output is then ready to commit.
    func finish() throws -> PendingFile {
        guard fsync(fd) == 0 else { throw NodeError(code: "file_unwritable", message: "cannot sync '\(temporary)': \(String(cString: strerror(errno)))") }
        return PendingFile(temporary: temporary, target: target)
    }

    /// Removes the temporary file (after a failure).
    func discard() { unlink(temporary) }
}

/// The shared shape of file sinks: in a preview, drain the input and write nothing; otherwise write
/// through an `AtomicFileOutput` and discard it on any error, so no partial file survives.
enum FileSink {
    static func run(_ context: any NodeContext, path: String, _ write: (AtomicFileOutput) async throws -> Void) async throws -> (any PendingCommit)? {
        if context.isPreview {
            for try await _ in context.input("in") {}
            return nil
        }
        let output = try AtomicFileOutput(target: path, runID: context.runID)
        do {
            try await write(output)
            return try output.finish()
        } catch {
            output.discard()
            throw error
        }
    }
}
