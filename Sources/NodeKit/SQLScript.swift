import Foundation

/// SQL text split into statements at top-level semicolons (not inside quotes, dollar-quoted bodies or comments),
/// each with the line it starts on, so an error inside a statement can name the file's line.
public struct SQLScript: Sendable {
    /// One statement: its text (without the semicolon), and where it starts in the script.
    public struct Statement: Sendable, Equatable {
        public let text: String
        /// 1-based line of the statement's first character in the script.
        public let line: Int

        /// The script line holding the statement's 1-based character `position` (a server's error position).
        public func line(atCharacter position: Int) -> Int {
            line + text.prefix(max(0, position - 1)).reduce(0) { $0 + ($1 == "\n" ? 1 : 0) }
        }
    }

    public let statements: [Statement]

    public init(_ text: String) {
        var statements: [Statement] = []
        let chars = Array(text)
        var start = 0
        var line = 1
        var startLine = 1
        var i = 0
        func flush(_ end: Int) {
            let raw = String(chars[start..<end])
            // Skip leading blank lines and comments, keeping the line of the first real character.
            var skippedLines = 0
            var body = Substring(raw)
            while let first = body.first {
                if first.isWhitespace {
                    if first == "\n" { skippedLines += 1 }
                    body = body.dropFirst()
                } else if body.hasPrefix("--") {
                    body = body.drop { $0 != "\n" }
                } else if body.hasPrefix("/*"), let end = body.range(of: "*/") {
                    skippedLines += body[..<end.upperBound].reduce(0) { $0 + ($1 == "\n" ? 1 : 0) }
                    body = body[end.upperBound...]
                } else {
                    break
                }
            }
            let trimmed = body.trimmingTrailingWhitespace()
            if Self.hasCode(trimmed) { statements.append(Statement(text: String(trimmed), line: startLine + skippedLines)) }
        }
        while i < chars.count {
            let c = chars[i]
            switch c {
            case "\n":
                line += 1
                i += 1
            case "'", "\"", "`":
                i += 1
                while i < chars.count {
                    if chars[i] == "\n" { line += 1 }
                    if chars[i] == c {
                        if i + 1 < chars.count, chars[i + 1] == c { i += 2; continue }
                        break
                    }
                    i += 1
                }
                i += 1
            case "-" where i + 1 < chars.count && chars[i + 1] == "-":
                while i < chars.count, chars[i] != "\n" { i += 1 }
            case "/" where i + 1 < chars.count && chars[i + 1] == "*":
                i += 2
                while i < chars.count, !(chars[i] == "*" && i + 1 < chars.count && chars[i + 1] == "/") {
                    if chars[i] == "\n" { line += 1 }
                    i += 1
                }
                i += 2
            case "$":
                // A dollar-quoted body ($$ … $$ or $tag$ … $tag$) runs to the same tag.
                var j = i + 1
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" { j += 1 }
                guard j < chars.count, chars[j] == "$", i == 0 || !(chars[i - 1].isLetter || chars[i - 1].isNumber || chars[i - 1] == "_") else {
                    i += 1
                    continue
                }
                let tag = Array(chars[i...j])
                var k = j + 1
                while k < chars.count {
                    if chars[k] == "\n" { line += 1 }
                    if chars[k] == "$", k + tag.count <= chars.count, Array(chars[k..<(k + tag.count)]) == tag { break }
                    k += 1
                }
                i = min(chars.count, k + tag.count)
            case ";":
                flush(i)
                i += 1
                start = i
                startLine = line
            default:
                i += 1
            }
        }
        flush(chars.count)
        self.statements = statements
    }

    /// Whether text holds anything but whitespace and comments.
    static func hasCode(_ text: Substring) -> Bool {
        var rest = text
        while let first = rest.first {
            if first.isWhitespace { rest = rest.dropFirst(); continue }
            if rest.hasPrefix("--") { rest = rest.drop { $0 != "\n" }; continue }
            if rest.hasPrefix("/*") {
                guard let end = rest.range(of: "*/") else { return false }
                rest = rest[end.upperBound...]
                continue
            }
            return true
        }
        return false
    }
}

extension Substring {
    func trimmingTrailingWhitespace() -> Substring {
        var end = endIndex
        while end > startIndex, self[index(before: end)].isWhitespace { end = index(before: end) }
        return self[startIndex..<end]
    }
}
