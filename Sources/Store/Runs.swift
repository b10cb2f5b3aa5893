import Foundation
public import NodeKit

/// A run as the queue stores it, with its per-node counters when loaded singly.
public struct RunRecord: Sendable, Equatable {
    public var id: String
    public var pipelineID: String
    public var revision: Int64
    /// Parameter overrides as a JSON object text of strings.
    public var parametersJSON: String
    public var phase: RunPhase
    public var attempt: Int64
    public var maxAttempts: Int64
    public var requestedBy: String
    public var queuedAt: Int64
    public var startedAt: Int64?
    public var finishedAt: Int64?
    public var workerID: String?
    public var leaseExpiresAt: Int64?
    public var cancelRequested: Bool
    public var error: String?
    public var rejected: Int64
    public var replayOf: String?
    /// The trigger whose firing queued this run, if any.
    public var triggerID: String?
    /// Set for a debug run.
    public var debug: RunDebugSettings?
    public var nodes: [RunNodeRecord] = []

    init(row: SQLRow) throws {
        id = try row.required("id")
        pipelineID = try row.required("pipeline_id")
        revision = try row.requiredInt("revision")
        parametersJSON = try row.required("parameters")
        phase = try row.decode("status", as: RunPhase.self)
        attempt = try row.requiredInt("attempt")
        maxAttempts = try row.requiredInt("max_attempts")
        requestedBy = try row.required("requested_by")
        queuedAt = try row.requiredInt("queued_at")
        startedAt = row.int("started_at")
        finishedAt = row.int("finished_at")
        workerID = row.text("worker_id")
        leaseExpiresAt = row.int("lease_expires_at")
        cancelRequested = row.int("cancel_requested") == 1
        error = row.text("error")
        rejected = try row.requiredInt("rejected")
        replayOf = row.text("replay_of")
        triggerID = row.text("trigger_id")
        debug = try row.text("debug").map { try JSONDecoder().decode(RunDebugSettings.self, from: Data($0.utf8)) }
    }
}

/// One node's status and counters within a run.
public struct RunNodeRecord: Sendable, Equatable, Codable {
    public var node: String
    public var status: String
    public var recordsIn: Int64
    public var recordsOut: Int64
    public var rejected: Int64
    public var bytes: Int64
    public var durationMillis: Int64
    public var error: String?

    public init(node: String, status: String, recordsIn: Int64 = 0, recordsOut: Int64 = 0, rejected: Int64 = 0, bytes: Int64 = 0, durationMillis: Int64 = 0, error: String? = nil) {
        self.node = node
        self.status = status
        self.recordsIn = recordsIn
        self.recordsOut = recordsOut
        self.rejected = rejected
        self.bytes = bytes
        self.durationMillis = durationMillis
        self.error = error
    }
}

/// One log line of a run.
public struct RunLogLine: Sendable, Equatable, Codable {
    public var seq: Int64
    public var at: Int64
    public var level: LogLevel
    public var node: String?
    public var message: String

    public init(seq: Int64, at: Int64, level: LogLevel, node: String?, message: String) {
        self.seq = seq
        self.at = at
        self.level = level
        self.node = node
        self.message = message
    }
}

/// What a lease holder learns from a heartbeat.
public enum HeartbeatResult: Sendable, Equatable {
    case renewed(cancelRequested: Bool)
    /// The run is no longer this worker's (lease expired and reclaimed, or finished elsewhere): stop without committing.
    case lost
}

/// Which runs to list.
public struct RunFilter: Sendable {
    public var pipelineIDs: [String]?
    public var phase: RunPhase?
    /// Only runs queued by this trigger.
    public var triggerID: String?
    public var limit: Int = 50
    /// Only runs queued before this time (paging).
    public var before: Int64?

    public init(pipelineIDs: [String]? = nil, phase: RunPhase? = nil, triggerID: String? = nil, limit: Int = 50, before: Int64? = nil) {
        self.pipelineIDs = pipelineIDs
        self.triggerID = triggerID
        self.phase = phase
        self.limit = limit
        self.before = before
    }
}

extension MetadataStore {
    static let runColumns = """
        id, pipeline_id, revision, parameters, status, attempt, max_attempts, requested_by, queued_at, started_at, finished_at,
        worker_id, lease_expires_at, cancel_requested, error, rejected, replay_of, trigger_id, debug
        """

