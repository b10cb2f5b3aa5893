public import NodeKit

/// A step of a node in a run (a SQL model, a data test) as stored: the node, the step, and its place in the run.
public struct RunStepRecord: Sendable, Equatable, Codable {
    public var node: String
    /// Steps are listed in the order they started.
    public var position: Int64
    public var step: NodeStep

    public init(node: String, position: Int64, step: NodeStep) {
        self.node = node
        self.position = position
        self.step = step
    }
}

extension MetadataStore {
    /// Keeps the latest state of each step (a step reported again replaces its row).
    public func saveSteps(runID: String, _ steps: [RunStepRecord]) async throws {
        guard !steps.isEmpty else { return }
        try await transaction { session in
            for record in steps {
                let step = record.step
                try await session.execute("DELETE FROM run_steps WHERE run_id = $1 AND node = $2 AND name = $3", .text(runID), .text(record.node), .text(step.name))
                try await session.execute("""
                    INSERT INTO run_steps (run_id, node, name, position, kind, status, rows_count, duration_ms, message, sql_text)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                    """, .text(runID), .text(record.node), .text(step.name), .int(record.position), .text(step.kind), .text(step.status.rawValue),
                    .optional(step.rows.map { Int64($0) }), .optional(step.durationMillis), .optional(step.message), .optional(step.sql))
            }
        }
    }

    /// A run's steps in the order they started.
    public func steps(runID: String) async throws -> [RunStepRecord] {
        try await transaction { session in
            try await session.query("""
                SELECT node, name, position, kind, status, rows_count, duration_ms, message, sql_text FROM run_steps WHERE run_id = $1 ORDER BY position
                """, .text(runID)).map {
                RunStepRecord(node: $0.string("node"), position: $0.int("position") ?? 0,
                              step: NodeStep(name: $0.string("name"), kind: $0.string("kind"), status: NodeStep.Status(rawValue: $0.string("status")) ?? .failed,
                                             rows: $0.int("rows_count").map { Int($0) }, durationMillis: $0.int("duration_ms"), message: $0.text("message"),
                                             sql: $0.text("sql_text")))
            }
        }
    }
}
