import Columnar
import Expressions
public import NodeKit
import PostgresNIO

/// Streams a PostgreSQL table or query result into typed batches, with backpressure.
public struct PostgresReadNode: NodeType {
    static let connection = Field<String>("connection", summary: "A postgres connection from connections.yaml.", example: "warehouse")
    static let table = Field<String?>("table", summary: "Table to read, optionally schema-qualified (or give a query).", example: "public.orders")
    static let query = Field<String?>("query", summary: "SELECT to run instead of a table; parameters are :name.", example: "SELECT * FROM orders WHERE amount > :min")
    static let parameters = Field<NamedValues<Expression>?>("parameters", summary: "Values of the query's :name parameters (expressions over ${run parameters}).", example: "{min: \"${minAmount}\"}")
    static let batchRows = Field<Int>("batchRows", summary: "Rows per batch.", default: 16_384)
    static let mode = Field<ReadMode>("mode", summary: "full reads everything; incremental reads rows after the cursor committed by the last run.", default: .full)
    static let cursor = Field<String?>("cursor", summary: "Incremental: the column that grows with changes (updated_at, id).", example: "updated_at")
    static let key = Field<[String]>("key", summary: "Incremental: tie-breaker columns, so rows sharing a cursor value are neither skipped nor re-read.", default: [])
    static let lookback = Field<String?>("lookback", summary: "Incremental: also re-read rows this far behind the cursor (an interval such as '10 minutes', or a number), for late commits; pair with a merge sink.")
    static let nullCursor = Field<NullCursorPolicy>("nullCursor", summary: "Incremental: rows whose cursor is NULL are read on every run (always) or rejected so they are visible (reject).", default: .always)

    public static let spec = NodeSpec(
        id: "postgres.read", version: 1, category: .source, title: "PostgreSQL table",
        summary: "Streams a PostgreSQL table or query into typed rows.",
        inputs: [], outputs: [.data("out")], fields: [connection.spec, table.spec, query.spec, parameters.spec, batchRows.spec, mode.spec, cursor.spec, key.spec, lookback.spec, nullCursor.spec],
        capabilities: [.projection], icon: "database")

