public import Expressions

/// The settings every database sink shares (connection, table, mode, key, schema drift), declared and
/// validated once; connector sinks add only what differs.
public struct TableSinkOptions: Sendable {
    /// The `connection` field of a connector's table nodes, with an example connection name for the docs.
    public static func connection(_ type: String, example: String) -> Field<ConnectionName> {
        Field("connection", summary: "A \(type) connection: a stored one on the server (Connections page), or one in connections.yaml beside the pipeline file.", example: example)
    }
    public static let table = Field<String>("table", summary: "Target table, optionally schema-qualified; created from the input schema if missing.", example: "analytics.orders")
    public static let mode = Field<TableWriteMode>("mode", summary: "append, replace (build a new table, swap atomically), merge (upsert on key) or create (fail if it exists).", default: .append)
    public static let key = Field<[String]>("key", summary: "Columns identifying a row (required for merge; the primary key of created tables).", default: [])
    public static let schemaDrift = Field<SchemaDriftPolicy>("schemaDrift", summary: "New input columns: evolve (add them), freeze (fail), discard (drop them).", default: .evolve)

    public static func fields(_ type: String, example: String) -> [FieldSpec] { [connection(type, example: example).spec, table.spec, mode.spec, key.spec, schemaDrift.spec] }

    public let connection: Connection
    public let table: QualifiedName
    public let mode: TableWriteMode
    public let key: [String]
    public let drift: SchemaDriftPolicy

    public init(_ settings: Settings, type: String) throws(ConfigError) {
        connection = try settings.connection(Self.connection(type, example: ""), type: type)
        let text = try settings[Self.table]
        guard let table = QualifiedName(parsing: text) else { throw settings.error(Self.table, "'\(text)' is not a table name") }
        self.table = table
        mode = try settings[Self.mode]
        key = try settings[Self.key]
        drift = try settings[Self.schemaDrift]
        if mode == .merge, key.isEmpty { throw settings.error(Self.key, "merge needs the key columns that identify a row", code: "missing_field") }
    }

    /// Checks the key columns against the input schema.
    public func check(_ input: Columnar.Schema, _ settings: Settings) throws(ConfigError) {
        for column in key where input.index(of: column) == nil {
            throw settings.error(Self.key, "key column '\(column)' is not in the input; its columns are: \(input.names.joined(separator: ", "))", code: "unknown_column")
        }
    }
}

/// The settings every database source shares (connection, table or query with parameters, batch size,
/// incremental cursor), declared and validated once.
public struct TableSourceOptions: Sendable {
    public static func connection(_ type: String, example: String) -> Field<ConnectionName> { TableSinkOptions.connection(type, example: example) }
    public static let table = Field<String?>("table", summary: "Table to read, optionally schema-qualified (or give a query).", example: "public.orders")
    public static let query = Field<String?>("query", summary: "SELECT to run instead of a table; parameters are :name.", example: "SELECT * FROM orders WHERE amount > :min")
    public static let parameters = Field<NamedValues<Expression>?>("parameters", summary: "Values of the query's :name parameters (expressions over ${run parameters}).", example: "{min: \"${minAmount}\"}")
    public static let batchRows = Field<Int>("batchRows", summary: "Rows per batch.", default: 16_384)
    public static let mode = Field<ReadMode>("mode", summary: "full reads everything; incremental reads rows after the cursor committed by the last run.", default: .full)
    public static let cursor = Field<String?>("cursor", summary: "Incremental: the column that grows with changes (updated_at, id).", example: "updated_at")
    public static let key = Field<[String]>("key", summary: "Incremental: tie-breaker columns, so rows sharing a cursor value are neither skipped nor re-read.", default: [])
    public static let nullCursor = Field<NullCursorPolicy>("nullCursor", summary: "Incremental: rows whose cursor is NULL are read on every run (always) or rejected so they are visible (reject).", default: .always)

    public static func fields(_ type: String, example: String) -> [FieldSpec] {
        [connection(type, example: example).spec, table.spec, query.spec, parameters.spec, batchRows.spec, mode.spec, cursor.spec, key.spec, nullCursor.spec]
    }

    public let connection: Connection
    public let table: QualifiedName?
    public let query: String?
    public let parameters: NamedValues<Expression>?
    public let batchRows: Int
    public let mode: ReadMode
    public let cursor: String?
    public let key: [String]
    public let nullCursor: NullCursorPolicy

    public init(_ settings: Settings, type: String) throws(ConfigError) {
        connection = try settings.connection(Self.connection(type, example: ""), type: type)
        let tableText = try settings[Self.table]
        query = try settings[Self.query]
        parameters = try settings[Self.parameters]
        batchRows = max(1, try settings[Self.batchRows])
        mode = try settings[Self.mode]
        cursor = try settings[Self.cursor]
        key = try settings[Self.key]
        nullCursor = try settings[Self.nullCursor]
        if mode == .incremental, cursor == nil { throw settings.error(Self.cursor, "incremental mode needs a cursor column", code: "missing_field") }
        if mode == .full, cursor != nil || !key.isEmpty { throw settings.error(Self.mode, "cursor and key take effect in mode: incremental") }
        switch (tableText, query) {
        case (nil, nil): throw settings.error(Self.table, "give a table or a query", code: "missing_field")
        case (.some, .some): throw settings.error(Self.query, "give a table or a query, not both")
        default: break
        }
        if let tableText {
            guard let name = QualifiedName(parsing: tableText) else { throw settings.error(Self.table, "'\(tableText)' is not a table name") }
            table = name
        } else {
            table = nil
        }
    }

    /// The columns the source must read: those downstream needs plus the cursor and key (the state comes from them).
    public func needed(_ projection: Set<String>?) -> Set<String>? {
        projection.map { $0.union([cursor].compactMap { $0 } + key) }
    }

    /// The `:name` parameters as constants (they must not depend on columns).
    public func parameterValues(_ request: PlanRequest, _ settings: Settings) throws(ConfigError) -> [(String, Columnar.Value)] {
        var values: [(String, Columnar.Value)] = []
        for entry in parameters?.entries ?? [] {
            let bound = try request.bind(entry.value, to: .empty, field: "parameters.\(entry.name)", location: entry.location)
            guard let constant = bound.constantValue else { throw settings.error(Self.parameters, "parameter :\(entry.name) must not depend on columns") }
            values.append((entry.name, constant))
        }
        return values
    }
}

import Columnar
