public import Columnar
import Synchronization
public import NodeKit

/// A preview's outcome: the previewed node's output schema, its first rows, the records rejected upstream, and
/// the run summary. Shared by `sluice preview` and the server's preview route.
public struct NodePreview: Sendable {
    public let schema: Schema
    public let rows: [[Value]]
    public let rejects: [RejectPacket]
    public let summary: RunSummary
    /// What the nodes logged while the preview ran (at most `PreviewLog.limit` lines), e.g. the raw start of an API's answer.
    public let log: [(node: String?, level: LogLevel, message: String)]

    /// The schema of the previewed node's data output, or nil when the node has none (a sink).
    public static func schema(of plan: ExecutionPlan) -> Schema? {
        guard let node = plan.previewNode.flatMap(plan.node), let port = node.spec.outputs.first(where: { $0.kind == .data }) else { return nil }
        return node.outputSchemas[port.name]
    }

    /// Runs a preview plan (see `Planner.plan(previewNode:)`) and collects at most `limit` rows; nil when the node has no data output.
    public static func run(_ plan: ExecutionPlan, limit: Int, events: any RunEventSink = DiscardedEvents()) async -> NodePreview? {
        guard let schema = schema(of: plan) else { return nil }
        let rejects = MemoryRejectStore()
        let log = PreviewLog(forwardingTo: events)
        let result = await RunExecutor().run(plan, options: RunOptions(events: log, rejects: rejects, previewLimit: limit))
        let rows = result.preview.flatMap { batch in (0..<batch.count).map { batch.row($0) } }
        return NodePreview(schema: schema, rows: Array(rows.prefix(limit)), rejects: rejects.packets, summary: result.summary, log: log.lines)
    }
}

/// Keeps the first log lines of a preview (each cut to 2,000 characters) and forwards every event.
final class PreviewLog: RunEventSink {
    static let limit = 50
    private let forward: any RunEventSink
    private let storage = Mutex<[(node: String?, level: LogLevel, message: String)]>([])

    init(forwardingTo forward: any RunEventSink) { self.forward = forward }

    var lines: [(node: String?, level: LogLevel, message: String)] { storage.withLock { $0 } }

    func send(_ event: RunEvent) {
        if case let .log(node, level, message) = event {
            storage.withLock { if $0.count < Self.limit { $0.append((node, level, String(message.prefix(2000)))) } }
        }
        forward.send(event)
    }
}

/// Discards run events (a preview reports rows, not progress).
public struct DiscardedEvents: RunEventSink {
    public init() {}
    public func send(_ event: RunEvent) {}
}
