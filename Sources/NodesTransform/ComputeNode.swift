import Columnar
import Expressions
public import NodeKit

/// Adds or replaces columns from expressions; each expression sees the columns computed before it.
public struct ComputeNode: NodeType {
    static let columns = Field<NamedValues<Expression>>("columns", summary: "New or replaced columns: name → expression, evaluated in order.",
                                                         example: "{amount_with_tax: \"amount * 1.2\"}")
    public static let spec = NodeSpec(
        id: "compute", version: 1, category: .transform, title: "Compute",
        summary: "Adds or replaces columns computed from expressions.",
        inputs: [.data("in")], outputs: [.data("out")], fields: [columns.spec], capabilities: [.rejects], icon: "function")

    let columns: NamedValues<Expression>

    public init(settings: Settings) throws(ConfigError) {
        columns = try settings[Self.columns]
        if columns.entries.isEmpty { throw settings.error(Self.columns, "list at least one column to compute") }
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        var schema = try request.input()
        var steps: [Work.Step] = []
        for entry in columns.entries {
            let bound = try request.bind(entry.value, to: schema, field: "columns.\(entry.name)", location: entry.location)
            let field = SchemaField(entry.name, bound.type)
            var fields = schema.fields
            let position = schema.index(of: entry.name)
            if let position { fields[position] = field } else { fields.append(field) }
            schema = Schema(fields)
            steps.append(.init(name: entry.name, expression: bound, position: position))
        }
        return NodePlan(outputs: ["out": schema], work: Work(steps: steps, schema: schema))
    }

    public func requiredInputColumns(for demand: Set<String>?) -> Set<String>? {
        guard var needed = demand else { return nil }
        for entry in columns.entries.reversed() {
            needed.remove(entry.name)
            needed.formUnion(entry.value.referencedColumns)
        }
        return needed
    }

    struct Work: NodeWork {
        struct Step {
            let name: String
            let expression: BoundExpression
            /// Where the column goes when it replaces one; nil appends.
            let position: Int?
        }

        let steps: [Step]
        let schema: Schema

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            var row = 0
            for try await input in context.input("in") {
                var batch = input
                var failed: [Int: ExpressionError] = [:]
                var failedField: [Int: String] = [:]
                for step in steps {
                    let result = step.expression.evaluate(batch)
                    for (r, error) in result.rowErrors where failed[r] == nil {
                        failed[r] = error
                        failedField[r] = "columns.\(step.name)"
                    }
                    var fields = batch.schema.fields, columns = batch.columns
                    let field = SchemaField(step.name, step.expression.type)
                    if let p = step.position { fields[p] = field; columns[p] = result.column } else { fields.append(field); columns.append(result.column) }
                    batch = batch.withColumns(schema: Schema(fields), columns: columns)
                }
                if !failed.isEmpty {
                    var rejects: [RejectedRecord] = []
                    for (r, error) in failed.sorted(by: { $0.key < $1.key }) {
                        rejects += RejectedRecord.rows(of: input, errors: [r: error], field: failedField[r]!, firstRow: row)
                    }
                    try await context.reject(rejects)
                    batch = batch.removing(rows: failed.keys)
                }
                row += input.count
                try await context.emit(batch, on: "out")
            }
            return nil
        }
    }
}
