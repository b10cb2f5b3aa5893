import Columnar
import Expressions
public import NodeKit
import PostgresNIO

/// Streams a PostgreSQL table or query result into typed batches, with backpressure.
public struct PostgresReadNode: NodeType {
    static let lookback = Field<String?>("lookback", summary: "Incremental: also re-read rows this far behind the cursor (an interval such as '10 minutes', or a number), for late commits; pair with a merge sink.")

    public static let spec = NodeSpec(
        id: "postgres.read", version: 1, category: .source, title: "PostgreSQL table",
        summary: "Streams a PostgreSQL table or query into typed rows.",
        inputs: [], outputs: [.data("out")], fields: TableSourceOptions.fields("postgres") + [lookback.spec],
        capabilities: [.projection], icon: "database")

    let settings: Settings
    let options: TableSourceOptions
    let endpoint: PostgresEndpoint
    let lookback: String?
    var table: QualifiedName? { options.table }
    var query: String? { options.query }
    var batchRows: Int { options.batchRows }
    var mode: ReadMode { options.mode }
    var cursor: String? { options.cursor }
    var key: [String] { options.key }
    var nullCursor: NullCursorPolicy { options.nullCursor }

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        options = try TableSourceOptions(settings, type: "postgres")
        endpoint = try PostgresEndpoint(options.connection)
        lookback = try settings[Self.lookback]
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let values = Dictionary(try options.parameterValues(request, settings), uniquingKeysWith: { first, _ in first })
        let positional = query.map(SQLParameters.positional)
        for name in positional?.names ?? [] where values[name] == nil {
            throw settings.error(TableSourceOptions.parameters, "the query uses :\(name) but parameters has no '\(name)'", code: "missing_field")
        }
        // The query with its parameters as literals: for describing it, and for COPY, which binds nothing.
        let inlinedQuery = query.map { SQLParameters.inlined($0) { PostgresValues.literal(values[$0]!) } }
        let described: [PostgresColumn]
        do {
            let connection = try await endpoint.connect()
            do {
                if let table {
                    described = try await PostgresTypes.columns(of: table, on: connection)
                } else {
                    described = try await Self.describe(inlinedQuery!, on: connection)
                }
                try? await connection.close()
            } catch {
                try? await connection.close()
                throw error
            }
        } catch {
            throw settings.error(table == nil ? TableSourceOptions.query : TableSourceOptions.table, "\(endpoint): \(PostgresErrors.reason(error))", code: "database_error")
        }
        if let table, described.isEmpty {
            throw settings.error(TableSourceOptions.table, "table \(table) does not exist in \(endpoint)", code: "unknown_table")
        }
        var incremental: IncrementalPlan?
        if mode == .incremental, let cursor {
            func column<T>(_ name: String, _ field: Field<T>) throws(ConfigError) -> PostgresColumn {
                guard let c = described.first(where: { $0.name == name }) else {
                    throw settings.error(field, "column '\(name)' is not in \(table?.description ?? "the query"); its columns are: \(described.map(\.name).joined(separator: ", "))", code: "unknown_column")
                }
                return c
            }
            let cursorColumn = try column(cursor, TableSourceOptions.cursor)
            var keyColumns: [PostgresColumn] = []
            for name in key { keyColumns.append(try column(name, TableSourceOptions.key)) }
            incremental = IncrementalPlan(cursor: cursorColumn, key: keyColumns, lookback: lookback, nulls: nullCursor)
        }
        var columns = described
        if let needed = options.needed(request.projection) { columns = columns.filter { needed.contains($0.name) } }
        let schema = Schema(columns.map { SchemaField($0.name, PostgresTypes.dataType($0), nullable: !$0.notNull) })
        let source = table.map(\.quoted) ?? "(\(positional!.sql)) AS sluice_query"
        let list = columns.map { PostgresTypes.selectExpression($0) }.joined(separator: ", ")
        let sql = "SELECT \(list) FROM \(source)"
        let binds = (positional?.names ?? []).map { values[$0]! }
        let copySource = table.map(\.quoted) ?? "(\(inlinedQuery!)) AS sluice_query"
        return NodePlan(outputs: ["out": schema], work: Work(endpoint: endpoint, sql: sql, binds: binds, copySQL: "SELECT \(list) FROM \(copySource)",
                                                             schema: schema, oids: columns.map(PostgresTypes.resultOID), batchRows: batchRows, incremental: incremental))
    }

    /// The result columns of a query (its parameters inlined as literals), found without running it: its
    /// result shape goes into a temporary table inside a transaction that is rolled back.
    static func describe(_ probe: String, on connection: PostgresConnection) async throws -> [PostgresColumn] {
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
        /// The same SELECT with parameters inlined, for binary COPY.
        let copySQL: String
        let schema: Schema
        /// The result type of each selected column (binary COPY sends none).
        let oids: [UInt32]
        let batchRows: Int
        let incremental: IncrementalPlan?

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            if incremental == nil { return try await copy(context) }
            // Incremental reads start after the state committed with the data of the last successful run.
            var state: CursorState?
            if let incremental {
                let stored = try await context.committedState().compactMap(CursorState.parse)
                state = CursorState.earliest(stored, cursorType: PostgresTypes.dataType(incremental.cursor))
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
                throw readFailure(error)
            }
        }

        /// A full read: `COPY (SELECT …) TO STDOUT` in binary on a wire-protocol connection of our own,
        /// decoded in place from the receive buffer (postgres-nio 1.x has no COPY TO, and its per-row,
        /// per-cell decoding was half of a table-to-table copy's time; see docs/performance.md).
        private func copy(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            do {
                try await PostgresWireSession.withSession(endpoint) { session in
                    var decoder = BinaryCopyDecoder(schema: schema, oids: oids, batchRows: batchRows)
                    try await session.copyOut(copySQL, into: &decoder) { rows in try await emit(&rows, context) }
                }
                return nil
            } catch {
                throw readFailure(error)
            }
        }

        /// Node errors and cancellation as they are; anything else as a database error naming the server.
        private func readFailure(_ error: any Error) -> any Error {
            if error is NodeError || error is CancellationError || Task.isCancelled { return error }
            return NodeError(code: "database_error", message: "reading from \(endpoint)", isRetryable: PostgresErrors.isRetryable(error), cause: PostgresErrors.reason(error))
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
            var lastCursorKeys = lastKeyCells
            var batch = PostgresBatchBuilder(schema: schema, batchRows: batchRows)
            for try await row in rows {
                var failed: Int?
                var cursorCell: PostgresCell?
                for (k, cell) in row.enumerated() where k < batch.builders.count {
                    if k == cursorIndex { cursorCell = cell }
                    if let i = keyIndexes.firstIndex(of: k) { lastKeyCells[i] = cell }
                    if !PostgresTypes.append(cell, to: &batch.builders[k]), failed == nil { failed = k }
                }
                let payload = { row.map { ($0.columnName, Value.string(($0.bytes.map { String(buffer: $0) }) ?? "NULL")) } }
                var rejected = failed.map { batch.unfit(field: $0, payload: payload()) }
                if let cell = cursorCell, failed == nil {
                    if cell.bytes != nil {
                        lastCursorCell = cell
                        lastCursorKeys = lastKeyCells
                    } else if incremental?.nulls == .reject {
                        let name = incremental!.cursor.name
                        rejected = RejectedRecord(code: "null_cursor", message: "row \(batch.rowIndex): cursor column '\(name)' is NULL (nullCursor is reject)",
                                                  field: name, row: batch.rowIndex, payload: .row(payload()))
                    }
                }
                batch.endRow(rejected: rejected)
                if batch.isFull { try await emit(&batch, context) }
            }
            if batch.count > 0 { try await emit(&batch, context) }
            if incremental != nil {
                try await connection.query("COMMIT", logger: PostgresEndpoint.logger)
                if let cell = lastCursorCell, let cursorIndex {
                    let newState = CursorState(cursor: Self.text(cell, schema.fields[cursorIndex].type),
                                               key: zip(lastCursorKeys, keyIndexes).map { Self.text($0.0!, schema.fields[$0.1].type) })
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

        /// Hands the batch's rejected rows to the reject store and its other rows downstream.
        private func emit(_ rows: inout PostgresBatchBuilder, _ context: any NodeContext) async throws {
            let (batch, rejects) = rows.takeBatch()
            try await context.reject(rejects)
            try await context.emit(batch, on: "out")
        }
    }
}
