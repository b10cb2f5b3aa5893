import Foundation
import NodeKit

/// Files users upload into the workspace (`uploads/` under its first root), for pipelines to read.
///
/// Paths are workspace-relative (`uploads/ann/orders.csv`: what a file node names). Everyone signed in may list
/// them (pipelines may read any workspace file anyway); a member writes and deletes only under `uploads/<their
/// name>/`, so no member can replace the input of someone else's pipeline; an admin anywhere under `uploads/`.
/// An upload streams to a hidden temporary file beside its target (never held in memory), is refused past the
/// size limit, and replaces the target only once complete.
public struct WorkspaceFiles: Sendable {
    let context: ServiceContext
    /// The largest upload accepted.
    public let maximumBytes: Int64

    static let folder = "uploads"

    /// A listed file.
    public struct Entry: Sendable {
        public let path: String
        public let size: Int64
        public let modified: Int64
    }

    /// Where uploads live: `uploads/` in the workspace's first root.
    var root: String { context.files.base + "/" + Self.folder }

    /// Streams `chunks` into `path`; returns the stored file. `chunks` yields nil at the end of the body.
    public func upload(_ path: String, for caller: Caller, chunks: () async throws -> [UInt8]?) async throws -> Entry {
        let relative = try checkWritable(path, for: caller)
        let target = context.files.base + "/" + relative
        let directory = PathText.parent(target)
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw ServiceError.invalid("cannot create the folder of '\(relative)' (a file has its name?)", field: "path")
        }
        try context.files.check(target, as: relative)
        let temporary = directory + "/.\(PathText.lastComponent(target)).upload-\(UUID().uuidString.prefix(8)).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw ServiceError(.unprocessable, "file_unwritable", "cannot write '\(relative)': \(String(cString: strerror(errno)))") }
        var written: Int64 = 0
        do {
            defer { close(fd) }
            while let chunk = try await chunks() {
                written += Int64(chunk.count)
                guard written <= maximumBytes else {
                    throw ServiceError(.tooLarge, "payload_too_large", "the file is larger than \(ByteCount.describe(ByteCount(Int(maximumBytes)))), the most this server accepts")
                }
                try chunk.withUnsafeBytes { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                        guard n > 0 else { throw ServiceError(.unprocessable, "file_unwritable", "cannot write '\(relative)': \(String(cString: strerror(errno)))") }
                        offset += n
                    }
                }
            }
            guard fsync(fd) == 0, rename(temporary, target) == 0 else {
                throw ServiceError(.unprocessable, "file_unwritable", "cannot store '\(relative)': \(String(cString: strerror(errno)))")
            }
        } catch {
            unlink(temporary)
            throw error
        }
        try await context.audit(caller, "file_upload", target: relative, detail: "\(written) bytes")
        return Entry(path: relative, size: written, modified: Self.modified(target))
    }

    /// Uploaded files under `prefix` (workspace-relative, within `uploads/`), sorted by path; at most `limit`.
    public func list(prefix: String, limit: Int = 10_000, for caller: Caller) async throws -> [Entry] {
        let cleaned = prefix.hasPrefix("/") ? String(prefix.dropFirst()) : prefix
        guard !cleaned.split(separator: "/").contains(where: { $0 == ".." }) else { throw ServiceError.invalid("'..' is not allowed in a prefix", field: "prefix") }
        let found = LocalFileStore.expand(root + "/**").compactMap { full -> Entry? in
            let relative = Self.folder + "/" + full.dropFirst(root.count + 1)
            guard relative.hasPrefix(cleaned) else { return nil }
            var info = stat()
            guard stat(full, &info) == 0 else { return nil }
            return Entry(path: relative, size: Int64(info.st_size), modified: Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000)
        }
        return Array(found.prefix(limit))
    }

    /// Deletes an uploaded file.
    public func delete(_ path: String, for caller: Caller) async throws {
        let relative = try checkWritable(path, for: caller)
        let target = context.files.base + "/" + relative
        try context.files.check(target, as: relative)
        var info = stat()
        guard lstat(target, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw ServiceError.notFound("file '\(relative)'") }
        guard unlink(target) == 0 else { throw ServiceError(.unprocessable, "file_unwritable", "cannot delete '\(relative)': \(String(cString: strerror(errno)))") }
        try await context.audit(caller, "file_delete", target: relative)
    }

    /// The caller's own folder: `uploads/<name>/`.
    public static func home(of caller: Caller) -> String { folder + "/" + caller.name + "/" }

    /// `path` checked: relative, inside `uploads/`, plain segments (no `..`, no hidden names, no empty segments),
    /// and inside the caller's own folder unless they are an admin.
    func checkWritable(_ path: String, for caller: Caller) throws -> String {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, path.utf8.count <= 1024, !path.hasPrefix("/"), segments.count >= 3, segments.first == Substring(Self.folder),
              segments.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") && !$0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } }) else {
            throw ServiceError.invalid("'\(path)' is not an upload path: it must be uploads/<user>/<name>, with no empty, '.' or '..' segments, no hidden names and no control characters", field: "path")
        }
        if !caller.isAdmin, !path.hasPrefix(Self.home(of: caller)) || caller.name.hasPrefix(".") {
            throw ServiceError.forbidden("members upload into their own folder, \(Self.home(of: caller)); '\(path)' is outside it")
        }
        return path
    }

    static func modified(_ path: String) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000
    }
}
