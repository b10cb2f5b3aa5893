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
    /// A column of the previewed node's output.
    struct Column: APIView { var name: String; var type: String }
    /// A line the nodes logged during the preview.
    struct LogLine: APIView { var node: String?; var level: LogLevel; var message: String }
    /// The node's first rows (cells as JSON), its columns, how the preview ended, the records rejected on the way,
    /// and what the nodes logged (an API source logs the start of its first answer).
    struct Preview: APIView {
        var node: String
        /// succeeded, failed, or timed_out.
        var status: String
        var error: String?
        var columns: [Column]
        var rows: [[JSONValue]]
        var rejected: [[String: JSONValue]]
        var log: [LogLine]
        /// What planning noticed on the node (a column inferred as string because of one odd value).
        var notes: [String]
    }

    static let endpoint = Endpoint(
        .post, "/api/v1/pipelines/preview", "previewNode",
        "Runs a node's upstream without writing anything and returns its first rows, its schema and the records rejected on the way.",
        tag: "pipelines",
        request: APISchema.of(Input.self), response: Preview.schema) { call in
        let input = try call.decode(Input.self)
        let limit = input.limit ?? 20
        guard (1...200).contains(limit) else { throw APIError.invalid("limit must be 1 to 200", field: "limit") }
        let plan = try await call.services.pipelines.planPreview(try PipelineSource(.string(input.document)), node: input.node,
                                                                 parameters: RunParameters(input.parameters ?? [:]), for: try call.caller)
        guard let schema = NodePreview.schema(of: plan) else {
            throw APIError.invalid("node '\(input.node)' has no data output to preview; preview the node that feeds it", field: "node")
        }
        let preview = await withTaskGroup(of: NodePreview?.self) { group in
            group.addTask { await NodePreview.run(plan, limit: limit) }
            group.addTask { try? await Task.sleep(for: .seconds(30)); return nil }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        let error = preview == nil ? "the preview took longer than 30 s" : preview?.summary.error
        return try .json(Preview(node: input.node, status: preview?.summary.status.rawValue ?? "timed_out", error: error,
                                 columns: schema.fields.map { Column(name: $0.name, type: $0.type.description) },
                                 rows: (preview?.rows ?? []).map { $0.map(json) },
                                 rejected: (preview?.rejects ?? []).prefix(50).compactMap { JSONValue.parse($0.jsonLine)?.objectValue },
                                 log: (preview?.log ?? []).map { LogLine(node: $0.node, level: $0.level, message: $0.message) },
                                 notes: plan.notes[input.node] ?? []))
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
