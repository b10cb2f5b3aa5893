import Columnar
import Expressions
public import NodeKit

/// Keeps the rows for which a condition is true (NULL counts as false, as in SQL WHERE).
/// Rows whose condition fails to evaluate (e.g. division by zero) are rejected, not dropped.
public struct FilterNode: NodeType {
    static let condition = Field<Expression>("where", summary: "Rows to keep, e.g. status = 'paid' AND amount > 50.", example: "status = 'paid'")
    public static let spec = NodeSpec(
        id: "filter", version: 1, category: .transform, title: "Filter",
        summary: "Keeps the rows that match a condition.",
        inputs: [.data("in")], outputs: [.data("out", "Rows where the condition is true.")],
        fields: [condition.spec], capabilities: [.rejects], icon: "funnel")

    let condition: Expression
    let location: SourceLocation?

    public init(settings: Settings) throws(ConfigError) {
        condition = try settings[Self.condition]
        location = settings.location(of: Self.condition)
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let schema = try request.input()
        let bound = try request.bind(condition, to: schema, field: Self.condition.name, location: location, predicate: true)
        return NodePlan(outputs: ["out": schema], work: Work(condition: bound))
    }

    public func requiredInputColumns(for demand: Set<String>?) -> Set<String>? {
        demand.map { $0.union(condition.referencedColumns) }
    }

    struct Work: NodeWork {
        let condition: BoundExpression

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            var row = 0
            for try await batch in context.input("in") {
                let result = condition.evaluate(batch)
                let values = result.column.boolValues
                var keep = [Bool](repeating: false, count: batch.count)
                if let validity = result.column.validity {
                    for i in 0..<batch.count { keep[i] = values[i] && validity[i] }
                } else {
                    keep = values
                }
                if !result.rowErrors.isEmpty {
                    for r in result.rowErrors.keys { keep[r] = false }
                    try await context.reject(RejectedRecord.rows(of: batch, errors: result.rowErrors, field: "where", firstRow: row))
                }
                row += batch.count
                try await context.emit(batch.filtered(keep), on: "out")
            }
            return nil
        }
    }
}
