import Columnar
import Expressions
public import NodeKit
import PostgresNIO

/// Streams a PostgreSQL table or query result into typed batches, with backpressure.
public struct PostgresReadNode: NodeType {
    static let lookback = Field<String?>("lookback", summary: "Incremental: also re-read rows this far behind the cursor (an interval such as '10 minutes', or a number), for late commits; pair with a merge sink.")
    static let columns = Field<SchemaDeclaration?>("columns", summary: "The columns read, with their types (each is cast to it): the read then needs no database while planning, for a table or view an earlier step of the run builds.",
                                                   example: "{courier: string, deliveries: int64}")

    public static let spec = NodeSpec(
        id: "postgres.read", version: 1, category: .source, title: "PostgreSQL table",
        summary: "Streams a PostgreSQL table or query into typed rows.",
        inputs: [], outputs: [.data("out")], fields: TableSourceOptions.fields(PostgresConnector.spec.type, example: "warehouse") + [lookback.spec, columns.spec],
        capabilities: [.projection, .rejects], icon: "database")

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
        options = try TableSourceOptions(settings, type: PostgresConnector.spec.type)
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
        let declared = try settings[Self.columns]?.schema
        if let declared {
            guard !declared.fields.isEmpty else { throw settings.error(Self.columns, "name at least one column") }
            described = declared.fields.map { PostgresTypes.column(named: $0.name, as: $0.type) }
        } else { do {
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
        } }
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
        let list = columns.map { declared == nil ? PostgresTypes.selectExpression($0) : PostgresTypes.castExpression($0) }.joined(separator: ", ")
        let source = table.map(\.quoted) ?? "(\(inlinedQuery!)) AS sluice_query"
        return NodePlan(outputs: ["out": schema], work: Work(endpoint: endpoint, copySQL: "SELECT \(list) FROM \(source)",
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
        /// The SELECT of the read, parameters inlined (COPY binds nothing).
        let copySQL: String
        let schema: Schema
        /// The result type of each selected column (binary COPY sends none).
        let oids: [UInt32]
        let batchRows: Int
        let incremental: IncrementalPlan?

        /// Every read is `COPY (SELECT …) TO STDOUT` in binary on a wire-protocol connection of our own,
        /// decoded in place from the receive buffer (postgres-nio 1.x has no COPY TO, and its per-row,
        /// per-cell decoding was half of a table-to-table copy's time; see docs/performance.md). An
        /// incremental read runs it in a REPEATABLE READ transaction, ordered by cursor and key.
        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            do {
                try await PostgresWireSession.withSession(endpoint) { session in
                    var decoder = BinaryCopyDecoder(schema: schema, oids: oids, batchRows: batchRows)
                    guard let incremental else {
                        try await session.copyOut(copySQL, into: &decoder) { rows in _ = try await emit(&rows, context) }
                        return
                    }
                    try await readIncrementally(incremental, session, &decoder, context)
                }
                return nil
            } catch {
                throw readFailure(error)
            }
        }

        /// Reads the rows after the cursor committed with the data of the last successful run, in one
        /// snapshot, and publishes the newest cursor (and key) read, for the sink to commit with this run's data.
        private func readIncrementally(_ incremental: IncrementalPlan, _ session: PostgresWireSession, _ decoder: inout BinaryCopyDecoder,
                                       _ context: any NodeContext) async throws {
            let stored = try await context.committedState().compactMap(CursorState.parse)
            let state = CursorState.earliest(stored, cursorType: PostgresTypes.dataType(incremental.cursor))
            if let state {
                context.log(.info, "reading rows after cursor \(state.cursor)" + (state.key.isEmpty ? "" : " / key \(state.key.joined(separator: ", "))"))
            } else {
                context.log(.info, "no committed cursor: reading everything")
            }
            guard let cursorIndex = schema.index(of: incremental.cursor.name) else {
                throw NodeError(code: "internal_error", message: "the cursor column '\(incremental.cursor.name)' is not among the selected columns")
            }
            let keyIndexes = incremental.key.compactMap { schema.index(of: $0.name) }
            if incremental.nulls == .reject { decoder.rejectNullsIn = cursorIndex }
            try await session.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            // Rows arrive ordered by cursor (NULLs first) and key: the newest cursor is the last non-NULL one emitted.
            var newest: CursorState?
            try await session.copyOut("SELECT * FROM (\(copySQL)) AS sluice_read" + incremental.clause(after: state), into: &decoder) { rows in
                let batch = try await emit(&rows, context)
                guard let last = (0..<batch.count).last(where: { !batch.columns[cursorIndex].value(at: $0).isNull }) else { return }
                newest = CursorState(cursor: CursorText.text(batch.columns[cursorIndex].value(at: last)),
                                     key: keyIndexes.map { CursorText.text(batch.columns[$0].value(at: last)) })
            }
            try await session.query("COMMIT")
            if let newest {
                context.publishState(newest.json)
                context.log(.info, "new cursor \(newest.cursor) (committed with the data)")
            }
        }

        private func readFailure(_ error: any Error) -> any Error {
            PostgresErrors.nodeError(error, "reading from \(endpoint)")
        }

        /// Hands the batch's rejected rows to the reject store and its other rows downstream; returns those rows.
        @discardableResult
        private func emit(_ rows: inout PostgresBatchBuilder, _ context: any NodeContext) async throws -> RecordBatch {
            let (batch, rejects) = rows.takeBatch()
            try await context.reject(rejects)
            try await context.emit(batch, on: "out")
            return batch
        }
    }
}
