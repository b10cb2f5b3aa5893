import Foundation
import Synchronization

/// A live update about a run: which run, when, and what happened (`event`, an enum with each kind's payload).
///
/// Its JSON (what WebSocket clients and other processes receive) is flat: `kind`, `run_id`, `pipeline_id`, `at`
/// and the fields of its kind (`phase`; `nodes`, `rates`, `progress`; `log`; `error`).
public struct RunUpdate: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case status, progress, log, finished, debug, step }

    /// What happened.
    public enum Event: Sendable, Equatable {
        /// The run moved to `queued` or `running`.
        case status(RunPhase)
        /// A running run's node counters, records per second out of each node since the previous update, and how
        /// far each node that knows its total work is (0 to 1; file sources: bytes read of the file sizes).
        case progress(nodes: [RunNodeRecord], rates: [String: Double], progress: [String: Double]?)
        /// One log line.
        case log(RunLogLine)
        /// The run ended: its final phase, the worker's last node counters (none when it ended without a worker:
        /// cancelled while queued, failed by the lease reaper) and its error.
        case finished(RunPhase, nodes: [RunNodeRecord]?, error: String?)
        /// A debug run paused, went on, or was given a command by its controller.
        case debug(RunDebugUpdate)
        /// A node's step (a SQL model, a data test) started or ended.
        case step(RunStepRecord)
    }

    public var runID: String
    public var pipelineID: String
    public var event: Event
    public var at: Int64

    public init(runID: String, pipelineID: String, event: Event, at: Int64) {
        self.runID = runID
        self.pipelineID = pipelineID
        self.event = event
        self.at = at
    }

    public var kind: Kind {
        switch event {
        case .status: .status
        case .progress: .progress
        case .log: .log
        case .finished: .finished
        case .debug: .debug
        case .step: .step
        }
    }

    /// The phase the run is in after this update.
    public var phase: RunPhase {
        switch event {
        case let .status(phase), let .finished(phase, _, _): phase
        case .progress, .log, .debug, .step: .running
        }
    }

    /// The node counters it carries, if any.
    public var nodes: [RunNodeRecord]? {
        switch event {
        case let .progress(nodes, _, _): nodes
        case let .finished(_, nodes, _): nodes
        case .status, .log, .debug, .step: nil
        }
    }

    private enum CodingKeys: String, CodingKey { case kind, runID, pipelineID, phase, nodes, rates, progress, log, error, at, debug, step }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(runID, forKey: .runID)
        try container.encode(pipelineID, forKey: .pipelineID)
        if kind != .log { try container.encode(phase, forKey: .phase) }
        try container.encode(at, forKey: .at)
        switch event {
        case .status:
            break
        case let .progress(nodes, rates, progress):
            try container.encode(nodes, forKey: .nodes)
            try container.encode(rates, forKey: .rates)
            try container.encodeIfPresent(progress, forKey: .progress)
        case let .log(line):
            try container.encode(line, forKey: .log)
        case let .finished(_, nodes, error):
            try container.encodeIfPresent(nodes, forKey: .nodes)
            try container.encodeIfPresent(error, forKey: .error)
        case let .debug(update):
            try container.encode(update, forKey: .debug)
        case let .step(record):
            try container.encode(record, forKey: .step)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        runID = try container.decode(String.self, forKey: .runID)
        pipelineID = try container.decode(String.self, forKey: .pipelineID)
        at = try container.decode(Int64.self, forKey: .at)
        switch try container.decode(Kind.self, forKey: .kind) {
        case .status:
            event = .status(try container.decode(RunPhase.self, forKey: .phase))
        case .progress:
            event = .progress(nodes: try container.decode([RunNodeRecord].self, forKey: .nodes), rates: try container.decode([String: Double].self, forKey: .rates),
                              progress: try container.decodeIfPresent([String: Double].self, forKey: .progress))
        case .log:
            event = .log(try container.decode(RunLogLine.self, forKey: .log))
        case .finished:
            event = .finished(try container.decode(RunPhase.self, forKey: .phase), nodes: try container.decodeIfPresent([RunNodeRecord].self, forKey: .nodes),
                              error: try container.decodeIfPresent(String.self, forKey: .error))
        case .debug:
            event = .debug(try container.decode(RunDebugUpdate.self, forKey: .debug))
        case .step:
            event = .step(try container.decode(RunStepRecord.self, forKey: .step))
        }
    }
}

/// Carries run updates from whoever executes a run to everyone watching: in-process, or across processes.
///
/// Only `RunQueue` announces run updates: state changes with `send` inside their store transaction and
/// `deliver` after it commits, progress and log lines with `publish`.
public protocol EventBus: Sendable {
    /// Delivers an update here and sends it to other processes, outside any store transaction (progress, logs).
    func publish(_ update: RunUpdate)
    /// Sends updates to other processes as part of an open store transaction: they leave only if it commits.
    func send(_ updates: [RunUpdate], in session: any StoreSession) async throws
    /// Delivers an update to this process's subscribers only (after the transaction that `send` it committed).
    func deliver(_ update: RunUpdate)
    /// A bounded stream of every update published after the call (slow readers lose the oldest, never block publishers).
    func subscribe() -> AsyncStream<RunUpdate>
}

/// Delivers updates within one process.
public final class LocalEventBus: EventBus {
    private let subscribers = Mutex<[UUID: AsyncStream<RunUpdate>.Continuation]>([:])

    public init() {}

    public func publish(_ update: RunUpdate) {
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.yield(update) }
    }

    /// No other process listens.
    public func send(_ updates: [RunUpdate], in session: any StoreSession) async throws {}

    public func deliver(_ update: RunUpdate) { publish(update) }

    public func subscribe() -> AsyncStream<RunUpdate> {
        let (stream, continuation) = AsyncStream.makeStream(of: RunUpdate.self, bufferingPolicy: .bufferingNewest(1024))
        let id = UUID()
        continuation.onTermination = { [weak self] _ in _ = self?.subscribers.withLock { $0.removeValue(forKey: id) } }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }
}
