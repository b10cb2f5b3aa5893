/// A path pattern: `*` matches within one path segment, `?` one character of a segment, `[abc]`/`[a-z]`/`[!x]`
/// one character from a set, `**` any number of whole segments (`logs/**/*.csv` matches `logs/a.csv` and
/// `logs/2026/01/a.csv`). Wildcards do not match a segment's leading dot, so hidden files (a run's temporary
/// outputs among them) are never picked up. Stores list the `literalPrefix` and keep what `matches`.
public struct GlobPattern: Sendable, Hashable {
    public let text: String
    private let segments: [Substring]

    public init(_ text: String) {
        self.text = text
        segments = text.split(separator: "/", omittingEmptySubsequences: false)
    }

    /// Whether the text has any wildcard at all.
    public static func hasWildcards(_ text: String) -> Bool { text.contains { "*?[".contains($0) } }

    public var hasWildcards: Bool { Self.hasWildcards(text) }

    /// Whether `**` appears (the match may go any depth below `literalPrefix`).
    public var isRecursive: Bool { segments.contains("**") }

    /// The text before the first wildcard, cut back to a whole directory (`landing/2026/` for
    /// `landing/2026/*.csv`); the whole text when there is no wildcard.
    public var literalPrefix: String {
        guard let first = text.firstIndex(where: { "*?[".contains($0) }) else { return text }
        let head = text[..<first]
        guard let slash = head.lastIndex(of: "/") else { return "" }
        return String(text[...slash])
    }

    /// Whether `path` (the same form as the pattern: relative or absolute) matches the whole pattern.
    public func matches(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return Self.match(segments[...], parts[...])
    }

    private static func match(_ pattern: ArraySlice<Substring>, _ path: ArraySlice<Substring>) -> Bool {
        guard let head = pattern.first else { return path.isEmpty }
        if head == "**" {
            let rest = pattern.dropFirst()
            // `**` takes zero or more whole segments, never hidden ones.
            var remaining = path
            while true {
                if match(rest, remaining) { return true }
                guard let next = remaining.first, !next.hasPrefix(".") else { return false }
                remaining = remaining.dropFirst()
            }
        }
        guard let segment = path.first, matchSegment(Array(head.utf8), Array(segment.utf8)) else { return false }
        return match(pattern.dropFirst(), path.dropFirst())
    }

    /// One segment against one segment's pattern (iterative `*` with backtracking to the last star).
    static func matchSegment(_ pattern: [UInt8], _ name: [UInt8]) -> Bool {
        if name.first == UInt8(ascii: "."), pattern.first != UInt8(ascii: ".") { return false }
        var p = 0, n = 0
        var starP = -1, starN = 0
        while n < name.count {
            if p < pattern.count {
                switch pattern[p] {
                case UInt8(ascii: "*"):
                    starP = p; starN = n; p += 1
                    continue
                case UInt8(ascii: "?"):
                    p += 1; n += 1
                    continue
                case UInt8(ascii: "["):
                    if let (matched, end) = matchClass(pattern, p + 1, name[n]) {
                        if matched { p = end; n += 1; continue }
                    } else if name[n] == UInt8(ascii: "[") {
                        p += 1; n += 1
                        continue
                    }
                case let c where c == name[n]:
                    p += 1; n += 1
                    continue
                default: break
                }
            }
            guard starP >= 0 else { return false }
            p = starP + 1
            starN += 1
            n = starN
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }

    /// Matches `c` against the class starting after `[` at `start`; nil when the class never closes (a literal `[`).
    private static func matchClass(_ pattern: [UInt8], _ start: Int, _ c: UInt8) -> (Bool, Int)? {
        var i = start
        var negate = false
        if i < pattern.count, pattern[i] == UInt8(ascii: "!") || pattern[i] == UInt8(ascii: "^") { negate = true; i += 1 }
        var matched = false
        var first = true
        while i < pattern.count {
            let x = pattern[i]
            if x == UInt8(ascii: "]"), !first { return (matched != negate, i + 1) }
            first = false
            if i + 2 < pattern.count, pattern[i + 1] == UInt8(ascii: "-"), pattern[i + 2] != UInt8(ascii: "]") {
                if x <= c, c <= pattern[i + 2] { matched = true }
                i += 3
            } else {
                if x == c { matched = true }
                i += 1
            }
        }
        return nil
    }
}
