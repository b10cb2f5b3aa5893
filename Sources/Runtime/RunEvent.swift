public import NodeKit

/// Per-node counters at one moment.
public struct NodeCounts: Sendable, Equatable, Codable {
    public var recordsIn: Int = 0
    public var recordsOut: Int = 0
    public var rejected: Int = 0
    public var bytes: Int = 0
    /// The bytes the node expects to read in all (0 = unknown); progress is `bytes / bytesExpected`.
    public var bytesExpected: Int = 0

    public init(recordsIn: Int = 0, recordsOut: Int = 0, rejected: Int = 0, bytes: Int = 0, bytesExpected: Int = 0) {
        self.recordsIn = recordsIn
        self.recordsOut = recordsOut
        self.rejected = rejected
        self.bytes = bytes
        self.bytesExpected = bytesExpected
    }

    /// How far the node is, from 0 to 1, when it declared what it expects to read.
    public var progress: Double? {
        bytesExpected > 0 ? min(1, Double(bytes) / Double(bytesExpected)) : nil
    }
}

/// How a node's part in a run ended.
public enum NodeOutcome: String, Sendable, Codable {
    case succeeded, failed, cancelled, skipped
}

/// How a run ended.
public enum RunStatus: String, Sendable, Codable {
    case succeeded, failed, cancelled
}

/// Something that happened during a run; the CLI prints these, the server records and streams them.
public enum RunEvent: Sendable {
    case runStarted(runID: String, traceID: String, pipeline: String, nodes: [String])
    case nodeStarted(node: String, attempt: Int)
    case nodeProgress(node: String, counts: NodeCounts)
    case nodeRetrying(node: String, attempt: Int, after: Duration, error: String)
    case nodeFinished(node: String, outcome: NodeOutcome, counts: NodeCounts, duration: Duration, error: String?)
    case nodeCommitted(node: String)
    case log(node: String?, level: LogLevel, message: String)
    /// A node's step started or ended (a SQL model, a data test).
    case step(node: String, step: NodeStep)
    case runFinished(RunSummary)
}

/// Receives run events. Must be cheap and must not block: it is called from node tasks.
public protocol RunEventSink: Sendable {
    func send(_ event: RunEvent)
}

/// The result of a run: status, per-node counts, reject totals, and where rejects were kept.
public struct RunSummary: Sendable {
    public var runID: String
    public var traceID: String
    public var status: RunStatus
    public var error: String?
    public var nodes: [(node: String, outcome: NodeOutcome, counts: NodeCounts)]
    public var rejected: Int
    public var rejectLocation: String?
    public var duration: Duration

    public func counts(_ node: String) -> NodeCounts? { nodes.first { $0.node == node }?.counts }
    public func outcome(_ node: String) -> NodeOutcome? { nodes.first { $0.node == node }?.outcome }
}
