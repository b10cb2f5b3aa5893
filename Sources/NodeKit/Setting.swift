/// A node setting as written in the document: a YAML/JSON value tree where every node keeps its location.
public struct Setting: Sendable, Hashable {
    public indirect enum Kind: Sendable, Hashable {
        case null
        case bool(Bool)
        case int(Int64)
        case double(Double)
        case string(String)
        case list([Setting])
        /// Keys in document order.
        case map([Entry])
    }

    public struct Entry: Sendable, Hashable {
        public let key: String
        public let keyLocation: SourceLocation?
        public let value: Setting

        public init(key: String, keyLocation: SourceLocation?, value: Setting) {
            self.key = key
            self.keyLocation = keyLocation
            self.value = value
        }
    }

    public let kind: Kind
    public let location: SourceLocation?

    public init(_ kind: Kind, location: SourceLocation? = nil) {
        self.kind = kind
        self.location = location
    }

    public var entries: [Entry]? { if case let .map(e) = kind { e } else { nil } }
    public var list: [Setting]? { if case let .list(l) = kind { l } else { nil } }

    /// The scalar as text (numbers and booleans included), for string-typed fields.
    public var scalarText: String? {
        switch kind {
        case let .string(s): s
        case let .int(i): String(i)
        case let .double(d): String(d)
        case let .bool(b): b ? "true" : "false"
        default: nil
        }
    }

    public subscript(key: String) -> Setting? { entries?.first { $0.key == key }?.value }

    /// A short name of what this value is, for "expected X but found Y".
    public var kindName: String {
        switch kind {
        case .null: "null"
        case .bool: "a boolean"
        case .int: "an integer"
        case .double: "a number"
        case .string: "a string"
        case .list: "a list"
        case .map: "a mapping"
        }
    }

    /// The value as plain JSON-compatible Swift values (for JSON output and previews).
    public var plain: any Sendable {
        switch kind {
        case .null: Optional<String>.none as any Sendable
        case let .bool(b): b
        case let .int(i): i
        case let .double(d): d
        case let .string(s): s
        case let .list(l): l.map(\.plain)
        case let .map(e): Dictionary(e.map { ($0.key, $0.value.plain) }, uniquingKeysWith: { a, _ in a })
        }
    }
}

extension Setting {
    /// The tree as JSON text with every mapping's keys in document order (a JSON encoder of dictionaries would
    /// sort them, and the order of `cases`, `columns` or a row's columns means something).
    public var orderedJSON: String {
        var out: [UInt8] = []
        appendJSON(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private func appendJSON(to out: inout [UInt8]) {
        switch kind {
        case .null: JSONText.appendValue(.null, to: &out)
        case let .bool(b): JSONText.appendValue(.bool(b), to: &out)
        case let .int(i): JSONText.appendValue(.int(i), to: &out)
        case let .double(d): JSONText.appendValue(.float(d), to: &out)
        case let .string(s): JSONText.appendString(s, to: &out)
        case let .list(items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.appendJSON(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let .map(entries):
            out.append(UInt8(ascii: "{"))
            for (i, entry) in entries.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.appendString(entry.key, to: &out)
                out.append(UInt8(ascii: ":"))
                entry.value.appendJSON(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}
