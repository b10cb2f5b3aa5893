import NodeKit
import PostgresNIO

/// Source state and commit markers that `postgres.write` keeps in the destination, in the load's transaction.
extension PostgresLoad {
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
    static func alreadyCommitted(_ context: any NodeContext, on session: PostgresWireSession) async throws -> Bool {
        do {
            try await session.query("CREATE TABLE IF NOT EXISTS \(commitsTable) (run_id text NOT NULL, node text NOT NULL, "
                + "committed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (run_id, node))")
        } catch {
            // Another session created it at the same moment; the lookup below sees it.
        }
        let found = try await session.query("SELECT 1 FROM \(commitsTable) WHERE run_id = \(SQLText.literal(context.runID)) AND node = \(SQLText.literal(context.node))")
        guard !found.isEmpty else { return false }
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
}

/// The open transaction of a load; commit runs the swap (for replace), state and marker statements and COMMIT together.
struct PostgresPending: PendingCommit {
    let session: PostgresWireSession
    let finish: [String]
    /// Statements run (outside the rolled-back transaction) when the output is discarded.
    var onAbort: [String] = []

    func commit() async throws {
        do {
            for statement in finish { try await session.query(statement) }
            try await session.query("COMMIT")
            await session.close()
        } catch {
            await abort()
            throw NodeError(code: "commit_failed", message: "committing on \(session.endpoint)", isRetryable: false, cause: PostgresErrors.reason(error))
        }
    }

    func abort() async {
        _ = try? await session.query("ROLLBACK")
        for statement in onAbort { _ = try? await session.query(statement) }
        await session.close()
    }
}
