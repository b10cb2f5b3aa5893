import Columnar
import NIOCore
public import NodeKit
import PostgresNIO

/// Loads rows into a PostgreSQL table with COPY FROM STDIN inside one transaction that commits with the run.
public struct PostgresWriteNode: NodeType {
    public static let spec = NodeSpec(
        id: "postgres.write", version: 1, category: .sink, title: "PostgreSQL table",
        summary: "Loads rows into a PostgreSQL table with COPY; nothing is visible until the run commits.",
        inputs: [.data("in")], outputs: [], fields: TableSinkOptions.fields("postgres"),
        capabilities: [.transactionalSink], icon: "database")

    let settings: Settings
    let options: TableSinkOptions
    let endpoint: PostgresEndpoint
    var table: QualifiedName { options.table }
    var mode: TableWriteMode { options.mode }
    var key: [String] { options.key }
    var drift: SchemaDriftPolicy { options.drift }

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        options = try TableSinkOptions(settings, type: "postgres")
        endpoint = try PostgresEndpoint(options.connection)
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let input = try request.input()
        try options.check(input, settings)
        return NodePlan(outputs: [:], work: PostgresLoad(node: self, input: input))
    }
}

/// The work of `postgres.write` for one run; also the state store of the sources upstream of it.
struct PostgresLoad: StateStore {
    let node: PostgresWriteNode
    let input: Schema
    var logger: Logger { PostgresEndpoint.logger }

    /// Where COPY goes and what finishes the load.
    struct Target {
        var copyInto: QualifiedName
        var columns: [String]
        /// Statements that move a merged batch from the staging table into the target.
        var upsert: [String]
        var finish: [String]
    }

