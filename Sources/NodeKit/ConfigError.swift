public import Columnar

/// A place in a pipeline document: file, 1-based line and column.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String?
    public var line: Int
    public var column: Int

    public init(file: String?, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file ?? "<document>"):\(line):\(column)" }
}

/// A problem with a pipeline document or a node's settings, found before any data moves.
///
/// It names where (file, line, column), which node and field, and what was expected.
/// Codes are stable snake_case: `unknown_key`, `missing_field`, `invalid_value`, `unknown_node_type`,
/// `unknown_node`, `unknown_port`, `duplicate_id`, `cycle`, `type_mismatch`, `unknown_column`, `syntax_error`, ….
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: String
    public var message: String
    public var location: SourceLocation?
    public var node: String?
    public var field: String?
    public var expected: String?

    public init(code: String, message: String, location: SourceLocation? = nil, node: String? = nil, field: String? = nil, expected: String? = nil) {
        self.code = code
        self.message = message
        self.location = location
        self.node = node
        self.field = field
        self.expected = expected
    }

    /// `file:line:col: node 'x', field 'y': message (expected …)`.
    public var description: String {
        var parts: [String] = []
        if let location { parts.append(location.description) }
        var subject: [String] = []
        if let node { subject.append("node '\(node)'") }
        if let field { subject.append("field '\(field)'") }
        if !subject.isEmpty { parts.append(subject.joined(separator: ", ")) }
        var text = (parts + [message]).joined(separator: ": ")
        if let expected { text += " (expected \(expected))" }
        return text
    }

    /// Codes that mean a pipeline tried to reach something its user may not: a path outside the workspace, the
    /// server's own store, a private address. The server audits these refusals.
    public static let isolationCodes: Set<String> = ["path_outside_workspace", "store_unreachable", "address_forbidden"]

    /// Whether this refusal is one of `isolationCodes`.
    public var isIsolationRefusal: Bool { Self.isolationCodes.contains(code) }

    /// The same error attributed to a node (and field, when not already set).
    public func at(node: String?, field: String? = nil, location: SourceLocation? = nil) -> ConfigError {
        var copy = self
        if copy.node == nil { copy.node = node }
        if copy.field == nil { copy.field = field }
        if copy.location == nil { copy.location = location }
        return copy
    }
}

/// Several configuration problems reported together (validation reports every problem, not the first).
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ConfigError]
    /// The output schemas (node → port → schema) of the nodes the planner could check despite the errors.
    public var schemas: [String: [String: Schema]] = [:]
    /// What planning noticed on those nodes (see `NodePlan.notes`).
    public var notes: [String: [String]] = [:]

    public init(_ errors: [ConfigError]) { self.errors = errors }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
