import Columnar
import Foundation
import NodeKit
import Runtime
import Store

/// `POST /api/v1/pipelines/preview`: the first rows a node produces, for the editor's data preview.
///
/// The node's upstream runs in this server process (not through the run queue) with sinks disabled, at most
/// `limit` rows (≤ 200) and 30 seconds; nothing is written and no run is recorded. Any signed-in user may
/// preview a document, as any user may create a pipeline and run it.
enum PreviewRoutes {
    struct Input: Decodable { var document: String; var node: String; var limit: Int?; var parameters: [String: String]? }

    static let endpoint = Endpoint(
        .post, "/api/v1/pipelines/preview", "previewNode",
        "Runs a node's upstream without writing anything and returns its first rows, its schema and the records rejected on the way.",
        tag: "pipelines",
        request: Schema.object(["document": Schema.string, "node": Schema.string, "limit": Schema.integer, "parameters": Schema.map(Schema.string)],
                               optional: ["limit", "parameters"]),
        response: Schema.object(["node": Schema.string, "status": Schema.string, "error": Schema.nullable(Schema.string),
                                 "columns": Schema.array(Schema.object(["name": Schema.string, "type": Schema.string])),
                                 "rows": Schema.array(Schema.array(Schema.any)), "rejected": Schema.array(Schema.anyObject)],
                               optional: ["error"])) { call in
        let input = try call.decode(Input.self)
        let limit = input.limit ?? 20
        guard (1...200).contains(limit) else { throw APIError.invalid("limit must be 1 to 200", field: "limit") }
        let (_, whole) = try PipelineRoutes.parse(.string(input.document))
        guard whole.node(input.node) != nil else { throw APIError.invalid("no node '\(input.node)' in the document", field: "node") }
        let document = upstream(of: input.node, in: whole)
        let plan = try await call.state.plan(document, parameters: input.parameters ?? [:], previewNode: input.node)
        guard let target = plan.node(input.node), let port = target.spec.outputs.first(where: { $0.kind == .data }),
              let schema = target.outputSchemas[port.name] else {
            throw APIError.invalid("node '\(input.node)' has no data output to preview; preview the node that feeds it", field: "node")
        }
        let rejects = MemoryRejectStore()
        let options = RunOptions(events: SilentEvents(), rejects: rejects, previewLimit: limit)
        let result = await withTaskGroup(of: RunResult?.self) { group in
            group.addTask { await RunExecutor().run(plan, options: options) }
            group.addTask { try? await Task.sleep(for: .seconds(30)); return nil }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        let rows = (result?.preview ?? []).flatMap { batch in (0..<batch.count).map { batch.row($0).map(json) } }
        let rejected = rejects.packets.prefix(50).map { JSONValue.parse($0.jsonLine) ?? .null }
        let status = result.map { $0.summary.status.rawValue } ?? "timed_out"
        return try .json(JSONValue.object([
            "node": .string(input.node), "status": .string(status),
            "error": result?.summary.error.map(JSONValue.string) ?? (result == nil ? .string("the preview took longer than 30 s") : .null),
            "columns": .array(schema.fields.map { .object(["name": .string($0.name), "type": .string($0.type.description)]) }),
            "rows": .array(Array(rows.prefix(limit)).map(JSONValue.array)), "rejected": .array(Array(rejected)),
        ]))
    }

    /// The node and everything it depends on (data and signal edges): the rest of the document may be unfinished.
    static func upstream(of node: String, in document: PipelineDocument) -> PipelineDocument {
        var keep: Set<String> = [node], frontier = [node]
        while let current = frontier.popLast() {
            for edge in document.edges where edge.to.node == current && keep.insert(edge.from.node).inserted { frontier.append(edge.from.node) }
        }
        var pruned = document
        pruned.nodes = document.nodes.filter { keep.contains($0.id) }
        pruned.edges = document.edges.filter { keep.contains($0.from.node) && keep.contains($0.to.node) }
        return pruned
    }

    /// A cell as JSON: numbers and booleans as such, everything else as its text.
    static func json(_ value: Value) -> JSONValue {
        switch value {
        case .null: .null
        case let .bool(b): .bool(b)
        case let .int(i): .int(i)
        case let .float(d): d.isFinite ? .double(d) : .string(value.description)
        default: .string(value.description)
        }
    }
}

/// A preview reports rows, not progress.
struct SilentEvents: RunEventSink {
    func send(_ event: RunEvent) {}
}
