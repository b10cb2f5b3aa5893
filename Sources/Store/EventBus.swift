import Foundation
import Synchronization

/// A live update about a run, as WebSocket clients receive it (JSON).
public struct RunUpdate: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case status, progress, log, finished }

    public var kind: Kind
    public var runID: String
    public var pipelineID: String
    public var phase: RunPhase?
    public var nodes: [RunNodeRecord]?
    /// Records per second out of each node since the previous progress update.
    public var rates: [String: Double]?
    /// How far each node that knows its total work is, from 0 to 1 (file sources: bytes read of the file sizes).
    public var progress: [String: Double]?
    public var log: RunLogLine?
    public var error: String?
    public var at: Int64

    public init(kind: Kind, runID: String, pipelineID: String, phase: RunPhase? = nil, nodes: [RunNodeRecord]? = nil,
                rates: [String: Double]? = nil, progress: [String: Double]? = nil, log: RunLogLine? = nil, error: String? = nil, at: Int64) {
        self.kind = kind
        self.runID = runID
        self.pipelineID = pipelineID
        self.phase = phase
        self.nodes = nodes
        self.rates = rates
        self.progress = progress
        self.log = log
        self.error = error
        self.at = at
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
