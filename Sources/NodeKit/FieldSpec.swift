/// What kind of value a setting field holds; drives validation, the UI form and the docs.
public indirect enum FieldKind: Sendable, Hashable, CustomStringConvertible {
    case string
    case integer
    case number
    case boolean
    case duration
    /// One of a fixed set of words.
    case choice([String])
    case expression
    /// A file path or glob, relative to the pipeline file.
    case path
    /// A name of a connection (a connection picker in forms).
    case connection
    case list(FieldKind)
    /// A mapping from names to values of one kind, order kept.
    case map(FieldKind)
    /// Column name → type name.
    case schema

    public var description: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .number: "number"
        case .boolean: "boolean"
        case .duration: "duration"
        case let .choice(words): words.joined(separator: " | ")
        case .expression: "expression"
        case .path: "path"
        case .connection: "connection"
        case let .list(inner): "list of \(inner)"
        case let .map(inner): "map of \(inner)"
        case .schema: "schema (column: type)"
        }
    }

    /// A stable machine name for JSON output (`sluice nodes --json`).
    public var jsonName: String {
        switch self {
        case .choice: "choice"
        case .list: "list"
        case .map: "map"
        case .schema: "schema"
        default: description
        }
    }
}

/// The type-erased description of one setting field of a node type.
public struct FieldSpec: Sendable, Hashable {
    public let name: String
    public let kind: FieldKind
    public let summary: String
    public let isRequired: Bool
    /// The default as users would write it, for docs and forms.
    public let defaultText: String?
    public let example: String?

    public init(name: String, kind: FieldKind, summary: String, isRequired: Bool, defaultText: String?, example: String?) {
        self.name = name
        self.kind = kind
        self.summary = summary
        self.isRequired = isRequired
        self.defaultText = defaultText
        self.example = example
    }
}

/// A typed setting field declared once on a node type: `static let path = Field<String>("path", summary: …)`.
///
/// Required unless it has a default or its type is optional.
public struct Field<Value: SettingDecodable>: Sendable {
    public let name: String
    public let summary: String
    public let defaultValue: Value?
    public let example: String?

    public init(_ name: String, summary: String, default defaultValue: Value? = nil, example: String? = nil) {
        self.name = name
        self.summary = summary
        self.defaultValue = defaultValue
        self.example = example
    }

    public var spec: FieldSpec {
        FieldSpec(name: name, kind: Value.fieldKind, summary: summary,
                  isRequired: defaultValue == nil && Value.valueWhenMissing == nil,
                  defaultText: defaultValue.map { Value.describe($0) }, example: example)
    }
}
