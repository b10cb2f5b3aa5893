/// A connector whose connections run SQL statements: `sql.run` and `sql.models` reach a database through it
/// without naming its connector.
public protocol SQLRunning: Connector {
    /// Opens a session on the connection (one connection to the database, used by one task at a time).
    static func sqlSession(_ connection: Connection) async throws -> any SQLSession
}

/// The SQL a database speaks where statements differ: how names are quoted and how a built relation replaces another.
public enum SQLDialect: String, Sendable {
    case postgres, sqlite

    /// Whether the database has schemas (namespaces inside one database).
    public var hasSchemas: Bool { self == .postgres }
    /// Whether several sessions may write at once (SQLite has one writer).
    public var writesInParallel: Bool { self == .postgres }
}

/// One open database session that runs statements one at a time.
public protocol SQLSession: AnyObject, Sendable {
    var dialect: SQLDialect { get }
    /// Runs one statement with `:name` parameters bound from `parameters` (never spliced into the text) and
    /// returns what it said: its rows (as text), the rows it changed, and the server's notices.
    /// A refused statement throws `SQLStatementError`.
    func run(_ statement: String, parameters: [String: SQLParameter]) async throws -> SQLStatementResult
    /// Ends the session; an open transaction is rolled back.
    func close() async
}

extension SQLSession {
    /// Runs a statement without parameters.
    @discardableResult
    public func run(_ statement: String) async throws -> SQLStatementResult { try await run(statement, parameters: [:]) }

    /// The first column of the first row as an integer (`SELECT count(*) …`).
    public func count(_ statement: String) async throws -> Int {
        let result = try await run(statement)
        guard let text = result.rows.first?.first ?? nil, let value = Int(text) else { return 0 }
        return value
    }
}

/// A value bound to a `:name` parameter.
public enum SQLParameter: Sendable, Equatable, CustomStringConvertible {
    case null
    case int(Int64)
    case double(Double)
    case text(String)

    /// Text as written in a setting: whole numbers bind as integers, other numbers as doubles, the rest as text.
    public init(setting text: String) {
        if let value = Int64(text) { self = .int(value) } else if let value = Double(text), text.contains(".") { self = .double(value) } else { self = .text(text) }
    }

    /// The value as text (for protocols that bind text), nil for NULL.
    public var text: String? {
        switch self {
        case .null: nil
        case let .int(value): String(value)
        case let .double(value): String(value)
        case let .text(value): value
        }
    }

    public var description: String { text ?? "NULL" }
}

/// What one statement returned.
public struct SQLStatementResult: Sendable {
    /// Column names of the rows it returned (none for most statements).
    public var columns: [String]
    /// Rows as text (nil for NULL).
    public var rows: [[String?]]
    /// Rows inserted, updated or deleted (or selected into a table), when the database says.
    public var changed: Int?
    /// What the statement was (`INSERT`, `CREATE TABLE`…), when the database says.
    public var command: String?
    /// Notices and warnings the server sent while it ran.
    public var notices: [String]

    public init(columns: [String] = [], rows: [[String?]] = [], changed: Int? = nil, command: String? = nil, notices: [String] = []) {
        self.columns = columns
        self.rows = rows
        self.changed = changed
        self.command = command
        self.notices = notices
    }
}

/// A statement the database refused: its message, SQLSTATE (or SQLite's code), and the character the server
/// pointed at (1-based, within the statement) when it did.
public struct SQLStatementError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let code: String?
    public let position: Int?
    /// Whether trying again may help (a lost connection, a serialization failure, a busy database).
    public let isRetryable: Bool

    public init(message: String, code: String? = nil, position: Int? = nil, isRetryable: Bool = false) {
        self.message = message
        self.code = code
        self.position = position
        self.isRetryable = isRetryable
    }

    public var description: String { message + (code.map { " (\($0))" } ?? "") }
}

extension Settings {
    /// The connection a `connection` field names, checked to run SQL, and its connector.
    public func sqlConnection(_ field: Field<ConnectionName>) throws(ConfigError) -> (connection: Connection, connector: any SQLRunning.Type) {
        try connection(field, offering: (any SQLRunning.Type).self, refusal: "runs no SQL")
    }

    /// The connection a `connection` field names and its connector's `ability`; an unknown name lists the
    /// connections that offer it, another type says it `refusal` ("runs no SQL") and names the types that do.
    public func connection<Ability>(_ field: Field<ConnectionName>, offering ability: Ability.Type, refusal: String) throws(ConfigError) -> (connection: Connection, connector: Ability) {
        let name = try self[field].name
        guard let connection = connections.connections[name] else {
            let usable = connections.connections.values.filter { connectors.connector($0.type, offering: ability) != nil }.map(\.name).sorted()
            let place = connections.source.map { " in \($0)" } ?? " (pass --connections FILE or put connections.yaml beside the pipeline)"
            throw ConfigError(code: "unknown_connection", message: "no connection named '\(name)'\(place)", location: location(of: field), node: node,
                              field: field.name, expected: usable.isEmpty ? connectors.describeTypes(offering: ability) : "one of: \(usable.joined(separator: ", "))")
        }
        guard let connector = connectors.connector(connection.type, offering: ability) else {
            throw error(field, "connection '\(name)' is a \(connection.type) connection, which \(refusal)", code: "connection_type_mismatch",
                        expected: connectors.describeTypes(offering: ability))
        }
        return (connection, connector)
    }
}

/// A connector whose connections dbt can use: it writes the connection as a dbt profile output.
public protocol DBTProfiling: Connector {
    /// The profile's fields for `profiles.yml` (never a secret: a secret is written as `{{ env_var('NAME') }}`)
    /// and the environment variables that carry the secrets to dbt.
    static func dbtProfile(_ connection: Connection, schema: String, threads: Int) throws(ConfigError) -> DBTProfile
}

/// A dbt profile output for one connection.
public struct DBTProfile: Sendable {
    /// Fields in order; values are written as YAML strings unless they are whole numbers.
    public var fields: [(name: String, value: String)]
    /// Secrets, by environment variable name.
    public var environment: [String: String]

    public init(fields: [(name: String, value: String)], environment: [String: String]) {
        self.fields = fields
        self.environment = environment
    }
}
