import Foundation

/// Run counts and durations of one pipeline in one status over a window.
public struct PipelineRunStats: Sendable {
    public let pipelineID: String
    public let status: String
    public let count: Int
    /// Summed and longest wall time of the runs that started and finished (ms).
    public let totalMillis: Int64
    public let longestMillis: Int64
}

/// A pipeline's latest finished run.
public struct LastFinishedRun: Sendable {
    public let runID: String
    public let pipelineID: String
    public let status: String
    public let error: String?
    public let finishedAt: Int64
}

/// A trigger's latest firing and how many firings went wrong in a window.
public struct TriggerHealth: Sendable {
    public let triggerID: String
    public let lastAt: Int64?
    public let lastOutcome: String?
    public let lastDetail: String?
    public let problems: Int
}

/// A worker process that said it is alive (`sluice serve` or `sluice worker`).
public struct WorkerPresence: Sendable {
    public let id: String
    public let slots: Int
    public let busy: Int
    public let startedAt: Int64
    public let seenAt: Int64
}

/// The aggregations the dashboard shows, each one query, over the pipelines a caller may see.
extension MetadataStore {
    /// `AND pipeline_id IN (…)` for the given ids (nil: every pipeline), appending the binds.
    private static func pipelineFilter(_ ids: [String]?, column: String, binds: inout [SQLValue]) -> String {
        guard let ids else { return "" }
        let placeholders = ids.map { id -> String in binds.append(.text(id)); return "$\(binds.count)" }
        return " AND \(column) IN (\(placeholders.joined(separator: ", ")))"
    }

    /// Runs queued since `since` (Unix ms), by pipeline and status, with their durations.
    public func runStats(since: Int64, pipelineIDs: [String]?) async throws -> [PipelineRunStats] {
        if pipelineIDs?.isEmpty == true { return [] }
        return try await transaction { session in
            var binds: [SQLValue] = [.int(since)]
            let filter = Self.pipelineFilter(pipelineIDs, column: "pipeline_id", binds: &binds)
            let duration = "CASE WHEN finished_at IS NOT NULL AND started_at IS NOT NULL THEN finished_at - started_at ELSE 0 END"
            return try await session.query("""
                SELECT pipeline_id, status, COUNT(*) AS n, SUM(\(duration)) AS total, MAX(\(duration)) AS longest
                FROM runs WHERE queued_at >= $1\(filter) GROUP BY pipeline_id, status
                """, binds).map {
                PipelineRunStats(pipelineID: $0.string("pipeline_id"), status: $0.string("status"), count: Int($0.int("n") ?? 0),
                                 totalMillis: $0.int("total") ?? 0, longestMillis: $0.int("longest") ?? 0)
            }
        }
    }

    /// Runs queued since `since`, counted per status in buckets of `bucketMillis` (bucket 0 starts at `since`).
    public func runHistogram(since: Int64, bucketMillis: Int64, pipelineIDs: [String]?) async throws -> [(bucket: Int, status: String, count: Int)] {
        if pipelineIDs?.isEmpty == true { return [] }
        return try await transaction { session in
            var binds: [SQLValue] = [.int(since), .int(bucketMillis)]
            let filter = Self.pipelineFilter(pipelineIDs, column: "pipeline_id", binds: &binds)
            return try await session.query("""
                SELECT (queued_at - $1) / $2 AS bucket, status, COUNT(*) AS n FROM runs WHERE queued_at >= $1\(filter) GROUP BY 1, 2
                """, binds).map { (Int($0.int("bucket") ?? 0), $0.string("status"), Int($0.int("n") ?? 0)) }
        }
    }

