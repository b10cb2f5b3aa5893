import Columnar
public import NodeKit

/// Merges several streams with the same columns (matched by name) into one.
public struct UnionNode: NodeType {
    static let allowMissing = Field<Bool>("allowMissing", summary: "Fill columns missing from some inputs with NULL instead of failing.", default: false)
    public static let spec = NodeSpec(
        id: "union", version: 1, category: .transform, title: "Union",
        summary: "Merges several streams into one, matching columns by name.",
        inputs: [.data("in", "Connect any number of edges.")], outputs: [.data("out")], fields: [allowMissing.spec],
        capabilities: [.fanIn, .projection], icon: "merge")

    let allowMissing: Bool

    public init(settings: Settings) throws(ConfigError) {
        allowMissing = try settings[Self.allowMissing]
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        var inputs = request.inputs["in"] ?? []
        // Only the columns downstream reads are merged: inputs may differ in the others (a source that projects
        // beside one that cannot).
        if let demand = request.projection { inputs = inputs.map { $0.projected(demand) } }
        guard var fields = inputs.first?.fields else { return NodePlan(outputs: ["out": try request.input()], work: Work(schema: .empty)) }
        for (n, schema) in inputs.enumerated().dropFirst() {
            for field in schema.fields {
                if let i = fields.firstIndex(where: { $0.name == field.name }) {
                    guard fields[i].type == field.type else {
                        throw ConfigError(code: "type_mismatch", message: "column '\(field.name)' is \(fields[i].type) in input 1 but \(field.type) in input \(n + 1); add a select with cast", node: request.node, field: "in")
                    }
                } else if allowMissing {
                    fields.append(field)
                } else {
                    throw ConfigError(code: "schema_mismatch", message: "column '\(field.name)' of input \(n + 1) is not in input 1; set allowMissing: true to fill with NULL", node: request.node, field: "in")
                }
            }
            if !allowMissing, let absent = fields.first(where: { schema.index(of: $0.name) == nil }) {
                throw ConfigError(code: "schema_mismatch", message: "column '\(absent.name)' is missing from input \(n + 1); set allowMissing: true to fill with NULL", node: request.node, field: "in")
            }
        }
        let schema = Schema(fields)
        return NodePlan(outputs: ["out": schema], work: Work(schema: schema))
    }

    public func requiredInputColumns(for demand: Set<String>?) -> Set<String>? { demand }

    struct Work: NodeWork {
        let schema: Schema

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            for try await batch in context.input("in") {
                if batch.schema == schema { try await context.emit(batch, on: "out"); continue }
                let columns = schema.fields.map { field in
                    batch.column(named: field.name) ?? Column.nulls(type: field.type, count: batch.count)
                }
                try await context.emit(batch.withColumns(schema: schema, columns: columns), on: "out")
            }
            return nil
        }
    }
}
