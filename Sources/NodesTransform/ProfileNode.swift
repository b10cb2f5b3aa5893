import Columnar
import Foundation
public import NodeKit

/// Descriptive statistics per column: count, NULLs, distinct values, min, max, mean, standard deviation,
/// percentiles and the most frequent values; one output row per column, and optionally a self-contained HTML
/// report (tables and SVG histograms) that appears at commit like other file outputs.
public struct ProfileNode: NodeType {
    static let columns = Field<[String]>("columns", summary: "Columns to profile (default: every column).", default: [])
    static let top = Field<Int>("top", summary: "How many most frequent values to list per column.", default: 5)
    static let exactDistinct = Field<Int>("exactDistinct", summary: "Distinct values counted exactly per column; past this, estimated with HyperLogLog (about 1.6 % error).",
                                          default: 100_000)
    static let report = Field<String?>("report", summary: "Path of an HTML report to write (replaced atomically when the run commits).", example: "reports/orders.html")
    static let title = Field<String?>("title", summary: "Title of the HTML report (default: the pipeline and node).")

    public static let spec = NodeSpec(
        id: "profile", version: 1, category: .transform, title: "Profile",
        summary: "Descriptive statistics per column (count, nulls, distinct, min, max, mean, stddev, p50/p90/p99, top values), as rows and an HTML report.",
        inputs: [.data("in")], outputs: [.data("out", "One row per profiled column.")],
        fields: [columns.spec, top.spec, exactDistinct.spec, report.spec, title.spec], icon: "bar-chart")

    /// The percentiles every profile reports.
    static let fractions = [0.5, 0.9, 0.99]

    static let outputSchema = Schema([
        SchemaField("column", .string, nullable: false), SchemaField("type", .string, nullable: false),
        SchemaField("rows", .int64, nullable: false), SchemaField("count", .int64, nullable: false), SchemaField("nulls", .int64, nullable: false),
        SchemaField("distinct", .int64, nullable: false), SchemaField("distinct_exact", .bool, nullable: false),
        SchemaField("min", .string), SchemaField("max", .string), SchemaField("mean", .float64), SchemaField("stddev", .float64),
        SchemaField("p50", .float64), SchemaField("p90", .float64), SchemaField("p99", .float64), SchemaField("top", .json),
    ])

    let settings: Settings
    let chosen: [String]
    let topCount: Int
    let exactLimit: Int
    let reportPath: String?
    let reportTitle: String?

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        chosen = try settings[Self.columns]
        topCount = try settings[Self.top]
        guard (0...100).contains(topCount) else { throw settings.error(Self.top, "top must be between 0 and 100") }
        exactLimit = try settings[Self.exactDistinct]
        guard (0...1_000_000).contains(exactLimit) else { throw settings.error(Self.exactDistinct, "exactDistinct must be between 0 and 1,000,000") }
        reportPath = try settings.path(Self.report)
        reportTitle = try settings[Self.title]
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let input = try request.input()
        var indices: [Int] = []
        for name in chosen {
            let index = try settings.column(name, in: input, for: Self.columns)
            indices.append(index)
        }
        if chosen.isEmpty { indices = Array(input.fields.indices) }
        return NodePlan(outputs: ["out": Self.outputSchema],
                        work: Work(schema: input, columns: indices, top: topCount, exactLimit: exactLimit, reportPath: reportPath,
                                   title: reportTitle ?? "Profile of \(request.node)"))
    }

    public func requiredInputColumns(for demand: Set<String>?) -> Set<String>? { chosen.isEmpty ? nil : Set(chosen) }

    struct Work: NodeWork {
        let schema: Schema
        let columns: [Int]
        let top: Int
        let exactLimit: Int
        let reportPath: String?
        let title: String

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            // Exact work shares one budget across the columns, so a very wide input cannot grow memory without bound:
            // 16M values held for percentiles (128 MB) and 4M distinct values in all, at least 1,000 per column.
            let share = max(1, columns.count)
            let exactValues = max(1_000, 16_000_000 / share), distinctLimit = min(exactLimit, max(1_000, 4_000_000 / share))
            var profiles = columns.map { ColumnProfile(name: schema.fields[$0].name, type: schema.fields[$0].type, exactLimit: distinctLimit, exactValues: exactValues) }
            var rows = 0
            for try await batch in context.input("in") {
                rows += batch.count
                for (k, index) in columns.enumerated() { profiles[k].add(batch.columns[index]) }
            }
            let summaries = profiles.indices.map { k in
                ColumnSummary(name: profiles[k].name, type: profiles[k].type, rows: profiles[k].rows, count: profiles[k].count, nulls: profiles[k].nulls,
                              distinct: profiles[k].distinct, distinctIsExact: profiles[k].distinctIsExact, minimum: profiles[k].minimum, maximum: profiles[k].maximum,
                              mean: profiles[k].average, standardDeviation: profiles[k].standardDeviation, percentiles: profiles[k].percentiles(ProfileNode.fractions),
                              percentilesAreExact: profiles[k].percentilesAreExact, top: profiles[k].top(top), histogram: profiles[k].histogram(bins: 20))
            }
            try await context.emit(batch(summaries), on: "out")
            context.log(.info, "profile: \(rows) row(s), \(columns.count) column(s)")
            guard let reportPath, !context.isPreview else { return nil }
            let title = context.pipeline.isEmpty ? self.title : "\(self.title) (\(context.pipeline))"
            let page = ProfileReport.html(title: title, generated: Date(), rows: rows, columns: summaries)
            let pending = try PendingFile.staged(Array(page.utf8), target: reportPath, runID: context.runID)
            context.addBytes(page.utf8.count)
            return pending
        }

        func batch(_ summaries: [ColumnSummary]) -> RecordBatch {
            var builders = ProfileNode.outputSchema.fields.map { ColumnBuilder(type: $0.type, capacity: summaries.count) }
            for s in summaries {
                let topJSON = "[" + s.top.map { JSONText.object([("value", $0.value), ("count", .int(Int64($0.count)))]) }.joined(separator: ",") + "]"
                let values: [Value] = [
                    .string(s.name), .string(s.type.description), .int(Int64(s.rows)), .int(Int64(s.count)), .int(Int64(s.nulls)),
                    .int(Int64(s.distinct)), .bool(s.distinctIsExact),
                    s.minimum.isNull ? .null : .string(s.minimum.description), s.maximum.isNull ? .null : .string(s.maximum.description),
                    s.mean.map(Value.float) ?? .null, s.standardDeviation.map(Value.float) ?? .null,
                ] + s.percentiles.map { $0.map(Value.float) ?? .null } + [.json(topJSON)]
                for (i, value) in values.enumerated() { builders[i].append(value) }
            }
            return RecordBatch(schema: ProfileNode.outputSchema, columns: builders.indices.map { builders[$0].finish() }, count: summaries.count)
        }
    }
}