    /// Inserts a queued run inside an open transaction (runs queued by hand, by replay, or by a trigger's firing).
    static func insertRun(pipelineID: String, revision: Int64, parametersJSON: String, requestedBy: String, maxAttempts: Int64 = 3,
                          replayOf: String? = nil, triggerID: String?, debug: RunDebugSettings? = nil, at: Int64, in session: any StoreSession) async throws -> RunRecord {
        let debugJSON = try debug.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let rows = try await session.query("""
            INSERT INTO runs (id, pipeline_id, revision, parameters, status, attempt, max_attempts, requested_by, queued_at, replay_of, trigger_id, debug)
            VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $7, $8, $9, $10) RETURNING \(runColumns)
            """, .text(newID()), .text(pipelineID), .int(revision), .text(parametersJSON), .int(maxAttempts), .text(requestedBy), .int(at),
               .optional(replayOf), .optional(triggerID), .optional(debugJSON))
        return try RunRecord(row: rows[0])
    }

    /// The run row, locked for the rest of the transaction on PostgreSQL (SQLite transactions already exclude writers).
    func lockedRun(_ runID: String, in session: any StoreSession) async throws -> RunRecord? {
        let lock = database.dialect == .postgres ? " FOR UPDATE" : ""
        return try await session.first("SELECT \(Self.runColumns) FROM runs WHERE id = $1\(lock)", .text(runID)).map { try RunRecord(row: $0) }
    }

    /// Claims the oldest queued run for `workerID` with a lease, inside an open transaction; nil when none is queued.
    ///
    /// PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent workers never wait on or take the same row.
    /// SQLite: the transaction is `BEGIN IMMEDIATE`, which already serializes claims.
    func claimRun(workerID: String, leaseMillis: Int64, at: Int64, in session: any StoreSession) async throws -> RunRecord? {
        let lock = database.dialect == .postgres ? "FOR UPDATE SKIP LOCKED" : ""
        guard let candidate = try await session.first("SELECT \(Self.runColumns) FROM runs WHERE status = 'queued' ORDER BY queued_at, id LIMIT 1 \(lock)")
            .map({ try RunRecord(row: $0) }),
            case .moveTo(let phase) = RunLifecycle.transition(from: candidate.phase, on: .claim) else { return nil }
        return try await session.first("""
            UPDATE runs SET status = $2, worker_id = $3, lease_expires_at = $4, attempt = attempt + 1, started_at = COALESCE(started_at, $5)
            WHERE id = $1 RETURNING \(Self.runColumns)
            """, .text(candidate.id), .text(phase.rawValue), .text(workerID), .int(at + leaseMillis), .int(at)).map({ try RunRecord(row: $0) })
    }

    /// Renews the lease if `workerID` still holds the run.
    public func heartbeat(runID: String, workerID: String, leaseMillis: Int64) async throws -> HeartbeatResult {
        let at = now()
        return try await transaction { session in
            guard let row = try await session.first("""
                UPDATE runs SET lease_expires_at = $3 WHERE id = $1 AND worker_id = $2 AND status = 'running' RETURNING cancel_requested
                """, .text(runID), .text(workerID), .int(at + leaseMillis)) else { return .lost }
            return .renewed(cancelRequested: row.int("cancel_requested") == 1)
        }
    }

    /// Ends a run `workerID` holds, inside an open transaction; nil when it no longer holds it (lease lost, the result is discarded).
    func finishRun(runID: String, workerID: String, phase: RunPhase, error: String?, rejected: Int64, at: Int64, in session: any StoreSession) async throws -> RunRecord? {
        guard let run = try await lockedRun(runID, in: session), run.workerID == workerID,
              case .moveTo(let next) = RunLifecycle.transition(from: run.phase, on: .finish(phase)) else { return nil }
        return try await session.first("""
            UPDATE runs SET status = $2, finished_at = $3, error = $4, rejected = $5, worker_id = NULL, lease_expires_at = NULL
            WHERE id = $1 RETURNING \(Self.runColumns)
            """, .text(runID), .text(next.rawValue), .int(at), .optional(error), .int(rejected)).map({ try RunRecord(row: $0) })
    }

    /// Gives a run `workerID` holds back to the queue (graceful shutdown), inside an open transaction; the attempt is
    /// not counted against its retries. Nil when it no longer holds it.
    func handBack(runID: String, workerID: String, in session: any StoreSession) async throws -> RunRecord? {
        guard let run = try await lockedRun(runID, in: session), run.workerID == workerID,
              case .moveTo(let next) = RunLifecycle.transition(from: run.phase, on: .handBack) else { return nil }
        return try await session.first("""
            UPDATE runs SET status = $2, worker_id = NULL, lease_expires_at = NULL, attempt = attempt - 1 WHERE id = $1 RETURNING \(Self.runColumns)
            """, .text(runID), .text(next.rawValue)).map({ try RunRecord(row: $0) })
    }

