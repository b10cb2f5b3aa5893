import Foundation
import Store

/// What the dashboard shows a caller, over the pipelines they may see (all, for admins): runs of the last 24 hours
/// and 7 days by status, success rate and slowest runs per pipeline, what runs now, the queue, failing pipelines with
/// their last error, trigger health, and the worker processes alive.
public struct DashboardSnapshot: Codable, Sendable {
    /// Run counts by status.
    public struct Counts: Codable, Sendable {
        public var succeeded = 0, failed = 0, cancelled = 0, running = 0, queued = 0
        var total: Int { succeeded + failed + cancelled + running + queued }

        mutating func add(_ status: String, _ count: Int) {
            switch status {
            case "succeeded": succeeded += count
            case "failed": failed += count
            case "cancelled": cancelled += count
            case "running": running += count
            default: queued += count
            }
        }
    }

    /// Counts of one hour (the 24-hour chart) or one day (the 7-day chart); `start` in Unix ms.
    public struct Bucket: Codable, Sendable {
        public var start: Int64
        public var counts: Counts
    }

    /// A pipeline's runs over the last 7 days.
    public struct PipelineHealth: Codable, Sendable {
        public var pipelineId: String
        public var name: String
        public var runs: Int
        public var succeeded: Int
        public var failed: Int
        /// Succeeded among finished (succeeded + failed) runs, 0…1; nil without finished runs.
        public var successRate: Double?
        public var averageSeconds: Double?
        public var longestSeconds: Double?
    }

    public struct RunningRun: Codable, Sendable {
        public var runId: String
        public var pipelineId: String
        public var pipeline: String
        public var startedAt: Int64?
        public var recordsRead: Int64
        public var attempt: Int64
    }

    public struct FailingPipeline: Codable, Sendable {
        public var pipelineId: String
        public var name: String
        public var runId: String
        public var failedAt: Int64
        public var error: String?
    }

    public struct TriggerState: Codable, Sendable {
        public var triggerId: String
        public var name: String
        public var kind: String
        public var enabled: Bool
        public var lastFiredAt: Int64?
        public var lastOutcome: String?
        public var lastDetail: String?
        /// Firings in the last 7 days that failed or were missed.
        public var problems: Int
    }

    public struct Worker: Codable, Sendable {
        public var id: String
        public var slots: Int
        public var busy: Int
        public var startedAt: Int64
        public var seenAt: Int64
    }

    public var generatedAt: Int64
    public var lastDay: Counts
    public var lastWeek: Counts
    public var hourly: [Bucket]
    public var daily: [Bucket]
    public var pipelines: [PipelineHealth]
    public var running: [RunningRun]
    public var queueDepth: Int
    public var oldestQueuedSeconds: Double?
    public var failing: [FailingPipeline]
    public var slowest: [PipelineHealth]
    public var triggers: [TriggerState]
    public var workers: [Worker]
}

/// Builds dashboard snapshots; anyone signed in may ask, and sees only what they may see.
public struct Dashboard: Sendable {
    let context: ServiceContext
    var store: MetadataStore { context.store }

    /// How long a worker process may be silent and still count as alive (it reports every half lease, 15 s by default).
    static let workerSilence: Int64 = 60_000

