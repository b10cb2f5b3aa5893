import Foundation

/// Where the file paths of a pipeline (file nodes, SQLite connection paths) may lead.
///
/// Standalone `sluice run` is `unconfined`: paths are the user's own, relative ones resolve against the
/// pipeline's directory. The server is `confined` to its workspace roots: a relative path resolves against
/// the first root, an absolute one must lie inside a root, and `..` segments, symlinks that lead out of every
/// root, and the metadata store's own files are refused with `path_outside_workspace` before any data moves.
public struct FileRoots: Sendable, Hashable {
    /// Relative paths resolve against this directory.
    public let base: String
    /// The directories paths must stay inside (canonical: absolute, symlinks resolved), or nil when unconfined.
    public let roots: [String]?
    /// Files no path may name even inside a root (the metadata store and its journals), canonical.
    public let forbidden: Set<String>

    /// Paths as the user wrote them; relative ones against `base`.
    public static func unconfined(base: String) -> FileRoots {
        FileRoots(base: base, roots: nil, forbidden: [])
    }

    /// Paths confined to `roots` (the first is where relative paths resolve); `forbidden` files are refused too.
    public static func confined(to roots: [String], forbidding forbidden: [String] = []) -> FileRoots {
        let canonical = roots.map(canonicalPath)
        return FileRoots(base: canonical.first ?? "/", roots: canonical, forbidden: Set(forbidden.map(canonicalPath)))
    }

    public var isConfined: Bool { roots != nil }

    /// The path a setting names, resolved and checked. The error's message is for the user; the caller adds
    /// node and field.
    public func resolve(_ path: String) throws(ConfigError) -> String {
        guard let roots else {
            if path.hasPrefix("/") || base == "." || base.isEmpty { return path }
            return base + "/" + path
        }
        if path.split(separator: "/").contains("..") {
            throw outside(path, "'..' segments are not allowed in server paths")
        }
        let full = path.hasPrefix("/") ? path : base + "/" + path
        // Roots are canonical, so the path is compared canonically too: a root named through a symlinked prefix
        // (the data directory as configured) still holds its files.
        guard contains(full) else {
            let why = roots.contains(where: { Self.isInside(Self.lexicallyNormalized(full), $0) })
                ? "it leads out of the workspace through a symbolic link"
                : "absolute paths must lie inside the workspace (\(roots.joined(separator: ", ")))"
            throw outside(path, why)
        }
        try check(full, as: path)
        return full
    }

    /// Whether `path` (symlinks resolved for its existing part, a glob at its directory) lies inside a root;
    /// always true when unconfined.
    public func contains(_ path: String) -> Bool {
        guard let roots else { return true }
        let real = Self.canonicalPath(Self.globFreePrefix(path))
        return roots.contains { Self.isInside(real, $0) }
    }

    /// Checks a path that already exists or is about to be created (a glob's match, an output file): its
    /// existing part, with symlinks resolved, must stay inside a root and must not be a forbidden file.
    public func check(_ full: String, as written: String? = nil) throws(ConfigError) {
        guard isConfined else { return }
        guard contains(full) else {
            throw outside(written ?? full, "it leads out of the workspace (through a symbolic link to \(Self.canonicalPath(Self.globFreePrefix(full))))")
        }
        if forbidden.contains(Self.canonicalPath(Self.globFreePrefix(full))) || forbidden.contains(Self.canonicalPath(full)) {
            throw outside(written ?? full, "the server's own metadata store cannot be read or written by pipelines")
        }
    }

    private func outside(_ path: String, _ reason: String) -> ConfigError {
        ConfigError(code: "path_outside_workspace", message: "'\(path)' is outside the workspace: \(reason)")
    }

    /// The longest leading part of `path` without glob characters (a glob is checked at its directory).
    static func globFreePrefix(_ path: String) -> String {
        guard let first = path.firstIndex(where: { "*?[".contains($0) }) else { return path }
        let head = path[..<first]
        guard let slash = head.lastIndex(of: "/") else { return "." }
        return slash == head.startIndex ? "/" : String(head[..<slash])
    }

    static func isInside(_ path: String, _ root: String) -> Bool {
        path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }

    /// `path` absolute with `.`, `..` and empty segments resolved as text (no file system access).
    static func lexicallyNormalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The absolute path with every symlink resolved, for as much of it as exists; the rest appended as written.
    static func canonicalPath(_ path: String) -> String {
        var existing = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var rest: [String] = []
        while true {
            if let real = realpath(existing, nil) {
                defer { free(real) }
                let resolved = String(cString: real)
                return rest.isEmpty ? resolved : (resolved == "/" ? "" : resolved) + "/" + rest.reversed().joined(separator: "/")
            }
            // A dangling symbolic link: what it names is where a write would go.
            var info = stat()
            if lstat(existing, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK, let target = try? FileManager.default.destinationOfSymbolicLink(atPath: existing) {
                let parent = existing.lastIndex(of: "/").map { String(existing[..<$0]) } ?? "."
                let absolute = target.hasPrefix("/") ? target : parent + "/" + target
                let resolved = lexicallyNormalized(absolute)
                return rest.isEmpty ? resolved : resolved + "/" + rest.reversed().joined(separator: "/")
            }
            guard let slash = existing.lastIndex(of: "/"), existing != "/" else { return lexicallyNormalized(path) }
            rest.append(String(existing[existing.index(after: slash)...]))
            existing = slash == existing.startIndex ? "/" : String(existing[..<slash])
        }
    }
}
