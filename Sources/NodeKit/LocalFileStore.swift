import Foundation

/// Files on this machine: paths resolved by `FileRoots` (relative to the pipeline file, or inside the server's
/// workspace), every match of a glob checked to stay inside the roots, outputs written beside their target and
/// renamed into place at commit.
public struct LocalFileStore: FileStore {
    public let files: FileRoots

    public init(files: FileRoots) { self.files = files }

    public var label: String { files.isConfined ? "the workspace" : "the local disk" }

    /// `pattern` is a path already resolved by `FileRoots`.
    public func list(_ pattern: String) async throws -> [StoredFile] {
        try listSync(pattern)
    }

    /// The matches of a resolved path or glob, each checked against the roots (`path_outside_workspace`).
    public func listSync(_ pattern: String) throws -> [StoredFile] {
        let paths = Self.expand(pattern)
        for path in paths { try files.check(path) }
        return paths.map { path in
            var info = stat()
            guard stat(path, &info) == 0 else { return StoredFile(path: path, size: nil) }
            return StoredFile(path: path, size: Int64(info.st_size), modified: Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000)
        }
    }

    public func open(_ file: StoredFile) async throws -> any ByteStream {
        try LocalByteStream(path: file.path)
    }

    public func create(_ path: String, runID: String) async throws -> any FileDestination {
        try files.check(path)
        return try LocalFileDestination(target: path, runID: runID)
    }

    public func move(_ path: String, to target: String) async throws {
        try files.check(path)
        try files.check(target)
        let folder = PathText.parent(target)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        guard rename(path, target) == 0 else {
            throw NodeError(code: "file_unwritable", message: "cannot move '\(path)' to '\(target)': \(String(cString: strerror(errno)))")
        }
    }

    /// Regular files a path or glob names, sorted. `**` walks directories (never into hidden ones).
    public static func expand(_ pattern: String) -> [String] {
        let glob = GlobPattern(pattern)
        guard glob.hasWildcards else {
            var info = stat()
            return stat(pattern, &info) == 0 && (info.st_mode & S_IFMT) != S_IFDIR ? [pattern] : []
        }
        guard glob.isRecursive else { return posixGlob(pattern) }
        let prefix = glob.literalPrefix
        let root = prefix.isEmpty ? "." : prefix
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var found: [String] = []
        while let relative = walker.nextObject() as? String {
            let full = prefix.isEmpty ? relative : (prefix.hasSuffix("/") ? prefix : prefix + "/") + relative
            let last = relative.split(separator: "/").last ?? ""
            if last.hasPrefix(".") {
                walker.skipDescendants()
                continue
            }
            if walker.fileAttributes?[.type] as? FileAttributeType == .typeDirectory { continue }
            if glob.matches(full) { found.append(full) }
        }
        return found.sorted()
    }

    private static func posixGlob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { i in result.gl_pathv[i].map { String(cString: $0) } }
            .filter { path in
                var info = stat()
                return stat(path, &info) == 0 && (info.st_mode & S_IFMT) != S_IFDIR
            }
            .sorted()
    }
}

/// Reads a local file with POSIX `read` (no copies beyond the caller's buffer).
public final class LocalByteStream: ByteStream {
    public let path: String
    private let fd: Int32

    public init(path: String) throws {
        self.path = path
        fd = Glibc.open(path, O_RDONLY)
        guard fd >= 0 else {
            throw NodeError(code: "file_unreadable", message: "cannot read '\(path)': \(String(cString: strerror(errno)))", isRetryable: false)
        }
    }

    deinit { close(fd) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
        guard n >= 0 else {
            throw NodeError(code: "file_unreadable", message: "cannot read '\(path)': \(String(cString: strerror(errno)))", isRetryable: false)
        }
        return n
    }
}

/// Writes to a hidden temporary file beside the target (the same file system) and renames it into place at
/// commit, so an aborted or killed run never leaves a half-written file at the target path.
public final class LocalFileDestination: FileDestination {
    public let target: String
    public let temporary: String
    private let fd: Int32
    public private(set) var bytesWritten = 0

    public init(target: String, runID: String) throws {
        self.target = target
        let directory = URL(fileURLWithPath: target).deletingLastPathComponent()
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            // The POSIX reason ("No such file or directory", "Permission denied"), not Foundation's wrapper text.
            let underlying = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? any Error).map { $0 as NSError }
            let posix = underlying.flatMap { $0.domain == NSPOSIXErrorDomain ? $0.code : nil }
            let reason = posix.map { String(cString: strerror(Int32($0))) } ?? error.localizedDescription
            throw NodeError(code: "file_unwritable", message: "cannot create the directory '\(directory.path)': \(reason)")
        }
        temporary = PendingFile.temporaryPath(for: target, runID: runID)
        fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw NodeError(code: "file_unwritable", message: "cannot create '\(temporary)': \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            guard n > 0 else { throw NodeError(code: "file_unwritable", message: "cannot write '\(temporary)': \(String(cString: strerror(errno)))") }
            offset += n
        }
        bytesWritten += bytes.count
    }

    public func finish() async throws -> any PendingCommit {
        guard fsync(fd) == 0 else { throw NodeError(code: "file_unwritable", message: "cannot sync '\(temporary)': \(String(cString: strerror(errno)))") }
        return PendingFile(temporary: temporary, target: target)
    }

    public func discard() async { unlink(temporary) }
}
