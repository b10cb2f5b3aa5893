import ArgumentParser
import Columnar
import NodeKit
import Runtime

/// `sluice validate FILE`: plans the pipeline without running it and prints each node's output schema.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "validate", abstract: "Check a pipeline file and show the schema of every node's output.")

    @OptionGroup var pipeline: PipelineOptions

    @Flag(help: "Print problems as JSON objects.")
    var json = false

    func run() async throws {
        let plan = try await pipeline.plan(output: Output(json: json))
        if json {
            print(JSONText.object([("event", .string("valid")), ("nodes", .int(Int64(plan.nodes.count))), ("edges", .int(Int64(plan.edges.count)))]))
            return
        }
        print("✔ \(plan.document.name): \(plan.nodes.count) nodes, \(plan.edges.count) edges, valid")
        for node in plan.nodes {
            print("  \(node.id) (\(node.spec.reference))")
            for (port, schema) in node.outputSchemas.sorted(by: { $0.key < $1.key }) {
                print("    \(port): " + schema.fields.map { "\($0.name) \($0.type)" }.joined(separator: ", "))
            }
        }
    }
}

/// `sluice preview FILE --node ID`: runs the node's upstream with sinks disabled and prints its first rows.
struct PreviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "preview", abstract: "Show the first rows a node produces (upstream only, nothing is written).")

    @OptionGroup var pipeline: PipelineOptions

    @Option(help: "The node to preview.")
    var node: String

    @Option(help: "How many rows to show.")
    var limit = 20

    @Flag(help: "Print rows as JSON lines.")
    var json = false

    func run() async throws {
        let output = Output(json: json)
        let plan = try await pipeline.plan(previewNode: node, output: output)
        guard NodePreview.schema(of: plan) != nil else {
            output.problems([ConfigError(code: "no_output", message: "node '\(node)' has no data output to preview; preview the node that feeds it", node: node)])
            throw ExitStatus.invalid
        }
        let limit = limit
        guard let preview = await Interruptible.run({ await NodePreview.run(plan, limit: limit, events: PreviewEvents()) }) else { throw ExitStatus.invalid }
        guard preview.summary.status == .succeeded else {
            Terminal.error("preview failed: \(preview.summary.error ?? "cancelled")")
            throw ExitStatus.failed
        }
        let rows = preview.rows, schema = preview.schema
        if json {
            for row in rows { print(JSONText.object(Array(zip(schema.names, row)))) }
            return
        }
        print(Table.render(header: schema.fields.map { "\($0.name)\n\($0.type)" }, rows: rows.map { $0.map { $0.isNull ? "NULL" : $0.description } }))
        print("\(rows.count) row\(rows.count == 1 ? "" : "s")" + (preview.rejects.isEmpty ? "" : ", \(preview.rejects.count) rejected upstream:"))
        for packet in preview.rejects.prefix(10) { print("  \(packet.node): \(packet.record.message)") }
    }
}

/// Preview shows rows, not progress: only warnings and errors from nodes are printed.
struct PreviewEvents: RunEventSink {
    func send(_ event: RunEvent) {
        if case let .log(node, level, message) = event, level >= .warning { Terminal.error("[\(level.rawValue)] \(node ?? ""): \(message)") }
    }
}

/// Renders rows as an aligned text table with a two-line header (name, type).
enum Table {
    static func render(header: [String], rows: [[String]], maxWidth: Int = 40) -> String {
        func clip(_ s: String) -> String {
            let flat = s.replacingOccurrences(of: "\n", with: "⏎")
            return flat.count > maxWidth ? String(flat.prefix(maxWidth - 1)) + "…" : flat
        }
        let headerLines = header.map { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        let cells = rows.map { $0.map(clip) }
        var widths = headerLines.map { $0.map(\.count).max() ?? 0 }
        for row in cells { for (i, c) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ values: [String]) -> String {
            values.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: " │ ")
        }
        var out = [line(headerLines.map { $0.first ?? "" }), line(headerLines.map { $0.count > 1 ? $0[1] : "" })]
        out.append(widths.map { String(repeating: "─", count: $0) }.joined(separator: "─┼─"))
        out += cells.map(line)
        return out.joined(separator: "\n")
    }
}