    func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
        if context.isPreview {
            for try await _ in context.input("in") {}
            return nil
        }
        let connection = try await node.endpoint.connect()
        do {
            if try await Self.alreadyCommitted(context, on: connection) {
                try? await connection.close()
                return nil
            }
        } catch {
            try? await connection.close()
            throw NodeError(code: "database_error", message: "checking earlier commits of this run in \(node.endpoint)", isRetryable: PostgresErrors.isRetryable(error),
                            cause: PostgresErrors.reason(error))
        }
        if node.mode == .replace { return try await replace(connection, context) }
        do {
            try await execute(connection, "BEGIN")
            let target = try await prepare(connection)
            var batches = context.input("in").makeAsyncIterator()
            var row = 0
            while let batch = try await batches.next() {
                try Task.checkCancellation()
                row += try await loadSpan(batch, firstRow: row, next: { try await batches.next() }, into: target, on: connection, context)
            }
            let state = context.upstreamState()
            return PostgresPending(connection: connection, finish: target.finish + (state.isEmpty ? [] : Self.stateStatements(state)) + Self.markerStatements(context),
                                   endpoint: node.endpoint)
        } catch {
            try? await execute(connection, "ROLLBACK")
            try? await connection.close()
            if error is NodeError || error is CancellationError || Task.isCancelled { throw error }
            throw NodeError(code: "database_error", message: "writing \(node.table) on \(node.endpoint)", isRetryable: PostgresErrors.isRetryable(error), cause: PostgresErrors.reason(error))
        }
    }

    /// `replace` with parallel COPY streams: the staging table is created and committed first (nobody reads
    /// it), `streams` connections load alternate batches concurrently and commit into it, and the swap
    /// (drop old, rename new, store state) is one transaction at commit. Abort or a crash before the swap
    /// leaves the target untouched; a leftover staging table is dropped by the next run.
    private func replace(_ connection: PostgresConnection, _ context: any NodeContext) async throws -> (any PendingCommit)? {
        let staging = QualifiedName(schema: node.table.schema, name: node.table.name + "__sluice_new")
        let dropStaging = "DROP TABLE IF EXISTS \(staging.quoted)"
        var streams: [PostgresConnection] = []
        do {
            if let schema = node.table.schema { try await execute(connection, "CREATE SCHEMA IF NOT EXISTS \(SQLText.quote(schema))") }
            let definitions = input.fields.map { "\(SQLText.quote($0.name)) \(PostgresTypes.declared($0.type))" }
            let primaryKey = node.key.isEmpty ? "" : ", PRIMARY KEY (\(node.key.map(SQLText.quote).joined(separator: ", ")))"
            try await execute(connection, dropStaging)
            try await execute(connection, "CREATE TABLE \(staging.quoted) (\(definitions.joined(separator: ", "))\(primaryKey))")
            let target = Target(copyInto: staging, columns: input.names, upsert: [], finish: [])
            for _ in 0..<Self.replaceStreams {
                let stream = try await node.endpoint.connect()
                streams.append(stream)
                try await execute(stream, "BEGIN")
            }
            var row = 0
            var pending: [(RecordBatch, Int)] = []
            func flush() async throws {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (i, (batch, first)) in pending.enumerated() {
                        let stream = streams[i]
                        group.addTask { try await load(batch, firstRow: first, into: target, on: stream, context) }
                    }
                    try await group.waitForAll()
                }
                pending.removeAll()
            }
            for try await batch in context.input("in") {
                try Task.checkCancellation()
                pending.append((batch, row))
                row += batch.count
                if pending.count == streams.count { try await flush() }
            }
            try await flush()
            for stream in streams {
                try await execute(stream, "COMMIT")
                try? await stream.close()
            }
            try await execute(connection, "BEGIN")
            let state = context.upstreamState()
            let swap = ["DROP TABLE IF EXISTS \(node.table.quoted)", "ALTER TABLE \(staging.quoted) RENAME TO \(SQLText.quote(node.table.name))"]
            return PostgresPending(connection: connection, finish: swap + (state.isEmpty ? [] : Self.stateStatements(state)) + Self.markerStatements(context),
                                   endpoint: node.endpoint, onAbort: [dropStaging])
        } catch {
            for stream in streams {
                _ = try? await stream.query("ROLLBACK", logger: logger)
                try? await stream.close()
            }
            _ = try? await connection.query(PostgresQuery(unsafeSQL: dropStaging), logger: logger)
            try? await connection.close()
            if error is NodeError || error is CancellationError || Task.isCancelled { throw error }
            throw NodeError(code: "database_error", message: "writing \(node.table) on \(node.endpoint)", isRetryable: PostgresErrors.isRetryable(error), cause: PostgresErrors.reason(error))
        }
    }

    /// Concurrent COPY streams of `replace`.
    static let replaceStreams = 2

    /// The table that holds committed source state in the destination database.
    static let stateTable = "sluice_state"

    /// Statements that store `state` in the destination, run in the load's transaction just before COMMIT.
    static func stateStatements(_ state: [StateEntry]) -> [String] {
        ["CREATE TABLE IF NOT EXISTS \(stateTable) (pipeline text NOT NULL, node text NOT NULL, state text NOT NULL, committed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (pipeline, node))"]
            + state.map { entry in
                "INSERT INTO \(stateTable) (pipeline, node, state) VALUES (\(SQLText.literal(entry.pipeline)), \(SQLText.literal(entry.node)), \(SQLText.literal(entry.value))) "
                    + "ON CONFLICT (pipeline, node) DO UPDATE SET state = EXCLUDED.state, committed_at = now()"
            }
    }

    /// The table of commit markers: one row per (run, sink node), written in the load's transaction. A run
    /// retried after its worker died between committing and reporting success finds its marker and writes nothing.
    static let commitsTable = "sluice_commits"

    /// True when an earlier attempt of this run already committed this node (the input is then closed unread).
    /// Creates the marker table first, outside any transaction, so concurrent first runs cannot race on it.
    static func alreadyCommitted(_ context: any NodeContext, on connection: PostgresConnection) async throws -> Bool {
        do {
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE TABLE IF NOT EXISTS \(commitsTable) (run_id text NOT NULL, node text NOT NULL, "
                + "committed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (run_id, node))"), logger: PostgresEndpoint.logger)
        } catch {
            // Another session created it at the same moment; the lookup below sees it.
        }
        var binds = PostgresBindings()
        binds.append(context.runID)
        binds.append(context.node)
        let rows = try await connection.query(PostgresQuery(unsafeSQL: "SELECT 1 FROM \(commitsTable) WHERE run_id = $1 AND node = $2", binds: binds),
                                              logger: PostgresEndpoint.logger)
        var found = false
        for try await _ in rows { found = true }
        guard found else { return false }
        context.log(.warning, "an earlier attempt of run \(context.runID) already committed this node's data; not writing it again")
        context.closeInput("in")
        return true
    }

    /// The marker of this commit (and pruning of markers older than 30 days), run in the load's transaction.
    static func markerStatements(_ context: any NodeContext) -> [String] {
        ["INSERT INTO \(commitsTable) (run_id, node) VALUES (\(SQLText.literal(context.runID)), \(SQLText.literal(context.node)))",
         "DELETE FROM \(commitsTable) WHERE committed_at < now() - interval '30 days'"]
    }

    func committedState(pipeline: String, node: String) async throws -> String? {
        let connection = try await self.node.endpoint.connect()
        do {
            let state = try await lookup(pipeline: pipeline, node: node, on: connection)
            try? await connection.close()
            return state
        } catch {
            try? await connection.close()
            throw error
        }
    }

    func resetState(pipeline: String, node: String) async throws -> Bool {
        let connection = try await self.node.endpoint.connect()
        do {
            var found = false
            if try await lookup(pipeline: pipeline, node: node, on: connection) != nil {
                var binds = PostgresBindings()
                binds.append(pipeline)
                binds.append(node)
                try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(Self.stateTable) WHERE pipeline = $1 AND node = $2", binds: binds), logger: logger)
                found = true
            }
            try? await connection.close()
            return found
        } catch {
            try? await connection.close()
            throw error
        }
    }

    private func lookup(pipeline: String, node: String, on connection: PostgresConnection) async throws -> String? {
        var binds = PostgresBindings()
        binds.append(pipeline)
        binds.append(node)
        let exists = try await connection.query(PostgresQuery(unsafeSQL: "SELECT to_regclass('\(Self.stateTable)') IS NOT NULL"), logger: logger).decode(Bool.self)
        for try await found in exists where !found { return nil }
        let rows = try await connection.query(PostgresQuery(unsafeSQL: "SELECT state FROM \(Self.stateTable) WHERE pipeline = $1 AND node = $2", binds: binds), logger: logger)
        for try await state in rows.decode(String.self) { return state }
        return nil
    }

    private func execute(_ connection: PostgresConnection, _ sql: String) async throws {
        try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
    }

    /// Creates, evolves or stages the table and decides where COPY goes.
    private func prepare(_ connection: PostgresConnection) async throws -> Target {
        var existing = try await PostgresTypes.columns(of: node.table, on: connection)
        if node.mode == .create, !existing.isEmpty {
            throw NodeError(code: "table_exists", message: "table \(node.table) already exists and mode is create")
        }
        if let schema = node.table.schema { try await execute(connection, "CREATE SCHEMA IF NOT EXISTS \(SQLText.quote(schema))") }
        var target = Target(copyInto: node.table, columns: input.names, upsert: [], finish: [])
        let definitions = input.fields.map { "\(SQLText.quote($0.name)) \(PostgresTypes.declared($0.type))" }
        let primaryKey = node.key.isEmpty ? "" : ", PRIMARY KEY (\(node.key.map(SQLText.quote).joined(separator: ", ")))"
        if existing.isEmpty, try await !createTable(connection, "CREATE TABLE \(node.table.quoted) (\(definitions.joined(separator: ", "))\(primaryKey))") {
            // Another load created it first (two runs into a new table at once): use theirs, as an existing table.
            if node.mode == .create { throw NodeError(code: "table_exists", message: "table \(node.table) was created by another load and mode is create") }
            existing = try await PostgresTypes.columns(of: node.table, on: connection)
        }
        if !existing.isEmpty {
            let drift = SchemaDrift(input: input, tableColumns: existing.map(\.name))
            if !drift.isEmpty {
                switch node.drift {
                case .freeze: throw NodeError(code: "schema_drift", message: "table \(node.table): \(drift.description) (schemaDrift is freeze)")
                case .discard: target.columns.removeAll { name in drift.added.contains { $0.name == name } }
                case .evolve:
                    for field in drift.added {
                        try await execute(connection, "ALTER TABLE \(node.table.quoted) ADD COLUMN \(SQLText.quote(field.name)) \(PostgresTypes.declared(field.type))")
                    }
                }
            }
            if node.drift == .evolve {
                for column in existing where [20, 21, 23].contains(column.oid) && input.field(named: column.name)?.type == .float64 {
                    try await execute(connection, "ALTER TABLE \(node.table.quoted) ALTER COLUMN \(SQLText.quote(column.name)) TYPE double precision")
                }
            }
        }
        if node.mode == .merge {
            let staging = QualifiedName(schema: nil, name: "sluice_merge_\(UInt32.random(in: 0...UInt32.max))")
            try await execute(connection, "CREATE TEMP TABLE \(staging.quoted) (LIKE \(node.table.quoted) INCLUDING DEFAULTS) ON COMMIT DROP")
            let list = target.columns.map(SQLText.quote).joined(separator: ", ")
            let updates = target.columns.filter { !node.key.contains($0) }.map { "\(SQLText.quote($0)) = EXCLUDED.\(SQLText.quote($0))" }
            let conflict = "ON CONFLICT (\(node.key.map(SQLText.quote).joined(separator: ", ")))"
            target.upsert = ["INSERT INTO \(node.table.quoted) (\(list)) SELECT \(list) FROM \(staging.quoted) \(conflict) "
                + (updates.isEmpty ? "DO NOTHING" : "DO UPDATE SET \(updates.joined(separator: ", "))"), "TRUNCATE \(staging.quoted)"]
            target.copyInto = staging
        }
        return target
    }

    /// Creates the target in a savepoint; false when a concurrent transaction created the same table first
    /// (PostgreSQL makes the second creator wait for the first to commit, then reports a duplicate key in `pg_type`
    /// (23505), or, when the first committed before the second looked, a duplicate table (42P07) or row type (42710)).
    private func createTable(_ connection: PostgresConnection, _ sql: String) async throws -> Bool {
        try await execute(connection, "SAVEPOINT sluice_create")
        do {
            try await execute(connection, sql)
            try await execute(connection, "RELEASE SAVEPOINT sluice_create")
            return true
        } catch where ["23505", "42P07", "42710"].contains(PostgresErrors.sqlState(error)) {
            try await execute(connection, "ROLLBACK TO SAVEPOINT sluice_create")
            return false
        }
    }

    /// How much one COPY (in one savepoint) may span. A COPY per batch left the server idle between commands;
    /// spanning batches keeps it parsing while the next ones arrive (docs/performance.md). The span's batches
    /// are kept until it commits (to redo it if a row is refused), so it is bounded in bytes as well as rows.
    static let spanRows = 131_072
    static let spanBytes = 16 << 20

    /// COPYs `first` and the batches that follow, up to `spanRows` rows or `spanBytes` bytes of batches, as one
    /// COPY in one savepoint, sending each batch as it arrives; returns the rows taken. When the server refuses
    /// a row, the span is rolled back and loaded batch by batch (each finds and rejects its refused rows), so
    /// only that span is redone.
    private func loadSpan(_ first: RecordBatch, firstRow: Int, next: () async throws -> RecordBatch?, into target: Target,
                          on connection: PostgresConnection, _ context: any NodeContext) async throws -> Int {
        var span = [first]
        var rows = first.count, bytes = first.approximateBytes
        try await execute(connection, "SAVEPOINT sluice_span")
        do {
            try await copyRows(into: target, on: connection, context) { write in
                try await write(first.projected(target.columns), nil)
                while rows < Self.spanRows, bytes < Self.spanBytes, let batch = try await next() {
                    try Task.checkCancellation()
                    span.append(batch)
                    rows += batch.count
                    bytes += batch.approximateBytes
                    try await write(batch.projected(target.columns), nil)
                }
            }
            try await execute(connection, "RELEASE SAVEPOINT sluice_span")
            return rows
        } catch where PostgresErrors.isRowProblem(error) {
            try await execute(connection, "ROLLBACK TO SAVEPOINT sluice_span")
        } catch {
            if let reason = mergeProblem(error) { throw reason }
            throw error
        }
        var row = firstRow
        for batch in span {
            try await load(batch, firstRow: row, into: target, on: connection, context)
            row += batch.count
        }
        try await execute(connection, "RELEASE SAVEPOINT sluice_span")
        return rows
    }

    /// COPYs a batch in a savepoint; on a data or constraint error, redoes it row by row and rejects the refused rows.
    private func load(_ batch: RecordBatch, firstRow: Int, into target: Target, on connection: PostgresConnection, _ context: any NodeContext) async throws {
        let projected = batch.projected(target.columns)
        try await execute(connection, "SAVEPOINT sluice_batch")
        do {
            try await copy(projected, 0..<projected.count, into: target, on: connection, context)
            try await execute(connection, "RELEASE SAVEPOINT sluice_batch")
            return
        } catch where PostgresErrors.isRowProblem(error) {
            try await execute(connection, "ROLLBACK TO SAVEPOINT sluice_batch")
        } catch {
            if let reason = mergeProblem(error) { throw reason }
            throw error
        }
        var rejects: [RejectedRecord] = []
        var states: Set<String> = []
        for r in 0..<projected.count {
            try await execute(connection, "SAVEPOINT sluice_row")
            do {
                try await copy(projected, r..<(r + 1), into: target, on: connection, context)
                try await execute(connection, "RELEASE SAVEPOINT sluice_row")
            } catch where PostgresErrors.isRowProblem(error) {
                try await execute(connection, "ROLLBACK TO SAVEPOINT sluice_row")
                states.insert(PostgresErrors.sqlState(error) ?? "")
                rejects.append(RejectedRecord(code: "rejected_by_database", message: "row \(firstRow + r): \(PostgresErrors.reason(error))", row: firstRow + r,
                                              payload: .row(zip(projected.schema.names, projected.row(r)).map { ($0, $1) })))
            }
        }
        if rejects.count == projected.count, projected.count > 1, states.count == 1 {
            throw NodeError(code: "load_failed", message: "every row of a batch was refused by \(node.table): \(rejects[0].message)")
        }
        try await execute(connection, "RELEASE SAVEPOINT sluice_batch")
        try await context.reject(rejects)
    }

    private func mergeProblem(_ error: any Error) -> NodeError? {
        guard PostgresErrors.sqlState(error) == "42P10" else { return nil }
        return NodeError(code: "merge_without_unique_key", message: "table \(node.table) needs a primary key or unique constraint on (\(node.key.joined(separator: ", "))) for merge")
    }

    /// COPY FROM STDIN of rows `range` of a batch; for merge, then upserts from the staging table.
    private func copy(_ batch: RecordBatch, _ range: Range<Int>, into target: Target, on connection: PostgresConnection, _ context: any NodeContext) async throws {
        try await copyRows(into: target, on: connection, context) { write in try await write(batch, range) }
    }

    /// One COPY FROM STDIN of the rows `produce` hands to its `write` (whole batches, or a range of rows),
    /// streamed in ~1 MB chunks; for merge, then upserts from the staging table.
    private func copyRows(into target: Target, on connection: PostgresConnection, _ context: any NodeContext,
                          _ produce: (_ write: (RecordBatch, Range<Int>?) async throws -> Void) async throws -> Void) async throws {
        // postgres-nio wraps the table and column names in double quotes as given: escape embedded quotes and
        // join schema and table so the result is "schema"."table".
        let escaped = { (name: String) in name.replacingOccurrences(of: "\"", with: "\"\"") }
        let tableName = target.copyInto.schema.map { escaped($0) + "\".\"" } ?? ""
        var bytes = 0
        try await connection.copyFrom(table: tableName + escaped(target.copyInto.name), columns: target.columns.map(escaped), logger: logger) { writer in
            var buffer = ByteBuffer()
            buffer.reserveCapacity(1 << 20)
            try await produce { batch, range in
                try await withCursorsAsync(batch) { cursors in
                    for row in range ?? 0..<batch.count {
                        PostgresTypes.appendCopyRow(cursors, row, to: &buffer)
                        if buffer.readableBytes >= 1 << 20 {
                            bytes += buffer.readableBytes
                            try await writer.write(buffer)
                            buffer.clear()
                        }
                    }
                }
            }
            if buffer.readableBytes > 0 {
                bytes += buffer.readableBytes
                try await writer.write(buffer)
            }
        }
        context.addBytes(bytes)
        for statement in target.upsert {
            do { try await execute(connection, statement) } catch {
                if let reason = mergeProblem(error) { throw reason }
                throw error
            }
        }
    }

    /// Cursors cannot cross an `await`, so rows are encoded in synchronous slices between writes.
    private func withCursorsAsync(_ batch: RecordBatch, _ body: ([ColumnCursor]) async throws -> Void) async throws {
        // The batch owns the buffers the cursors point into; keep it alive until `body` is done.
        let cursors = batch.withCursors { $0 }
        defer { withExtendedLifetime(batch) {} }
        try await body(cursors)
    }
}