    public func snapshot(for caller: Caller) async throws -> DashboardSnapshot {
        let now = store.now()
        let hour: Int64 = 3_600_000, day = 24 * hour
        let visible = try await store.pipelines(visibleTo: caller.user)
        let names = Dictionary(visible.map { ($0.0.id, $0.0.name) }, uniquingKeysWith: { first, _ in first })
        let ids: [String]? = caller.isAdmin ? nil : Array(names.keys)

        // Charts: 24 hourly buckets ending with the current hour, 7 daily buckets ending today.
        let hourStart = (now / hour - 23) * hour, dayStart = (now / day - 6) * day
        var hourly = (0..<24).map { DashboardSnapshot.Bucket(start: hourStart + Int64($0) * hour, counts: .init()) }
        for entry in try await store.runHistogram(since: hourStart, bucketMillis: hour, pipelineIDs: ids) where hourly.indices.contains(entry.bucket) {
            hourly[entry.bucket].counts.add(entry.status, entry.count)
        }
        var daily = (0..<7).map { DashboardSnapshot.Bucket(start: dayStart + Int64($0) * day, counts: .init()) }
        for entry in try await store.runHistogram(since: dayStart, bucketMillis: day, pipelineIDs: ids) where daily.indices.contains(entry.bucket) {
            daily[entry.bucket].counts.add(entry.status, entry.count)
        }
        var lastDay = DashboardSnapshot.Counts(), lastWeek = DashboardSnapshot.Counts()
        for stats in try await store.runStats(since: now - day, pipelineIDs: ids) { lastDay.add(stats.status, stats.count) }

        var perPipeline: [String: DashboardSnapshot.PipelineHealth] = [:]
        var finishedMillis: [String: (total: Int64, count: Int)] = [:]
        for stats in try await store.runStats(since: now - 7 * day, pipelineIDs: ids) {
            lastWeek.add(stats.status, stats.count)
            var health = perPipeline[stats.pipelineID] ?? DashboardSnapshot.PipelineHealth(
                pipelineId: stats.pipelineID, name: names[stats.pipelineID] ?? stats.pipelineID, runs: 0, succeeded: 0, failed: 0)
            health.runs += stats.count
            if stats.status == "succeeded" { health.succeeded += stats.count }
            if stats.status == "failed" { health.failed += stats.count }
            if ["succeeded", "failed"].contains(stats.status) {
                let sums = finishedMillis[stats.pipelineID] ?? (0, 0)
                finishedMillis[stats.pipelineID] = (sums.total + stats.totalMillis, sums.count + stats.count)
                health.longestSeconds = max(health.longestSeconds ?? 0, Double(stats.longestMillis) / 1000)
            }
            perPipeline[stats.pipelineID] = health
        }
        for (id, sums) in finishedMillis where sums.count > 0 {
            guard var health = perPipeline[id] else { continue }
            health.averageSeconds = Double(sums.total) / Double(sums.count) / 1000
            health.successRate = Double(health.succeeded) / Double(health.succeeded + health.failed)
            perPipeline[id] = health
        }
        let pipelines = perPipeline.values.sorted { ($0.successRate ?? 1, $0.name) < ($1.successRate ?? 1, $1.name) }
        let slowest = Array(perPipeline.values.filter { $0.averageSeconds != nil }.sorted { $0.averageSeconds! > $1.averageSeconds! }.prefix(5))

        let runningRecords = try await store.runs(RunFilter(pipelineIDs: ids, phase: .running, limit: 50))
        let read = try await store.recordsRead(runIDs: runningRecords.map(\.id))
        let running = runningRecords.map {
            DashboardSnapshot.RunningRun(runId: $0.id, pipelineId: $0.pipelineID, pipeline: names[$0.pipelineID] ?? $0.pipelineID, startedAt: $0.startedAt,
                                         recordsRead: read[$0.id] ?? 0, attempt: $0.attempt)
        }
        let queue = try await store.queueStats()
        let failing = try await store.lastFinishedRuns(pipelineIDs: ids).filter { $0.status == "failed" }.sorted { $0.finishedAt > $1.finishedAt }.map {
            DashboardSnapshot.FailingPipeline(pipelineId: $0.pipelineID, name: names[$0.pipelineID] ?? $0.pipelineID, runId: $0.runID, failedAt: $0.finishedAt, error: $0.error)
        }
        let health = try await store.triggerHealth(since: now - 7 * day)
        let triggers = try await Triggers(context: context).list(for: caller).map { trigger in
            let state = health[trigger.id]
            return DashboardSnapshot.TriggerState(triggerId: trigger.id, name: trigger.name, kind: trigger.kind, enabled: trigger.enabled, lastFiredAt: state?.lastAt,
                                                  lastOutcome: state?.lastOutcome, lastDetail: state?.lastDetail, problems: state?.problems ?? 0)
        }
        let workers = try await store.workers(seenSince: now - Self.workerSilence).map {
            DashboardSnapshot.Worker(id: $0.id, slots: $0.slots, busy: $0.busy, startedAt: $0.startedAt, seenAt: $0.seenAt)
        }
        return DashboardSnapshot(generatedAt: now, lastDay: lastDay, lastWeek: lastWeek, hourly: hourly, daily: daily, pipelines: pipelines, running: running,
                                 queueDepth: queue.depth, oldestQueuedSeconds: queue.oldestQueuedAt.map { Double(max(0, now - $0)) / 1000 },
                                 failing: failing, slowest: slowest, triggers: triggers, workers: workers)
    }
}
