/// Writes a setting tree as YAML that `YAMLReader` reads back to the same tree: block mappings and lists,
/// flow style for lists of scalars and for mappings of scalars inside lists (one row per line), text quoted
/// whenever it would read as something else. Comments and the original layout are not kept.
public enum YAMLWriter {
    public static func text(_ setting: Setting) -> String {
        var out = ""
        write(setting, indent: 0, into: &out)
        return out.hasSuffix("\n") ? out : out + "\n"
    }

    private static func write(_ setting: Setting, indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        switch setting.kind {
        case let .map(entries) where !entries.isEmpty:
            for entry in entries {
                out += pad + scalar(entry.key) + ":"
                if let inline = inline(entry.value) {
                    out += " " + inline + "\n"
                } else {
                    out += "\n"
                    write(entry.value, indent: entry.value.list != nil ? indent : indent + 2, into: &out)
                }
            }
        case let .list(items) where !items.isEmpty:
            for item in items {
                if let flow = flow(item) {
                    out += pad + "- " + flow + "\n"
                } else {
                    var nested = ""
                    write(item, indent: indent + 2, into: &nested)
                    out += pad + "- " + nested.dropFirst(indent + 2)
                }
            }
        default:
            out += pad + (flow(setting) ?? "null") + "\n"
        }
    }

    /// The value on its key's line: scalars, empty collections and lists of scalars.
    private static func inline(_ setting: Setting) -> String? {
        switch setting.kind {
        case let .list(items) where items.allSatisfy(isScalar): return flow(setting)
        case .list, .map: return (setting.list?.isEmpty ?? false) || (setting.entries?.isEmpty ?? false) ? flow(setting) : nil
        default: return flow(setting)
        }
    }

    /// Flow style for scalars, lists of scalars and mappings of scalars; nil for deeper trees.
    private static func flow(_ setting: Setting) -> String? {
        switch setting.kind {
        case let .list(items):
            guard items.allSatisfy(isScalar) else { return nil }
            return "[" + items.compactMap(flow).joined(separator: ", ") + "]"
        case let .map(entries):
            guard entries.allSatisfy({ isScalar($0.value) }) else { return nil }
            return "{" + entries.map { scalar($0.key) + ": " + (flow($0.value) ?? "null") }.joined(separator: ", ") + "}"
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return String(i)
        case let .double(d):
            let text = "\(d)"
            return text.contains(".") || text.contains("e") || text.contains("n") ? text : text + ".0"
        case let .string(s): return scalar(s)
        }
    }

    private static func isScalar(_ setting: Setting) -> Bool {
        switch setting.kind {
        case .list, .map: false
        default: true
        }
    }

    /// Text as a plain scalar when it reads back as the same text, else double-quoted (also how test failures
    /// show text, so a row in a diff reads as `--update` would write it).
    public static func scalar(_ s: String) -> String {
        let special: Set<Character> = [":", "#", "{", "}", "[", "]", ",", "&", "*", "!", "|", ">", "'", "\"", "%", "@", "`", "?", "-"]
        let plain = !s.isEmpty && s.first.map { !special.contains($0) && $0 != " " } == true && s.last != " "
            && !s.contains(": ") && !s.contains(" #") && !s.contains(where: { $0.isNewline || $0 == "\t" || $0 == "," || $0 == "[" || $0 == "]" || $0 == "{" || $0 == "}" })
            && Int64(s) == nil && Double(s) == nil
            && !["true", "false", "null", "yes", "no", "on", "off", "~", "y", "n"].contains(s.lowercased())
        if plain { return s }
        var quoted = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\t": quoted += "\\t"
            case "\r": quoted += "\\r"
            default:
                if scalar.value < 0x20 { quoted += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2) } else { quoted.unicodeScalars.append(scalar) }
            }
        }
        return quoted + "\""
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
