public import Columnar

/// A preview's outcome: the previewed node's output schema, its first rows, the records rejected upstream, and
/// the run summary. Shared by `sluice preview` and the server's preview route.
public struct NodePreview: Sendable {
    public let schema: Schema
    public let rows: [[Value]]
    public let rejects: [RejectPacket]
    public let summary: RunSummary

    /// The schema of the previewed node's data output, or nil when the node has none (a sink).
    public static func schema(of plan: ExecutionPlan) -> Schema? {
        guard let node = plan.previewNode.flatMap(plan.node), let port = node.spec.outputs.first(where: { $0.kind == .data }) else { return nil }
        return node.outputSchemas[port.name]
    }

    /// Runs a preview plan (see `Planner.plan(previewNode:)`) and collects at most `limit` rows; nil when the node has no data output.
    public static func run(_ plan: ExecutionPlan, limit: Int, events: any RunEventSink) async -> NodePreview? {
        guard let schema = schema(of: plan) else { return nil }
        let rejects = MemoryRejectStore()
        let result = await RunExecutor().run(plan, options: RunOptions(events: events, rejects: rejects, previewLimit: limit))
        let rows = result.preview.flatMap { batch in (0..<batch.count).map { batch.row($0) } }
        return NodePreview(schema: schema, rows: Array(rows.prefix(limit)), rejects: rejects.packets, summary: result.summary)
    }
}

/// Discards run events (a preview reports rows, not progress).
public struct DiscardedEvents: RunEventSink {
    public init() {}
    public func send(_ event: RunEvent) {}
}
