import Foundation

/// A finished temporary file waiting to be renamed onto its target: the commit of every node that writes a file.
public struct PendingFile: PendingCommit {
    public let temporary: String
    public let target: String

    public init(temporary: String, target: String) {
        self.temporary = temporary
        self.target = target
    }

    /// Where a run writes `target` until it commits: a hidden file beside it (the same file system, so the rename is atomic).
    public static func temporaryPath(for target: String, runID: String) -> String {
        let url = URL(fileURLWithPath: target)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).sluice-\(runID).tmp").path
    }

    /// Writes `bytes` (a small, finished output such as a report) to the temporary file, synced, ready to commit.
    public static func staged(_ bytes: [UInt8], target: String, runID: String) throws -> PendingFile {
        let directory = URL(fileURLWithPath: target).deletingLastPathComponent()
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw NodeError(code: "file_unwritable", message: "cannot create the directory '\(directory.path)'", cause: error.localizedDescription)
        }
        let temporary = temporaryPath(for: target, runID: runID)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw NodeError(code: "file_unwritable", message: "cannot create '\(temporary)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            guard n > 0 else {
                unlink(temporary)
                throw NodeError(code: "file_unwritable", message: "cannot write '\(temporary)': \(String(cString: strerror(errno)))")
            }
            offset += n
        }
        guard fsync(fd) == 0 else {
            unlink(temporary)
            throw NodeError(code: "file_unwritable", message: "cannot sync '\(temporary)': \(String(cString: strerror(errno)))")
        }
        return PendingFile(temporary: temporary, target: target)
    }

    public func commit() async throws {
        guard rename(temporary, target) == 0 else {
            throw NodeError(code: "file_unwritable", message: "cannot move output into place at '\(target)': \(String(cString: strerror(errno)))")
        }
    }

    public func abort() async { unlink(temporary) }
}
