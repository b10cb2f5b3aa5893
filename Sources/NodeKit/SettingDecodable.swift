public import Columnar
public import Expressions

/// A Swift type a setting field can hold. Decoding errors name the field and what was expected;
/// the caller adds the node.
public protocol SettingDecodable: Sendable {
    static var fieldKind: FieldKind { get }
    /// The value used when the key is absent and the field has no default (`nil` = the field is required).
    static var valueWhenMissing: Self? { get }
    init(setting: Setting, field: String) throws(ConfigError)
    /// The value as users would write it (for defaults in docs).
    static func describe(_ value: Self) -> String
}

extension SettingDecodable {
    public static var valueWhenMissing: Self? { nil }
    public static func describe(_ value: Self) -> String { "\(value)" }

    public static func mismatch(_ setting: Setting, _ field: String) -> ConfigError {
        var message = "expected \(fieldKind) but found \(setting.kindName)"
        if case .null = setting.kind { message += "; YAML reads unquoted null, NULL and ~ as null: quote the value to mean the text" }
        return ConfigError(code: "invalid_value", message: message, location: setting.location, field: field, expected: fieldKind.description)
    }
}

extension String: SettingDecodable {
    public static var fieldKind: FieldKind { .string }
    public init(setting: Setting, field: String) throws(ConfigError) {
        guard let text = setting.scalarText else { throw Self.mismatch(setting, field) }
        self = text
    }
}

extension Int: SettingDecodable {
    public static var fieldKind: FieldKind { .integer }
    public init(setting: Setting, field: String) throws(ConfigError) {
        guard case let .int(i) = setting.kind else { throw Self.mismatch(setting, field) }
        self = Int(i)
    }
}

extension Double: SettingDecodable {
    public static var fieldKind: FieldKind { .number }
    public init(setting: Setting, field: String) throws(ConfigError) {
        switch setting.kind {
        case let .int(i): self = Double(i)
        case let .double(d): self = d
        default: throw Self.mismatch(setting, field)
        }
    }
}

extension Bool: SettingDecodable {
    public static var fieldKind: FieldKind { .boolean }
    public init(setting: Setting, field: String) throws(ConfigError) {
        guard case let .bool(b) = setting.kind else { throw Self.mismatch(setting, field) }
        self = b
    }
}

extension Duration: SettingDecodable {
    public static var fieldKind: FieldKind { .duration }
    /// A number alone is seconds (`90`); text takes a unit (`500ms`, `30s`, `15m`, `2h`, `1d`).
    public init(setting: Setting, field: String) throws(ConfigError) {
        guard let text = setting.scalarText else { throw Self.mismatch(setting, field) }
        guard let d = DurationText.parse(text) else {
            throw ConfigError(code: "invalid_value", message: "'\(text)' is not a duration: write 500ms, 30s, 15m, 2h or 1d (a number alone is seconds)",
                              location: setting.location, field: field, expected: Self.fieldKind.description)
        }
        self = d
    }
    public static func describe(_ value: Self) -> String { DurationText.format(value) }
}

/// A setting written as text that means more than text (a connection's name, a file path): its field kind tells
/// forms what to offer (a connection picker, a path) and docs what to say.
public protocol TextSetting: SettingDecodable {
    var text: String { get }
    init(_ text: String)
}

extension TextSetting {
    public init(setting: Setting, field: String) throws(ConfigError) {
        guard let text = setting.scalarText else { throw Self.mismatch(setting, field) }
        self.init(text)
    }
    public static func describe(_ value: Self) -> String { value.text }
}

/// A file or directory path as written (resolved later against the file roots); a path field in forms and docs.
public struct FilePath: TextSetting, Hashable {
    public let text: String
    public init(_ text: String) { self.text = text }
    public static var fieldKind: FieldKind { .path }
    public var path: String { text }
}

extension Optional: SettingDecodable where Wrapped: SettingDecodable {
    public static var fieldKind: FieldKind { Wrapped.fieldKind }
    public static var valueWhenMissing: Self? { .some(nil) }
    public init(setting: Setting, field: String) throws(ConfigError) {
        if case .null = setting.kind { self = nil; return }
        self = try Wrapped(setting: setting, field: field)
    }
    public static func describe(_ value: Self) -> String { value.map { Wrapped.describe($0) } ?? "null" }
}

