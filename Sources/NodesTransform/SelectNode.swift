import Columnar
import Expressions
public import NodeKit

/// Keeps, drops, renames, casts and reorders columns. Applied in that order: keep/drop, rename, cast.
public struct SelectNode: NodeType {
    static let keep = Field<[String]?>("columns", summary: "Columns to keep, in output order (default: all).", example: "[id, email, amount]")
    static let drop = Field<[String]?>("drop", summary: "Columns to remove.")
    static let rename = Field<NamedValues<String>?>("rename", summary: "Old name → new name.", example: "{amount: total}")
    static let cast = Field<NamedValues<DataType>?>("cast", summary: "Column (new name) → type; values that do not convert are rejected.", example: "{id: string}")
    public static let spec = NodeSpec(
        id: "select", version: 1, category: .transform, title: "Select",
        summary: "Keeps, drops, renames, casts and reorders columns.",
        inputs: [.data("in")], outputs: [.data("out")], fields: [keep.spec, drop.spec, rename.spec, cast.spec], capabilities: [.rejects], icon: "columns")

    let keep: [String]?
    let drop: [String]
    let rename: [(String, String)]
    let cast: [(String, DataType)]
    let settings: Settings

    public init(settings: Settings) throws(ConfigError) {
        keep = try settings[Self.keep]
        drop = try settings[Self.drop] ?? []
        rename = (try settings[Self.rename])?.entries.map { ($0.name, $0.value) } ?? []
        cast = (try settings[Self.cast])?.entries.map { ($0.name, $0.value) } ?? []
        self.settings = settings
        if keep == nil, drop.isEmpty, rename.isEmpty, cast.isEmpty {
            throw ConfigError(code: "missing_field", message: "select needs at least one of columns, drop, rename or cast", location: settings.raw.location, node: settings.node)
        }
    }

    private func missing<T>(_ name: String, _ field: Field<T>, _ schema: Schema) -> ConfigError {
        settings.error(field, "unknown column '\(name)'; available columns: \(schema.names.joined(separator: ", "))", code: "unknown_column")
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let input = try request.input()
        var names = keep ?? input.names
        for name in names where input.index(of: name) == nil { throw missing(name, Self.keep, input) }
        for name in drop where input.index(of: name) == nil { throw missing(name, Self.drop, input) }
        names.removeAll { drop.contains($0) }
        var outputNames = names
        for (old, new) in rename {
            guard let i = outputNames.firstIndex(of: old) else { throw missing(old, Self.rename, input) }
            outputNames[i] = new
        }
        guard Set(outputNames).count == outputNames.count else {
            throw settings.error(Self.rename, "the output would have duplicate column names: \(outputNames.joined(separator: ", "))", code: "duplicate_column")
        }
        var fields = zip(names, outputNames).map { SchemaField($1, input.field(named: $0)!.type) }
        var casts: [(Int, BoundExpression)] = []
        let renamed = Schema(fields)
        for (name, type) in cast {
            guard let i = renamed.index(of: name) else { throw missing(name, Self.cast, renamed) }
            let quoted = "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            let expression: Expression
            do { expression = try Expression("CAST(\(quoted) AS \(type))") } catch { throw settings.error(Self.cast, error.message) }
            casts.append((i, try request.bind(expression, to: renamed, field: "cast.\(name)", location: settings.location(of: Self.cast))))
            fields[i] = SchemaField(name, type)
        }
        return NodePlan(outputs: ["out": Schema(fields)], work: Work(sources: names, renamed: renamed, output: Schema(fields), casts: casts))
    }

    public func requiredInputColumns(for demand: Set<String>?) -> Set<String>? {
        var names = Set(keep ?? [])
        if keep == nil { return nil }
        names.subtract(drop)
        return names
    }

    struct Work: NodeWork {
        let sources: [String]
        let renamed: Schema
        let output: Schema
        let casts: [(Int, BoundExpression)]

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            var row = 0
            for try await input in context.input("in") {
                var columns = input.projected(sources).columns
                let base = input.withColumns(schema: renamed, columns: columns)
                var failed: [Int: ExpressionError] = [:]
                for (i, expression) in casts {
                    let result = expression.evaluate(base)
                    columns[i] = result.column
                    for (r, e) in result.rowErrors where failed[r] == nil { failed[r] = e }
                }
                var batch = input.withColumns(schema: output, columns: columns)
                if !failed.isEmpty {
                    try await context.reject(RejectedRecord.rows(of: base, errors: failed, field: "cast", firstRow: row))
                    batch = batch.removing(rows: failed.keys)
                }
                row += input.count
                try await context.emit(batch, on: "out")
            }
            return nil
        }
    }
}
