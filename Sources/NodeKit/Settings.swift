public import Columnar
/// A node's settings as declared, read through typed fields: `let path = try settings[Self.path]`.
public struct Settings: Sendable {
    public let node: String
    public let raw: Setting
    /// Where file paths may lead and what relative ones resolve against (the pipeline file's directory, or
    /// the server's workspace).
    public let files: FileRoots
    /// The connections nodes may name (`connection: warehouse`).
    public let connections: ConnectionCatalog
    /// The connectors of this build, for connections named by type-agnostic fields (a file node's store).
    public let connectors: ConnectorRegistry

    public init(node: String, raw: Setting, files: FileRoots = .unconfined(base: "."), connections: ConnectionCatalog = .empty,
                connectors: ConnectorRegistry = ConnectorRegistry([])) {
        self.node = node
        self.raw = raw
        self.files = files
        self.connections = connections
        self.connectors = connectors
    }

    /// The connection a `connection` field names, checked to be of `type`.
    public func connection(_ field: Field<ConnectionName>, type: String) throws(ConfigError) -> Connection {
        try connections.connection(try self[field].name, type: type, node: node, field: field.name, location: location(of: field))
    }

    /// The field's value, its default, or an error naming node, field and location.
    public subscript<T>(_ field: Field<T>) -> T {
        get throws(ConfigError) {
            guard let setting = raw[field.name], !(isNull(setting) && T.valueWhenMissing != nil) else {
                if let value = field.defaultValue { return value }
                if let missing = T.valueWhenMissing { return missing }
                throw ConfigError(code: "missing_field", message: "missing required setting '\(field.name)': \(field.summary)",
                                  location: raw.location, node: node, field: field.name, expected: T.fieldKind.description)
            }
            do { return try T(setting: setting, field: field.name) } catch { throw error.at(node: node, field: field.name, location: setting.location) }
        }
    }

    /// Whether the key is present.
    public func has<T>(_ field: Field<T>) -> Bool { raw[field.name] != nil }

    /// The location of a field's value (or of the settings block), for later errors.
    public func location<T>(of field: Field<T>) -> SourceLocation? { raw[field.name]?.location ?? raw.location }

    /// A configuration error attributed to this node and field.
    public func error<T>(_ field: Field<T>, _ message: String, code: String = "invalid_value", expected: String? = nil) -> ConfigError {
        ConfigError(code: code, message: message, location: location(of: field), node: node, field: field.name, expected: expected)
    }

    /// The position of the column `name` (named by `field`) in `schema`; an unknown column is an error on that
    /// field listing the available ones.
    public func column<T>(_ name: String, in schema: Schema, for field: Field<T>) throws(ConfigError) -> Int {
        guard let index = schema.index(of: name) else {
            throw error(field, "unknown column '\(name)'; available columns: \(schema.names.joined(separator: ", "))", code: "unknown_column")
        }
        return index
    }

    /// The path a field names, resolved against `files` (relative to the pipeline's directory or the workspace)
    /// and checked to stay inside the workspace when the server runs it (`path_outside_workspace`).
    public func path(_ field: Field<String>) throws(ConfigError) -> String {
        let written = try self[field]
        do { return try files.resolve(written) } catch { throw error.at(node: node, field: field.name, location: location(of: field)) }
    }

    /// The path an optional field names, resolved and checked as `path(_:)` does; nil when the setting is absent.
    public func path(_ field: Field<String?>) throws(ConfigError) -> String? {
        guard let written = try self[field] else { return nil }
        do { return try files.resolve(written) } catch { throw error.at(node: node, field: field.name, location: location(of: field)) }
    }

    /// Checks files a path setting led to (a glob's matches): each must stay inside the workspace, also through
    /// symbolic links (`path_outside_workspace`, attributed to the field).
    public func checkFiles<T>(_ files: [String], for field: Field<T>) throws(ConfigError) {
        for file in files {
            do { try self.files.check(file) } catch { throw error.at(node: node, field: field.name, location: location(of: field)) }
        }
    }

    private func isNull(_ s: Setting) -> Bool { if case .null = s.kind { true } else { false } }
}