extension Array: SettingDecodable where Element: SettingDecodable {
    public static var fieldKind: FieldKind { .list(Element.fieldKind) }
    /// A single scalar is accepted as a one-element list (`key: id` means `key: [id]`).
    public init(setting: Setting, field: String) throws(ConfigError) {
        guard let items = setting.list else {
            if setting.scalarText != nil { self = [try Element(setting: setting, field: field)]; return }
            throw Self.mismatch(setting, field)
        }
        var result: [Element] = []
        for (i, item) in items.enumerated() { result.append(try Element(setting: item, field: "\(field)[\(i)]")) }
        self = result
    }
    public static func describe(_ value: Self) -> String { "[" + value.map { Element.describe($0) }.joined(separator: ", ") + "]" }
}

/// An ordered mapping from names to values (`columns: {total: "a + b"}`); document order is kept.
public struct NamedValues<Value: SettingDecodable>: SettingDecodable {
    public var entries: [(name: String, value: Value, location: SourceLocation?)]

    public init(_ entries: [(name: String, value: Value, location: SourceLocation?)] = []) { self.entries = entries }

    public static var fieldKind: FieldKind { .map(Value.fieldKind) }
    public init(setting: Setting, field: String) throws(ConfigError) {
        guard let items = setting.entries else { throw Self.mismatch(setting, field) }
        var entries: [(name: String, value: Value, location: SourceLocation?)] = []
        for item in items { entries.append((item.key, try Value(setting: item.value, field: "\(field).\(item.key)"), item.value.location)) }
        self.entries = entries
    }
    public static func describe(_ value: Self) -> String { "{" + value.entries.map { "\($0.name): \(Value.describe($0.value))" }.joined(separator: ", ") + "}" }
}

extension Expression: SettingDecodable {
    public static var fieldKind: FieldKind { .expression }
    /// Parses the text; a syntax error keeps its span and gets the setting's location.
    public init(setting: Setting, field: String) throws(ConfigError) {
        guard let text = setting.scalarText else { throw Self.mismatch(setting, field) }
        do { self = try Expression(text) } catch {
            throw ConfigError(code: error.code, message: error.description, location: setting.location, field: field)
        }
    }
    public static func describe(_ value: Self) -> String { value.source }
}

extension DataType: SettingDecodable {
    public static var fieldKind: FieldKind { .string }
    public init(setting: Setting, field: String) throws(ConfigError) {
        guard let text = setting.scalarText, let type = DataType(name: text) else {
            throw ConfigError(code: "invalid_value", message: "unknown type '\(setting.scalarText ?? setting.kindName)'", location: setting.location,
                              field: field, expected: DataType.spellings.joined(separator: ", "))
        }
        self = type
    }
}

/// A declared schema: `schema: {id: int64, name: string}` in column order.
public struct SchemaDeclaration: SettingDecodable {
    public let schema: Schema
    public init(_ schema: Schema) { self.schema = schema }
    public static var fieldKind: FieldKind { .schema }
    public init(setting: Setting, field: String) throws(ConfigError) {
        let named = try NamedValues<DataType>(setting: setting, field: field)
        schema = Schema(named.entries.map { SchemaField($0.name, $0.value) })
    }
}

/// A setting limited to a fixed set of words, declared as a `String` enum: `enum Mode: String, Choice { case append, replace }`.
public protocol Choice: SettingDecodable, RawRepresentable, CaseIterable where RawValue == String {}

extension Choice {
    public static var fieldKind: FieldKind { .choice(allCases.map(\.rawValue)) }
    public init(setting: Setting, field: String) throws(ConfigError) {
        guard let text = setting.scalarText, let value = Self(rawValue: text) else {
            throw ConfigError(code: "invalid_value", message: "invalid value '\(setting.scalarText ?? setting.kindName)'", location: setting.location,
                              field: field, expected: "one of: " + Self.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = value
    }
    public static func describe(_ value: Self) -> String { value.rawValue }
}

/// The name of a connection (from connections.yaml or the server's store); a field of this type is a
/// connection picker in the UI and `connection` in the node docs.
public struct ConnectionName: TextSetting, Hashable {
    public let text: String
    public init(_ text: String) { self.text = text }
    public static var fieldKind: FieldKind { .connection }
    public var name: String { text }
}
