import Columnar
import Expressions
import NodeKit

/// What a data edge with `where` and `select` does to the batches crossing it: keeps the rows whose condition is
/// true (NULL is false, as in SQL WHERE), then keeps the listed columns, vectorized like the filter and select
/// nodes. Rows whose condition cannot be evaluated are rejected by the upstream node.
public struct EdgeTransform: Sendable {
    let filter: BoundExpression?
    /// Indexes of the kept columns in the upstream schema, in order (nil: all).
    let columns: [Int]?
    /// What the downstream node sees.
    public let schema: Schema

    /// The key an edge's transform is filed under in a plan.
    static func key(_ edge: EdgeDeclaration) -> String { "\(edge.from)->\(edge.to)" }

    /// Binds the edge's condition and columns to the upstream schema; errors name the edge's field.
    static func plan(_ edge: EdgeDeclaration, upstream: Schema, environment: ExpressionEnvironment) throws(ConfigError) -> EdgeTransform {
        var filter: BoundExpression?
        if let condition = edge.filter {
            do { filter = try condition.bindPredicate(to: upstream, environment: environment) } catch {
                throw ConfigError(code: error.code, message: "edge \(edge.from) → \(edge.to): \(error.description)", location: edge.location, field: "where")
            }
        }
        var columns: [Int]?
        var schema = upstream
        if let names = edge.select {
            var indexes: [Int] = []
            for name in names {
                guard let index = upstream.index(of: name) else {
                    throw ConfigError(code: "unknown_column", message: "edge \(edge.from) → \(edge.to) selects '\(name)', which \(edge.from.node) does not put out; its columns are: \(upstream.names.joined(separator: ", "))",
                                      location: edge.location, field: "select")
                }
                indexes.append(index)
            }
            guard Set(names).count == names.count else {
                throw ConfigError(code: "duplicate_column", message: "edge \(edge.from) → \(edge.to) selects a column twice", location: edge.location, field: "select")
            }
            columns = indexes
            schema = Schema(indexes.map { upstream.fields[$0] })
        }
        return EdgeTransform(filter: filter, columns: columns, schema: schema)
    }

    /// The batch as the downstream sees it, and the rows whose condition failed to evaluate.
    func apply(_ batch: RecordBatch) -> (batch: RecordBatch, errors: [Int: ExpressionError]) {
        var result = batch
        var errors: [Int: ExpressionError] = [:]
        if let filter {
            let evaluation = filter.evaluate(batch)
            errors = evaluation.rowErrors
            let values = evaluation.column.boolValues
            var keep = [Bool](repeating: false, count: batch.count)
            for i in 0..<batch.count { keep[i] = values[i] && !evaluation.column.isNull(i) && errors[i] == nil }
            result = batch.filtered(keep)
        }
        if let columns { result = result.withColumns(schema: schema, columns: columns.map { result.columns[$0] }) }
        return (result, errors)
    }
}
