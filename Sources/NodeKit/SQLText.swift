/// SQL identifier quoting shared by the database connectors (ANSI: double quotes, doubled inside).
public enum SQLText {
    /// `name` as a quoted identifier: `"Order Lines"`, `"say ""hi"""`.
    public static func quote(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A string literal: `'it''s'`.
    public static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}

/// A possibly schema-qualified table name as users write it: `orders`, `public.orders`,
/// `"My Schema"."Order.Lines"` (quoted parts may hold dots, spaces, quotes and any case).
public struct QualifiedName: Sendable, Hashable, CustomStringConvertible {
    public let schema: String?
    public let name: String

    public init(schema: String?, name: String) {
        self.schema = schema
        self.name = name
    }

    /// Splits on the first dot outside double quotes; nil when the text is not a valid name.
    public init?(parsing text: String) {
        var parts: [String] = []
        var current = ""
        var quoted = false
        var wasQuoted = false
        var chars = Array(text.trimmingCharacters(in: .whitespaces))
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count, chars[i + 1] == "\"" { current.append("\""); i += 2; continue }
                    quoted = false
                } else {
                    current.append(c)
                }
            } else if c == "\"" {
                guard current.isEmpty else { return nil }
                quoted = true
                wasQuoted = true
            } else if c == "." {
                guard !current.isEmpty else { return nil }
                parts.append(current)
                current = ""
                wasQuoted = false
            } else {
                guard !wasQuoted else { return nil }
                current.append(c)
            }
            i += 1
        }
        chars.removeAll()
        guard !quoted, !current.isEmpty, parts.count <= 1 else { return nil }
        parts.append(current)
        schema = parts.count == 2 ? parts[0] : nil
        name = parts.last!
    }

    /// `"schema"."name"` or `"name"`.
    public var quoted: String { (schema.map { SQLText.quote($0) + "." } ?? "") + SQLText.quote(name) }

    public var description: String { schema.map { "\($0).\(name)" } ?? name }
}

import Foundation