    let settings: Settings
    let endpoint: PostgresEndpoint
    let table: QualifiedName?
    let query: String?
    let parameters: NamedValues<Expression>?
    let batchRows: Int
    let mode: ReadMode
    let cursor: String?
    let key: [String]
    let lookback: String?
    let nullCursor: NullCursorPolicy

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        endpoint = try PostgresEndpoint(try settings.connection(Self.connection, type: "postgres"))
        let tableText = try settings[Self.table]
        query = try settings[Self.query]
        parameters = try settings[Self.parameters]
        batchRows = max(1, try settings[Self.batchRows])
        mode = try settings[Self.mode]
        cursor = try settings[Self.cursor]
        key = try settings[Self.key]
        lookback = try settings[Self.lookback]
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

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        var values: [String: Value] = [:]
        for entry in parameters?.entries ?? [] {
            let bound = try request.bind(entry.value, to: .empty, field: "parameters.\(entry.name)", location: entry.location)
            guard let constant = bound.constantValue else { throw settings.error(Self.parameters, "parameter :\(entry.name) must not depend on columns") }
            values[entry.name] = constant
        }
        let positional = query.map(SQLParameters.positional)
        for name in positional?.names ?? [] where values[name] == nil {
            throw settings.error(Self.parameters, "the query uses :\(name) but parameters has no '\(name)'", code: "missing_field")
        }
        let described: [PostgresColumn]
        do {
            let connection = try await endpoint.connect()
            do {
                if let table {
                    described = try await PostgresTypes.columns(of: table, on: connection)
                } else {
                    described = try await Self.describe(positional!.sql, names: positional!.names, values: values, on: connection)
                }
                try? await connection.close()
            } catch {
                try? await connection.close()
                throw error
            }
        } catch {
            throw settings.error(table == nil ? Self.query : Self.table, "\(endpoint): \(PostgresErrors.reason(error))", code: "database_error")
        }
        if let table, described.isEmpty {
            throw settings.error(Self.table, "table \(table) does not exist in \(endpoint)", code: "unknown_table")
        }
        var incremental: IncrementalPlan?
        if mode == .incremental, let cursor {
            func column<T>(_ name: String, _ field: Field<T>) throws(ConfigError) -> PostgresColumn {
                guard let c = described.first(where: { $0.name == name }) else {
                    throw settings.error(field, "column '\(name)' is not in \(table?.description ?? "the query"); its columns are: \(described.map(\.name).joined(separator: ", "))", code: "unknown_column")
                }
                return c
            }
            let cursorColumn = try column(cursor, Self.cursor)
            var keyColumns: [PostgresColumn] = []
            for name in key { keyColumns.append(try column(name, Self.key)) }
            incremental = IncrementalPlan(cursor: cursorColumn, key: keyColumns, lookback: lookback, nulls: nullCursor)
        }
        var columns = described
        if let projection = request.projection {
            // The cursor and key columns are always read: the state is taken from them.
            let needed = projection.union([cursor].compactMap { $0 } + key)
            columns = columns.filter { needed.contains($0.name) }
        }
        let schema = Schema(columns.map { SchemaField($0.name, PostgresTypes.dataType($0), nullable: !$0.notNull) })
        let source = table.map(\.quoted) ?? "(\(positional!.sql)) AS sluice_query"
        let list = columns.map { PostgresTypes.selectExpression($0) }.joined(separator: ", ")
        let sql = "SELECT \(list) FROM \(source)"
        let binds = (positional?.names ?? []).map { values[$0]! }
        return NodePlan(outputs: ["out": schema], work: Work(endpoint: endpoint, sql: sql, binds: binds, schema: schema, batchRows: batchRows, incremental: incremental))
    }

    /// The result columns of a query, found without running it: its result shape goes into a temporary
    /// table (parameters inlined as literals) inside a transaction that is rolled back.
    static func describe(_ sql: String, names: [String], values: [String: Value], on connection: PostgresConnection) async throws -> [PostgresColumn] {
        var probe = sql
        for (i, name) in names.enumerated().reversed() { probe = probe.replacingOccurrences(of: "$\(i + 1)", with: PostgresValues.literal(values[name]!)) }
        let table = "sluice_probe_\(UInt32.random(in: 0...UInt32.max))"
        try await connection.query(PostgresQuery(unsafeSQL: "BEGIN"), logger: PostgresEndpoint.logger)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE TEMP TABLE \(table) AS SELECT * FROM (\(probe)) AS q WITH NO DATA"), logger: PostgresEndpoint.logger)
            let columns = try await PostgresTypes.columns(of: QualifiedName(schema: nil, name: table), on: connection)
            try await connection.query(PostgresQuery(unsafeSQL: "ROLLBACK"), logger: PostgresEndpoint.logger)
            return columns
        } catch {
            _ = try? await connection.query(PostgresQuery(unsafeSQL: "ROLLBACK"), logger: PostgresEndpoint.logger)
            throw error
        }
    }

    struct Work: NodeWork {
        let endpoint: PostgresEndpoint
        let sql: String
        let binds: [Value]
        let schema: Schema
        let batchRows: Int
        let incremental: IncrementalPlan?

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            // Incremental reads start after the state committed with the data of the last successful run.
            var state: CursorState?
            if let incremental {
                let stored = try await context.committedState().compactMap(CursorState.parse)
                state = incremental.earliest(stored, order: CursorText.less(PostgresTypes.dataType(incremental.cursor)))
                if stored.isEmpty { context.log(.info, "no committed cursor: reading everything") } else {
                    context.log(.info, "reading rows after cursor \(state!.cursor)" + (state!.key.isEmpty ? "" : " / key \(state!.key.joined(separator: ", "))"))
                }
            }
            let connection = try await endpoint.connect()
            do {
                if incremental != nil { try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: PostgresEndpoint.logger) }
                try await stream(connection, context, after: state)
                try? await connection.close()
                return nil
            } catch {
                try? await connection.close()
                if error is NodeError || error is CancellationError || Task.isCancelled { throw error }
                throw NodeError(code: "database_error", message: "reading from \(endpoint)", isRetryable: PostgresErrors.isRetryable(error), cause: PostgresErrors.reason(error))
            }
        }

        private func stream(_ connection: PostgresConnection, _ context: any NodeContext, after state: CursorState?) async throws {
            var query = sql
            var values = binds
            var cursorIndex: Int?, keyIndexes: [Int] = []
            if let incremental {
                let clause = incremental.clause(after: state)
                // Parameters of the base query come first; the cursor's take the next numbers.
                var filter = clause.sql
                for i in stride(from: clause.binds.count, through: 1, by: -1) { filter = filter.replacingOccurrences(of: "$\(i)", with: "$\(i + binds.count)") }
                query = "SELECT * FROM (\(sql)) AS sluice_read" + filter
                values += clause.binds.map(Value.string)
                cursorIndex = schema.index(of: incremental.cursor.name)
                keyIndexes = incremental.key.compactMap { schema.index(of: $0.name) }
            }
            let rows = try await connection.query(PostgresQuery(unsafeSQL: query, binds: try PostgresValues.bindings(values)), logger: PostgresEndpoint.logger)
            // The cursor and key cells of the newest row that has a cursor (rows arrive ordered by them).
            var lastCursorCell: PostgresCell?
            var lastKeyCells: [PostgresCell?] = Array(repeating: nil, count: keyIndexes.count)
            var builders = schema.fields.map { ColumnBuilder(type: $0.type, capacity: batchRows) }
            var count = 0, index = 0
            var bad: [Int] = []
            var rejects: [RejectedRecord] = []
            for try await row in rows {
                var failed: String?
                for (k, cell) in row.enumerated() where k < builders.count && !PostgresTypes.append(cell, to: &builders[k]) && failed == nil {
                    failed = schema.fields[k].name
                }
                if let cursorIndex, failed == nil, cursorIndex < row.count {
                    let cells = Array(row)
                    if cells[cursorIndex].bytes != nil {
                        lastCursorCell = cells[cursorIndex]
                        for (i, k) in keyIndexes.enumerated() { lastKeyCells[i] = cells[k] }
                    } else if incremental?.nulls == .reject {
                        failed = incremental!.cursor.name
                        bad.append(count)
                        rejects.append(RejectedRecord(code: "null_cursor", message: "row \(index): cursor column '\(failed!)' is NULL (nullCursor is reject)", field: failed, row: index,
                                                      payload: .row(row.map { ($0.columnName, Value.string(($0.bytes.map { String(buffer: $0) }) ?? "NULL")) })))
                        count += 1
                        index += 1
                        if count == batchRows { try await flush(&builders, &count, &bad, &rejects, context) }
                        continue
                    }
                }
                if let failed {
                    bad.append(count)
                    rejects.append(RejectedRecord(code: "invalid_value", message: "row \(index): column '\(failed)' does not fit \(schema.field(named: failed)!.type) (infinity, NaN or out of range)",
                                                  field: failed, row: index, payload: .row(row.map { ($0.columnName, Value.string(($0.bytes.map { String(buffer: $0) }) ?? "NULL")) })))
                }
                count += 1
                index += 1
                if count == batchRows {
                    try await flush(&builders, &count, &bad, &rejects, context)
                }
            }
            if count > 0 { try await flush(&builders, &count, &bad, &rejects, context) }
            if incremental != nil {
                try await connection.query("COMMIT", logger: PostgresEndpoint.logger)
                if let cell = lastCursorCell, let cursorIndex {
                    let newState = CursorState(cursor: Self.text(cell, schema.fields[cursorIndex].type),
                                               key: zip(lastKeyCells, keyIndexes).map { Self.text($0.0!, schema.fields[$0.1].type) })
                    context.publishState(newState.json)
                    context.log(.info, "new cursor \(newState.cursor) (committed with the data)")
                }
            }
        }

        /// A cell's value as cursor text (decoded through the column's type).
        static func text(_ cell: PostgresCell, _ type: DataType) -> String {
            var builder = ColumnBuilder(type: type, capacity: 1)
            _ = PostgresTypes.append(cell, to: &builder)
            return CursorText.text(builder.finish().value(at: 0))
        }

        private func flush(_ builders: inout [ColumnBuilder], _ count: inout Int, _ bad: inout [Int], _ rejects: inout [RejectedRecord], _ context: any NodeContext) async throws {
            try await context.reject(rejects)
            let columns = builders.indices.map { builders[$0].finish() }
            try await context.emit(RecordBatch(schema: schema, columns: columns, count: count).removing(rows: bad), on: "out")
            count = 0
            bad.removeAll()
            rejects.removeAll()
        }
    }
}
