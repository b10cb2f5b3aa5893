/// Splitting `/`-separated paths as users write them (`models`, `a/b/`, `.`), in plain Swift: Foundation's
/// `NSString.deletingLastPathComponent` traps on some of them here (a one-character name such as `a` or `.`,
/// or `x/`), and a setting must never be able to crash a process.
public enum PathText {
    /// The path without its last component: `a/b/c` → `a/b`, `a/b/` → `a`, `/a` → `/`, `a` → "".
    public static func parent(_ path: String) -> String {
        let trimmed = withoutTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        if slash == trimmed.startIndex { return "/" }
        return withoutTrailingSlashes(String(trimmed[..<slash]))
    }

    /// The last component: `a/b/c` → `c`, `a/b/` → `b`, `/` → `/`, "" → "".
    public static func lastComponent(_ path: String) -> String {
        let trimmed = withoutTrailingSlashes(path)
        if trimmed == "/" { return "/" }
        guard let slash = trimmed.lastIndex(of: "/") else { return trimmed }
        return String(trimmed[trimmed.index(after: slash)...])
    }

    private static func withoutTrailingSlashes(_ path: String) -> String {
        var text = Substring(path)
        while text.count > 1, text.hasSuffix("/") { text = text.dropLast() }
        return String(text)
    }
}
