import Columnar
import NIOCore
public import NodeKit
import PostgresNIO

/// Loads rows into a PostgreSQL table with COPY FROM STDIN (binary where the column types allow) on a wire
/// session of its own, inside one transaction that commits with the run.
public struct PostgresWriteNode: NodeType {
    public static let spec = NodeSpec(
        id: "postgres.write", version: 1, category: .sink, title: "PostgreSQL table",
        summary: "Loads rows into a PostgreSQL table with COPY; nothing is visible until the run commits.",
        inputs: [.data("in")], outputs: [], fields: TableSinkOptions.fields(PostgresConnector.spec.type, example: "warehouse"),
        capabilities: [.transactionalSink, .rejects], icon: "database")

    let settings: Settings
    let options: TableSinkOptions
    let endpoint: PostgresEndpoint
    var table: QualifiedName { options.table }
    var mode: TableWriteMode { options.mode }
    var key: [String] { options.key }
    var drift: SchemaDriftPolicy { options.drift }

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        options = try TableSinkOptions(settings, type: PostgresConnector.spec.type)
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
        /// Binary when every column allows it (PostgresCopyFormat), decided once the table is ready.
        var format: PostgresCopyFormat
        /// Statements that move a merged batch from the staging table into the target.
        var upsert: [String]
        var finish: [String]
    }

    func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
        if context.isPreview {
            for try await _ in context.input("in") {}
            return nil
        }
        let session = try await PostgresWireSession.open(node.endpoint)
        do {
            if try await Self.alreadyCommitted(context, on: session) {
                await session.close()
                return nil
            }
        } catch {
            await session.close()
            throw NodeError(code: "database_error", message: "checking earlier commits of this run in \(node.endpoint)", isRetryable: PostgresErrors.isRetryable(error),
                            cause: PostgresErrors.reason(error))
        }
        if node.mode == .replace { return try await replace(session, context) }
        do {
            try await session.query("BEGIN")
            let target = try await prepare(session)
            var batches = context.input("in").makeAsyncIterator()
            var row = 0
            while let batch = try await batches.next() {
                try Task.checkCancellation()
                row += try await loadSpan(batch, firstRow: row, next: { try await batches.next() }, into: target, on: session, context)
            }
            let state = context.upstreamState()
            return PostgresPending(session: session, finish: target.finish + (state.isEmpty ? [] : Self.stateStatements(state)) + Self.markerStatements(context))
        } catch {
            _ = try? await session.query("ROLLBACK")
            await session.close()
            throw writeFailure(error)
        }
    }

    private func writeFailure(_ error: any Error) -> any Error {
        PostgresErrors.nodeError(error, "writing \(node.table) on \(node.endpoint)")
    }

    /// `replace` with parallel COPY streams: the staging table is created and committed first (nobody reads
    /// it), `streams` connections load alternate batches concurrently and commit into it, and the swap
    /// (drop old, rename new, store state) is one transaction at commit. Abort or a crash before the swap
    /// leaves the target untouched; a leftover staging table is dropped by the next run.
    private func replace(_ session: PostgresWireSession, _ context: any NodeContext) async throws -> (any PendingCommit)? {
        let staging = QualifiedName(schema: node.table.schema, name: node.table.name + "__sluice_new")
        let dropStaging = "DROP TABLE IF EXISTS \(staging.quoted)"
        var streams: [PostgresWireSession] = []
        do {
            if let schema = node.table.schema { try await session.query("CREATE SCHEMA IF NOT EXISTS \(SQLText.quote(schema))") }
            try await session.query(dropStaging)
            try await session.query(createTableSQL(staging))
            let format = PostgresCopyFormat.choose(input, into: try await PostgresTypes.columns(of: staging, on: session))
            let target = Target(copyInto: staging, columns: input.names, format: format, upsert: [], finish: [])
            for _ in 0..<Self.replaceStreams {
                let stream = try await PostgresWireSession.open(node.endpoint)
                streams.append(stream)
                try await stream.query("BEGIN")
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
                try await stream.query("COMMIT")
                await stream.close()
            }
            // Views built on the table (SQL models reading it) forbid dropping it: then its rows are replaced
            // instead, in the same transaction, and the views keep working.
            let dependents = try await session.query("""
                SELECT DISTINCT r.ev_class::regclass::text FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
                WHERE d.refobjid = to_regclass(\(SQLText.literal(node.table.quoted))) AND r.ev_class <> d.refobjid ORDER BY 1
                """).compactMap { $0.first ?? nil }
            try await session.query("BEGIN")
            let state = context.upstreamState()
            var swap = ["DROP TABLE IF EXISTS \(node.table.quoted)", "ALTER TABLE \(staging.quoted) RENAME TO \(SQLText.quote(node.table.name))"]
            if !dependents.isEmpty {
                context.log(.info, "views read \(node.table) (\(dependents.joined(separator: ", "))): replacing its rows rather than the table")
                let list = input.names.map(SQLText.quote).joined(separator: ", ")
                swap = ["TRUNCATE \(node.table.quoted)", "INSERT INTO \(node.table.quoted) (\(list)) SELECT \(list) FROM \(staging.quoted)", dropStaging]
            }
            return PostgresPending(session: session, finish: swap + (state.isEmpty ? [] : Self.stateStatements(state)) + Self.markerStatements(context),
                                   onAbort: [dropStaging])
        } catch {
            for stream in streams {
                _ = try? await stream.query("ROLLBACK")
                await stream.close()
            }
            _ = try? await session.query(dropStaging)
            await session.close()
            throw writeFailure(error)
        }
    }

    /// Concurrent COPY streams of `replace`.
    static let replaceStreams = 2

    /// Creates, evolves or stages the table and decides where COPY goes.
    private func prepare(_ session: PostgresWireSession) async throws -> Target {
        var existing = try await PostgresTypes.columns(of: node.table, on: session)
        if node.mode == .create, !existing.isEmpty {
            throw NodeError(code: "table_exists", message: "table \(node.table) already exists and mode is create")
        }
        if let schema = node.table.schema { try await session.query("CREATE SCHEMA IF NOT EXISTS \(SQLText.quote(schema))") }
        var target = Target(copyInto: node.table, columns: input.names, format: .text, upsert: [], finish: [])
        if existing.isEmpty, try await !createTable(session, createTableSQL(node.table)) {
            // Another load created it first (two runs into a new table at once): use theirs, as an existing table.
            if node.mode == .create { throw NodeError(code: "table_exists", message: "table \(node.table) was created by another load and mode is create") }
            existing = try await PostgresTypes.columns(of: node.table, on: session)
        }
        if !existing.isEmpty {
            let drift = SchemaDrift(input: input, tableColumns: existing.map(\.name))
            if !drift.isEmpty {
                switch node.drift {
                case .freeze: throw NodeError(code: "schema_drift", message: "table \(node.table): \(drift.description) (schemaDrift is freeze)")
                case .discard: target.columns.removeAll { name in drift.added.contains { $0.name == name } }
                case .evolve:
                    for field in drift.added {
                        try await session.query("ALTER TABLE \(node.table.quoted) ADD COLUMN \(SQLText.quote(field.name)) \(PostgresTypes.declared(field.type))")
                    }
                }
            }
            if node.drift == .evolve {
                for column in existing where [20, 21, 23].contains(column.oid) && input.field(named: column.name)?.type == .float64 {
                    try await session.query("ALTER TABLE \(node.table.quoted) ALTER COLUMN \(SQLText.quote(column.name)) TYPE double precision")
                }
            }
        }
        if node.mode == .merge {
            let staging = QualifiedName(schema: nil, name: "sluice_merge_\(UInt32.random(in: 0...UInt32.max))")
            try await session.query("CREATE TEMP TABLE \(staging.quoted) (LIKE \(node.table.quoted) INCLUDING DEFAULTS) ON COMMIT DROP")
            let list = target.columns.map(SQLText.quote).joined(separator: ", ")
            let updates = target.columns.filter { !node.key.contains($0) }.map { "\(SQLText.quote($0)) = EXCLUDED.\(SQLText.quote($0))" }
            let conflict = "ON CONFLICT (\(node.key.map(SQLText.quote).joined(separator: ", ")))"
            target.upsert = ["INSERT INTO \(node.table.quoted) (\(list)) SELECT \(list) FROM \(staging.quoted) \(conflict) "
                + (updates.isEmpty ? "DO NOTHING" : "DO UPDATE SET \(updates.joined(separator: ", "))"), "TRUNCATE \(staging.quoted)"]
            target.copyInto = staging
        }
        let loaded = Schema(target.columns.compactMap { input.field(named: $0) })
        target.format = PostgresCopyFormat.choose(loaded, into: try await PostgresTypes.columns(of: target.copyInto, on: session))
        return target
    }

    /// `CREATE TABLE` with a column per input field (the documented type mapping) and `PRIMARY KEY (key)` when given.
    private func createTableSQL(_ table: QualifiedName) -> String {
        let definitions = input.fields.map { "\(SQLText.quote($0.name)) \(PostgresTypes.declared($0.type))" }
        let primaryKey = node.key.isEmpty ? "" : ", PRIMARY KEY (\(node.key.map(SQLText.quote).joined(separator: ", ")))"
        return "CREATE TABLE \(table.quoted) (\(definitions.joined(separator: ", "))\(primaryKey))"
    }

    /// Creates the target in a savepoint; false when a concurrent transaction created the same table first
    /// (PostgreSQL makes the second creator wait for the first to commit, then reports a duplicate key in `pg_type`
    /// (23505), or, when the first committed before the second looked, a duplicate table (42P07) or row type (42710)).
    private func createTable(_ session: PostgresWireSession, _ sql: String) async throws -> Bool {
        try await session.query("SAVEPOINT sluice_create")
        do {
            try await session.query(sql)
            try await session.query("RELEASE SAVEPOINT sluice_create")
            return true
        } catch where ["23505", "42P07", "42710"].contains(PostgresErrors.sqlState(error)) {
            try await session.query("ROLLBACK TO SAVEPOINT sluice_create")
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
                          on session: PostgresWireSession, _ context: any NodeContext) async throws -> Int {
        var span = [first]
        var rows = first.count, bytes = first.approximateBytes
        try await session.query("SAVEPOINT sluice_span")
        do {
            try await copyRows(into: target, on: session, context) { write in
                try await write(first.projected(target.columns), nil)
                while rows < Self.spanRows, bytes < Self.spanBytes, let batch = try await next() {
                    try Task.checkCancellation()
                    span.append(batch)
                    rows += batch.count
                    bytes += batch.approximateBytes
                    try await write(batch.projected(target.columns), nil)
                }
            }
            try await session.query("RELEASE SAVEPOINT sluice_span")
            return rows
        } catch where PostgresErrors.isRowProblem(error) {
            try await session.query("ROLLBACK TO SAVEPOINT sluice_span")
        } catch {
            if let reason = mergeProblem(error) { throw reason }
            throw error
        }
        var row = firstRow
        for batch in span {
            try await load(batch, firstRow: row, into: target, on: session, context)
            row += batch.count
        }
        try await session.query("RELEASE SAVEPOINT sluice_span")
        return rows
    }

    /// COPYs a batch in a savepoint; on a data or constraint error, redoes it row by row and rejects the refused rows.
    private func load(_ batch: RecordBatch, firstRow: Int, into target: Target, on session: PostgresWireSession, _ context: any NodeContext) async throws {
        let projected = batch.projected(target.columns)
        try await session.query("SAVEPOINT sluice_batch")
        do {
            try await copy(projected, 0..<projected.count, into: target, on: session, context)
            try await session.query("RELEASE SAVEPOINT sluice_batch")
            return
        } catch where PostgresErrors.isRowProblem(error) {
            try await session.query("ROLLBACK TO SAVEPOINT sluice_batch")
        } catch {
            if let reason = mergeProblem(error) { throw reason }
            throw error
        }
        var rejects: [RejectedRecord] = []
        var states: Set<String> = []
        for r in 0..<projected.count {
            try await session.query("SAVEPOINT sluice_row")
            do {
                try await copy(projected, r..<(r + 1), into: target, on: session, context)
                try await session.query("RELEASE SAVEPOINT sluice_row")
            } catch where PostgresErrors.isRowProblem(error) {
                try await session.query("ROLLBACK TO SAVEPOINT sluice_row")
                states.insert(PostgresErrors.sqlState(error) ?? "")
                rejects.append(RejectedRecord(code: "rejected_by_database", message: "row \(firstRow + r): \(PostgresErrors.reason(error))", row: firstRow + r,
                                              of: projected, r))
            }
        }
        if rejects.count == projected.count, projected.count > 1, states.count == 1 {
            throw NodeError(code: "load_failed", message: "every row of a batch was refused by \(node.table): \(rejects[0].message)")
        }
        try await session.query("RELEASE SAVEPOINT sluice_batch")
        try await context.reject(rejects)
    }

    private func mergeProblem(_ error: any Error) -> NodeError? {
        guard PostgresErrors.sqlState(error) == "42P10" else { return nil }
        return NodeError(code: "merge_without_unique_key", message: "table \(node.table) needs a primary key or unique constraint on (\(node.key.joined(separator: ", "))) for merge")
    }

    /// COPY FROM STDIN of rows `range` of a batch; for merge, then upserts from the staging table.
    private func copy(_ batch: RecordBatch, _ range: Range<Int>, into target: Target, on session: PostgresWireSession, _ context: any NodeContext) async throws {
        try await copyRows(into: target, on: session, context) { write in try await write(batch, range) }
    }

    /// One COPY FROM STDIN of the rows `produce` hands to its `write` (whole batches, or a range of rows),
    /// in the target's format, sent in ~1 MB messages; for merge, then upserts from the staging table.
    private func copyRows(into target: Target, on session: PostgresWireSession, _ context: any NodeContext,
                          _ produce: (_ write: (RecordBatch, Range<Int>?) async throws -> Void) async throws -> Void) async throws {
        let columns = target.columns.map(SQLText.quote).joined(separator: ", ")
        let options = target.format == .text ? "" : " (FORMAT binary)"
        let bytes = try await session.copyIn("COPY \(target.copyInto.quoted) (\(columns)) FROM STDIN\(options)") { data in
            target.format.appendHeader(to: &data.buffer)
            try await produce { batch, range in
                try await withCursorsAsync(batch) { cursors in
                    for row in range ?? 0..<batch.count {
                        target.format.appendRow(cursors, row, to: &data.buffer)
                        if data.isFull { try await session.send(&data) }
                    }
                }
            }
            target.format.appendTrailer(to: &data.buffer)
        }
        context.addBytes(bytes)
        for statement in target.upsert {
            do { try await session.query(statement) } catch {
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
