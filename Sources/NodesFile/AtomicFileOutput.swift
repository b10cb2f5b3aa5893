import Foundation
import NodeKit

/// A file sink's output: bytes handed to the store's `FileDestination` (a temporary file beside the target, a
/// spooled multipart upload), which makes the file visible only when the run commits, so an aborted or killed
/// run never leaves a half-written file at the target.
final class AtomicFileOutput {
    let destination: any FileDestination
    var bytesWritten: Int { destination.bytesWritten }
    /// Writers hand over their bytes once they hold about this many.
    static let flushThreshold = 1 << 20

    init(_ destination: any FileDestination) { self.destination = destination }

    /// Writes `bytes` and empties the array (keeping its capacity for reuse).
    func write(_ bytes: inout [UInt8]) throws {
        try bytes.withUnsafeBytes { try destination.write($0) }
        bytes.removeAll(keepingCapacity: true)
    }

    /// Writes the buffer's bytes and empties it.
    func write(_ buffer: inout TextBuffer) throws {
        try destination.write(UnsafeRawBufferPointer(buffer.bytes))
        buffer.removeAll()
    }
}

/// The shared shape of file sinks: in a preview, drain the input and write nothing; otherwise write through the
/// location's store and discard the output on any error, so no partial file survives.
enum FileSink {
    static func run(_ context: any NodeContext, location: FileLocation, _ write: (AtomicFileOutput) async throws -> Void) async throws -> (any PendingCommit)? {
        if context.isPreview {
            for try await _ in context.input("in") {}
            return nil
        }
        let destination: any FileDestination
        do { destination = try await location.store.create(location.path, runID: context.runID) } catch let error as ConfigError {
            throw NodeError(code: error.code, message: error.message)
        }
        do {
            try await write(AtomicFileOutput(destination))
            return try await destination.finish()
        } catch {
            await destination.discard()
            throw error
        }
    }
}
