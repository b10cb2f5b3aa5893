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

    public static let spec = NodeSpec(
        id: "postgres.read", version: 1, category: .source, title: "PostgreSQL table",
        summary: "Streams a PostgreSQL table or query into typed rows.",
        inputs: [], outputs: [.data("out")], fields: [connection.spec, table.spec, query.spec, parameters.spec, batchRows.spec],
        capabilities: [.projection], icon: "database")

    let settings: Settings
    let endpoint: PostgresEndpoint
    let table: QualifiedName?
    let query: String?
    let parameters: NamedValues<Expression>?
    let batchRows: Int

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        endpoint = try PostgresEndpoint(try settings.connection(Self.connection, type: "postgres"))
        let tableText = try settings[Self.table]
        query = try settings[Self.query]
        parameters = try settings[Self.parameters]
        batchRows = max(1, try settings[Self.batchRows])
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
        var columns = described
        if let projection = request.projection { columns = columns.filter { projection.contains($0.name) } }
        let schema = Schema(columns.map { SchemaField($0.name, PostgresTypes.dataType($0), nullable: !$0.notNull) })
        let source = table.map(\.quoted) ?? "(\(positional!.sql)) AS sluice_query"
        let list = columns.map { PostgresTypes.selectExpression($0) }.joined(separator: ", ")
        let sql = "SELECT \(list) FROM \(source)"
        let binds = (positional?.names ?? []).map { values[$0]! }
        return NodePlan(outputs: ["out": schema], work: Work(endpoint: endpoint, sql: sql, binds: binds, schema: schema, batchRows: batchRows))
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
            try? await connection.query(PostgresQuery(unsafeSQL: "ROLLBACK"), logger: PostgresEndpoint.logger)
            throw error
        }
    }

    struct Work: NodeWork {
        let endpoint: PostgresEndpoint
        let sql: String
        let binds: [Value]
        let schema: Schema
        let batchRows: Int

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            let connection = try await endpoint.connect()
            do {
                try await stream(connection, context)
                try? await connection.close()
                return nil
            } catch {
                try? await connection.close()
                if error is NodeError || error is CancellationError || Task.isCancelled { throw error }
                throw NodeError(code: "database_error", message: "reading from \(endpoint)", isRetryable: PostgresErrors.isRetryable(error), cause: PostgresErrors.reason(error))
            }
        }

        private func stream(_ connection: PostgresConnection, _ context: any NodeContext) async throws {
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: try PostgresValues.bindings(binds)), logger: PostgresEndpoint.logger)
            var builders = schema.fields.map { ColumnBuilder(type: $0.type, capacity: batchRows) }
            var count = 0, index = 0
            var bad: [Int] = []
            var rejects: [RejectedRecord] = []
            for try await row in rows {
                var failed: String?
                for (k, cell) in row.enumerated() where k < builders.count && !PostgresTypes.append(cell, to: &builders[k]) && failed == nil {
                    failed = schema.fields[k].name
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
