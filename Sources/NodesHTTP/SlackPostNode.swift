import Columnar
import Foundation
public import NodeKit

/// What a message is about: the whole run's input, or each row.
enum MessageMode: String, Choice { case run, row }

/// Posts to a Slack channel through an incoming webhook: one message per run (a summary of its input, optionally
/// a table of the first rows) or one per row. The text is a template: with `mode: row` over the row's columns,
/// with `mode: run` over `run.rows`, `run.id`, `run.pipeline` and `run.error` (why the run is failing, in a
/// failure branch). The data input is optional: `{from: load.failed, to: alert.start, kind: signal}` alone posts
/// an alert. Slack's 429 and Retry-After are honoured; a post Slack refuses fails the node with Slack's answer
/// (per row: rejects the row).
public struct SlackPostNode: NodeType {
    static let connection = Field<ConnectionName>("connection", summary: "A slack connection (its incoming webhook).", example: "team")
    static let mode = Field<MessageMode>("mode", summary: "run: one message per run; row: one per input row.", default: .run)
    static let text = Field<String>("text", summary: "The message, a template ({{run.rows}}, {{run.error}}; {{column}} with mode: row). Slack mrkdwn applies.",
                                    example: "Load failed: {{run.error}}")
    static let table = Field<Int>("table", summary: "mode: run: show the first this many input rows as a table under the text (0: none).", default: 0)

    public static let spec = NodeSpec(
        id: "slack.post", version: 1, category: .sink, title: "Post to Slack",
        summary: "Posts a message to a Slack channel per run (with a table of rows) or per row.",
        inputs: [.data("in", "The rows the message is about (optional: a run message needs none).", optional: true)], outputs: [], fields: [connection.spec, mode.spec, text.spec, table.spec],
        capabilities: [.immediateDelivery, .rejects], icon: "message-square")

    let settings: Settings
    let endpoint: HTTPEndpoint
    let mode: MessageMode
    let text: TextTemplate
    let tableRows: Int

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        endpoint = try SlackConnector.endpoint(try settings.connection(Self.connection, type: SlackConnector.spec.type))
        mode = try settings[Self.mode]
        let source = try settings[Self.text]
        do { text = try TextTemplate(source, escaping: .text) } catch {
            throw settings.error(Self.text, error.message, code: "invalid_template")
        }
        tableRows = try settings[Self.table]
        guard (0...50).contains(tableRows) else { throw settings.error(Self.table, "table shows 0 to 50 rows") }
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let input = request.inputs["in"]?.first
        if mode == .row {
            guard let input else { throw settings.error(Self.mode, "mode: row needs rows: connect the in port", code: "unconnected_port") }
            for name in text.names where input.index(of: name) == nil {
                throw settings.error(Self.text, "the text uses {{\(name)}}, which is not an input column; the columns are: \(input.fields.map(\.name).joined(separator: ", "))",
                                     code: "unknown_column")
            }
        } else {
            for name in text.names where name != "run" {
                throw settings.error(Self.text, "with mode: run the text can use {{run.rows}}, {{run.id}}, {{run.pipeline}} and {{run.error}}, not {{\(name)}}",
                                     code: "unknown_column")
            }
        }
        return NodePlan(outputs: [:], work: Work(node: self, hasInput: input != nil))
    }

    struct Work: NodeWork {
        let node: SlackPostNode
        let hasInput: Bool

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            let session = try HTTPSession(node.endpoint, maxBodyBytes: 1 << 20) { context.log(.warning, $0) }
            var rows = 0
            var sample: [RecordBatch] = []
            var sampled = 0
            var posted = 0
            if hasInput {
                for try await batch in context.input("in") {
                    if node.mode == .row {
                        for i in 0..<batch.count {
                            let message = node.text.render(TextTemplate.values(of: batch, row: i))
                            if context.isPreview { continue }
                            let reply = try await post([("text", .string(message))], session)
                            if let refusal = refusal(reply) {
                                try await context.reject([RejectedRecord(code: "slack_refused", message: refusal, row: rows + i,
                                                                         payload: .row(batch.schema.fields.enumerated().map { ($1.name, batch.columns[$0].value(at: i)) }))])
                            } else {
                                posted += 1
                            }
                        }
                    } else if sampled < node.tableRows {
                        let take = min(batch.count, node.tableRows - sampled)
                        sample.append(batch.slice(0..<take))
                        sampled += take
                    }
                    rows += batch.count
                }
            }
            if node.mode == .run, !context.isPreview {
                let run: [String: Any] = ["rows": rows, "id": context.runID, "pipeline": context.pipeline, "error": context.runFailure ?? ""]
                let message = node.text.render(["run": run])
                var blocks: [JSONTree] = [Self.section(message)]
                if !sample.isEmpty { blocks.append(Self.section("```\n" + Self.table(sample) + "\n```")) }
                let reply = try await post([("text", .string(message)), ("blocks", .array(blocks))], session)
                if let refusal = refusal(reply) { throw NodeError(code: "slack_refused", message: refusal, isRetryable: reply.status >= 500) }
                posted += 1
            }
            context.log(.info, "posted \(posted) message(s) to Slack")
            return nil
        }

        func post(_ payload: [(key: String, value: JSONTree)], _ session: HTTPSession) async throws -> HTTPReply {
            try await session.send(OutgoingRequest(method: .POST, url: node.endpoint.baseURL, headers: [("Content-Type", "application/json; charset=utf-8")],
                                                   body: Array(JSONTree.object(payload).text.utf8)))
        }

        /// Slack answers 200 `ok`; anything else is a refusal, named with Slack's answer (`invalid_payload`, `channel_not_found`, …).
        func refusal(_ reply: HTTPReply) -> String? {
            reply.isSuccess ? nil : "Slack answered \(reply.status): \(reply.excerpt)"
        }

        /// A Block Kit section with mrkdwn text (Slack allows 3,000 characters).
        static func section(_ text: String) -> JSONTree {
            .object([("type", .string("section")), ("text", .object([("type", .string("mrkdwn")), ("text", .string(String(text.prefix(3000))))]))])
        }

        /// The rows as an aligned text table (cells cut to 30 characters).
        static func table(_ batches: [RecordBatch]) -> String {
            guard let schema = batches.first?.schema else { return "" }
            var lines = [schema.fields.map(\.name)]
            for batch in batches {
                for i in 0..<batch.count {
                    lines.append(batch.columns.map { column in
                        let value = column.value(at: i)
                        return String((value.isNull ? "" : value.description).prefix(30))
                    })
                }
            }
            let widths = schema.fields.indices.map { k in lines.map { $0[k].count }.max() ?? 0 }
            return lines.map { line in line.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") }
                .joined(separator: "\n")
        }
    }
}