    /// Requeues (or fails, when out of attempts) runs whose lease expired, inside an open transaction; returns them as they are now.
    func reclaimExpiredLeases(at: Int64, in session: any StoreSession) async throws -> [RunRecord] {
        let lock = database.dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        let expired = try await session.query("SELECT \(Self.runColumns) FROM runs WHERE status = 'running' AND lease_expires_at < $1\(lock)", .int(at))
            .map { try RunRecord(row: $0) }
        var moved: [RunRecord] = []
        for run in expired {
            guard case let .moveTo(phase) = RunLifecycle.transition(from: run.phase, on: .leaseExpired(attempt: run.attempt, maxAttempts: run.maxAttempts)) else { continue }
            let finished: SQLValue = phase.isFinal ? .int(at) : .null
            let error: SQLValue = phase.isFinal ? .text("the worker running it stopped responding (lease expired) and no attempts are left") : .null
            if let updated = try await session.first("""
                UPDATE runs SET status = $2, worker_id = NULL, lease_expires_at = NULL, finished_at = $3, error = $4 WHERE id = $1 RETURNING \(Self.runColumns)
                """, .text(run.id), .text(phase.rawValue), finished, error).map({ try RunRecord(row: $0) }) {
                moved.append(updated)
            }
        }
        return moved
    }

    /// Cancels a queued run or flags a running one, inside an open transaction. Returns the run afterwards and
    /// whether it moved to `cancelled` now; nil when it does not exist.
    func cancelRun(_ runID: String, at: Int64, in session: any StoreSession) async throws -> (run: RunRecord, cancelledNow: Bool)? {
        guard let run = try await lockedRun(runID, in: session) else { return nil }
        switch RunLifecycle.transition(from: run.phase, on: .cancel) {
        case .moveTo(let phase):
            try await session.execute("UPDATE runs SET status = $2, finished_at = $3, cancel_requested = 1 WHERE id = $1", .text(runID), .text(phase.rawValue), .int(at))
            return (try await lockedRun(runID, in: session) ?? run, true)
        case .signalCancel:
            try await session.execute("UPDATE runs SET cancel_requested = 1 WHERE id = $1", .text(runID))
            return (try await lockedRun(runID, in: session) ?? run, false)
        case .ignore:
            return (run, false)
        }
    }

    public func run(id: String) async throws -> RunRecord? {
        try await transaction { session in
            guard var run = try await session.first("SELECT \(Self.runColumns) FROM runs WHERE id = $1", .text(id)).map({ try RunRecord(row: $0) }) else { return nil }
            run.nodes = try await session.query("SELECT node, status, records_in, records_out, rejected, bytes, duration_ms, error FROM run_nodes WHERE run_id = $1 ORDER BY position, node", .text(id))
                .map { RunNodeRecord(node: $0.string("node"), status: $0.string("status"), recordsIn: $0.int("records_in") ?? 0, recordsOut: $0.int("records_out") ?? 0,
                                     rejected: $0.int("rejected") ?? 0, bytes: $0.int("bytes") ?? 0, durationMillis: $0.int("duration_ms") ?? 0, error: $0.text("error")) }
            return run
        }
    }

    /// Runs newest first, filtered.
    public func runs(_ filter: RunFilter) async throws -> [RunRecord] {
        try await transaction { session in
            var sql = "SELECT \(Self.runColumns) FROM runs WHERE queued_at < $1"
            var binds: [SQLValue] = [.int(filter.before ?? Int64.max)]
            if let phase = filter.phase {
                binds.append(.text(phase.rawValue))
                sql += " AND status = $\(binds.count)"
            }
            if let trigger = filter.triggerID {
                binds.append(.text(trigger))
                sql += " AND trigger_id = $\(binds.count)"
            }
            if let ids = filter.pipelineIDs {
                if ids.isEmpty { return [] }
                let placeholders = ids.map { id -> String in binds.append(.text(id)); return "$\(binds.count)" }
                sql += " AND pipeline_id IN (\(placeholders.joined(separator: ", ")))"
            }
            binds.append(.int(Int64(filter.limit)))
            sql += " ORDER BY queued_at DESC, id DESC LIMIT $\(binds.count)"
            return try await session.query(sql, binds).map({ try RunRecord(row: $0) })
        }
    }