/// The open transaction of a load; commit runs the swap (for replace) and COMMIT together.
struct PostgresPending: PendingCommit {
    let connection: PostgresConnection
    let finish: [String]
    let endpoint: PostgresEndpoint
    /// Statements run (outside the rolled-back transaction) when the output is discarded.
    var onAbort: [String] = []

    func commit() async throws {
        do {
            for statement in finish { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: PostgresEndpoint.logger) }
            try await connection.query(PostgresQuery(unsafeSQL: "COMMIT"), logger: PostgresEndpoint.logger)
            try? await connection.close()
        } catch {
            _ = try? await connection.query(PostgresQuery(unsafeSQL: "ROLLBACK"), logger: PostgresEndpoint.logger)
            for statement in onAbort { _ = try? await connection.query(PostgresQuery(unsafeSQL: statement), logger: PostgresEndpoint.logger) }
            try? await connection.close()
            throw NodeError(code: "commit_failed", message: "committing on \(endpoint)", isRetryable: false, cause: PostgresErrors.reason(error))
        }
    }

    func abort() async {
        _ = try? await connection.query(PostgresQuery(unsafeSQL: "ROLLBACK"), logger: PostgresEndpoint.logger)
        for statement in onAbort { _ = try? await connection.query(PostgresQuery(unsafeSQL: statement), logger: PostgresEndpoint.logger) }
        try? await connection.close()
    }
}
