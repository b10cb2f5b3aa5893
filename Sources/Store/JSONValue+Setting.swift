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
