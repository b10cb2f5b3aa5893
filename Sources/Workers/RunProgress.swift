import Foundation
import NodeKit
import Runtime
import Store
import Synchronization

/// Collects a run's events as they happen: counters per node, log lines and reject totals, for the store and live viewers.
///
/// `send` is called from node tasks, so it only updates memory under a lock and reports live updates (through the run queue);
/// the worker drains the pending log lines and counters into the store on its own schedule (`drain`).
final class RunProgress: RunEventSink {
    private struct State {
        var nodes: [String: RunNodeRecord] = [:]
        var order: [String] = []
        var pendingLogs: [(at: Int64, level: LogLevel, node: String?, message: String)] = []
        var logSeq: Int64 = 0
        var lastOut: [String: (records: Int64, at: Int64)] = [:]
        var progress: [String: Double] = [:]
        var lastPublished: Int64?
        var dirty = false
        /// Each step's position (the order steps started), and the steps reported since the last drain.
        var stepPositions: [String: Int64] = [:]
        var pendingSteps: [String: RunStepRecord] = [:]
    }

    private let state = Mutex(State())
    let runID: String
    let pipelineID: String
    /// Announces a progress update or log line to live viewers (`RunQueue.report`).
    let report: @Sendable (RunUpdate) -> Void
    let now: @Sendable () -> Int64

    init(runID: String, pipelineID: String, report: @escaping @Sendable (RunUpdate) -> Void, now: @escaping @Sendable () -> Int64) {
        self.runID = runID
        self.pipelineID = pipelineID
        self.report = report
        self.now = now
    }

    func send(_ event: RunEvent) {
        let at = now()
        switch event {
        case let .runStarted(_, _, _, nodes):
            state.withLock { s in
                s.order = nodes
                for node in nodes { s.nodes[node] = RunNodeRecord(node: node, status: "pending") }
                s.dirty = true
            }
        case let .nodeStarted(node, attempt):
            update(node) { $0.status = "running" }
            if attempt > 1 { log(at: at, level: .info, node: node, message: "attempt \(attempt)") }
        case let .nodeProgress(node, counts):
            update(node) { Self.apply(counts, to: &$0) }
            if let fraction = counts.progress { state.withLock { $0.progress[node] = fraction } }
            // Every node reports each interval; one update per interval carries them all.
            publishProgress(at: at, atMostEvery: 250)
        case let .nodeRetrying(node, attempt, after, error):
            log(at: at, level: .warning, node: node, message: "attempt \(attempt) failed, retrying in \(after): \(error)")
        case let .nodeFinished(node, outcome, counts, duration, error):
            update(node) {
                Self.apply(counts, to: &$0)
                $0.status = outcome.rawValue
                $0.durationMillis = Int64(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
                $0.error = error
            }
            if let error { log(at: at, level: .error, node: node, message: error) }
            publishProgress(at: at, atMostEvery: 0)
        case let .nodeCommitted(node):
            log(at: at, level: .info, node: node, message: "committed")
        case let .log(node, level, message):
            log(at: at, level: level, node: node, message: message)
        case let .step(node, step):
            let record = state.withLock { s -> RunStepRecord in
                let key = node + "\u{0}" + step.name
                let position = s.stepPositions[key] ?? Int64(s.stepPositions.count)
                s.stepPositions[key] = position
                let record = RunStepRecord(node: node, position: position, step: step)
                s.pendingSteps[key] = record
                return record
            }
            report(RunUpdate(runID: runID, pipelineID: pipelineID, event: .step(record), at: at))
        case .runFinished:
            break
        }
    }

    /// Counters of every node in plan order.
    var nodes: [RunNodeRecord] { state.withLock { s in s.order.compactMap { s.nodes[$0] } } }

    /// Takes what changed since the last drain: node counters (when any changed), new log lines and steps that changed.
    func drain() -> (nodes: [RunNodeRecord]?, logs: [(at: Int64, level: LogLevel, node: String?, message: String)], steps: [RunStepRecord]) {
        state.withLock { s in
            let nodes = s.dirty ? s.order.compactMap { s.nodes[$0] } : nil
            s.dirty = false
            let logs = s.pendingLogs
            s.pendingLogs = []
            let steps = s.pendingSteps.values.sorted { $0.position < $1.position }
            s.pendingSteps = [:]
            return (nodes, logs, steps)
        }
    }

    private func update(_ node: String, _ change: (inout RunNodeRecord) -> Void) {
        state.withLock { s in
            var record = s.nodes[node] ?? RunNodeRecord(node: node, status: "pending")
            change(&record)
            s.nodes[node] = record
            s.dirty = true
        }
    }

    private func log(at: Int64, level: LogLevel, node: String?, message: String) {
        let seq = state.withLock { s -> Int64 in
            s.pendingLogs.append((at, level, node, message))
            s.logSeq += 1
            return s.logSeq
        }
        report(RunUpdate(runID: runID, pipelineID: pipelineID, event: .log(RunLogLine(seq: seq, at: at, level: level, node: node, message: message)), at: at))
    }

    /// Publishes all nodes' counters and rates, unless the last update is younger than `interval` milliseconds.
    private func publishProgress(at: Int64, atMostEvery interval: Int64) {
        let update = state.withLock { s -> ([RunNodeRecord], [String: Double], [String: Double])? in
            if let last = s.lastPublished, at - last < interval { return nil }
            s.lastPublished = at
            var rates: [String: Double] = [:]
            for (name, record) in s.nodes {
                if let last = s.lastOut[name], at > last.at {
                    rates[name] = Double(record.recordsOut - last.records) * 1000 / Double(at - last.at)
                }
                s.lastOut[name] = (record.recordsOut, at)
            }
            return (s.order.compactMap { s.nodes[$0] }, rates, s.progress)
        }
        guard let (nodes, rates, progress) = update else { return }
        report(RunUpdate(runID: runID, pipelineID: pipelineID, event: .progress(nodes: nodes, rates: rates, progress: progress.isEmpty ? nil : progress), at: at))
    }

    private static func apply(_ counts: NodeCounts, to record: inout RunNodeRecord) {
        record.recordsIn = Int64(counts.recordsIn)
        record.recordsOut = Int64(counts.recordsOut)
        record.rejected = Int64(counts.rejected)
        record.bytes = Int64(counts.bytes)
    }
}

/// Keeps a run's rejected records in the metadata store (buffered; the worker flushes them).
final class StoreRejectStore: RejectStore {
    private let pending = Mutex<[(node: String, json: String)]>([])

    func write(_ packets: [RejectPacket]) throws {
        pending.withLock { $0.append(contentsOf: packets.map { ($0.node, $0.jsonLine) }) }
    }

    var location: String? { "the server (GET /api/v1/runs/{id}/rejects)" }

    func close() {}

    func drain() -> [(node: String, json: String)] {
        pending.withLock { p in defer { p = [] }; return p }
    }
}
