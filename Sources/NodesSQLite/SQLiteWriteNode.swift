import CSQLite
import Columnar
import Foundation
public import NodeKit
import SQLiteAccess
import Synchronization

/// Writes rows into a SQLite table inside one transaction that commits with the run.
///
/// One prepared statement in one transaction; a row the database refuses (a constraint) is rejected
/// with SQLite's reason and the load goes on.
public struct SQLiteWriteNode: NodeType {
    public static let spec = NodeSpec(
        id: "sqlite.write", version: 1, category: .sink, title: "SQLite table",
        summary: "Loads rows into a SQLite table; nothing is visible until the run commits.",
        inputs: [.data("in")], outputs: [], fields: TableSinkOptions.fields(SQLiteConnector.spec.type, example: "local"),
        capabilities: [.transactionalSink, .rejects], icon: "database")

    let settings: Settings
    let options: TableSinkOptions
    let path: String
    var table: QualifiedName { options.table }
    var mode: TableWriteMode { options.mode }
    var key: [String] { options.key }
    var drift: SchemaDriftPolicy { options.drift }

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        options = try TableSinkOptions(settings, type: SQLiteConnector.spec.type)
        path = try SQLiteConnector.path(of: options.connection)
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let input = try request.input()
        try options.check(input, settings)
        return NodePlan(outputs: [:], work: Work(node: self, input: input))
    }

    struct Work: StateStore {
        let node: SQLiteWriteNode
        let input: Schema

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            if context.isPreview {
                for try await _ in context.input("in") {}
                return nil
            }
            let db: SQLiteDatabase
            do {
                db = try SQLiteConnector.open(node.path, readOnly: false)
                try db.execute("BEGIN IMMEDIATE")
            } catch {
                throw NodeError(code: "database_unavailable", message: "\(error)", isRetryable: error.isBusy)
            }
            do {
                if try alreadyCommitted(db, context) {
                    try db.execute("ROLLBACK")
                    context.log(.warning, "an earlier attempt of run \(context.runID) already committed this node's data; not writing it again")
                    context.closeInput("in")
                    return nil
                }
                let (insert, columns) = try prepareTarget(db)
                var row = 0
                for try await batch in context.input("in") {
                    var rejects: [RejectedRecord] = []
                    let positions = columns.map { batch.schema.index(of: $0)! }
                    try batch.withCursors { cursors in
                        for r in 0..<batch.count {
                            for (p, position) in positions.enumerated() { SQLiteTypes.bind(insert, p + 1, cursors[position], r) }
                            do {
                                _ = try insert.step()
                            } catch let error as SQLiteError where error.isConstraint || error.code & 0xFF == SQLITE_MISMATCH || error.code & 0xFF == SQLITE_TOOBIG {
                                rejects.append(RejectedRecord(code: "constraint_violation", message: "row \(row + r): \(error.message)", row: row + r,
                                                              of: batch, r))
                            }
                            insert.reset()
                        }
                    }
                    row += batch.count
                    try await context.reject(rejects)
                }
                let state = context.upstreamState()
                let stateStatements = state.isEmpty ? [] : ["CREATE TABLE IF NOT EXISTS sluice_state (pipeline TEXT NOT NULL, node TEXT NOT NULL, state TEXT NOT NULL, committed_at TEXT NOT NULL, PRIMARY KEY (pipeline, node))"]
                    + state.map { "INSERT INTO sluice_state VALUES (\(SQLText.literal($0.pipeline)), \(SQLText.literal($0.node)), \(SQLText.literal($0.value)), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) ON CONFLICT (pipeline, node) DO UPDATE SET state = excluded.state, committed_at = excluded.committed_at" }
                return Pending(db: db, finish: (node.mode == .replace ? swapStatements() : []) + stateStatements + markerStatements(context))
            } catch let error as SQLiteError {
                try? db.execute("ROLLBACK")
                throw NodeError(code: "database_error", message: "writing \(node.table) in \(node.path): \(error)", isRetryable: error.isBusy)
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }

        /// Creates or evolves the target (or the replacement table) and prepares the insert.
        private func prepareTarget(_ db: SQLiteDatabase) throws -> (SQLiteStatement, [String]) {
            let existing = try db.tableColumns(node.table)
            if node.mode == .create, !existing.isEmpty {
                throw NodeError(code: "table_exists", message: "table \(node.table) already exists and mode is create")
            }
            var target = node.table
            var columns = input.names
            if node.mode == .replace || existing.isEmpty {
                if node.mode == .replace { target = staging }
                try db.execute("DROP TABLE IF EXISTS \(staging.quoted)")
                let definitions = input.fields.map { "\(SQLText.quote($0.name)) \(SQLiteTypes.declared($0.type))" }
                let primaryKey = node.key.isEmpty ? "" : ", PRIMARY KEY (\(node.key.map(SQLText.quote).joined(separator: ", ")))"
                try db.execute("CREATE TABLE \(target.quoted) (\(definitions.joined(separator: ", "))\(primaryKey))")
            } else {
                let drift = SchemaDrift(input: input, tableColumns: existing.map(\.name))
                if !drift.isEmpty {
                    switch node.drift {
                    case .freeze: throw NodeError(code: "schema_drift", message: "table \(node.table): \(drift.description) (schemaDrift is freeze)")
                    case .discard: columns.removeAll { name in drift.added.contains { $0.name == name } }
                    case .evolve:
                        for field in drift.added {
                            try db.execute("ALTER TABLE \(node.table.quoted) ADD COLUMN \(SQLText.quote(field.name)) \(SQLiteTypes.declared(field.type))")
                        }
                    }
                }
            }
            let list = columns.map(SQLText.quote).joined(separator: ", ")
            let values = Array(repeating: "?", count: columns.count).joined(separator: ", ")
            var sql = "INSERT INTO \(target.quoted) (\(list)) VALUES (\(values))"
            if node.mode == .merge {
                let updates = columns.filter { !node.key.contains($0) }.map { "\(SQLText.quote($0)) = excluded.\(SQLText.quote($0))" }
                let conflict = "ON CONFLICT (\(node.key.map(SQLText.quote).joined(separator: ", ")))"
                sql += updates.isEmpty ? " \(conflict) DO NOTHING" : " \(conflict) DO UPDATE SET \(updates.joined(separator: ", "))"
            }
            let statement: SQLiteStatement
            do {
                statement = try db.prepare(sql)
            } catch {
                let message = error.message
                guard node.mode == .merge, message.contains("ON CONFLICT") else { throw error }
                throw NodeError(code: "merge_without_unique_key", message: "table \(node.table) needs a primary key or unique index on (\(node.key.joined(separator: ", "))) for merge")
            }
            return (statement, columns)
        }

        /// True when an earlier attempt of this run already committed this node (see `sluice_commits` in docs/connectors).
        private func alreadyCommitted(_ db: SQLiteDatabase, _ context: any NodeContext) throws -> Bool {
            try db.execute("CREATE TABLE IF NOT EXISTS sluice_commits (run_id TEXT NOT NULL, node TEXT NOT NULL, committed_at TEXT NOT NULL, PRIMARY KEY (run_id, node))")
            let statement = try db.prepare("SELECT 1 FROM sluice_commits WHERE run_id = ? AND node = ?")
            statement.bindText(1, context.runID)
            statement.bindText(2, context.node)
            return try statement.step()
        }

        /// The marker of this commit, and pruning of markers older than 30 days, in the load's transaction.
        private func markerStatements(_ context: any NodeContext) -> [String] {
            ["INSERT INTO sluice_commits VALUES (\(SQLText.literal(context.runID)), \(SQLText.literal(context.node)), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
             "DELETE FROM sluice_commits WHERE committed_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-30 days')"]
        }

        func committedState(pipeline: String, node: String) async throws -> String? {
            guard FileManager.default.fileExists(atPath: self.node.path) else { return nil }
            let db = try SQLiteConnector.open(self.node.path, readOnly: true)
            guard try !db.tableColumns(QualifiedName(schema: nil, name: "sluice_state")).isEmpty else { return nil }
            let statement = try db.prepare("SELECT state FROM sluice_state WHERE pipeline = ? AND node = ?")
            statement.bindText(1, pipeline)
            statement.bindText(2, node)
            return try statement.step() ? statement.text(0) : nil
        }

        func resetState(pipeline: String, node: String) async throws -> Bool {
            guard try await committedState(pipeline: pipeline, node: node) != nil else { return false }
            let db = try SQLiteConnector.open(self.node.path, readOnly: false)
            let statement = try db.prepare("DELETE FROM sluice_state WHERE pipeline = ? AND node = ?")
            statement.bindText(1, pipeline)
            statement.bindText(2, node)
            _ = try statement.step()
            return true
        }

        private var staging: QualifiedName { QualifiedName(schema: node.table.schema, name: node.table.name + "__sluice_new") }

        private func swapStatements() -> [String] {
            ["DROP TABLE IF EXISTS \(node.table.quoted)", "ALTER TABLE \(staging.quoted) RENAME TO \(SQLText.quote(node.table.name))"]
        }
    }

    /// The open transaction; committing runs the swap (for replace) and COMMIT atomically.
    final class Pending: PendingCommit {
        // Touched only by the node driver, once, after the node's work returned (commit or abort).
        private let db: Mutex<SQLiteDatabase?>
        private let finish: [String]

        init(db: sending SQLiteDatabase, finish: [String]) {
            self.db = Mutex(db)
            self.finish = finish
        }

        func commit() async throws {
            try db.withLock { db in
                guard let database = db else { return }
                do {
                    for statement in finish { try database.execute(statement) }
                    try database.execute("COMMIT")
                } catch {
                    try? database.execute("ROLLBACK")
                    throw NodeError(code: "commit_failed", message: "\(error)", isRetryable: (error as? SQLiteError)?.isBusy ?? false)
                }
                db = nil
            }
        }

        func abort() async {
            db.withLock { db in
                try? db?.execute("ROLLBACK")
                db = nil
            }
        }
    }
}
