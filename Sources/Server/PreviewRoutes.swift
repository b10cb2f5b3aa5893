import Columnar
import Foundation
import NodeKit
import Runtime
import Services
import Store

/// `POST /api/v1/pipelines/preview`: the first rows a node produces, for the editor's data preview.
///
/// The node's data upstream runs in this server process (not through the run queue) with sinks disabled, at most
/// `limit` rows (≤ 200) and 30 seconds; nothing is written and no run is recorded. Any signed-in user may
/// preview a document, as any user may create a pipeline and run it.
enum PreviewRoutes {
    struct Input: Decodable { var document: String; var node: String; var limit: Int?; var parameters: [String: String]? }

    static let endpoint = Endpoint(
        .post, "/api/v1/pipelines/preview", "previewNode",
        "Runs a node's upstream without writing anything and returns its first rows, its schema and the records rejected on the way.",
        tag: "pipelines",
        request: APISchema.object(["document": APISchema.string, "node": APISchema.string, "limit": APISchema.integer, "parameters": APISchema.map(APISchema.string)],
                               optional: ["limit", "parameters"]),
        response: APISchema.object(["node": APISchema.string, "status": APISchema.string, "error": APISchema.nullable(APISchema.string),
                                 "columns": APISchema.array(APISchema.object(["name": APISchema.string, "type": APISchema.string])),
                                 "rows": APISchema.array(APISchema.array(APISchema.any)), "rejected": APISchema.array(APISchema.anyObject)],
                               optional: ["error"])) { call in
        let input = try call.decode(Input.self)
        let limit = input.limit ?? 20
        guard (1...200).contains(limit) else { throw APIError.invalid("limit must be 1 to 200", field: "limit") }
        let plan = try await call.services.pipelines.planPreview(try PipelineSource(.string(input.document)), node: input.node,
                                                                 parameters: RunParameters(input.parameters ?? [:]), for: try call.caller)
        guard let schema = NodePreview.schema(of: plan) else {
            throw APIError.invalid("node '\(input.node)' has no data output to preview; preview the node that feeds it", field: "node")
        }
        let preview = await withTaskGroup(of: NodePreview?.self) { group in
            group.addTask { await NodePreview.run(plan, limit: limit, events: DiscardedEvents()) }
            group.addTask { try? await Task.sleep(for: .seconds(30)); return nil }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        let error = preview.map { $0.summary.error.map(JSONValue.string) ?? .null } ?? .string("the preview took longer than 30 s")
        return try .json(JSONValue.object([
            "node": .string(input.node), "status": .string(preview?.summary.status.rawValue ?? "timed_out"), "error": error,
            "columns": .array(schema.fields.map { .object(["name": .string($0.name), "type": .string($0.type.description)]) }),
            "rows": .array((preview?.rows ?? []).map { .array($0.map(json)) }),
            "rejected": .array((preview?.rejects ?? []).prefix(50).map { JSONValue.parse($0.jsonLine) ?? .null }),
        ]))
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