    /// Writes the latest counters of a run's nodes (idempotent); `nodes` is every node, in the plan's order.
    public func recordNodes(runID: String, _ nodes: [RunNodeRecord]) async throws {
        guard !nodes.isEmpty else { return }
        try await transaction { session in
            for (position, n) in nodes.enumerated() {
                try await session.execute("""
                    INSERT INTO run_nodes (run_id, node, status, records_in, records_out, rejected, bytes, duration_ms, error, position)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                    ON CONFLICT (run_id, node) DO UPDATE SET status = excluded.status, records_in = excluded.records_in,
                        records_out = excluded.records_out, rejected = excluded.rejected, bytes = excluded.bytes,
                        duration_ms = excluded.duration_ms, error = excluded.error, position = excluded.position
                    """, .text(runID), .text(n.node), .text(n.status), .int(n.recordsIn), .int(n.recordsOut), .int(n.rejected), .int(n.bytes),
                    .int(n.durationMillis), .optional(n.error), .int(Int64(position)))
            }
        }
    }

    /// Appends log lines; sequence numbers continue from the last one stored.
    public func appendLogs(runID: String, _ lines: [(at: Int64, level: LogLevel, node: String?, message: String)]) async throws {
        guard !lines.isEmpty else { return }
        try await transaction { session in
            var seq = try await session.first("SELECT COALESCE(MAX(seq), 0) AS s FROM run_logs WHERE run_id = $1", .text(runID))?.int("s") ?? 0
            for line in lines {
                seq += 1
                try await session.execute("INSERT INTO run_logs (run_id, seq, at, level, node, message) VALUES ($1, $2, $3, $4, $5, $6)",
                                          .text(runID), .int(seq), .int(line.at), .text(line.level.rawValue), .optional(line.node), .text(line.message))
            }
        }
    }

    /// Log lines after `afterSeq`, oldest first.
    /// Every rejected-record packet of a run, in order (read in pages).
    public func allRejects(runID: String) async throws -> [(seq: Int64, node: String, json: String)] {
        var packets: [(seq: Int64, node: String, json: String)] = []
        while true {
            let page = try await rejects(runID: runID, afterSeq: packets.last?.seq ?? 0, limit: 5000)
            packets += page
            if page.count < 5000 { return packets }
        }
    }

    public func logs(runID: String, afterSeq: Int64, limit: Int) async throws -> [RunLogLine] {
        try await transaction { session in
            try await session.query("SELECT seq, at, level, node, message FROM run_logs WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                                    .text(runID), .int(afterSeq), .int(Int64(limit)))
                .map { RunLogLine(seq: try $0.requiredInt("seq"), at: try $0.requiredInt("at"), level: try $0.decode("level", as: LogLevel.self), node: $0.text("node"),
                                  message: try $0.required("message")) }
        }
    }

    /// Keeps rejected records (one JSON packet each).
    public func appendRejects(runID: String, _ packets: [(node: String, json: String)]) async throws {
        guard !packets.isEmpty else { return }
        try await transaction { session in
            var seq = try await session.first("SELECT COALESCE(MAX(seq), 0) AS s FROM run_rejects WHERE run_id = $1", .text(runID))?.int("s") ?? 0
            for packet in packets {
                seq += 1
                try await session.execute("INSERT INTO run_rejects (run_id, seq, node, packet) VALUES ($1, $2, $3, $4)",
                                          .text(runID), .int(seq), .text(packet.node), .text(packet.json))
            }
        }
    }

    /// Rejected-record packets after `afterSeq`, oldest first.
    public func rejects(runID: String, afterSeq: Int64, limit: Int) async throws -> [(seq: Int64, node: String, json: String)] {
        try await transaction { session in
            try await session.query("SELECT seq, node, packet FROM run_rejects WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                                    .text(runID), .int(afterSeq), .int(Int64(limit)))
                .map { ($0.int("seq") ?? 0, $0.string("node"), $0.string("packet")) }
        }
    }

    /// How many runs wait in the queue, and when the oldest was queued (Unix ms), for monitoring.
    public func queueStats() async throws -> (depth: Int, oldestQueuedAt: Int64?) {
        try await transaction { session in
            let row = try await session.first("SELECT COUNT(*) AS n, MIN(queued_at) AS oldest FROM runs WHERE status = 'queued'")
            return (Int(row?.int("n") ?? 0), row?.int("oldest"))
        }
    }
}