    /// Each pipeline's latest finished run.
    public func lastFinishedRuns(pipelineIDs: [String]?) async throws -> [LastFinishedRun] {
        if pipelineIDs?.isEmpty == true { return [] }
        return try await transaction { session in
            var binds: [SQLValue] = []
            let filter = Self.pipelineFilter(pipelineIDs, column: "r.pipeline_id", binds: &binds)
            return try await session.query("""
                SELECT r.id, r.pipeline_id, r.status, r.error, r.finished_at FROM runs r
                WHERE r.finished_at IS NOT NULL\(filter)
                  AND r.finished_at = (SELECT MAX(r2.finished_at) FROM runs r2 WHERE r2.pipeline_id = r.pipeline_id)
                """, binds).map {
                LastFinishedRun(runID: $0.string("id"), pipelineID: $0.string("pipeline_id"), status: $0.string("status"), error: $0.text("error"),
                                finishedAt: $0.int("finished_at") ?? 0)
            }
        }
    }

    /// Records read so far by each run (the output of its nodes that take no input: its sources).
    public func recordsRead(runIDs: [String]) async throws -> [String: Int64] {
        guard !runIDs.isEmpty else { return [:] }
        return try await transaction { session in
            var binds: [SQLValue] = []
            let placeholders = runIDs.map { id -> String in binds.append(.text(id)); return "$\(binds.count)" }
            let rows = try await session.query("""
                SELECT run_id, SUM(records_out) AS n FROM run_nodes WHERE records_in = 0 AND run_id IN (\(placeholders.joined(separator: ", "))) GROUP BY run_id
                """, binds)
            return Dictionary(rows.map { ($0.string("run_id"), $0.int("n") ?? 0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Every trigger's latest firing, and how many firings since `since` did not fire, filter or skip as designed
    /// (failed, missed, errors).
    public func triggerHealth(since: Int64) async throws -> [String: TriggerHealth] {
        try await transaction { session in
            let latest = try await session.query("""
                SELECT f.trigger_id, f.at, f.outcome, f.detail FROM trigger_firings f
                WHERE f.at = (SELECT MAX(f2.at) FROM trigger_firings f2 WHERE f2.trigger_id = f.trigger_id)
                """)
            let problems = try await session.query("""
                SELECT trigger_id, COUNT(*) AS n FROM trigger_firings WHERE at >= $1 AND outcome NOT IN ('fired', 'filtered', 'skipped') GROUP BY trigger_id
                """, .int(since))
            let counts = Dictionary(problems.map { ($0.string("trigger_id"), Int($0.int("n") ?? 0)) }, uniquingKeysWith: { first, _ in first })
            var result: [String: TriggerHealth] = [:]
            for row in latest {
                let id = row.string("trigger_id")
                result[id] = TriggerHealth(triggerID: id, lastAt: row.int("at"), lastOutcome: row.text("outcome"), lastDetail: row.text("detail"), problems: counts[id] ?? 0)
            }
            return result
        }
    }

    /// Says that worker process `id` is alive with `slots` workers, `busy` of them running a run.
    public func reportWorker(id: String, slots: Int, busy: Int) async throws {
        let now = now()
        try await transaction { session in
            try await session.execute("""
                INSERT INTO worker_processes (id, slots, busy, started_at, seen_at) VALUES ($1, $2, $3, $4, $4)
                ON CONFLICT (id) DO UPDATE SET slots = excluded.slots, busy = excluded.busy, seen_at = excluded.seen_at
                """, .text(id), .int(Int64(slots)), .int(Int64(busy)), .int(now))
            // Processes silent for a day are gone for good.
            try await session.execute("DELETE FROM worker_processes WHERE seen_at < $1", .int(now - 86_400_000))
        }
    }

    /// A worker process that stops on purpose says so.
    public func removeWorker(id: String) async throws {
        try await transaction { try await $0.execute("DELETE FROM worker_processes WHERE id = $1", .text(id)) }
    }

    /// Worker processes seen since `since`.
    public func workers(seenSince since: Int64) async throws -> [WorkerPresence] {
        try await transaction { session in
            try await session.query("SELECT id, slots, busy, started_at, seen_at FROM worker_processes WHERE seen_at >= $1 ORDER BY id", .int(since)).map {
                WorkerPresence(id: $0.string("id"), slots: Int($0.int("slots") ?? 0), busy: Int($0.int("busy") ?? 0), startedAt: $0.int("started_at") ?? 0,
                               seenAt: $0.int("seen_at") ?? 0)
            }
        }
    }
}
