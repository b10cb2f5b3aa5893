import Columnar
public import NodeKit

/// Passes rows through unchanged, writing a sample of them and the final count to the run log.
public struct LogNode: NodeType {
    static let sample = Field<Int>("sample", summary: "How many rows to write to the log.", default: 5)
    static let label = Field<String?>("label", summary: "A prefix for the log lines (defaults to the node id).")
    public static let spec = NodeSpec(
        id: "log", version: 1, category: .utility, title: "Log",
        summary: "Writes a sample of rows and the row count to the run log; passes rows through.",
        inputs: [.data("in")], outputs: [.data("out")], fields: [sample.spec, label.spec], icon: "scroll")

    let sample: Int
    let label: String?

    public init(settings: Settings) throws(ConfigError) {
        sample = try settings[Self.sample]
        label = try settings[Self.label]
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        NodePlan(outputs: ["out": try request.input()], work: Work(sample: sample, label: label ?? request.node))
    }

    public func requiredInputColumns(for demand: Set<String>?) -> Set<String>? { demand }

    struct Work: NodeWork {
        let sample: Int
        let label: String

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            var total = 0
            for try await batch in context.input("in") {
                var i = 0
                while total + i < sample, i < batch.count {
                    let cells = zip(batch.schema.names, batch.row(i)).map { "\($0)=\($1)" }
                    context.log(.info, "\(label) row \(total + i + 1): " + cells.joined(separator: ", "))
                    i += 1
                }
                total += batch.count
                try await context.emit(batch, on: "out")
            }
            context.log(.info, "\(label): \(total) rows")
            return nil
        }
    }
}
