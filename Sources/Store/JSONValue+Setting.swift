public import NodeKit

extension JSONValue {
    /// A document's setting tree as JSON (source locations dropped; a repeated key keeps its first value).
    public init(_ setting: Setting) {
        switch setting.kind {
        case .null: self = .null
        case let .bool(b): self = .bool(b)
        case let .int(i): self = .int(i)
        case let .double(d): self = .double(d)
        case let .string(s): self = .string(s)
        case let .list(items): self = .array(items.map(JSONValue.init))
        case let .map(entries): self = .object(Dictionary(entries.map { ($0.key, JSONValue($0.value)) }, uniquingKeysWith: { first, _ in first }))
        }
    }
}

extension Setting {
    /// JSON as a setting tree (no source locations; object keys in sorted order), to read it through typed fields.
    public init(_ json: JSONValue) {
        switch json {
        case .null: self.init(Setting.Kind.null)
        case let .bool(b): self.init(Setting.Kind.bool(b))
        case let .int(i): self.init(Setting.Kind.int(i))
        case let .double(d): self.init(Setting.Kind.double(d))
        case let .string(s): self.init(Setting.Kind.string(s))
        case let .array(items): self.init(Setting.Kind.list(items.map { Setting($0) }))
        case let .object(fields):
            self.init(Setting.Kind.map(fields.keys.sorted().map { Setting.Entry(key: $0, keyLocation: nil, value: Setting(fields[$0]!)) }))
        }
    }
}
